#!/usr/bin/env bash
# Set-up and the main job on a fresh machine with only Python:
#   bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gennas design --space nb201 --task cifar10 --device pixel3 --max-latency-ms 20 -n 10 --seed 0
