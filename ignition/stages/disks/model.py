"""What the probe found and what the plan wants, as plain values (no I/O)."""

from __future__ import annotations

from dataclasses import field

from ignition.record import record

MIB = 1024 * 1024


@record(kw_only=False, slots=False)
class PartInfo:
    """One GPT entry. Sectors are logical sectors of the disk."""

    number: int
    start: int
    size: int
    type_guid: str = ""  # lower-case, dashed
    guid: str = ""
    label: str = ""

    @property
    def end(self) -> int:  # last sector, inclusive
        return self.start + self.size - 1


@record(kw_only=False, slots=False)
class DiskState:
    """A disk as probed: geometry, table kind and partitions."""

    device: str  # resolved node, e.g. /dev/loop3
    sector_size: int
    total_sectors: int
    table: str  # "gpt", "none" (no GPT signature) or "corrupt"
    first_usable: int
    last_usable: int
    partitions: tuple[PartInfo, ...] = ()
    problem: str = ""  # why the table is "corrupt"

    def get(self, number: int) -> PartInfo | None:
        for p in self.partitions:
            if p.number == number:
                return p
        return None


def gpt_usable(sector_size: int, total_sectors: int) -> tuple[int, int]:
    """First and last usable sector of a fresh GPT with 128 entries of 128 bytes
    (what sgdisk and libparted write)."""
    entry_sectors = (128 * 128 + sector_size - 1) // sector_size
    return 2 + entry_sectors, total_sectors - 2 - entry_sectors


def empty_disk(device: str, sector_size: int, total_sectors: int, table: str = "none",
               problem: str = "") -> DiskState:
    first, last = gpt_usable(sector_size, total_sectors)
    return DiskState(device, sector_size, total_sectors, table, first, last, (), problem)


@record(kw_only=False, slots=False)
class Signature:
    """One signature wipefs lists on a device."""

    type: str
    offset: str
    label: str = ""
    uuid: str = ""

    def __str__(self) -> str:
        return f"{self.type or 'unknown'}" + (f" at offset {self.offset}" if self.offset else "")


@record(kw_only=False, slots=False)
class FsInfo:
    """What blkid found on a device ("" = nothing)."""

    type: str = ""
    label: str = ""
    uuid: str = ""
    ambivalent: bool = False  # more than one signature: blkid will not say which is meant
    signatures: tuple[Signature, ...] = ()  # when ambivalent: each one found


@record(kw_only=False, slots=False)
class DiskPlan:
    """What the stage will do to one disk's partition table, and the table after it."""

    device: str
    before: DiskState
    wipe_table: bool
    deletes: tuple[int, ...]
    creates: tuple[PartInfo, ...]  # exact sectors; guid "" = let libparted pick one
    after: tuple[PartInfo, ...]
    notes: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return self.wipe_table or bool(self.deletes) or bool(self.creates)


@record(kw_only=False, slots=False)
class FsPlan:
    """What the stage will do for one filesystem entry: reuse, create or wipe."""

    device: str
    action: str  # "reuse", "create", "wipe" (format none), "none" (nothing there, nothing asked)
    format: str
    argv: tuple[str, ...] = ()  # mkfs command when action == "create"
    found: FsInfo = field(default_factory=FsInfo)
    where: str = ""  # config path of the entry, e.g. $.storage.filesystems[2]
    warning: str = ""  # said in the log when the plan is carried out
