"""The pure partition planner: Ignition's matching table, no I/O.

`plan_disk` takes the config's disk and what the probe found, and returns the
exact table to write, or raises PlanError before anything is written. The
steps follow Go Ignition's `partitionDisk` (inventory section 4.2):
1. explicit numbers before number 0 (stable);
2. resolve start 0 / size 0 as if every configured, existing partition were
   deleted and every wanted one created anew ("sgdisk --pretend"); unspecified
   start/size of an existing entry without wipePartitionEntry inherit its values;
3. decide per partition (operator notes' table), then delete and create.
"""

from __future__ import annotations

from dataclasses import replace

from ignition.config.types import Disk, Partition
from ignition.record import record
from ignition.stages.disks.layout import LINUX_DATA, Layout, PlanError
from ignition.stages.disks.model import MIB, DiskPlan, DiskState, PartInfo, empty_disk


@record(kw_only=False, slots=False)
class Spec:
    """A partition entry of the config in sectors, as the matching table compares it."""

    number: int
    start: int | None  # sectors
    size: int | None
    label: str | None
    type_guid: str | None  # lower-case; None = unspecified ("" in the config too)
    guid: str | None
    wipe: bool
    exist: bool
    resize: bool


def to_spec(p: Partition, sector_size: int) -> Spec:
    per_mib = MIB // sector_size
    return Spec(
        number=p.number or 0,
        start=None if p.start_mib is None else p.start_mib * per_mib,
        size=None if p.size_mib is None else p.size_mib * per_mib,
        label=p.label,
        type_guid=p.type_guid.lower() if p.type_guid else None,
        guid=p.guid.lower() if p.guid else None,
        wipe=bool(p.wipe_partition_entry),
        exist=p.should_exist is not False,
        resize=bool(p.resize),
    )


def mismatch(have: PartInfo, want: Spec, check_size: bool = True) -> str:
    """Why `have` does not match `want` ("" if it does); Ignition's wording."""
    if want.start is not None and want.start != have.start:
        return f"starting sector did not match (specified {want.start}, got {have.start})"
    if want.guid is not None and want.guid != have.guid.lower():
        return f'GUID did not match (specified "{want.guid}", got "{have.guid}")'
    if want.type_guid is not None and want.type_guid != have.type_guid.lower():
        return f'type GUID did not match (specified "{want.type_guid}", got "{have.type_guid}")'
    if want.label is not None and want.label != have.label:
        return f'label did not match (specified "{want.label}", got "{have.label}")'
    if check_size and want.size is not None and want.size != have.size:
        return f"size did not match (specified {want.size}, got {have.size})"
    return ""


def _layout(state: DiskState) -> Layout:
    return Layout(state.first_usable, state.last_usable, state.sector_size,
                  {p.number: p for p in state.partitions})


def _resolve_zeros(specs: list[Spec], state: DiskState, device: str) -> list[Spec]:
    """Replace start 0 / size 0 of numbered entries by where sgdisk would put them."""
    sim = _layout(state)
    placed: dict[int, PartInfo] = {}
    wanted: list[tuple[Spec, int | None, int | None]] = []
    # sgdisk gets every --delete before any --new, as Go's sgdisk.Operation orders them
    for s in specs:
        start, size = s.start, s.size
        have = state.get(s.number) if s.number else None
        if have is not None:
            del sim.parts[have.number]
            if start is None and not s.wipe:
                start = have.start
            if size is None and not s.wipe:
                size = have.size
        if s.exist:
            wanted.append((s, start, size))
    for s, start, size in wanted:
        placed[s.number] = sim.create(PartInfo(s.number, 0, 0), start, size, device)
    out = []
    for s in specs:
        if s.number and (s.start == 0 or s.size == 0) and s.number in placed:
            p = placed[s.number]
            out.append(replace(s, start=p.start if s.start is not None else None,
                               size=p.size if s.size is not None else None))
        else:
            out.append(s)
    return out


def plan_disk(disk: Disk, state: DiskState) -> DiskPlan:
    dev = disk.device
    if disk.wipe_table:
        work = empty_disk(state.device, state.sector_size, state.total_sectors)
    elif state.table == "corrupt":
        raise PlanError(f"the partition table of {dev} is damaged ({state.problem}); "
                        "set wipeTable: true to replace it (this erases every partition entry)")
    else:
        work = state
    specs = [to_spec(p, work.sector_size) for p in disk.partitions]
    specs = [s for s in specs if s.number] + [s for s in specs if not s.number]
    numbers = [s.number for s in specs if s.number]
    dup = {n for n in numbers if numbers.count(n) > 1}
    if dup:
        raise PlanError(f"{dev}: partition {min(dup)} is configured more than once")
    specs = _resolve_zeros(specs, work, dev)

    deletes: list[int] = []
    creates: list[Spec] = []
    notes: list[str] = []
    for s in specs:
        have = work.get(s.number) if s.number else None
        if have is None:
            if s.exist:
                creates.append(s)
            else:
                notes.append(f"partition {s.number} does not exist, as wanted")
            continue
        if not s.exist:
            if not s.wipe:
                raise PlanError(f"{dev}: partition {s.number} exists but is specified as nonexistent and "
                                "wipePartitionEntry is false; set wipePartitionEntry: true to delete it")
            deletes.append(s.number)
            continue
        why = mismatch(have, s)
        if not why:
            notes.append(f"partition {s.number} found with correct specifications")
        elif s.wipe:
            notes.append(f"partition {s.number} recreated: {why}")
            deletes.append(s.number)
            creates.append(s)
        elif s.resize and not mismatch(have, s, check_size=False):
            notes.append(f"partition {s.number} resized from {have.size} to {s.size} sectors")
            deletes.append(s.number)
            creates.append(replace(s, label=have.label, type_guid=have.type_guid, guid=have.guid,
                                   start=have.start))
        else:
            raise PlanError(f"{dev}: partition {s.number} didn't match: {why}; set wipePartitionEntry: true "
                            "to recreate it" + ("" if s.resize else " (or resize: true to change only its size)"))

    final = _layout(work)
    for n in deletes:
        del final.parts[n]
    created = []
    for s in creates:
        want = PartInfo(s.number, 0, 0, s.type_guid or LINUX_DATA, s.guid or "", s.label or "")
        created.append(final.create(want, s.start, s.size, dev))
    return DiskPlan(
        device=state.device,
        before=state,
        wipe_table=bool(disk.wipe_table),
        deletes=tuple(deletes),
        creates=tuple(created),
        after=tuple(sorted(final.parts.values(), key=lambda p: p.number)),
        notes=tuple(notes),
    )
