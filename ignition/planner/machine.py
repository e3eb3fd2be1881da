"""The described machine `ignition-plan` plans against.

Each disk is an image file (its GPT read by the disks stage's own parser from
the file's bytes, its signatures by blkid on the file at an offset) or a blank
disk of a given size. Nothing of the laptop is opened: a device path of the
config that is not described becomes a blank disk of the default size, and
every answer comes from the files and from what the disks stage decided
(partitions made, filesystems made, arrays and volumes opened), so the mount
and files stages are planned on top of the planned disks.
"""

from __future__ import annotations

import os
import re
from dataclasses import field, replace
from typing import TYPE_CHECKING

from ignition.config.types import Filesystem
from ignition.errors import StageError, UsageError
from ignition.machine import Machine
from ignition.planner.devices import Device, Formatted, Made, partition_node
from ignition.planner.sources import SECTOR, DiskSource, image_size, parse_size, read_region
from ignition.record import record
from ignition.run import Runner
from ignition.stages.disks.gpt import parse_disk
from ignition.stages.disks.model import DiskPlan, DiskState, FsInfo, FsPlan, empty_disk

__all__ = ["PlannedMachine", "partition_node"]
from ignition.stages.disks.probe import probe_filesystem

if TYPE_CHECKING:
    from ignition.context import StageContext

LINKS = ("/dev/disk/by-partlabel/", "/dev/disk/by-partuuid/", "/dev/disk/by-label/", "/dev/disk/by-uuid/")
MADE = ("/dev/md/", "/dev/mapper/")  # what only the disks stage makes
UUID_AT_BOOT = "(chosen-at-boot)"
SEALED = "not known (inside an existing LUKS volume)"
LUKS_HEADER = 16 << 20  # LUKS2's largest metadata (2 x 4 MiB) and LUKS1's header fit


