"""Every subprocess goes through a Runner: the argv is logged, the locale is
fixed (tools' messages are parsed and shown to operators in English), output is
captured, and a failure becomes a CommandError carrying argv, status and output.

A dry run uses RecordingRunner: commands that change something are recorded in
the plan instead of run; read-only probes (`probe=True`: blkid, lsblk, ...)
still run so the plan is computed from the real state of the machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ignition.errors import CommandError
from ignition.record import record

# subprocess and shlex load with the first command: a stage with nothing to
# run (kargs, umount on most configs) starts without them.
if TYPE_CHECKING:
    from ignition.log import Logger
    from ignition.plan import Plan

# The value after these is a secret: a password hash (--password of every
# shadow-utils program; -p is the same option for them, and something else for
# other programs, e.g. mkdir -p, so it is masked only for them).
SECRET_OPTION = "--password"
SHADOW_PROGRAMS = frozenset({"useradd", "usermod", "groupadd", "groupmod"})


def shown_argv(argv: Sequence[str]) -> str:
    """The argv as a shell line for the log and the plan, with secret option
    values masked as URLs are redacted."""
    import shlex

    words = [shlex.quote(a) for a in argv]
    short = bool(argv) and os.path.basename(argv[0]) in SHADOW_PROGRAMS
    for i, a in enumerate(argv):
        if i + 1 < len(argv) and (a == SECRET_OPTION or (short and a == "-p")):
            words[i + 1] = "'***'"
        elif a.startswith(SECRET_OPTION + "="):
            words[i] = SECRET_OPTION + "='***'"
    return " ".join(words)


def check_argv(argv: Sequence[str]) -> None:
    """A NUL byte cannot be passed to a program (the kernel ends the argument
    there): refuse the command as a failed one instead of letting subprocess
    raise ValueError, which would reach the operator as an internal error."""
    for a in argv:
        if "\0" in a:
            raise CommandError(argv, 127, b"", f"{os.path.basename(argv[0])}: an argument contains a NUL byte, "
                               "which no program can receive: remove it from the config".encode())


@record(kw_only=False, slots=False)
class Result:
    """A finished command: its argv, exit code and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner:
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        probe: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        secret_input: bool = False,
    ) -> Result:
        """Run `argv`. `secret_input` keeps stdin out of the log (it always is;
        the flag documents intent at call sites that pass keys)."""
        return self._execute(argv, input=input, check=check, env=env, timeout=timeout)

    def _execute(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None,
        check: bool,
        env: Mapping[str, str] | None,
        timeout: float | None,
    ) -> Result:
        import subprocess

        self.logger.debug("executing: " + shown_argv(argv))
        check_argv(argv)
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(
                list(argv),
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                env=full_env,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as e:
            raise CommandError(argv, 127, b"", f"{argv[0]}: command not found".encode()) from e
        except subprocess.TimeoutExpired as e:
            raise CommandError(argv, -9, b"", f"timed out after {timeout}s".encode()) from e
        result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
                for line in data.decode("utf-8", "replace").splitlines():
                    self.logger.debug(f"{argv[0]} {stream}: {line}")
            raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
        return result


class RecordingRunner(Runner):
    """Dry-run runner: probes run for real, everything else is recorded."""

    def __init__(self, logger: Logger, plan: Plan) -> None:
        super().__init__(logger)
        self.plan = plan

    def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        probe: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        secret_input: bool = False,
    ) -> Result:
        if probe:
            return self._execute(argv, input=input, check=check, env=env, timeout=timeout)
        self.plan.add("run", shown_argv(argv))
        return Result(tuple(argv), 0, b"", b"")
