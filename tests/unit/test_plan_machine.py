"""The described machine of ignition-plan: what each device path of a config
leads to, what is on it, and what it holds after the disks stage's plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ignition.config.types import Disk, Partition
from ignition.errors import StageError, UsageError
from ignition.log import Logger
from ignition.plan import Plan
from ignition.planner.machine import PlannedMachine, partition_node
from ignition.planner.recording import PlanRunner
from ignition.planner.sources import parse_size
from ignition.stages.disks.plan import plan_disk
from tests.unit.logsink import ListSink
from tests.unit.planimages import image

GIB = 1 << 30


def machine(*disks: tuple[str, str], default: int = 100 * GIB) -> PlannedMachine:
    logger = Logger(ListSink())
    return PlannedMachine.build(PlanRunner(logger, Plan()), list(disks), default)


def test_sizes_are_read_as_powers_of_1024_in_whole_sectors() -> None:
    assert parse_size("20G") == 20 * GIB
    assert parse_size("512M") == 512 << 20
    assert parse_size("4T") == 4 << 40
    assert parse_size("100GiB") == 100 * GIB
    assert parse_size("1.5G") == 3 * GIB // 2
    for bad in ("", "big", "10X", "12K"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_a_blank_disk_has_no_table_and_its_size() -> None:
    m = machine(("/dev/sdb", "blank:4T"))
    st = m.read_disk(m.wait_for_node("/dev/sdb", 0))
    assert (st.table, st.sector_size, st.total_sectors, st.partitions) == ("none", 512, (4 << 40) // 512, ())
    assert m.probe_filesystem(m.run, "/dev/sdb").type == ""
    assert m.assumed == []


@pytest.mark.allow_subprocess
def test_an_image_is_read_with_the_gpt_parser_and_blkid_on_its_regions(tmp_path: Path) -> None:
    img = image(tmp_path / "d.img", 64, [(1, 10, "A"), (11, 10, "B")], [(11, 10, "DATA")])
    m = machine(("/dev/vda", str(img)))
    st = m.read_disk("/dev/vda")
    assert st.table == "gpt"
    assert [(p.number, p.label, p.start, p.size) for p in st.partitions] == [(1, "A", 2048, 20480),
                                                                               (2, "B", 22528, 20480)]
    assert m.probe_filesystem(m.run, "/dev/vda2").type == "ext4"
    assert m.probe_filesystem(m.run, "/dev/vda2").label == "DATA"
    assert m.probe_filesystem(m.run, "/dev/vda1").type == ""
    # the whole disk shows its partition table, as blkid shows a real disk
    assert m.probe_filesystem(m.run, "/dev/vda").type == "partition table gpt"
    # every probe named the image, never a device
    assert all(str(img) in argv for argv in m.run.probes)  # type: ignore[attr-defined]


@pytest.mark.allow_subprocess
def test_links_lead_to_partitions_and_filesystems_of_the_images(tmp_path: Path) -> None:
    img = image(tmp_path / "d.img", 64, [(1, 10, "A"), (11, 10, "B")], [(11, 10, "DATA")])
    m = machine(("/dev/vda", str(img)))
    assert m.wait_for_node("/dev/disk/by-partlabel/B", 0) == "/dev/vda2"
    assert m.wait_for_node("/dev/disk/by-label/DATA", 0) == "/dev/vda2"
    assert m.partition_of("/dev/disk/by-partlabel/A") == ("/dev/vda", 1)
    assert m.partition_of("/dev/vda") is None
    guid = m.read_disk("/dev/vda").partitions[0].guid
    assert m.wait_for_node(f"/dev/disk/by-partuuid/{guid.upper()}", 0) == "/dev/vda1"


def test_names_only_the_disks_stage_makes_do_not_exist_before_it() -> None:
    m = machine(("/dev/vda", "blank:1G"))
    for path in ("/dev/disk/by-partlabel/root", "/dev/disk/by-label/root", "/dev/md/data", "/dev/mapper/crypt",
                 "/dev/vda1"):
        assert not m.exists(path), path
    with pytest.raises(StageError, match="waiting for /dev/disk/by-partlabel/root to appear"):
        m.wait_for_node("/dev/disk/by-partlabel/root", 0)
    assert m.assumed == []


def test_a_device_no_disk_describes_is_a_blank_disk_of_the_default_size_and_said_so() -> None:
    m = machine(default=20 * GIB)
    assert m.wait_for_node("/dev/disk/by-id/virtio-data", 0) == "/dev/disk/by-id/virtio-data"
    assert m.read_disk("/dev/disk/by-id/virtio-data").total_sectors == 20 * GIB // 512
    assert m.assumed == ["/dev/disk/by-id/virtio-data"]
    assert partition_node("/dev/disk/by-id/virtio-data", 2) == "/dev/disk/by-id/virtio-data-part2"
    assert partition_node("/dev/nvme0n1", 2) == "/dev/nvme0n1p2"
    assert partition_node("/dev/sda", 2) == "/dev/sda2"


@pytest.mark.allow_subprocess
def test_after_the_partition_plan_new_partitions_exist_and_show_the_bytes_in_their_sectors(tmp_path: Path) -> None:
    img = image(tmp_path / "d.img", 64, [(1, 10, "A"), (11, 10, "B")], [(11, 10, "DATA")])
    m = machine(("/dev/vda", str(img)))
    disk = Disk(device="/dev/vda", partitions=[Partition(number=2, should_exist=False, wipe_partition_entry=True),
                                               Partition(number=3, label="new", size_mib=8)])
    plan = plan_disk(disk, m.read_disk("/dev/vda"))
    m.partitioned([plan])
    assert not m.exists("/dev/vda2") and not m.exists("/dev/disk/by-partlabel/B")
    assert m.wait_for_node("/dev/disk/by-partlabel/new", 0) == "/dev/vda3"
    # partition 3 starts where 2 did: mkfs there would find the old ext4
    assert m.probe_filesystem(m.run, "/dev/vda3").label == "DATA"
    assert m.lost["/dev/vda"][2].label == "DATA"


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing", "char device", "block device"])
def test_anything_but_an_image_file_is_refused_without_opening_it(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "x"
    if kind == "fifo":
        os.mkfifo(path)  # opening it would block this test for ever
    elif kind == "directory":
        path.mkdir()
    elif kind == "char device":
        path = Path("/dev/null")
    elif kind == "block device":
        blocks = [p for p in Path("/dev").iterdir() if p.is_block_device()]
        assert blocks, "this machine has no block device to name"
        path = blocks[0]
    with pytest.raises(UsageError, match="give an image file, or blank:SIZE") as err:
        machine(("/dev/vda", str(path)))
    expected = {"fifo": "is a FIFO", "directory": "is a directory", "missing": "No such file",
                "char device": "is a character device", "block device": "is a block device"}[kind]
    assert expected in str(err.value)


def test_a_device_given_twice_or_not_under_dev_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="given twice"):
        machine(("/dev/vda", "blank:1G"), ("/dev/vda", "blank:2G"))
    with pytest.raises(UsageError, match="under /dev"):
        machine(("vda", "blank:1G"))


def test_a_4k_disk_is_planned_in_its_own_sectors() -> None:
    logger = Logger(ListSink())
    m = PlannedMachine.build(PlanRunner(logger, Plan()), [("/dev/vda", "blank:64M")], GIB, {"/dev/vda": 4096})
    st = m.read_disk("/dev/vda")
    assert (st.sector_size, st.total_sectors, st.first_usable) == (4096, 64 * 256, 6)
    plan = plan_disk(Disk(device="/dev/vda", partitions=[Partition(number=1, label="a", size_mib=3)]), st)
    m.partitioned([plan])
    assert (m.devices["/dev/vda1"].offset, m.devices["/dev/vda1"].size) == (1 << 20, 3 << 20)
    with pytest.raises(UsageError, match="512, 1024, 2048 or 4096"):
        PlannedMachine.build(PlanRunner(logger, Plan()), [("/dev/vda", "blank:1G")], GIB, {"/dev/vda": 1000})
    with pytest.raises(UsageError, match="no --disk describes /dev/vdb"):
        PlannedMachine.build(PlanRunner(logger, Plan()), [("/dev/vda", "blank:1G")], GIB, {"/dev/vdb": 4096})
