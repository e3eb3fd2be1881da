"""Benchmark of remote file contents against Debian's Go Ignition 2.14 (issue 5).

200 files of 64 KiB (random bytes, sha512-verified) served from 127.0.0.1 by
a ThreadingHTTPServer in this process that answers every request after 20 ms
(HTTP/1.1, keep-alive, listen backlog 128: either client may reuse its connections). Go and ours
run fetch-offline (which raises the neednet flag: the files have http
sources), fetch, then files on identical fresh base trees
(tests/root/oracle.py), alternately, N times in this one run. Go fetches the
files one after the other; ours through a pool of DEFAULT_WORKERS (64) workers.

Run as root: `.venv/bin/python bench/bench_fetch.py [-n 3]`."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import (  # noqa: E402 - after the path set-up
    StageRun,
    go_machine_line,
    median_rss_mib,
    median_stage,
    median_wall,
    run_stages_timed,
    table,
    update_doc,
)

from ignition.resources.parallel import DEFAULT_WORKERS  # noqa: E402
from tests.root.oracle import GO_IGNITION, OURS, noop_setfiles  # noqa: E402

SECTION = "fetch-parallel"
N_FILES, SIZE, LATENCY = 200, 64 * 1024, 0.020
STAGES = ["fetch-offline", "fetch", "files"]
# Where the time goes and how the pool size was chosen: measured by hand (cProfile of ours' files
# stage, other worker counts) apart from this script's runs, so fixed text, not recomputed.
ANALYSIS = """Where ours spends its files stage (cProfile of one run on 2026-12-05 with 32 workers, 0.38 s
profiled, load average about 2 on 2 CPUs): 0.20 s waiting for the pool; 0.04 s importing the HTTP client
(http.client and its email parser: requests, urllib3 and http.cookiejar are no longer imported when every
source is a plain http(s) URL and the config names no proxy); 0.04 s writing the 200 files (temp file +
rename each) and one sync; the rest is the interpreter's start, ignition's own imports and reading the
config cache. The client no longer loads the system's and certifi's CA roots (about 50 ms), nor imports
certifi, unless something is fetched over https. Each of our three stage processes pays its start
(fetch-offline and fetch above: the start-up work of issue 14, measured in its own section); Go's is a
few ms. Go spends 4.0 s of its files stage just waiting.

The HTTP client: plain GETs go over http.client directly (ignition/resources/httpconn.py), with a
keep-alive pool per host; anything it cannot send byte for byte as requests would (a proxy in the config,
URLs needing re-quoting, user info, unusual headers, redirects to such URLs) goes through requests as
before. Measured in one process against this benchmark's server (200 requests, load about 2): about
0.25 ms of client CPU a request (0.053 s for 200) against 0.6 ms through requests (0.118 s), and 20-25 ms
of imports against 60-70 ms. Ignition's retry and backoff apply per request either way.

