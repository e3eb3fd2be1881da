"""The wait for udev after a partition table is written (pyudev's view,
replaced here by a scripted one; the root tests run it against systemd-udevd)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ignition.errors import StageError
from ignition.stages.disks import udev


class Monitor:
    """Stands in for a pyudev monitor: each poll is one udev event handled."""

    def __init__(self, steps: list[Any]) -> None:
        self.steps = steps
        self.polls = 0

    def poll(self, timeout: float) -> None:
        self.polls += 1
        if self.steps:
            self.steps.pop(0)()


def test_returns_once_every_device_is_processed_and_its_links_exist(tmp_path: Path) -> None:
    link = tmp_path / "by-partlabel-root"
    seen: dict[str, tuple[bool, tuple[str, ...]]] = {
        "loop7p1": (False, ()),
        "loop7p2": (True, (str(link),)),
    }
    monitor = Monitor([
        lambda: seen.update(loop7p1=(True, ())),  # udev handles p1
        lambda: os.symlink("/dev/loop7p2", link),  # then makes p2's link
    ])
    udev.wait_for_udev(["loop7p2", "loop7p1"], timeout=5, state=lambda n: seen[n], events=lambda: monitor)
    assert monitor.polls == 2


def test_a_link_claimed_by_another_device_counts_as_there(tmp_path: Path) -> None:
    link = tmp_path / "by-partlabel-data"
    os.symlink("/dev/other", link)  # the same label on another disk won the link
    udev.wait_for_udev(["loop7p1"], timeout=5, state=lambda n: (True, (str(link),)), events=lambda: None)


def test_times_out_naming_the_device_and_why() -> None:
    with pytest.raises(StageError, match=r"waiting for udev to set up /dev/loop7p3: udev has not processed it"):
        udev.wait_for_udev(["loop7p3"], timeout=0.2, state=lambda n: (False, ()), events=lambda: None)


def test_times_out_on_a_missing_link(tmp_path: Path) -> None:
    missing = str(tmp_path / "by-partuuid-x")
    with pytest.raises(StageError, match=f"its link {missing} does not exist yet"):
        udev.wait_for_udev(["loop7p3"], timeout=0.2, state=lambda n: (True, (missing,)), events=lambda: None)


def test_nothing_to_wait_for_opens_no_monitor() -> None:
    def no_monitor() -> None:
        raise AssertionError("no monitor for an empty wait")

    udev.wait_for_udev([], events=no_monitor)


def test_trigger_asks_udev_for_change_events_only_when_it_runs(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ignition.log import Logger
    from ignition.plan import Plan
    from ignition.run import RecordingRunner

    plan = Plan()
    runner = RecordingRunner(Logger(udev_sink()), plan)
    udev.trigger(runner, ["/dev/loop7p2", "/dev/loop7p1", "/dev/loop7p1"])
    assert plan.entries == []  # no systemd-udevd (the unit tests' machine)
    control = tmp_path / "control"
    control.touch()
    monkeypatch.setattr(udev, "UDEV_CONTROL", str(control))
    udev.trigger(runner, ["/dev/loop7p2", "/dev/loop7p1", "/dev/loop7p1"])
    assert [e.target for e in plan.entries] == [
        "udevadm trigger --settle --action=change /dev/loop7p1 /dev/loop7p2"]


def udev_sink() -> Any:
    from tests.unit.logsink import ListSink

    return ListSink()
