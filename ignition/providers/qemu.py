"""Platform `qemu`: the config is passed with
`-fw_cfg name=opt/com.coreos/config,file=config.ign` and read from sysfs.

Each read of a fw_cfg sysfs file costs time proportional to its offset (the
device is re-read from the start), so a config read in small chunks takes
quadratic time; it is read with one request for the whole size instead.
"""

from __future__ import annotations

import os
import time
from typing import ClassVar

from ignition import distro
from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.providers import body

SLOW_READ_WARNING_SECONDS = 10.0


class QemuProvider:
    name: ClassVar[str] = "qemu"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        base = ctx.env.fw_cfg_dir
        raw = os.path.join(base, "raw")
        if not os.path.exists(raw):
            # The module may not be loaded yet; loading it changes nothing in
            # the target, so a dry run does it too.
            ctx.run.run([distro.tool("modprobe"), "qemu_fw_cfg"], probe=True, check=False)
        if not os.path.exists(raw):
            ctx.logger.info("QEMU fw_cfg has no opt/com.coreos/config entry; no config provided")
            return None
        try:
            with open(os.path.join(base, "size"), "rb") as f:
                size = int(f.read().strip() or 0)
        except (OSError, ValueError):
            size = 0
        ctx.logger.info(f"reading {size} bytes of config from QEMU fw_cfg")
        return read_fw_cfg(raw, size, ctx.logger)


def read_fw_cfg(path: str, size: int, logger: Logger) -> bytes:
    start = time.monotonic()
    warned = False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise FetchError(f"reading the QEMU fw_cfg config {path}: {e.strerror}") from e

    remaining = size

    def read(_: int) -> bytes:
        nonlocal warned, remaining
        # As few reads as possible (each one costs under emulation): the whole
        # announced size at once, never more than one byte past the cap.
        chunk = os.read(fd, max(min(remaining, body.limit() + 1), 1 << 20))
        remaining -= len(chunk)
        if not warned and time.monotonic() - start > SLOW_READ_WARNING_SECONDS:
            logger.warning("reading the config from QEMU fw_cfg is slow; consider a smaller config")
            warned = True
        return chunk

    try:
        return body.read_capped(read, "QEMU fw_cfg (opt/com.coreos/config)", size or None)
    finally:
        os.close(fd)
