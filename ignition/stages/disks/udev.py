"""Making the kernel and udev agree with the table just written.

The kernel's own partition parser is not relied upon (some kernels have none,
and a BLKRRPART re-read fails while any partition is busy): `partx` adds and
removes each partition that changed, by number, with BLKPG from the table it
reads itself. Then the partition nodes are waited for, with a deadline and an error
that names the node that did not come, and then udev's work on them, through
pyudev: each new partition is in udev's database and every /dev/disk/by-*
link udev made for it exists (a later step of the config may name it by one).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from ignition import distro
from ignition.errors import CommandError, StageError
from ignition.run import Runner

SYS_BLOCK = "/sys/class/block"
UDEV_CONTROL = "/run/udev/control"  # exists while systemd-udevd runs


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


def trigger(run: Runner, nodes: list[str], timeout: int = 30) -> None:
    """A change event for each of `nodes` (what the stage just wrote), and the
    wait until udev has handled them, so its links to them exist. Nothing to
    do when no systemd-udevd runs."""
    if not nodes or not udev_running():
        return
    run.run([distro.tool("udevadm"), "trigger", "--settle", "--action=change", *sorted(set(nodes))],
            check=False, timeout=timeout + 5)


def tell_kernel(run: Runner, device: str, keep: set[int], changed: set[int]) -> None:
    """Make the kernel's partitions of `device` the table's `keep` numbers, with
    `changed` ones (recreated or resized) taken anew. Each number is named to
    partx: a bare `partx --update` reads the range from the table itself, so it
    removes nothing from a table left empty and never reaches a lone partition
    numbered above the table's count."""
    partx = distro.tool("partx")
    have = kernel_partitions(device)
    steps = [("--delete", n) for n in sorted(have) if n not in keep or n in changed]
    steps += [("--add", n) for n in sorted(keep) if n not in have or n in changed]
    for op, n in steps:
        try:
            run.run([partx, op, "--nr", f"{n}:{n}", device])
        except CommandError as e:
            what = "removing" if op == "--delete" else "adding"
            raise StageError(f"telling the kernel about the partitions of {device} ({what} partition {n}): "
                             f"{e}; is one of its partitions still in use?") from e


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
            tell_kernel(run, device, numbers, set())
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


def udev_running() -> bool:
    return os.path.exists(UDEV_CONTROL)


# What the dynamic loader resolves by itself (ld.so.cache, the default directories).
LIBUDEV_SONAME = "libudev.so.1"


def import_pyudev() -> Any:
    """pyudev, able to open libudev on a machine without `ldconfig`.

    pyudev finds libudev with ctypes.util.find_library, which on Linux asks
    `ldconfig -p` (then gcc and ld). The initramfs has none of them (the dracut
    module leaves ldconfig's 1 MB out), so where that lookup finds nothing
    pyudev is handed libudev's soname, which dlopen resolves on its own. Where
    the lookup works (a full system) its answer is kept."""
    import ctypes.util

    import pyudev
    from pyudev._ctypeslib import utils

    if not getattr(utils.find_library, "ignition_soname_fallback", False):
        def find_library(name: str) -> str | None:
            found: str | None = ctypes.util.find_library(name)
            return found or (LIBUDEV_SONAME if name == "udev" else None)

        find_library.ignition_soname_fallback = True  # type: ignore[attr-defined]
        utils.find_library = find_library
    return pyudev


@functools.cache
def _udev_context() -> Any:
    """One libudev context for the stage's waits (it only reads /sys and udev's database)."""
    return import_pyudev().Context()


def udev_state(name: str) -> tuple[bool, tuple[str, ...]]:
    """(udev has processed the block device `name`, the links udev made for it),
    from udev's database through pyudev."""
    pyudev = import_pyudev()  # only the disks stage needs it, and only here
    try:
        dev = pyudev.Devices.from_name(_udev_context(), "block", name)
    except pyudev.DeviceNotFoundError:
        return False, ()
    return bool(dev.is_initialized), tuple(str(link) for link in dev.device_links)


def _block_events() -> Any:
    """A started pyudev monitor of block device events, or None when the
    netlink socket cannot be had (the wait then polls)."""
    pyudev = import_pyudev()
    try:
        monitor = pyudev.Monitor.from_netlink(_udev_context())
        monitor.filter_by("block")
        monitor.start()
    except (OSError, ValueError):
        return None
    return monitor


def wait_for_udev(names: Iterable[str], timeout: float = 30.0,
                  state: Callable[[str], tuple[bool, tuple[str, ...]]] = udev_state,
                  events: Callable[[], Any] = _block_events) -> None:
    """Wait until udev has processed each block device in `names` (kernel
    names, e.g. loop3p1) and each of its /dev/disk/by-* links exists. (Where
    to a link points is udev's choice when two devices claim it, e.g. the same
    partition label on two disks, so only its existence is waited for.)
    Between checks the wait sleeps on udev's event stream, so it returns as
    soon as the last event is handled; it fails naming the first device that
    is not ready at the deadline."""
    pending = sorted(set(names))
    if not pending:
        return
    monitor = events()  # closed when the wait returns (libudev frees it with its last reference)
    deadline = time.monotonic() + timeout
    while True:
        not_ready: list[tuple[str, str]] = []
        for name in pending:
            done, links = state(name)
            if not done:
                not_ready.append((name, "udev has not processed it"))
                continue
            for link in links:
                if not os.path.lexists(link):
                    not_ready.append((name, f"its link {link} does not exist yet"))
                    break
        if not not_ready:
            return
        pending = [n for n, _ in not_ready]
        left = deadline - time.monotonic()
        if left <= 0:
            name, why = not_ready[0]
            raise StageError(f"timed out after {timeout:g}s waiting for udev to set up /dev/{name}: {why}; "
                             "is systemd-udevd running and processing events?")
        if monitor is not None:
            monitor.poll(timeout=min(left, 0.5))
        else:
            time.sleep(min(left, 0.05))
