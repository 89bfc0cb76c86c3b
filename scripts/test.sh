#!/usr/bin/env bash
# Set-up and the test suite (slow tests excluded; run them with: .venv/bin/pytest -m slow):
#   bash scripts/test.sh
# With GENNAS_TEST_POSTGRES_URL set (scripts/postgres.sh start), the shared-study tests also run
# against that PostgreSQL server; otherwise they are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,dgl
.venv/bin/python -m pytest -q -rs "$@"
