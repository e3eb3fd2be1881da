#!/usr/bin/env bash
# `make bench`: benchmarks against Debian's Go Ignition, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
shopt -s nullglob
benches=(bench/bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
  echo "no benchmarks yet"
  exit 0
fi
# The initramfs ships the package byte-compiled; without this a run under
# PYTHONDONTWRITEBYTECODE would compile every module of ours in every stage process.
.venv/bin/python -m compileall -q ignition
for b in "${benches[@]}"; do .venv/bin/python "$b"; done
# Last: the issue-14 summary, copied from the target lines the benchmarks just wrote.
.venv/bin/python bench/summary.py
