#!/usr/bin/env bash
# Creates .venv (if missing) and installs gennas with the given extras.
# torch==2.13.0 goes first: it is the local CPU build, and the loose torch>=2.3 in
# pyproject.toml is then already satisfied, so pip pulls no CUDA wheels.
# Usage: bash scripts/setup.sh [extras]   e.g. bash scripts/setup.sh test,dgl  (the test extra holds ray)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install --quiet -e ".[${extras}]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
