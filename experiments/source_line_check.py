"""Where does a line fitted on a few random cells place a dataset's best cells? Checked on the tables.

The designer states a new dataset's accuracies through a line from the measured source table
(another dataset's accuracy of the same cell) to the verified results (docs/calibration.md,
"Beyond the results on a new dataset"). Before building it, the question was which scale the line
should live on. For each development seed, ``--told`` random working cells of the target
dataset are "verified"; a line from the source dataset's accuracy to the target's is fitted on
them, in % by least squares and on the probit scale (``norm.ppf(accuracy / 100)``) by
Theil-Sen (``scipy.stats.theilslopes``); it then places the target's true 20 best cells.
Printed: the mean (placed - true) over those 20 cells, its mean over the seeds and its range.

    python experiments/source_line_check.py                      # seeds 5-19, 10 and 50 told, both pairs
    python experiments/source_line_check.py --seeds 5,6,7 --told 10
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.design.source_line import probit  # noqa: E402  (the designer's own scale)

#: (source, target) dataset pairs
PAIRS = (("cifar10", "cifar100"), ("cifar100", "cifar10"))
TOP = 20


def placed_bias(source: np.ndarray, target: np.ndarray, told: np.ndarray, top: np.ndarray) -> tuple[float, float]:
    """Mean (placed - true) over the ``top`` cells, points, for the least-squares line in % and the
    Theil-Sen line in probit, both fitted on the ``told`` cells. Arrays are over all cells (n,)."""
    slope, intercept = np.polyfit(source[told], target[told], 1)
    in_percent = intercept + slope * source[top]
    ts = stats.theilslopes(probit(target[told]), probit(source[told]))
    in_probit = 100.0 * stats.norm.cdf(ts.intercept + ts.slope * probit(source[top]))
    return float(np.mean(in_percent - target[top])), float(np.mean(in_probit - target[top]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=",".join(str(s) for s in range(5, 20)),
                        help="comma-separated development seeds (default 5-19; the calibration table's are 0-4, 20-29)")
    parser.add_argument("--told", default="10,50", help="comma-separated numbers of random cells the line is fitted on")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    bench = gennas.load_benchmark("nb201")
    working = np.array([not bench.space.output_is_constant(a) for a in bench.archs()])
    print(f"Command: `{command_line()}`\n")
    rows = []
    for source_name, target_name in PAIRS:
        source, target = bench.accuracy_of(None, source_name), bench.accuracy_of(None, target_name)
        top = np.argsort(-target)[:TOP]
        for n in (int(t) for t in args.told.split(",")):
            biases = np.array([placed_bias(source, target,
                                           np.random.default_rng(seed).choice(np.flatnonzero(working), n, replace=False),
                                           top) for seed in seeds])
            for column, name in ((0, "% (least squares)"), (1, "probit (Theil-Sen)")):
                b = biases[:, column]
                rows.append({"target": target_name, "from": source_name, "told": str(n), "line": name,
                             f"bias top {TOP}": f"{b.mean():+.2f}", "range": f"[{b.min():+.2f}, {b.max():+.2f}]"})
    print(f"Placed - true accuracy of the target's {TOP} best cells, points; mean over seeds {args.seeds}\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
