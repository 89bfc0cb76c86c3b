"""How far cells lie from the line between two datasets' accuracies, by how good they are.

For each pair of NAS-Bench-201 datasets (source -> target), the Theil-Sen line in probit scale
(``gennas.design.source_line.SourceLine``, fitted here on every cell) and the robust standard
deviation (``scipy.stats.median_abs_deviation``, normal scale) of the cells' probit residuals
within bins of source accuracy: the lower half of cells, then up to the 90th, 99th, 99.9th
percentile and the rest. Residuals that shrink towards the top are why a calibration learned
from a few results states a residual scale that follows the prediction
(``gennas.surrogates.residual_scale``; docs/calibration.md, "Residuals that shrink towards the
top").

    python experiments/residual_scale.py      # a few seconds
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import median_abs_deviation

import gennas
from gennas.design.source_line import SourceLine, probit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, no_options  # noqa: E402

#: bin edges as quantiles of the source accuracy
LEVELS = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)


def main() -> None:
    no_options(__doc__)
    print(command_line())
    bench = gennas.load_benchmark("nb201")
    acc = {d: bench.accuracy_of(None, d) for d in ("cifar10", "cifar100")}
    rows = []
    for source, target in (("cifar100", "cifar10"), ("cifar10", "cifar100")):
        line = SourceLine.fit(acc[source], acc[target])
        x = probit(acc[source])
        residual = probit(acc[target]) - line.probit_of(acc[source])
        edges = np.quantile(x, LEVELS)
        row = {"source -> target": f"{source} -> {target}", "all cells": median_abs_deviation(residual, scale="normal")}
        for lo, hi, a, b in zip(edges[:-1], edges[1:], LEVELS[:-1], LEVELS[1:]):
            inside = (x >= lo) & (x <= hi)
            row[f"{100 * a:g}-{100 * b:g} %"] = median_abs_deviation(residual[inside], scale="normal")
        rows.append(row)
    print("\nrobust sd of probit residuals from the line, by source-accuracy percentile bin\n")
    print(markdown_table(rows, digits=3))


if __name__ == "__main__":
    main()
