"""Shared helpers of the benchmarks (bench/bench_*.py, run by `make bench`): run a command N
times, take the median wall time and peak RSS of each run, print a table, and keep
docs/benchmarks.md up to date section by section.

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
