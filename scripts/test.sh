#!/usr/bin/env bash
# Set-up and the test suite (slow tests excluded; run them with: .venv/bin/pytest -m slow):
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,dgl
.venv/bin/python -m pytest -q "$@"
