"""What a write on the target says when the filesystem refuses it.

A full disk, an exhausted quota, a read-only mount or an I/O error is a fact
about the filesystem, not about the file, and the operator's fix is there
(a larger partition, a smaller file, a writable mount, a healthy disk). So
every write path (staged contents, small and empty files, appends) turns
these into one line that names the file, the mount point and the device.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

# errno -> (what happened, with {fs} for the filesystem; what to change)
FILESYSTEM_ERRNOS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on {fs}", "make the filesystem larger or the file smaller"),
    errno.EDQUOT: ("disk quota exceeded on {fs}", "raise the quota or make the file smaller"),
    errno.EROFS: ("{fs} is read-only", "mount it read-write or put the file on another filesystem"),
    errno.EIO: ("I/O error on {fs}", "check the device (kernel log) or put the file on another filesystem"),
}


def filesystem_error(e: OSError, host_dir: str, doing: str) -> OSError | None:
    """An OSError carrying one line for a filesystem-level failure of `doing`
    (e.g. "appending to /etc/x (12 bytes written)") in the host directory
    `host_dir`; None when `e` is about something else."""
    known = FILESYSTEM_ERRNOS.get(e.errno or 0)
    if known is None:
        return None
    what, fix = known
    return OSError(e.errno, f"{what.format(fs=describe_filesystem(host_dir))} while {doing}: {fix}")


def describe_filesystem(host_dir: str) -> str:
    """"the filesystem mounted at M (device D, N MiB)" for the directory `host_dir`."""
    try:
        dev = os.stat(host_dir).st_dev
        mount = host_dir
        while mount != "/":
            parent = os.path.dirname(mount)
            if os.stat(parent).st_dev != dev:
                break
            mount = parent
        vfs = os.statvfs(host_dir)
    except OSError:
        return f"the filesystem of {host_dir}"
    device = mount_source(mount)
    shown = f"device {device}, " if device else ""
    return f"the filesystem mounted at {mount} ({shown}{vfs.f_blocks * vfs.f_frsize >> 20} MiB)"


def mount_source(mount: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """The source (device) of the mount at `mount`, the topmost if mounts are
    stacked; None when the kernel's table does not list it."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        fields, sep, tail = line.partition(" - ")
        parts = fields.split(" ")
        rest = tail.split(" ")
        if not sep or len(parts) < 5 or len(rest) < 2:
            continue
        if _unescape(parts[4]) == mount:
            found = _unescape(rest[1])
    return found


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as \\ooo octal."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@contextlib.contextmanager
def described(host_dir: str, doing: str) -> Iterator[None]:
    """Re-raise a filesystem-level OSError of the block as filesystem_error's
    one line; anything else unchanged."""
    try:
        yield
    except OSError as e:
        full = filesystem_error(e, host_dir, doing)
        if full is None:
            raise
        raise full from e
