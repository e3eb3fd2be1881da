"""Root test: four filesystems on four loop disks, made by the disks stage in
one pool (as it runs) and one at a time (MAX_WORKERS = 1), in-process with the
real Runner. Both must leave the same filesystems; the times are printed
(`pytest -s`) so a change in the speed-up is visible, not asserted (it
depends on the machine's disks and CPUs)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ignition.config.parse import parse
from ignition.context import Paths, StageContext
from ignition.distro import env_name
from ignition.environment import Environment
from ignition.log import Logger
from ignition.resources.fetcher import Fetcher
from ignition.run import Runner
from ignition.stages.disks import parallel
from ignition.stages.disks.stage import run_disks
from ignition.state import State
from ignition.sysroot import Sysroot
from tests.root.loopdev import Attach, filesystem, loops, udevd  # noqa: F401 - fixtures

pytestmark = pytest.mark.root

FORMATS = ["ext4", "xfs", "ext4", "xfs"]
# "light": mkfs defaults (ext4 initialises its inode tables lazily, after
# mount); "full": ext4 writes its inode tables and journal now, as
# `lazy_itable_init=0,lazy_journal_init=0` asks, so mkfs really waits for the disk.
SCENARIOS = {"light": (512, {}), "full": (1024, {"ext4": ["-E", "lazy_itable_init=0,lazy_journal_init=0"]}),
             "slow": (512, {})}
# On loop disks over sparse files mkfs takes milliseconds (zeroing and discard
# become hole punches). "slow" puts LATENCY seconds in front of each real mkfs,
# as a disk that takes that long to discard or zero would.
LATENCY = 0.5


@dataclass
class Lines:
    lines: list[str] = field(default_factory=list)

    def emit(self, priority: int, message: str, fields: Any) -> None:
        self.lines.append(message)


def stage(tmp_path: Path, disks: list[str], tag: str, options: dict[str, list[str]]) -> tuple[float, list[str]]:
    storage = {"filesystems": [{"device": d, "format": f, "label": f"{tag}{i}", "wipeFilesystem": True,
                                "options": options.get(f, [])}
                               for i, (d, f) in enumerate(zip(disks, FORMATS, strict=True))]}
    config = parse(json.dumps({"ignition": {"version": "3.3.0"}, "storage": storage}).encode()).config
    sink = Lines()
    logger = Logger(sink, "disks", "file")
    run = tmp_path / f"run-{tag}"
    (tmp_path / "root").mkdir(exist_ok=True)
    ctx = StageContext(config, Sysroot(str(tmp_path / "root")), Runner(logger), Fetcher(logger), State(), "file",
                       logger, Environment(), Paths(str(run / "ignition.json"), str(run / "state"),
                                                    str(run / "neednet")))
    start = time.monotonic()
    run_disks(ctx)
    return time.monotonic() - start, sink.lines


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_four_filesystems_serial_and_parallel(scenario: str, loops: Attach, tmp_path: Path,  # noqa: F811
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    size, options = SCENARIOS[scenario]
    disks = [loops(size) for _ in FORMATS]
    if scenario == "slow":
        for tool in ("mkfs.ext4", "mkfs.xfs"):
            wrapper = tmp_path / f"slow-{tool}"
            wrapper.write_text(f"#!/bin/sh\nsleep {LATENCY}\nexec {tool} \"$@\"\n")
            wrapper.chmod(0o755)
            monkeypatch.setenv(env_name(tool), str(wrapper))
    times: dict[str, list[float]] = {"serial": [], "parallel": []}
    for rnd in range(2):
        for mode, workers in (("serial", 1), ("parallel", 4)):
            monkeypatch.setattr(parallel, "MAX_WORKERS", workers)
            took, lines = stage(tmp_path, disks, f"{mode[0]}{rnd}", options)
            times[mode].append(took)
            assert [filesystem(d)[:2] for d in disks] == [(f, f"{mode[0]}{rnd}{i}") for i, f in enumerate(FORMATS)]
            ops = [ln for ln in lines if "op(" in ln]
            assert [o.split("]")[0] for o in ops] == [
                f"disks: op({n}): [{state}" for n in range(1, 5) for state in ("started", "finished")]
    if scenario == "slow":  # four at once: about one latency, not four
        assert min(times["parallel"]) < min(times["serial"]) - 2 * LATENCY, times
    print(f"\n{scenario}: 4 filesystems ({', '.join(FORMATS)}) on {size} MiB loop disks: "
          + "; ".join(f"{m} " + ", ".join(f"{t:.2f}s" for t in ts) for m, ts in times.items()))
