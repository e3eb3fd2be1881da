"""What `--disk` and `--default-disk-size` describe: a disk as an image file
or a blank disk of a size, checked before anything is read. Only a regular
file is ever opened: a FIFO would block, a device node would be the laptop's."""

from __future__ import annotations

import os
import re
import stat

from ignition.errors import UsageError
from ignition.record import record

SECTOR = 512
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\Z", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}

def parse_size(text: str) -> int:
    """`20G`, `512M`, `4T`, `1.5G`, `100GiB` (powers of 1024) or bytes, in whole sectors."""
    m = _SIZE.match(text.strip())
    if not m:
        raise UsageError(f"not a size: {text!r} (use e.g. 20G, 512M, 4T)")
    size = int(float(m.group(1)) * _UNITS[m.group(2).upper()]) // SECTOR * SECTOR
    if size < 1 << 20:
        raise UsageError(f"size {text!r} is too small for a disk (at least 1M)")
    return size


def read_region(device: str, image: str, offset: int, count: int) -> bytes:
    """`count` bytes at `offset` of the image file of `device`."""
    # O_NONBLOCK: should the path have become a FIFO since it was checked, do not hang on it
    fd = os.open(image, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"--disk {device}={image}: the image is no longer a regular file")
        return os.pread(fd, count, offset)
    finally:
        os.close(fd)


def image_size(device: str, path: str) -> int:
    """The size of the image file `path`, refusing anything but a regular file
    (a FIFO would block, a device would be the laptop's own)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise UsageError(f"--disk {device}={path}: {e.strerror}; give an image file, or blank:SIZE") from e
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a block device" if stat.S_ISBLK(st.st_mode) else "a character device"
                if stat.S_ISCHR(st.st_mode) else "not a regular file")
        raise UsageError(f"--disk {device}={path}: {path} is {kind}; ignition-plan reads only image files "
                         "(never a device of this machine): give an image file, or blank:SIZE")
    if st.st_size < 1 << 20:
        raise UsageError(f"--disk {device}={path}: the image is {st.st_size} bytes; a disk image is at least 1 MiB")
    return st.st_size // SECTOR * SECTOR


@record(kw_only=False, slots=False)
class DiskSource:
    """What `--disk` (or the default) says a disk is."""

    device: str
    image: str | None  # None: blank
    size: int
    assumed: bool = False  # not described: a blank disk of the default size
    sector: int = SECTOR
