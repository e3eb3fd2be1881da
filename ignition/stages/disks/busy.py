"""Refusing to rewrite what is in use.

Like Ignition, a partition that is mounted, active swap or held by another
block device (device-mapper, md) is never deleted or recreated, and a disk
that is itself in use is not repartitioned: the kernel would keep the old
geometry while the table on disk says otherwise. Checked before any write.
"""

from __future__ import annotations

import os

from ignition.errors import StageError
from ignition.machine import HOST, Machine
from ignition.stages.disks.model import DiskPlan
from ignition.stages.disks.udev import SYS_BLOCK


def _devnum(name: str) -> str:
    try:
        with open(os.path.join(SYS_BLOCK, name, "dev"), encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _mounts() -> dict[str, str]:
    """major:minor -> mount point."""
    out: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                out.setdefault(fields[2], fields[4])
    except OSError:
        pass
    return out


def _swaps() -> set[str]:
    try:
        with open("/proc/swaps", encoding="utf-8") as f:
            return {os.path.realpath(line.split()[0]) for line in f.readlines()[1:] if line.split()}
    except OSError:
        return set()


def in_use(name: str) -> str:
    """Why the block device `name` (e.g. loop0p1) is in use, or ""."""
    mounts = _mounts()
    num = _devnum(name)
    if num and num in mounts:
        return f"mounted at {mounts[num]}"
    if "/dev/" + name in _swaps():
        return "active swap"
    try:
        holders = os.listdir(os.path.join(SYS_BLOCK, name, "holders"))
    except OSError:
        holders = []
    if holders:
        return "held by " + ", ".join(sorted(holders))
    return ""


def check_not_busy(plan: DiskPlan, machine: Machine = HOST) -> None:
    if not plan.changes:
        return
    kparts = machine.kernel_partitions(plan.device)
    why = machine.in_use(plan.device)
    if why and not kparts:
        raise StageError(f"refusing to partition {plan.device}: the whole disk is {why}")
    changed = set(kparts) if plan.wipe_table else set(plan.deletes)
    for n in sorted(changed & set(kparts)):
        why = machine.in_use("/dev/" + kparts[n])
        if why:
            raise StageError(f"refusing to change partition {n} of {plan.device}: /dev/{kparts[n]} is {why}; "
                             "unmount it first or leave the partition as it is in the config")
