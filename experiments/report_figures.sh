#!/usr/bin/env bash
# The README's report figures (docs/figures/*.png): four searches on one SQLite storage (random,
# BANANAS and the designer on the NB201 CIFAR-10 table; the designer under a 5 ms Pixel 3 budget),
# then `gennas report` on it. Under a minute on 2 cores (31-44 s).
#   bash experiments/report_figures.sh [OUT_FOLDER]   (default docs/figures)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/figures}"
db="$(mktemp -d)/report.db"
# the gennas of this checkout's virtual environment (scripts/setup.sh), else the one on PATH
g=.venv/bin/gennas; [ -x "$g" ] || g=gennas
# each search's best, as the figures show it (the full tables are in the stored study)
best() { python3 -c 'import json,sys; r=json.load(sys.stdin)["top"][0]; print(sys.argv[1], "best", r["score"], r["arch"])' "$1"; }
for method in random bananas designer; do
  "$g" search --space nb201 --task cifar10 --method "$method" --budget 30 --seed 0 --storage "sqlite:///$db" --quiet \
    --json --top 1 | best "$method"
done
"$g" search --space nb201 --task cifar10 --method designer --budget 30 --seed 0 --device pixel3 --max-latency-ms 5 \
  --storage "sqlite:///$db" --quiet --json --top 1 | best "designer under 5 ms on pixel3:"
"$g" report --storage "sqlite:///$db" --out "$out"
