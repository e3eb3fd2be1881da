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
for b in "${benches[@]}"; do .venv/bin/python "$b"; done
