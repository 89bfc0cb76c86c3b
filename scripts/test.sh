#!/usr/bin/env bash
# Set-up and the test suite (slow tests excluded; run them with: .venv/bin/pytest -m slow):
#   bash scripts/test.sh
# With GENNAS_TEST_POSTGRES_URL set (scripts/postgres.sh start), the shared-study tests also run
# against that PostgreSQL server; otherwise they are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,dgl
# -rfEs: failures and errors are named in the closing summary, which CI's last lines show (with -rs
# alone a fresh-check's tail said "1 failed" and not which test)
.venv/bin/python -m pytest -q -rfEs "$@"
