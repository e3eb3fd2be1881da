"""The issue-14 summary of docs/benchmarks.md: one row per target, filled from the
`Target (issue 14): ... — met / not met` line each benchmark writes into its own section.

Run by `make bench` after every benchmark (scripts/bench.sh); it measures nothing itself. A
target whose benchmark has not written its line yet (not run, or a section without one) says so.

    .venv/bin/python bench/summary.py [--no-doc]
"""

from __future__ import annotations

import argparse
import re
import sys

from common import DOC, table, update_doc

SECTION = "issue14-summary"
MARK = "Target (issue 14)"
# (target, the sections whose scripts measure it): each benchmark owns its section's id.
TARGETS = (
    ("stage start-up: `ignition -stage kargs` and `ignition-validate` of a tiny config <= 40 ms", ("startup",)),
    ("validate and render a 10,000-file config <= 0.5x Go, no more memory", ("validate-big",)),
    ("remote contents (200 x 64 KiB, 20 ms) >= 10x faster than Go, bounded memory", ("fetch-parallel",)),
    ("files stage bench <= 0.7x Go", ("files-stage",)),
    ("initramfs addition <= 0.7x Go's", ("initramfs-size",)),
)
_SECTION_START = re.compile(r"<!-- bench:([\w-]+) -->")


def target_lines(text: str) -> list[tuple[str, str]]:
    """(section id, target) of every target outside this summary; a target
    wrapped over several lines runs until a blank line, a table or the next one."""
    out: list[tuple[str, str]] = []
    section = ""
    current: list[str] | None = None
    for line in text.splitlines():
        m = _SECTION_START.match(line.strip())
        ends = m is not None or not line.strip() or line.startswith(("|", MARK, "<!--"))
        if current is not None and ends:
            out.append((section, " ".join(current)))
            current = None
        if m:
            section = m.group(1)
        elif line.startswith(MARK) and section != SECTION:
            current = [line.strip()]
        elif current is not None:
            current.append(line.strip())
    if current is not None:
        out.append((section, " ".join(current)))
    return out


def verdict(line: str) -> str:
    tail = line.split("—", 1)[-1].strip().lower()
    if tail.startswith("not met"):
        return "not met"
    return "met" if tail.startswith("met") else "?"


def summary(text: str) -> str:
    found = target_lines(text)
    rows = []
    for name, sections in TARGETS:
        hits = [(sec, ln) for sec, ln in found if sec in sections]
        if not hits:
            rows.append((name, "not measured yet", "no `Target (issue 14)` line in any section"))
            continue
        for sec, ln in hits:
            detail = ln[len(MARK):].lstrip(": ")
            rows.append((name, verdict(ln), f"section `{sec}`: {detail}"))
    return "\n".join([
        "## Issue 14 targets: summary", "",
        "Each row is copied from the target line its benchmark wrote into its own section below "
        "(`bench/summary.py`, run last by `make bench`); the numbers are from that benchmark's last run.", "",
        table(rows, ("target", "verdict", "where and numbers")), ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ns = ap.parse_args()
    md = summary(DOC.read_text())
    print(md)
    if not ns.no_doc:
        update_doc(SECTION, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
