#!/usr/bin/env bash
# The README's report figures (docs/figures/*.png): four searches on one SQLite storage (random,
# BANANAS and the designer on the NB201 CIFAR-10 table; the designer under a 5 ms Pixel 3 budget),
# then `gennas report` on it. Under a minute on 2 cores (31-44 s).
#   bash experiments/report_figures.sh [OUT_FOLDER]   (default docs/figures)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/figures}"
db="$(mktemp -d)/report.db"
g=.venv/bin/gennas
for method in random bananas designer; do
  "$g" search --space nb201 --task cifar10 --method "$method" --budget 30 --seed 0 --storage "sqlite:///$db" --quiet >/dev/null
done
"$g" search --space nb201 --task cifar10 --method designer --budget 30 --seed 0 --device pixel3 --max-latency-ms 5 \
  --storage "sqlite:///$db" --quiet >/dev/null
"$g" report --storage "sqlite:///$db" --out "$out"
