#!/usr/bin/env bash
# Set-up and the main job on a fresh machine with only Python:
#   bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gennas sample --space nb201 -n 10 --seed 0 --device pixel3
