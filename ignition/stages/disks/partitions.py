"""Writing a planned GPT with pyparted, plus sfdisk for what libparted 3.5
cannot set: a partition's type GUID (ped_partition_set_type_uuid came after
3.5) and its unique GUID. libparted numbers a new partition with the lowest
free entry, so entries below a wanted number that stay empty are held by
one-sector placeholders while adding, and dropped before the commit."""

from __future__ import annotations

import os

import _ped  # type: ignore[import-not-found]  # pyparted's C module, no stubs
import parted

from ignition import distro
from ignition.errors import CommandError, StageError
from ignition.log import Logger
from ignition.run import Runner
from ignition.stages.disks.layout import LINUX_DATA
from ignition.stages.disks.model import DiskPlan
from ignition.stages.disks.udev import (
    kernel_partitions,
    settle,
    tell_kernel,
    udev_running,
    verify_geometry,
    wait_for_partitions,
    wait_for_udev,
)


def zap(device: str, sector_size: int, total: int, first_usable: int) -> None:
    """What `sgdisk --zap-all` does: zero the protective MBR, the primary GPT
    (header and entries) and the backup GPT at the end of the disk."""
    head = first_usable * sector_size
    tail = (first_usable - 1) * sector_size
    fd = os.open(device, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.pwrite(fd, b"\0" * head, 0)
        os.pwrite(fd, b"\0" * tail, (total - first_usable + 1) * sector_size)
        os.fsync(fd)
    finally:
        os.close(fd)


def _free_sectors(plan: DiskPlan, count: int) -> list[int]:
    used = [(p.start, p.end) for p in plan.after]
    out: list[int] = []
    s = plan.before.first_usable if not plan.wipe_table else 34 if plan.before.sector_size == 512 else 6
    while len(out) < count and s < plan.before.total_sectors:
        hit = next((e for a, e in used if a <= s <= e), None)
        if hit is None:
            out.append(s)
            s += 1
        else:
            s = hit + 1
    if len(out) < count:
        raise StageError(f"{plan.device}: no free sector left to hold partition numbers while writing")
    return out


def _add(disk: parted.Disk, dev: parted.Device, start: int, length: int, name: str) -> parted.Partition:
    geom = parted.Geometry(device=dev, start=start, length=length)
    part = parted.Partition(disk=disk, type=parted.PARTITION_NORMAL, geometry=geom)
    part.set_name(name)
    disk.addPartition(part, parted.Constraint(exactGeom=geom))
    return part


def write_table(plan: DiskPlan, run: Runner, logger: Logger) -> None:
    dev = parted.getDevice(plan.device)
    try:
        if plan.wipe_table:
            zap(plan.device, plan.before.sector_size, plan.before.total_sectors,
                max(plan.before.first_usable, 34 if plan.before.sector_size == 512 else 6))
        fresh = plan.wipe_table or plan.before.table != "gpt"
        disk = parted.freshDisk(dev, "gpt") if fresh else parted.newDisk(dev)
        by_number = {p.number: p for p in disk.partitions}
        for n in plan.deletes:
            if n not in by_number:
                raise StageError(f"{plan.device}: libparted does not see partition {n} that the GPT holds")
            disk.deletePartition(by_number[n])
        existing = {p.number for p in disk.partitions}
        wanted = {c.number: c for c in plan.creates}
        top = max(wanted, default=0)
        gaps = [n for n in range(1, top) if n not in existing and n not in wanted]
        spare = iter(_free_sectors(plan, len(gaps)))
        holders = []
        for n in range(1, top + 1):
            if n in wanted:
                c = wanted[n]
                part = _add(disk, dev, c.start, c.size, c.label)
            elif n in gaps:
                holders.append(_add(disk, dev, next(spare), 1, "placeholder"))
                continue
            else:
                continue
            if part.number != n:
                raise StageError(f"{plan.device}: libparted numbered partition {n} as {part.number}")
        for h in holders:
            disk.deletePartition(h)
        disk.commit()
    except (_ped.PartedException, _ped.DiskException, _ped.PartitionException, _ped.DeviceException,
            _ped.IOException, _ped.CreateException, _ped.GeometryException, _ped.ConstraintException,
            _ped.DiskLabelException) as e:
        raise StageError(f"writing the partition table of {plan.device}: {e}") from e
    _set_guids(plan, run)
    settle(run)
    final = {p.number for p in plan.after}
    tell_kernel(run, plan.device, final, set(plan.deletes) | {c.number for c in plan.creates})
    wait_for_partitions(run, plan.device, final, set(plan.deletes) - final)
    verify_geometry(plan.device, {p.number: (p.start, p.size) for p in plan.after}, plan.before.sector_size)
    if udev_running():
        have = kernel_partitions(plan.device)
        nodes = [have[n] for n in sorted(final) if n in have]
        wait_for_udev(nodes)
        logger.debug(f"udev has set up {', '.join('/dev/' + n for n in nodes) or 'no partitions'} and their links")
    else:
        logger.debug("systemd-udevd is not running: no /dev/disk/by-* links to wait for")
    logger.info(f"partition table of {plan.device} written")


def _set_guids(plan: DiskPlan, run: Runner) -> None:
    sfdisk = distro.tool("sfdisk")
    quiet = ["--no-reread", "--no-tell-kernel", "--quiet"]
    for c in plan.creates:
        try:
            if c.type_guid.lower() != LINUX_DATA:
                run.run([sfdisk, *quiet, "--part-type", plan.device, str(c.number), c.type_guid])
            if c.guid:
                run.run([sfdisk, *quiet, "--part-uuid", plan.device, str(c.number), c.guid])
        except CommandError as e:
            raise StageError(f"setting the GUIDs of partition {c.number} on {plan.device}: {e}") from e
