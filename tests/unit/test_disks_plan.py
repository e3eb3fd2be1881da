"""The pure partition planner against Ignition's matching table (no root, no I/O).

The disk is 64 MiB of 512-byte sectors: usable sectors 34..131038, 2048 per MiB.
"""

from __future__ import annotations

import pytest

from ignition.config.types import Disk, Partition
from ignition.stages.disks.layout import LINUX_DATA, PlanError
from ignition.stages.disks.model import DiskState, PartInfo, empty_disk
from ignition.stages.disks.plan import plan_disk

MIB = 2048
TOTAL = 131072
LAST = TOTAL - 34
ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
G1 = "11111111-2222-3333-4444-555555555555"


def state(*parts: PartInfo, ssz: int = 512, total: int = TOTAL) -> DiskState:
    d = empty_disk("/dev/loopX", ssz, total, "gpt" if parts else "none")
    return DiskState(d.device, ssz, total, d.table, d.first_usable, d.last_usable, parts)


def part(n: int, start_mib: float, size_mib: float, label: str = "", type_guid: str = LINUX_DATA,
         guid: str = "") -> PartInfo:
    return PartInfo(n, int(start_mib * MIB), int(size_mib * MIB), type_guid,
                    guid or f"0000000{n}-0000-0000-0000-000000000000", label)


def disk(*parts: Partition, wipe: bool = False) -> Disk:
    return Disk(device="/dev/loopX", wipe_table=wipe, partitions=parts)


def P(**kw: object) -> Partition:
    names = {"startMiB": "start_mib", "sizeMiB": "size_mib", "typeGuid": "type_guid",
             "wipePartitionEntry": "wipe_partition_entry", "shouldExist": "should_exist"}
    return Partition(**{names.get(k, k): v for k, v in kw.items()})  # type: ignore[arg-type]


def layout(plan_parts: tuple[PartInfo, ...]) -> list[tuple[int, int, int, str]]:
    return [(p.number, p.start, p.size, p.label) for p in plan_parts]


# (name, existing partitions, config partitions, wipeTable, expected (number, start, size, label) after)
POSITIVE = [
    ("create", (), [P(number=1, label="ROOT", sizeMiB=10)], False, [(1, 2048, 10 * MIB, "ROOT")]),
    ("create.withstartmib", (), [P(number=1, startMiB=5, sizeMiB=10)], False, [(1, 5 * MIB, 10 * MIB, "")]),
    ("create.number0.twice", (), [P(label="a", sizeMiB=2), P(label="b", sizeMiB=3)], False,
     [(1, 2048, 2 * MIB, "a"), (2, 3 * MIB, 3 * MIB, "b")]),
    ("create.size0.fills", (), [P(number=1, sizeMiB=0)], False, [(1, 2048, LAST - 2048 + 1, "")]),
    ("create.nosize.fills", (), [P(number=1)], False, [(1, 2048, LAST - 2048 + 1, "")]),
    ("create.startsize0.after.existing", (part(1, 1, 10, "A"),), [P(number=2, startMiB=0, sizeMiB=0)], False,
     [(1, 2048, 10 * MIB, "A"), (2, 11 * MIB, LAST - 11 * MIB + 1, "")]),
    ("append", (part(1, 1, 10, "A"),), [P(number=2, label="B", sizeMiB=5)], False,
     [(1, 2048, 10 * MIB, "A"), (2, 11 * MIB, 5 * MIB, "B")]),
    ("number0.after.explicit", (), [P(label="z", sizeMiB=1), P(number=1, label="one", sizeMiB=1)], False,
     [(1, 2048, MIB, "one"), (2, 2 * MIB, MIB, "z")]),
    ("number0.fills.gap", (part(1, 1, 1), part(3, 3, 1)), [P(label="g", startMiB=10, sizeMiB=1)], False,
     [(1, MIB, MIB, ""), (2, 10 * MIB, MIB, "g"), (3, 3 * MIB, MIB, "")]),
    ("match.all", (part(1, 1, 10, "A", ESP, G1),),
     [P(number=1, label="A", startMiB=1, sizeMiB=10, typeGuid=ESP.upper(), guid=G1.upper())], False,
     [(1, 2048, 10 * MIB, "A")]),
    ("match.zeros.fill", (PartInfo(1, 2048, LAST - 2048 + 1, LINUX_DATA, G1, "A"),),
     [P(number=1, startMiB=0, sizeMiB=0)], False,
     [(1, 2048, LAST - 2048 + 1, "A")]),
    ("match.unspecified.inherit", (part(1, 4, 2, "A"),), [P(number=1, label="A")], False, [(1, 4 * MIB, 2 * MIB, "A")]),
    ("recreate.wipeentry", (part(1, 1, 10, "A"),), [P(number=1, label="B", sizeMiB=20, wipePartitionEntry=True)],
     False, [(1, 2048, 20 * MIB, "B")]),
    ("resizeroot.withzeros", (part(1, 1, 10, "ROOT"),),
     [P(number=1, label="ROOT", startMiB=0, sizeMiB=0, wipePartitionEntry=True)], False,
     [(1, 2048, LAST - 2048 + 1, "ROOT")]),
    ("resize", (part(1, 1, 10, "A", ESP),), [P(number=1, label="A", sizeMiB=20, resize=True)], False,
     [(1, 2048, 20 * MIB, "A")]),
    ("resize.shrink", (part(1, 1, 10, "A"),), [P(number=1, sizeMiB=4, resize=True)], False, [(1, 2048, 4 * MIB, "A")]),
    ("delete", (part(1, 1, 10), part(2, 11, 10)), [P(number=2, shouldExist=False, wipePartitionEntry=True)], False,
     [(1, 2048, 10 * MIB, "")]),
    ("delete.all", (part(1, 1, 10), part(2, 11, 10)),
     [P(number=1, shouldExist=False, wipePartitionEntry=True), P(number=2, shouldExist=False, wipePartitionEntry=True)],
     False, []),
    ("noop.nonexistent", (part(1, 1, 10),), [P(number=5, shouldExist=False)], False, [(1, 2048, 10 * MIB, "")]),
    ("wipetable", (part(1, 1, 10, "old"), part(2, 11, 10)), [P(number=2, label="new", sizeMiB=4)], True,
     [(2, 2048, 4 * MIB, "new")]),
    ("match.recreate.delete.add", (part(1, 1, 10, "keep"), part(2, 11, 5, "grow"), part(3, 16, 5, "gone")),
     [P(number=1, label="keep", sizeMiB=10), P(number=2, label="grow", sizeMiB=20, wipePartitionEntry=True),
      P(number=3, shouldExist=False, wipePartitionEntry=True), P(number=4, label="new", sizeMiB=5)], False,
     [(1, 2048, 10 * MIB, "keep"), (2, 11 * MIB, 20 * MIB, "grow"), (4, 31 * MIB, 5 * MIB, "new")]),
    # every deletion happens before any creation (one sgdisk call, deletes first)
    ("deletes.before.creates", (part(1, 1, 10), part(2, 11, 10)),
     [P(number=1, startMiB=0, sizeMiB=0, wipePartitionEntry=True),
      P(number=2, shouldExist=False, wipePartitionEntry=True)], False, [(1, 2048, LAST - 2048 + 1, "")]),
    ("delete.then.reuse.number", (part(1, 1, 10, "old"),),
     [P(number=1, shouldExist=False, wipePartitionEntry=True), P(label="new", sizeMiB=3)], False,
     [(1, 2048, 3 * MIB, "new")]),
]


