#!/usr/bin/env bash
# `make test`: set up, then run the whole suite (unit, root and VM tests).
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- tests vm-tests
fi
exec .venv/bin/python -m pytest "$@"
