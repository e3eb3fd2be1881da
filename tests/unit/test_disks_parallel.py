"""Filesystems made in parallel: concurrency where devices allow it, config
order where they overlap, and a journal that reads the same every time."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from ignition.errors import StageError
from ignition.log import Logger
from ignition.run import Result
from ignition.stages.disks import parallel, udev
from ignition.stages.disks.parallel import Job, lineage, run_jobs
from ignition.stages.disks.stage import run_disks
from tests.unit.test_disks_raid_luks import ListSink, make_env


@pytest.fixture
def sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/sys/class/block with a disk loop0 (partitions loop0p1, loop0p2), loop1,
    and md0 over loop1 and loop0p2."""
    devs = tmp_path / "sys" / "devices"
    cls = tmp_path / "sys" / "class" / "block"
    cls.mkdir(parents=True)
    for disk, parts in (("loop0", ["loop0p1", "loop0p2"]), ("loop1", []), ("md0", [])):
        (devs / disk / "slaves").mkdir(parents=True)
        (cls / disk).symlink_to(devs / disk)
        for p in parts:
            (devs / disk / p).mkdir()
            (devs / disk / p / "partition").write_text("1\n")
            (cls / p).symlink_to(devs / disk / p)
    for member in ("loop1", "loop0p2"):
        (devs / "md0" / "slaves" / member).symlink_to(cls / member)
    monkeypatch.setattr(udev, "SYS_BLOCK", str(cls))
    return cls


def test_lineage_follows_partitions_and_array_members(sysfs: Path) -> None:
    assert lineage("loop0p1") == {"loop0p1", "loop0"}
    assert lineage("md0") == {"md0", "loop1", "loop0p2", "loop0"}
    assert lineage("sdz") == {"sdz"}


def logger() -> tuple[Logger, ListSink]:
    sink = ListSink()
    return Logger(sink, "disks", "file"), sink


def test_independent_jobs_run_together_and_log_in_config_order(sysfs: Path) -> None:
    log, sink = logger()
    barrier = threading.Barrier(3, timeout=5)  # passes only if all three run at once
    done: list[int] = []

    def job(i: int) -> None:
        barrier.wait()
        time.sleep(0.05 * (3 - i))  # the last one finishes first
        log.debug(f"mkfs {i}")
        done.append(i)

    jobs = [Job(f"$.storage.filesystems[{i}]", f"creating ext4 on d{i}", name, lambda i=i: job(i))
            for i, name in enumerate(["loop0p1", "loop0p2", "loop1"])]
    run_jobs(jobs, log)
    assert done == [2, 1, 0]
    assert [m for _, m, _ in sink.entries if "op(" in m or "mkfs" in m] == [
        "disks: op(1): [started]  creating ext4 on d0", "disks: mkfs 0",
        f"disks: op(1): [finished] creating ext4 on d0 {lastpart(sink, 2)}",
        "disks: op(2): [started]  creating ext4 on d1", "disks: mkfs 1",
        f"disks: op(2): [finished] creating ext4 on d1 {lastpart(sink, 5)}",
        "disks: op(3): [started]  creating ext4 on d2", "disks: mkfs 2",
        f"disks: op(3): [finished] creating ext4 on d2 {lastpart(sink, 8)}",
    ]


def lastpart(sink: ListSink, index: int) -> str:
    """The "(1.234s)" of an op line: the one thing that varies."""
    lines = [m for _, m, _ in sink.entries if "op(" in m or "mkfs" in m]
    return lines[index].rsplit(" ", 1)[1]


def test_overlapping_devices_run_one_after_the_other_in_config_order(sysfs: Path) -> None:
    log, _ = logger()
    running: list[str] = []
    order: list[str] = []
    overlap: list[str] = []

    def job(name: str) -> None:
        if running:
            overlap.append(f"{name} while {running}")
        running.append(name)
        time.sleep(0.05)
        order.append(name)
        running.remove(name)

    names = ["loop0", "loop0p2", "md0", "loop1"]  # each one overlaps the one before it
    run_jobs([Job(f"fs{i}", n, n, lambda n=n: job(n)) for i, n in enumerate(names)], log)
    assert overlap == [] and order == names


