"""Benchmark of large contents in the files stage against Debian's Go Ignition 2.14 (issue 13).

Peak RSS and wall time of the files stage for: no contents (the baseline), one
2 GiB remote file, 2 GiB decompressed from a gzip body with a sha512, and six
256 MiB remote files in one config. The bodies come from a local server on
127.0.0.1 that generates them without holding them (tests/root/streamserver.py:
a 1 MiB random block repeated; the gzip body is that block compressed once and
repeated as concatenated members, so it is about as large as what it expands
to). Go and ours run fetch-offline, fetch and files (`-platform file`) on
identical fresh base trees (tests/root/oracle.py), each stage under GNU time.

Run as root: `.venv/bin/python bench/bench_stream.py [-n 1] [--mib 2048]`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import (  # noqa: E402 - after the path set-up
    GNU_TIME,
    StageRun,
    go_machine_line,
    median_rss_mib,
    median_stage,
    run_stages_timed,
    table,
    update_doc,
)

from tests.root.oracle import GO_IGNITION, OURS, noop_setfiles  # noqa: E402
from tests.root.streamserver import StreamServer, digest  # noqa: E402

SECTION = "stream"
STAGES = ["fetch-offline", "fetch", "files"]


def cases(srv: StreamServer, mib: int) -> list[tuple[str, dict[str, Any]]]:
    part = mib // 8
    return [
        ("no contents (baseline)", {"storage": {"files": [{"path": "/var/empty"}]}}),
        (f"one {mib} MiB file", {"storage": {"files": [
            {"path": "/var/big", "contents": {"source": srv.url(f"/plain/{mib}")}}]}}),
        (f"gzip body to {mib} MiB, sha512", {"storage": {"files": [
            {"path": "/var/big", "contents": {"source": srv.url(f"/gzip/{mib}"), "compression": "gzip",
                                              "verification": {"hash": digest(mib)}}}]}}),
        (f"six {part} MiB files", {"storage": {"files": [
            {"path": f"/var/part{i}", "contents": {"source": srv.url(f"/plain/{part}")}} for i in range(6)]}}),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1, help="repetitions (default 1)")
    ap.add_argument("--mib", type=int, default=2048, help="size of the large file in MiB (default 2048)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the files stage chowns")
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} is missing: apt-get install time")
    srv = StreamServer()
    top = Path(tempfile.mkdtemp(prefix="bench-stream-", dir="/var/tmp"))
    top.chmod(0o755)
    rows = []
    try:
        bindir = noop_setfiles(top / "bin")
        for label, body in cases(srv, args.mib):
            config = {"ignition": {"version": "3.3.0"}, **body}
            runs: dict[str, list[StageRun]] = {"go": [], "ours": []}
            for rep in range(args.n):
                for name, binary in (("go", GO_IGNITION), ("ours", OURS)):
                    run = run_stages_timed(top, f"{name}{len(rows)}-{rep}", binary, config, STAGES, bindir)
                    runs[name].append(run)
                    shutil.rmtree(run.work)
            go, ours = runs["go"], runs["ours"]
            rows.append((label, f"{median_rss_mib(go):.1f} MiB", f"{median_rss_mib(ours):.1f} MiB",
                         f"{median_stage(go, 'files'):.1f} s", f"{median_stage(ours, 'files'):.1f} s"))
            print(" | ".join(rows[-1]), flush=True)
    finally:
        srv.close()
        shutil.rmtree(top, ignore_errors=True)

    result = table(rows, ("config", "Go 2.14 peak RSS", "ours peak RSS", "Go files stage", "ours files stage"))
    md = f"""## Large contents: peak RSS of the files stage (issue 13)

`bench/bench_stream.py`: Go Ignition and ours run fetch-offline, fetch and files (`-platform file`)
on identical fresh base trees, {args.n} time(s) each, the contents served by a local HTTP server on
127.0.0.1 that generates them (a 1 MiB random block repeated; the gzip body is that block
compressed once, repeated as concatenated members). Peak RSS is the largest of the three stages
(GNU time `%M`); the stage time is the files stage's `%e`.

Command: `sudo .venv/bin/python bench/bench_stream.py -n {args.n} --mib {args.mib}`

{result}

Peak RSS is what this benchmark is for: ours stays within a few MiB of its no-contents baseline
whatever the size (the issue's target: under 64 MiB above it). The stage times come from a 2-core
machine shared with other jobs and vary between runs by up to 2.5x; they are not what this
measures.

Before streaming (issue 13's table, same machine): one 2 GiB file took 4.0 GiB peak RSS, a gzip body
expanding to 2 GiB with a sha512 5.1 GiB, six 256 MiB files 3.0 GB.

Machine: {go_machine_line()}.
"""
    print(md)
    if not args.no_doc:
        update_doc(SECTION, md)


if __name__ == "__main__":
    main()
