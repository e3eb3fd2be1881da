"""Users, groups and kernel arguments: keyed lists whose entries must be unique."""

from __future__ import annotations

from ignition.config.report import Report
from ignition.config.types import KernelArguments, Passwd
from ignition.config.validate.keys import Path, flag_duplicates


def check_passwd(pw: Passwd, report: Report) -> None:
    flag_duplicates(report, ((u.name, ("passwd", "users", i), f"user {u.name}")
                             for i, u in enumerate(pw.users)))
    flag_duplicates(report, ((g.name, ("passwd", "groups", i), f"group {g.name}")
                             for i, g in enumerate(pw.groups)))
    for i, user in enumerate(pw.users):
        base: Path = ("passwd", "users", i, "sshAuthorizedKeys")
        flag_duplicates(report, ((key, base + (j,), "this SSH key")
                                 for j, key in enumerate(user.ssh_authorized_keys)))
        flag_duplicates(report, ((g, ("passwd", "users", i, "groups", j), f"group {g}")
                                 for j, g in enumerate(user.groups)))


def check_kernel_arguments(ka: KernelArguments, report: Report) -> None:
    # both lists share one key space: an argument cannot be both wanted and unwanted
    base: Path = ("kernelArguments",)
    flag_duplicates(report, [(a, base + ("shouldExist", j), f"kernel argument {a!r}")
                             for j, a in enumerate(ka.should_exist)]
                    + [(a, base + ("shouldNotExist", j), f"kernel argument {a!r}")
                       for j, a in enumerate(ka.should_not_exist)])