def test_at_most_four_at_a_time(sysfs: Path) -> None:
    log, _ = logger()
    lock = threading.Lock()
    now, peak = [0], [0]

    def job() -> None:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1

    run_jobs([Job(f"fs{i}", f"d{i}", f"sd{chr(97 + i)}", job) for i in range(7)], log)
    assert peak[0] == parallel.MAX_WORKERS


def test_errors_come_in_config_order_and_dependents_are_not_attempted(sysfs: Path) -> None:
    log, sink = logger()
    ran: list[str] = []

    def fail(what: str) -> None:
        time.sleep(0.05 if what == "first" else 0)
        raise StageError(f"{what} failed")

    jobs = [Job("$.storage.filesystems[0]", "a", "loop0", lambda: fail("first")),
            Job("$.storage.filesystems[1]", "b", "loop0p1", lambda: ran.append("b")),
            Job("$.storage.filesystems[2]", "c", "loop1", lambda: fail("third"))]
    with pytest.raises(StageError) as err:
        run_jobs(jobs, log)
    assert str(err.value) == (
        "3 filesystems could not be created:\nfirst failed\n$.storage.filesystems[1]: not attempted, because "
        "$.storage.filesystems[0], whose device overlaps this one, failed\nthird failed")
    assert ran == []
    failed = [m.split(" ", 3)[1:3] for _, m, _ in sink.entries if "[failed]" in m]
    assert failed == [["op(1):", "[failed]"], ["op(2):", "[failed]"], ["op(3):", "[failed]"]]


def test_stage_makes_two_filesystems_at_once(tmp_path: Path) -> None:
    nodes = [tmp_path / "vda1", tmp_path / "vdb1"]
    for n in nodes:
        n.write_bytes(b"")
    barrier = threading.Barrier(2, timeout=5)

    def mkfs_together(argv: list[str]) -> Result | None:
        if argv[0].startswith("mkfs."):
            barrier.wait()
        return None

    e = make_env(tmp_path, {"filesystems": [{"device": str(n), "format": f, "wipeFilesystem": True}
                                            for n, f in zip(nodes, ["ext4", "xfs"], strict=True)]},
                 [mkfs_together])
    run_disks(e.ctx)
    calls = e.without_probes()
    assert sorted(calls) == sorted([["wipefs", "-a", "@" + str(nodes[0])], ["mkfs.ext4", "-F", "@" + str(nodes[0])],
                                    ["wipefs", "-a", "@" + str(nodes[1])], ["mkfs.xfs", "-f", "@" + str(nodes[1])]])
    ops = [m for _, m, _ in e.sink.entries if "op(" in m]
    assert [re.sub(r" \(\d+\.\d+s\)$", "", o) for o in ops] == [
        f"disks: op(1): [started]  creating ext4 on {nodes[0]}",
        f"disks: op(1): [finished] creating ext4 on {nodes[0]}",
        f"disks: op(2): [started]  creating xfs on {nodes[1]}",
        f"disks: op(2): [finished] creating xfs on {nodes[1]}"]


def test_second_entry_on_the_same_node_is_decided_after_the_first(tmp_path: Path) -> None:
    node = tmp_path / "vda1"
    node.write_bytes(b"")
    link = tmp_path / "by-label-root"
    link.symlink_to(node)
    made: list[str] = []

    def disk(argv: list[str]) -> Result | None:
        if argv[0].startswith("mkfs."):
            made.append(argv[0])
        elif argv[0] == "blkid" and made:
            return Result(tuple(argv), 0, b"TYPE=ext4\nLABEL=r\n", b"")
        return None

    e = make_env(tmp_path, {"filesystems": [
        {"device": str(node), "format": "ext4", "label": "r", "wipeFilesystem": True},
        {"device": str(link), "format": "ext4", "label": "r"}]}, [disk])
    run_disks(e.ctx)
    after = e.calls[next(i for i, c in enumerate(e.calls) if c[0] == "mkfs.ext4"):]
    assert [c[0] for c in after] == ["mkfs.ext4", "blkid", "udevadm"]  # probed only once the mkfs was done
    text = e.sink.text
    assert text.index("op(2): [started]  formatting") < text.index(
        f"filesystem at {link} is already correctly formatted") < text.index("op(2): [finished]")
