"""Shared helpers of the benchmarks (bench/bench_*.py, run by `make bench`): run a command N
times, take the median wall time and peak RSS of each run, print a table, and keep
docs/benchmarks.md up to date section by section; and, for the stage benchmarks
(bench_files.py, bench_fetch.py), run Go's and our stages on fresh base trees under GNU
time and summarise the repetitions.

Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the command's own ru_maxrss), not from
wait4 in this process: Linux starts a child's maxrss at its parent's RSS at fork/exec time, so a
benchmark process holding a 5 MB config would set a floor under every small command it measured.
GNU time is small, and the RUSAGE_CHILDREN total of this process would only ever grow."""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
GNU_TIME = "/usr/bin/time"
DOC_HEAD = ("# Benchmarks\n\nMeasured by `make bench` (every `bench/bench_*.py`), each against Debian's Go "
            "Ignition 2.14 in the same run. Each section is rewritten by its script; numbers are medians.\n")


@dataclass(frozen=True)
class Sample:
    wall_s: float
    maxrss_kib: int
    returncode: int


@dataclass(frozen=True)
class Result:
    label: str
    argv: tuple[str, ...]
    samples: tuple[Sample, ...]

    @property
    def wall_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def maxrss_mib(self) -> float:
        return statistics.median(s.maxrss_kib for s in self.samples) / 1024

    @property
    def returncodes(self) -> set[int]:
        return {s.returncode for s in self.samples}


def run_once(argv: Sequence[str]) -> Sample:
    """Run argv twice, output discarded: once bare for the wall time, once under GNU time for the
    peak RSS (timing under GNU time would add its own fork and exec, a few ms, to every run)."""
    quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    start = time.perf_counter()
    proc = subprocess.run(argv, check=False, **quiet)  # type: ignore[call-overload]
    wall = time.perf_counter() - start
    with tempfile.NamedTemporaryFile("r", prefix="bench-rss-") as rss:
        subprocess.run([GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *argv], check=False, **quiet)  # type: ignore[call-overload]
        lines = rss.read().split()
    return Sample(wall, int(lines[-1]), proc.returncode)


def measure(label: str, argv: Sequence[str], repeat: int, warmup: int = 1) -> Result:
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} is missing: install Debian's `time` package (GNU time measures peak RSS)")
    for _ in range(warmup):  # page cache, first-run costs of the interpreter
        run_once(argv)
    return Result(label, tuple(argv), tuple(run_once(argv) for _ in range(repeat)))


def machine_facts() -> dict[str, str]:
    cpu = ""
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1) if m else ""
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu or platform.processor() or "unknown",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def fmt_ratio(ours: float, go: float) -> str:
    return f"{ours / go:.1f}x" if go else "n/a"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A Markdown table (also readable as plain text on a terminal)."""
    cols = list(zip(header, *rows, strict=False))
    widths = [max(len(str(c)) for c in col) for col in cols]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in rows])


def comparison_table(go: Result, ours: Result) -> str:
    rows = [
        ["median wall time", f"{go.wall_s * 1000:.1f} ms", f"{ours.wall_s * 1000:.1f} ms",
         fmt_ratio(ours.wall_s, go.wall_s)],
        ["median peak RSS", f"{go.maxrss_mib:.1f} MiB", f"{ours.maxrss_mib:.1f} MiB",
         fmt_ratio(ours.maxrss_mib, go.maxrss_mib)],
        ["exit codes", ",".join(map(str, sorted(go.returncodes))), ",".join(map(str, sorted(ours.returncodes))), ""],
    ]
    return table(rows, ["", f"{go.label}", f"{ours.label}", "ours / Go"])


def update_doc(section_id: str, markdown: str, doc: Path = DOC) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (between its markers), keep the rest."""
    begin, end = f"<!-- bench:{section_id} -->", f"<!-- /bench:{section_id} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    text = doc.read_text() if doc.exists() else DOC_HEAD
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# Stage benchmarks: Go's and our stage runner on identical fresh trees (tests/root/oracle.py).


@dataclass(frozen=True)
class StageRun:
    """One repetition: each stage's GNU time figures and the wall time around all of them."""

    work: Path
    wall_s: float
    stages: dict[str, tuple[float, int]]  # stage -> (seconds, peak RSS KiB)

    @property
    def rss_kib(self) -> int:
        return max(rss for _, rss in self.stages.values())


def _oracle() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.root import oracle  # the root tests' harness: base tree, stage runner

    return oracle


def timed_binary(work: Path, real: str) -> tuple[str, Path]:
    """A wrapper that runs `real` under GNU time, appending `stage wall maxrss` lines to the log
    it returns (argv[4] of an Ignition stage call is the stage name)."""
    out = work / "time.log"
    wrapper = work / "timed"
    wrapper.write_text(f'#!/bin/sh\nexec {GNU_TIME} -a -o {out} -f "$4 %e %M" {real} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper), out


def run_stages_timed(top: Path, name: str, binary: str, config: dict[str, Any], stages: list[str],
                     bindir: str) -> StageRun:
    """Run `stages` of `binary` on a fresh base tree in top/name; exits on failure."""
    oracle = _oracle()
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} is missing: apt-get install time")
    work = top / name
    work.mkdir()
    oracle.make_base_tree(work / "root")
    wrapper, log = timed_binary(work, binary)
    start = time.perf_counter()
    r = oracle.run_stages(wrapper, work, config, stages, extra_path=bindir)
    wall = time.perf_counter() - start
    if r.rc != 0:
        raise SystemExit(f"{name} failed (rc {r.rc}):\n{r.log[-3000:]}")
    times = {}
    for line in log.read_text().splitlines():
        stage, secs, rss = line.split()
        times[stage] = (float(secs), int(rss))
    return StageRun(work, wall, times)


def median_wall(runs: Sequence[StageRun]) -> float:
    return float(statistics.median(r.wall_s for r in runs))


def median_stage(runs: Sequence[StageRun], stage: str) -> float:
    return float(statistics.median(r.stages[stage][0] for r in runs))


def median_rss_mib(runs: Sequence[StageRun]) -> float:
    return float(statistics.median(r.rss_kib for r in runs)) / 1024


def go_machine_line() -> str:
    """The machine, the Go Ignition build and the date, for a section's footer."""
    oracle = _oracle()
    v = subprocess.run([oracle.GO_IGNITION, "-version"], capture_output=True, text=True, check=False)
    return (f"nproc {os.cpu_count()}; Python {platform.python_version()}; kernel {platform.release()}; "
            f"{(v.stdout or v.stderr).strip().splitlines()[0]}; "
            f"run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