@pytest.mark.parametrize("name,existing,parts,wipe,expected", POSITIVE, ids=[c[0] for c in POSITIVE])
def test_positive(name: str, existing: tuple[PartInfo, ...], parts: list[Partition], wipe: bool,
                  expected: list[tuple[int, int, int, str]]) -> None:
    plan = plan_disk(disk(*parts, wipe=wipe), state(*existing))
    assert layout(plan.after) == expected


NEGATIVE = [
    ("delete.nowipe", (part(1, 1, 10),), [P(number=1, shouldExist=False)],
     "partition 1 exists but is specified as nonexistent and wipePartitionEntry is false"),
    ("match.fail", (part(1, 1, 10, "A"),), [P(number=1, label="B")],
     "partition 1 didn't match: label did not match (specified \"B\", got \"A\")"),
    ("partialmatch.fail", (part(1, 1, 10, "A"),), [P(number=1, label="A", startMiB=1, sizeMiB=12)],
     f"partition 1 didn't match: size did not match (specified {12 * MIB}, got {10 * MIB})"),
    ("failstofill", (part(1, 1, 10, "A"),), [P(number=1, sizeMiB=0)],
     f"partition 1 didn't match: size did not match (specified {LAST - 2048 + 1}, got {10 * MIB})"),
    ("failstostart", (part(1, 2, 10, "A"),), [P(number=1, startMiB=0)],
     f"partition 1 didn't match: starting sector did not match (specified 2048, got {2 * MIB})"),
    ("type.mismatch", (part(1, 1, 10),), [P(number=1, typeGuid=ESP)],
     f'type GUID did not match (specified "{ESP}", got "{LINUX_DATA}")'),
    ("guid.mismatch", (part(1, 1, 10),), [P(number=1, guid=G1)], "GUID did not match (specified"),
    ("resize.mismatch", (part(1, 1, 10, "A"),), [P(number=1, label="B", sizeMiB=20, resize=True)],
     "partition 1 didn't match: label did not match"),
    ("resize.blocked", (part(1, 1, 10, "A"), part(2, 11, 10)), [P(number=1, sizeMiB=20, resize=True)],
     "overlaps partition 2"),
    ("does.not.fit", (), [P(number=1, sizeMiB=100)], "does not fit"),
    ("overlap", (part(1, 1, 10),), [P(number=2, startMiB=5, sizeMiB=1)], "overlaps partition 1"),
    ("duplicate", (), [P(number=1, sizeMiB=1), P(number=1, sizeMiB=2)], "partition 1 is configured more than once"),
    ("no.space.number0", (part(1, 1, 62),), [P(label="x", sizeMiB=1)], "does not fit"),
]


