"""The exception tree. The text of every exception is shown to operators, so it
says what failed and, where the config is at fault, what to change."""

from __future__ import annotations

from collections.abc import Sequence


class IgnitionError(Exception):
    """Base of every error this package raises on purpose."""


class UsageError(IgnitionError):
    """Bad command line: exit code 2, as Ignition's flag parsing does."""


class SetupError(IgnitionError):
    """The run could not be set up (state file, fetcher): exit code 3."""


class ConfigError(IgnitionError):
    """The config is not acceptable. `report` holds the entries that say why."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class FetchError(IgnitionError):
    """A resource or config could not be fetched."""


class NeedsNetwork(FetchError):
    """Raised in offline mode for anything that needs the network (fetch-offline
    turns it into the neednet flag, as Ignition does)."""


class StageError(IgnitionError):
    """A stage failed; wraps the action that failed."""


class NotImplementedStageError(StageError):
    """A stage whose implementation has not landed in this build."""


class SysrootEscape(IgnitionError):
    """A path would resolve outside the target root."""


MAX_TOOL_LINES = 4  # of a failed program's own message in the error; the rest is at debug level


def tool_message(text: str) -> str:
    """What a failed program said, as much as an error line should carry: its
    lines before any usage text (mkfs.xfs, for one, prints its whole usage
    after the reason), at most MAX_TOOL_LINES of them."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if i and line.lstrip().lower().startswith("usage:"):
            lines = lines[:i]
            break
    if len(lines) > MAX_TOOL_LINES:
        lines = lines[:MAX_TOOL_LINES] + ["..."]
    return "\n".join(lines)


class CommandError(IgnitionError):
    """A subprocess failed. Carries everything an operator needs to see why."""

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int,
        stdout: bytes = b"",
        stderr: bytes = b"",
    ) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = tool_message(stderr.decode("utf-8", "replace").strip() or stdout.decode("utf-8", "replace").strip())
        msg = f"{self.argv[0]} exited with status {returncode}"
        if returncode < 0:
            msg = f"{self.argv[0]} was killed by signal {-returncode}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)