@record(kw_only=False, frozen=False, slots=False)
class PlannedMachine(Machine):
    """Image files and blank disks; see the module docstring."""

    run: Runner
    sources: dict[str, DiskSource]
    default_size: int
    devices: dict[str, Device] = field(default_factory=dict)
    disk_plans: list[DiskPlan] = field(default_factory=list)
    lost: dict[str, dict[int, FsInfo]] = field(default_factory=dict)  # disk -> number -> fs on a dropped partition
    formats: list[Formatted] = field(default_factory=list)
    made: list[Made] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)
    probed: dict[tuple[str, int, int], FsInfo] = field(default_factory=dict)
    tables: dict[str, DiskState] = field(default_factory=dict)  # each disk's table as read
    headers: dict[str, str] = field(default_factory=dict)  # node -> copy of its LUKS header (luks_header)
    scratch: str = ""  # a temp dir for those copies, set by the session

    predicts = True

    @classmethod
    def build(cls, run: Runner, disks: list[tuple[str, str]], default_size: int,
              sectors: dict[str, int] | None = None) -> PlannedMachine:
        """From `--disk DEVICE=SOURCE` pairs and `--sector-size DEVICE=BYTES`; UsageError for a bad one."""
        sectors = dict(sectors or {})
        for device, size in sectors.items():
            if size not in (512, 1024, 2048, 4096):
                raise UsageError(f"--sector-size {device}={size}: a logical sector is 512, 1024, 2048 or 4096 bytes")
            if device not in dict(disks):
                raise UsageError(f"--sector-size {device}: no --disk describes {device}")
        sources: dict[str, DiskSource] = {}
        for device, source in disks:
            if not device.startswith("/dev/"):
                raise UsageError(f"--disk {device}={source}: the device is a path under /dev, as the config names it")
            if device in sources:
                raise UsageError(f"--disk {device} is given twice")
            ssz = sectors.get(device, SECTOR)
            if source.startswith("blank:"):
                size = parse_size(source[len("blank:"):])
                sources[device] = DiskSource(device, None, size // ssz * ssz, sector=ssz)
            else:
                size = image_size(device, source)
                sources[device] = DiskSource(device, os.path.abspath(source), size // ssz * ssz, sector=ssz)
        m = cls(run, sources, default_size)
        for src in sources.values():
            m.devices[src.device] = Device(src.device, src.size, src.image, sector=src.sector)
            m._partitions_from(m.read_disk(src.device))
        return m

    # --- where a path leads --------------------------------------------------
    def find(self, path: str) -> str | None:
        """The node a path leads to on the described machine, never assuming a new disk."""
        p = os.path.normpath(path)
        if p in self.devices:
            return p
        for prefix in LINKS:
            if p.startswith(prefix):
                return self._by_link(prefix, p[len(prefix):])
        return None

    def _by_link(self, prefix: str, value: str) -> str | None:
        for dev in self.devices.values():
            if prefix.endswith("by-partlabel/") and dev.disk and dev.label == value:
                return dev.node
            if prefix.endswith("by-partuuid/") and dev.disk and dev.guid and dev.guid.lower() == value.lower():
                return dev.node
        if prefix.endswith(("by-label/", "by-uuid/")):
            for dev in list(self.devices.values()):
                fs = self._fs(dev)
                have = fs.label if prefix.endswith("by-label/") else fs.uuid.lower()
                if fs.type and not fs.type.startswith("partition table") and have and \
                        have == (value if prefix.endswith("by-label/") else value.lower()):
                    return dev.node
        return None

    def _assume(self, path: str) -> str | None:
        """A device path no --disk describes: a blank disk of the default size,
        unless it is a name that only the disks stage makes (or a partition of a
        described disk), which does not exist before it does."""
        p = os.path.normpath(path)
        if not p.startswith("/dev/") or p.startswith(LINKS + MADE):
            return None
        for dev in list(self.devices.values()):
            if not dev.disk and re.fullmatch(re.escape(dev.node) + r"(p|-part)?\d+", p):
                return None
        self.sources[p] = DiskSource(p, None, self.default_size, assumed=True)
        self.devices[p] = Device(p, self.default_size)
        self.assumed.append(p)
        return p

    def resolve(self, path: str) -> str | None:
        return self.find(path) or self._assume(path)

    def wait_for_node(self, path: str, timeout: float) -> str:
        node = self.resolve(path)
        if node is None:
            # What the boot would say after waiting for it in vain.
            raise StageError(f"timed out after {max(timeout, 30.0):g}s waiting for {path} to appear")
        return node

    def realpath(self, path: str) -> str:
        return self.resolve(path) or os.path.normpath(path)

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None

    # --- what is on a device -------------------------------------------------
    def read_disk(self, node: str) -> DiskState:
        dev = self.devices[node]
        ssz = dev.sector
        total = dev.size // ssz
        if dev.image is None or dev.disk:
            self.tables[node] = empty_disk(node, ssz, total)
            return self.tables[node]
        image = dev.image

        def read(lba: int, count: int) -> bytes:
            return read_region(node, image, lba * ssz, count * ssz)

        state = parse_disk(node, ssz, total, read)
        self.tables[node] = state
        return state

    def _partitions_from(self, state: DiskState) -> None:
        disk = self.devices[state.device]
        for p in state.partitions:
            node = partition_node(disk.node, p.number)
            self.devices[node] = Device(node, p.size * disk.sector, disk.image, disk.offset + p.start * disk.sector,
                                        sector=disk.sector,
                                        disk=disk.node, number=p.number, label=p.label, guid=p.guid,
                                        type_guid=p.type_guid.lower())

    def fs(self, node: str) -> FsInfo:
        """The signature `node` carries at this point of the plan."""
        return self._fs(self.devices[node])

    def _fs(self, dev: Device) -> FsInfo:
        if dev.fs is not None:
            return dev.fs
        if dev.image is None:
            return FsInfo()
        # The images are never written, so what a region holds is probed once.
        region = (dev.image, dev.offset, dev.size)
        if region not in self.probed:
            self.probed[region] = probe_filesystem(self.run, dev.node, region)
        return self.probed[region]

    def probe_filesystem(self, run: Runner, node: str) -> FsInfo:
        return self._fs(self.devices[node])

    def in_use(self, node: str) -> str:
        return ""  # nothing of a described machine is mounted before its first boot

    def kernel_partitions(self, disk: str) -> dict[int, str]:
        return {}

    def partition_of(self, device: str) -> tuple[str, int] | None:
        node = self.resolve(device)
        dev = self.devices.get(node or "")
        return (dev.disk, dev.number) if dev and dev.disk else None

    def luks_header(self, run: Runner, node: str) -> str:
        """A sparse copy of the device's size holding its first LUKS_HEADER bytes:
        cryptsetup reads a header from a regular file without root, but not at an
        offset inside one, and wants the file as large as the volume's metadata."""
        dev = self.devices[self.resolve(node) or node]
        if dev.image is None:
            raise StageError(f"{node} holds no LUKS header: it is blank on the described machine")
        if dev.node not in self.headers:
            path = os.path.join(self.scratch, f"luks-header-{len(self.headers)}.img")
            with open(path, "xb") as f:
                f.write(read_region(dev.node, dev.image, dev.offset, min(dev.size, LUKS_HEADER)))
                f.truncate(dev.size)
            self.headers[dev.node] = path
        return self.headers[dev.node]

    def luks_uuid(self, run: Runner, device: str) -> str:
        node = self.resolve(device) or device
        if any(m.kind == "luks" and node in m.members and not m.reused for m in self.made):
            return UUID_AT_BOOT  # luksFormat picks it when the volume is made
        return super().luks_uuid(run, self.luks_header(run, node))

    def has_program(self, name: str) -> bool:
        """The target's initramfs is the distribution's, which ships its helpers;
        the plan lists the call instead of asking this machine."""
        return True

    def require_md(self, run: Runner) -> None:
        """The target's kernel is not known here; the plan lists the array."""

    def require_dm(self, ctx: StageContext) -> None:
        """The target's kernel is not known here; the plan lists the volume."""

    # --- what the disks stage decided ----------------------------------------
    def partitioned(self, plans: list[DiskPlan]) -> None:
        self.disk_plans = list(plans)
        for plan in plans:
            if not plan.changes:
                continue
            old = {n: d for n, d in self.devices.items() if d.disk == plan.device}
            kept = {(p.start, p.size) for p in plan.after}
            dropped = [p for p in plan.before.partitions
                       if p.number in plan.deletes or (plan.wipe_table and (p.start, p.size) not in kept)]
            self.lost[plan.device] = {p.number: self._fs(old[partition_node(plan.device, p.number)])
                                      for p in dropped if partition_node(plan.device, p.number) in old}
            for n in old:
                del self.devices[n]
            disk = self.devices[plan.device]
            # The disk now carries a GPT; each partition shows the bytes already in
            # its sectors (writing a table does not touch them).
            disk.fs = FsInfo("partition table gpt")
            self._partitions_from(replace(plan.before, partitions=plan.after))

    def formatted(self, device: str, fs: Filesystem, plan: FsPlan) -> None:
        dev = self.devices[device]
        if any(m.reused and m.path == device for m in self.made) and plan.action != "wipe":
            if fs.wipe_filesystem:
                plan = replace(plan, found=FsInfo(SEALED), warning="what the existing LUKS volume holds cannot "
                               "be read without its key: whatever it is, it is destroyed")
            else:
                plan = replace(plan, warning="what the existing LUKS volume holds cannot be read without its key: "
                               f"planned as empty; at boot an existing {plan.format} filesystem in it is reused "
                               "instead, and any other fails the stage (wipeFilesystem is false)")
        self.formats.append(Formatted(device, fs.device, plan, fs.label, fs.uuid))
        if plan.action == "create":
            # A UUID not given is chosen by mkfs at boot: by-uuid cannot name it.
            dev.fs = FsInfo(plan.format, fs.label or "", fs.uuid or "")
        elif plan.action == "wipe":
            dev.fs = FsInfo()

    def created(self, path: str, kind: str, members: tuple[str, ...]) -> None:
        found = tuple(self._fs(self.devices[m]) for m in members if m in self.devices)
        # The stage reads a header only to reuse the volume (anything else either
        # formats without looking or fails).
        reused = kind == "luks" and members[0] in self.headers
        self.made.append(Made(path, kind, members, found, reused))
        # A new array or a freshly opened volume is planned empty: what mdadm or
        # dm-crypt shows through it cannot be read from the images.
        self.devices[path] = Device(path, 0, fs=FsInfo())
