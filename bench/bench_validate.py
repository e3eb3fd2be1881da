"""Benchmark: `ignition-validate` (Debian's Go Ignition 2.14) against ours, in the same run.

1. Validating a config that writes 10,000 files (about 5 MB of JSON, spec 3.3.0, which both
   know): each file has a path, mode, owner, an inline data: URL of 128 bytes and its sha512.
2. Process start and import: validating the smallest valid config, so nearly all of the time
   is starting the program (for ours: the interpreter and the imports of the validator).

Each command runs once to warm up, then --repeat times; the table shows the medians of wall time
and of the peak RSS of each run, and the ratio ours/Go. The results replace this benchmark's
sections of docs/benchmarks.md.

    .venv/bin/python bench/bench_validate.py [--repeat N] [--files N] [--no-doc]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import Result, comparison_table, machine_facts, measure, update_doc, venv_bin

GO = "/usr/bin/ignition-validate"
OURS = venv_bin("ignition-validate")
SPEC = "3.3.0"


def big_config(n_files: int) -> dict[str, object]:
    files = []
    for i in range(n_files):
        payload = hashlib.sha512(str(i).encode()).digest() * 2  # 128 bytes that differ per file
        files.append({
            "path": f"/var/lib/bench/d{i % 100:02d}/file-{i:05d}.conf",
            "mode": 0o640,
            "overwrite": True,
            "user": {"name": "core"},
            "group": {"id": 1000},
            "contents": {"source": "data:;base64," + base64.b64encode(payload).decode(),
                         "verification": {"hash": "sha512-" + hashlib.sha512(payload).hexdigest()}},
        })
    return {"ignition": {"version": SPEC},
            "storage": {"directories": [{"path": f"/var/lib/bench/d{d:02d}", "mode": 0o750} for d in range(100)],
                        "files": files}}


FAST_PATH = """Where the time went before issue 14 (1.38 s; in-process phases of one run): jsonschema's
descent 0.83 s, fold_keys 0.10 s, unknown_keys 0.05 s, translate's deep copy 0.10 s, building the
records 0.10 s, the semantic checks 0.08 s. Now one compiled walk (ignition/config/schemafast.py)
vouches for a config whose keys and value types are plain and collects its unknown-key warnings
(0.02 s), and jsonschema, fold_keys and unknown_keys run only for a config it cannot vouch for (so
every config with a problem gets exactly the old report); translate works on the parser's own copy;
records are built without path strings; data: URLs skip urlsplit and ASCII paths skip the byte
count. jsonschema is not even imported for a clean config. tests/unit/test_validator_fastpath.py
compares each fast path with the pure one on generated configs. The package is byte-compiled
before the run (scripts/bench.sh), as it is in the initramfs."""


def load_line(before: float) -> str:
    return (f"1-minute load average {before:.1f} before, {os.getloadavg()[0]:.1f} after, "
            f"on {os.cpu_count()} CPUs")


def go_version() -> str:
    out = subprocess.run([GO, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip()


def section(title: str, what: str, commands: list[str], go: Result, ours: Result, facts: dict[str, str],
            repeat: int) -> str:
    facts_line = (f"run {facts['date']}; nproc {facts['nproc']} ({facts['cpu']}); kernel {facts['kernel']}; "
                  f"Python {facts['python']}; {facts['go']}")
    return "\n".join([
        f"## {title}", "", what, "", "Commands (each run once to warm up, then "
        f"{repeat} times; medians):", "", "```", *commands, "```", "",
        comparison_table(go, ours), "", f"Machine and date: {facts_line}.", ""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7, help="runs per command after the warm-up (default 7)")
    ap.add_argument("--files", type=int, default=10_000, help="files in the big config (default 10000)")
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ns = ap.parse_args()
    facts = machine_facts() | {"go": go_version()}
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        big = Path(tmp) / "big.ign"
        big.write_text(json.dumps(big_config(ns.files)))
        small = Path(tmp) / "small.ign"
        small.write_text(json.dumps({"ignition": {"version": SPEC}}))
        size_mb = big.stat().st_size / 1e6

        results = {}
        for name, cfg, repeat in (("big", big, ns.repeat), ("start", small, ns.repeat * 3)):
            go = measure("Go ignition-validate 2.14", [GO, str(cfg)], repeat)
            ours = measure("ours (.venv/bin/ignition-validate)", [OURS, str(cfg)], repeat)
            results[name] = (go, ours, repeat)
        floor = measure("/bin/true", ["/bin/true"], ns.repeat * 3)

    ok = True
    for name, (go, ours, _) in results.items():
        if go.returncodes != {0} or ours.returncodes != {0}:
            ok = False
            print(f"warning: {name}: exit codes Go {sorted(go.returncodes)}, ours {sorted(ours.returncodes)} "
                  "(expected 0: the configs are valid)", file=sys.stderr)

    go, ours, repeat = results["big"]
    big_md = section(
        f"Validating a {ns.files:,}-file config",
        f"A spec {SPEC} config of {size_mb:.1f} MB: {ns.files:,} files (path, mode, owner, 128-byte data: URL "
        "with its sha512) and 100 directories, generated by `bench/bench_validate.py`.",
        [f"{GO} big.ign", ".venv/bin/ignition-validate big.ign"], go, ours, facts, repeat)
    rss_limit = 72.0  # MiB: the top of the 67-72 MiB range measured before issue 14
    met = ours.wall_s <= 0.5 * go.wall_s and ours.maxrss_mib <= rss_limit
    big_md += (f"\nTarget (issue 14): validate and render a {ns.files:,}-file config in <= 0.5x Go's time with no more "
               f"memory than before (<= {rss_limit:.0f} MiB) — {'met' if met else 'not met'} "
               f"({ours.wall_s / go.wall_s:.2f}x: {ours.wall_s * 1000:.0f} ms against {go.wall_s * 1000:.0f} ms; "
               f"peak RSS {ours.maxrss_mib:.1f} MiB). {load_line(load_before)}.\n")
    big_md += "\n" + FAST_PATH + "\n"
    go, ours, repeat = results["start"]
    start_md = section(
        "Validator start-up and import",
        f"Validating `{{\"ignition\": {{\"version\": \"{SPEC}\"}}}}`: almost all of the time is process start "
        "(for ours, the Python interpreter and the validator's imports: jsonschema, the schemas).",
        [f"{GO} small.ign", ".venv/bin/ignition-validate small.ign"], go, ours, facts, repeat)
    start_md += (f"\nFloor of the method: starting `/bin/true` the same way takes {floor.wall_s * 1000:.1f} ms "
                 f"(peak RSS {floor.maxrss_mib:.1f} MiB); both columns include it.\n")
    print(big_md)
    print(start_md)
    if not ns.no_doc:
        update_doc("validate-big", big_md)
        update_doc("validate-start", start_md)
        print("updated docs/benchmarks.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
