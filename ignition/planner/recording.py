"""The runner, sysroot and fetcher of a plan: the dry-run ones, with two
guards, one memory and one hook.

- A probe that would name a path of this machine's /dev, /sys or /proc is
  refused: the described machine answers those questions (machine.py), and a
  probe that slipped past it would read the laptop's own disks.
- Each mount the runner records is reported (`on_mount`) the moment the mount
  stage makes it, so the target's tree (trees.py) shows that filesystem from
  then on, as the stage's next mount path check sees it at boot.
- The sysroot keeps the bytes each planned write would put in the root, so
  the report can say what the preset file enables rather than guess it.
- With --offline, a remote resource is not fetched: it is listed, and planned
  as empty contents whose size is unknown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from urllib.parse import urlsplit

from ignition import distro, redact
from ignition.errors import StageError
from ignition.log import Logger
from ignition.plan import Plan
from ignition.record import record
from ignition.resources.fetcher import Fetcher
from ignition.resources.stream import Sink
from ignition.run import RecordingRunner, Result
from ignition.sysroot_dryrun import DryRunSysroot

HOST_PLACES = ("/dev/", "/sys/", "/proc/")


def _names_host_device(arg: str) -> bool:
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    return os.path.normpath(value).startswith(HOST_PLACES) if value.startswith("/") else False


class PlanRunner(RecordingRunner):
    """Records every change; runs only probes of files (image files, the root)."""

    def __init__(self, logger: Logger, plan: Plan) -> None:
        super().__init__(logger, plan)
        self.probes: list[tuple[str, ...]] = []  # every probe that ran, for the tests
        self.on_mount: Callable[[Sequence[str]], None] | None = None  # told of each recorded mount

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
            host = [a for a in argv[1:] if _names_host_device(a)]
            if host:
                raise StageError(f"planning would have to look at {host[0]} with {os.path.basename(argv[0])}, "
                                 "which ignition-plan cannot read from an image yet")
            self.probes.append(tuple(argv))
        res = super().run(argv, input=input, probe=probe, check=check, env=env, timeout=timeout,
                          secret_input=secret_input)
        if not probe and self.on_mount is not None and argv[0] == distro.tool("mount"):
            self.on_mount(argv)
        return res


class PlanSysroot(DryRunSysroot):
    """The dry-run sysroot, remembering the bytes of each planned write."""

    def __init__(self, root: str, plan: Plan) -> None:
        super().__init__(root, plan)
        self.written: dict[str, bytes] = {}

    def write_file(self, path: str, data: bytes, mode: int = 0o644, uid: int | None = None,
                   gid: int | None = None) -> None:
        super().write_file(path, data, mode, uid, gid)
        self.written[path] = data

    def read_bytes(self, path: str) -> bytes | None:
        # A later step of the same plan reads what an earlier one wrote.
        if path in self.written:
            return self.written[path]
        return super().read_bytes(path)


@record(kw_only=False, slots=False)  # as Fetcher is: a dataclass cannot extend a record
class OfflineFetcher(Fetcher):
    """--offline: data URLs are decoded as always; anything remote is listed, not fetched."""

    unfetched: list[tuple[str, str]] = field(default_factory=list)  # (redacted URL, expected hash or "")

    def fetch_into(self, url: str, sink: Sink, *, compression: str | None = None, verification: str | None = None,
                   headers: tuple[tuple[str, str], ...] = ()) -> None:
        # The one fetch path every scheme and every caller goes through (contents stream
        # into `sink`): nothing remote is ever reached, the sink stays empty.
        if urlsplit(url).scheme.lower() in ("data", ""):
            super().fetch_into(url, sink, compression=compression, verification=verification, headers=headers)
            return
        self.unfetched.append((redact.url(url), verification or ""))
