"""Making the kernel and udev agree with the table just written.

The kernel's own partition parser is not relied upon (some kernels have none,
and a BLKRRPART re-read fails while any partition is busy): `partx --update`
adds, resizes and removes each partition with BLKPG from the table it reads
itself. Then the partition nodes are waited for, with a deadline and an error
that names the node that did not come.
"""

from __future__ import annotations

import os
import time

from ignition import distro
from ignition.errors import CommandError, StageError
from ignition.run import Runner

SYS_BLOCK = "/sys/class/block"


def kernel_partitions(device: str) -> dict[int, str]:
    """Partition number -> node name the kernel has for the disk `device`."""
    disk = os.path.basename(os.path.realpath(device))
    out: dict[int, str] = {}
    base = os.path.join(SYS_BLOCK, disk)
    try:
        names = os.listdir(base)
    except OSError:
        return out
    for name in names:
        try:
            with open(os.path.join(base, name, "partition"), encoding="ascii") as f:
                out[int(f.read().strip())] = name
        except (OSError, ValueError):
            continue
    return out


def settle(run: Runner, timeout: int = 30) -> None:
    # No udevd (a plain build machine) is not an error: there is nothing to wait for.
    run.run([distro.tool("udevadm"), "settle", f"--timeout={timeout}"], check=False, timeout=timeout + 5)


def tell_kernel(run: Runner, device: str) -> None:
    try:
        run.run([distro.tool("partx"), "--update", device])
    except CommandError as e:
        raise StageError(f"telling the kernel about the new partitions of {device}: {e}; "
                         "is one of its partitions still in use?") from e


def wait_for_partitions(run: Runner, device: str, numbers: set[int], gone: set[int],
                        timeout: float = 30.0) -> None:
    """Wait until the kernel has exactly `numbers` (of those we touched) and their
    /dev nodes exist; `partx` is re-run once in between, because on a kernel
    without a partition parser a udev-triggered re-read drops every partition."""
    deadline = time.monotonic() + timeout
    retried = False
    while True:
        have = kernel_partitions(device)
        missing = [n for n in sorted(numbers) if n not in have or not os.path.exists("/dev/" + have[n])]
        stale = [n for n in sorted(gone) if n in have]
        if not missing and not stale:
            return
        if time.monotonic() > deadline:
            if missing:
                n = missing[0]
                node = "/dev/" + have[n] if n in have else f"partition {n} of {device}"
                raise StageError(f"timed out after {timeout:g}s waiting for {node} to appear")
            raise StageError(f"partition {stale[0]} of {device} is still known to the kernel after deleting it")
        if not retried and time.monotonic() > deadline - timeout / 2:
            tell_kernel(run, device)
            retried = True
        time.sleep(0.05)


def _sysfs_int(name: str, attr: str) -> int:
    try:
        with open(os.path.join(SYS_BLOCK, name, attr), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return -1


def verify_geometry(device: str, parts: dict[int, tuple[int, int]], sector_size: int) -> None:
    """The kernel's start/size of each partition (sysfs, 512-byte units) must be
    the table's: a partition the kernel kept with its old geometry would let
    mkfs write where the config did not say."""
    have = kernel_partitions(device)
    for n, (start, size) in sorted(parts.items()):
        want = (start * sector_size // 512, size * sector_size // 512)
        got = (_sysfs_int(have.get(n, ""), "start"), _sysfs_int(have.get(n, ""), "size"))
        if got != want:
            raise StageError(f"the kernel sees partition {n} of {device} at {got[0]}+{got[1]} (512-byte sectors), "
                             f"the new table says {want[0]}+{want[1]}; is it still in use?")
