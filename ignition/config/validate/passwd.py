"""Users, groups and kernel arguments: keyed lists whose entries must be
unique; passwd text that a NUL byte makes impossible.

Every passwd field goes to useradd/groupadd as a command argument or into
/etc/passwd, /etc/shadow or authorized_keys, none of which can carry a NUL
byte (an argv string ends at the first one): reject it here, naming the
field, instead of failing in the files stage. The value is never echoed (a
password hash is a secret). An empty user name or a relative homeDir is
accepted, as Go's Ignition 2.14 does (docs/conformance.md); useradd refuses
them in the files stage with one clean line."""

from __future__ import annotations

from ignition.config.report import Report
from ignition.config.types import KernelArguments, Passwd
from ignition.config.validate.keys import Path, flag_duplicates

# (attribute, config key) of the single-string fields
USER_TEXT = (("name", "name"), ("password_hash", "passwordHash"), ("gecos", "gecos"), ("home_dir", "homeDir"),
             ("primary_group", "primaryGroup"), ("shell", "shell"))
GROUP_TEXT = (("name", "name"), ("password_hash", "passwordHash"))


def _no_nul(report: Report, value: str | None, path: Path) -> None:
    if value is not None and "\0" in value:
        report.add("error", "contains a NUL byte (\\u0000), which no passwd entry or command argument can "
                   "hold: remove it", path)


def _nul_bytes(pw: Passwd, report: Report) -> None:
    for i, user in enumerate(pw.users):
        base: Path = ("passwd", "users", i)
        for attr, key in USER_TEXT:
            _no_nul(report, getattr(user, attr), base + (key,))
        for j, key_text in enumerate(user.ssh_authorized_keys):
            _no_nul(report, key_text, base + ("sshAuthorizedKeys", j))
        for j, group in enumerate(user.groups):
            _no_nul(report, group, base + ("groups", j))
    for i, g in enumerate(pw.groups):
        for attr, key in GROUP_TEXT:
            _no_nul(report, getattr(g, attr), ("passwd", "groups", i, key))


def check_passwd(pw: Passwd, report: Report) -> None:
    _nul_bytes(pw, report)
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
