#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check ignition tests vm-tests bench
.venv/bin/mypy --strict ignition