How the pool size is chosen: with 20 ms of latency, N workers need ceil(200 / N) rounds: 16 workers
cannot finish under 13 x 20 ms = 0.26 s, 32 workers need 7 rounds, 64 need 4. Fetching the 200 files in
one process (medians of 5, same run, load about 2): 0.285 s with 16 workers, 0.164 s with 32, 0.122 s
with 64, 0.113 s with 100 and 0.120 s with 200 (the Python server's CPU decides past 64). Through
requests 64 workers gained little over 32 (0.167 s against 0.183 s) because each request held the GIL
for about 1 ms; with the fast path 64 pays. What it costs a server: at most 64 connections from one
machine at once (one pool per host keeps at most 64, kept alive and reused, never more than the
workers), each asking for one file at a time, with Ignition's own retry and backoff per request (a
failed attempt waits 200 ms, 400 ms, ... up to 5 s before the next, as Go does; a resource that fails
for good stops the others' retries). A small metadata server that serves a thread per connection sees
up to 64 threads for the length of the files stage; one whose listen backlog is smaller than 64
(Python's socketserver default is 5, many servers 128 or more) may drop SYNs, which costs a 1 s TCP
retransmit and nothing else. Configs with fewer remote files open fewer connections (workers = min(64,
remote files)); configs are fetched one at a time, so a metadata service answering only the config
sees one connection.

How issue 14's 10x was reached, in runs on 2026-12-05 (2 CPUs): 7.9x through requests with 32
workers (load 0.5); 10.2x and 10.0x (0.43-0.44 s) with the http.client fast path and 64 workers (load
0.5-0.7), where fetch-offline and fetch still took about 0.06 s each; then 12.3x (0.36 s, the run at
07:20 UTC) once the stage start-up work (records instead of generated dataclasses, inspect and ipaddress
deferred, the config hashed without hashlib's OpenSSL set-up) brought those two stages to 0.03-0.04 s,
Go's own. The margin is thin on a busy machine: a run with a CI run on the same 2 CPUs measured 7.6x.
What is left in the files stage, besides the 80 ms of latency: starting 64 threads, the HTTP client's
imports, and concurrent.futures, which imports logging (about 6 ms)."""


class Server:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.requests = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                time.sleep(LATENCY)
                with lock:
                    outer.requests += 1
                body = blobs.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's default listen backlog is 5: a client opening more connections
            # at once than that loses SYNs and waits a 1 s retransmit. Real servers queue far
            # more (nginx 511, Go's net.Listen somaxconn); Go's serial client never notices.
            request_queue_size = 128

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_config(url: str, blobs: dict[str, bytes]) -> dict[str, Any]:
    files = [{"path": f"/var/fetched/f{i:03d}", "mode": 0o644,
              "contents": {"source": f"{url}/f{i:03d}",
                           "verification": {"hash": "sha512-" + hashlib.sha512(blobs[f"/f{i:03d}"]).hexdigest()}}}
             for i in range(N_FILES)]
    return {"ignition": {"version": "3.3.0"}, "storage": {"files": files}}


def one_run(top: Path, name: str, binary: str, config: dict[str, Any], bindir: str,
            blobs: dict[str, bytes]) -> StageRun:
    run = run_stages_timed(top, name, binary, config, STAGES, bindir)
    if not (run.work / "run/neednet").exists():
        raise SystemExit(f"{name}: fetch-offline did not raise the neednet flag")
    for path, body in blobs.items():
        if (run.work / "root/var/fetched" / path.lstrip("/")).read_bytes() != body:
            raise SystemExit(f"{name}: {path} has the wrong contents")
    shutil.rmtree(run.work)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (Go Ignition's files stage chowns)")
    load_before = os.getloadavg()[0]
    blobs = {f"/f{i:03d}": os.urandom(SIZE) for i in range(N_FILES)}
    server = Server(blobs)
    config = make_config(server.url, blobs)
    top = Path(tempfile.mkdtemp(prefix="bench-fetch-", dir="/var/tmp"))
    top.chmod(0o755)
    runs: dict[str, list[StageRun]] = {"go": [], "ours": []}
    served: dict[str, list[int]] = {"go": [], "ours": []}
    try:
        bindir = noop_setfiles(top / "bin")
        for rep in range(args.n):
            for name, binary in (("go", GO_IGNITION), ("ours", OURS)):
                before = server.requests
                runs[name].append(one_run(top, f"{name}{rep}", binary, config, bindir, blobs))
                served[name].append(server.requests - before)
    finally:
        server.close()
        shutil.rmtree(top, ignore_errors=True)

    go, ours = runs["go"], runs["ours"]
    go_wall, ours_wall = median_wall(go), median_wall(ours)
    go_files, ours_files = median_stage(go, "files"), median_stage(ours, "files")
    rows = [
        ("files stage (the downloads), GNU time %e", f"{go_files:.2f} s", f"{ours_files:.2f} s",
         f"{go_files / ours_files:.1f}x faster"),
        ("wall time, fetch-offline + fetch + files", f"{go_wall:.2f} s", f"{ours_wall:.2f} s",
         f"{go_wall / ours_wall:.1f}x faster"),
        *[(f"  {s} (GNU time %e)", f"{median_stage(go, s):.2f} s", f"{median_stage(ours, s):.2f} s", "")
          for s in STAGES[:2]],
        ("peak RSS (largest stage)", f"{median_rss_mib(go):.1f} MiB", f"{median_rss_mib(ours):.1f} MiB", ""),
        ("HTTP requests served per run", str(served["go"][0]), str(served["ours"][0]), ""),
        ("all wall times", " ".join(f"{r.wall_s:.2f}" for r in go), " ".join(f"{r.wall_s:.2f}" for r in ours), ""),
    ]
    result = table(rows, ("", "Go Ignition 2.14", "ours", "Go / ours"))
    target14 = (f"Target (issue 14): remote contents, fetch-offline + fetch + files >= 10x faster than Go — "
                f"{'met' if go_wall >= 10 * ours_wall else 'not met'} ({go_wall / ours_wall:.1f}x: "
                f"{ours_wall:.2f} s against {go_wall:.2f} s); peak RSS {median_rss_mib(ours):.1f} MiB, "
                "contents streamed to staged files (bounded whatever the sizes, see the large-contents section)")
    load = f"1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
    floor = N_FILES * LATENCY
    rounds = -(-N_FILES // DEFAULT_WORKERS)
    md = f"""## Remote file contents: 200 files of 64 KiB with 20 ms latency (issue 5)

`bench/bench_fetch.py`: {N_FILES} files of {SIZE // 1024} KiB (random, sha512-verified) served from 127.0.0.1 by
a ThreadingHTTPServer in the benchmark that answers each request after {LATENCY * 1000:.0f} ms (HTTP/1.1
keep-alive, listen backlog 128). Go Ignition and ours run fetch-offline (raises neednet), fetch and files
(`-platform file`) on identical fresh base trees, alternately, {args.n} times in one run; medians; every
file's bytes are checked afterwards. Serial fetching cannot beat {floor:.1f} s of latency; ours fetches
through a pool of {DEFAULT_WORKERS} workers sharing one HttpClient (its http.client fast path keeps
up to {DEFAULT_WORKERS} connections per host alive), so {rounds} rounds ({rounds * LATENCY:.2f} s of latency).

Command: `sudo .venv/bin/python bench/bench_fetch.py -n {args.n}`

{result}

{target14}.

Target (issue 5, ours at least 5x faster): files stage {go_files / ours_files:.1f}x
({"met" if go_files >= 5 * ours_files else "NOT met"}); all three stages {go_wall / ours_wall:.1f}x
({"met" if go_wall >= 5 * ours_wall else "NOT met"}).

{ANALYSIS}

Machine: {go_machine_line()}; {load}.
"""
    print(md)
    if not args.no_doc:
        update_doc(SECTION, md)


if __name__ == "__main__":
    main()