@pytest.mark.parametrize("name,existing,parts,message", NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_negative(name: str, existing: tuple[PartInfo, ...], parts: list[Partition], message: str) -> None:
    with pytest.raises(PlanError) as e:
        plan_disk(disk(*parts), state(*existing))
    assert message in str(e.value)


def test_match_keeps_everything_and_plans_no_change() -> None:
    plan = plan_disk(disk(P(number=1, label="A", sizeMiB=10)), state(part(1, 1, 10, "A")))
    assert not plan.changes and plan.deletes == () and plan.creates == ()


def test_resize_keeps_guid_type_label_and_start() -> None:
    plan = plan_disk(disk(P(number=1, sizeMiB=20, resize=True)), state(part(1, 1, 10, "A", ESP, G1)))
    (c,) = plan.creates
    assert (c.start, c.size, c.type_guid, c.guid, c.label) == (2048, 20 * MIB, ESP, G1, "A")
    assert plan.deletes == (1,)


def test_new_partition_gets_given_type_and_guid_lowercased() -> None:
    plan = plan_disk(disk(P(number=3, sizeMiB=1, typeGuid=ESP.upper(), guid=G1.upper())), state())
    (c,) = plan.creates
    assert (c.number, c.type_guid, c.guid) == (3, ESP, G1)


def test_default_type_is_linux_data_and_guid_left_random() -> None:
    (c,) = plan_disk(disk(P(number=1, sizeMiB=1)), state()).creates
    assert (c.type_guid, c.guid) == (LINUX_DATA, "")


def test_corrupt_table_needs_wipetable() -> None:
    bad = empty_disk("/dev/loopX", 512, TOTAL, "corrupt", "GPT header checksum mismatch")
    with pytest.raises(PlanError, match=r"damaged.*wipeTable: true"):
        plan_disk(disk(P(number=1, sizeMiB=1)), bad)
    plan = plan_disk(disk(P(number=1, sizeMiB=1), wipe=True), bad)
    assert plan.wipe_table and layout(plan.after) == [(1, 2048, MIB, "")]


def test_4k_sectors_use_256_sectors_per_mib() -> None:
    total = 16384  # 64 MiB of 4096-byte sectors
    plan = plan_disk(disk(P(number=1, sizeMiB=2), P(number=2, sizeMiB=0)), state(ssz=4096, total=total))
    assert layout(plan.after) == [(1, 256, 512, ""), (2, 768, total - 6 - 768 + 1, "")]


def test_unaligned_existing_partition_lowers_alignment_like_sgdisk() -> None:
    odd = PartInfo(1, 40, 1000, LINUX_DATA, G1, "odd")
    plan = plan_disk(disk(P(number=2, sizeMiB=1)), state(odd))
    (c,) = plan.creates
    assert c.start == 1040  # next multiple of 8 after sector 1039


def test_largest_free_block_wins_for_start_zero() -> None:
    # free: 1..2 MiB (small) and 20 MiB..end (large)
    plan = plan_disk(disk(P(number=3, sizeMiB=1)), state(part(1, 2, 18)))
    assert plan.creates[0].start == 20 * MIB


def test_explicit_start_with_size_zero_fills_the_largest_block() -> None:
    plan = plan_disk(disk(P(number=2, startMiB=30, sizeMiB=0)), state(part(1, 1, 10)))
    assert layout(plan.after)[1] == (2, 30 * MIB, LAST - 30 * MIB + 1, "")


def test_plan_does_not_mutate_probe() -> None:
    st = state(part(1, 1, 10, "A"))
    plan_disk(disk(P(number=1, shouldExist=False, wipePartitionEntry=True)), st)
    assert layout(st.partitions) == [(1, 2048, 10 * MIB, "A")]


def test_a_numberless_partition_beside_a_delete_takes_the_freed_number() -> None:
    # Current Ignition accepts this mix; sgdisk deletes first, then gives number 0 the lowest free
    # entry, placed at the start of the largest free block (the tail here, not the freed hole).
    have = state(part(1, 1, 10, "boot"), part(2, 11, 10, "old"), part(3, 21, 10, "keep"))
    plan = plan_disk(disk(P(number=2, shouldExist=False, wipePartitionEntry=True),
                          P(label="new", sizeMiB=5)), have)
    assert plan.deletes == (2,)
    (c,) = plan.creates
    assert (c.number, c.label, c.start, c.size) == (2, "new", 31 * MIB, 5 * MIB)
    assert [(p.number, p.label) for p in plan.after] == [(1, "boot"), (2, "new"), (3, "keep")]
