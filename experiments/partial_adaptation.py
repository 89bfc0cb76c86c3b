"""Is the latency bound of a device adapted from *fewer* than the 10 reference cells calibrated?

Leave-one-device-out (nb201, 19 devices, the estimators of ``experiments/calibrate_latency.py``,
trained without the held-out device and cached in ``experiments/data/latency_lodo/``): each
held-out device is adapted from ``k`` of its measured latencies, either the first ``k`` reference
cells (a user who stopped early) or ``k`` random cells, and every cell is scored. Printed per
``k`` and kind: the 95 % upper bound's coverage of the device's cells (mean and worst device),
the mean |median log(true / predicted)| (how far the point prediction is off), and at the
device's 25th-percentile latency as a budget, the share of cells the bound admits and the
share of those truly over it. The bound is calibrated only for adaptation from all 10
references (``calibrate_latency.py``); this is why a budget on a device adapted from fewer
warns (``gennas.design.budget.UncalibratedBound``).

    python experiments/partial_adaptation.py      # about 5 min on one core (19 devices x 8 settings)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, no_options  # noqa: E402
from calibrate_latency import lodo_estimator  # noqa: E402

import gennas  # noqa: E402

SAMPLES = (1, 3, 5, 9)


def main() -> None:
    no_options(__doc__)
    torch.set_num_threads(1)
    bench = gennas.load_benchmark("nb201")
    archs = bench.archs()
    per: dict[tuple[int, str], list[tuple[float, float, float, float]]] = {}
    for device in bench.devices:
        est = lodo_estimator(device)
        true = bench.latency_of(None, device)
        budget = float(np.percentile(true, 25))
        refs = est.reference_archs(10)
        for k in SAMPLES:
            for kind in ("first references", "random cells"):
                cells = refs[:k] if kind == "first references" else \
                    [archs[i] for i in np.random.default_rng(k).choice(len(archs), k, replace=False)]
                est.adapt("held_out", list(zip(cells, bench.latency_of(cells, device))))
                predicted, bound = est.predict(archs, "held_out"), est.upper_bound(archs, "held_out", 0.95)
                admitted = bound <= budget
                over = float(np.mean(true[admitted] > budget)) if admitted.any() else float("nan")
                per.setdefault((k, kind), []).append((float(np.mean(true <= bound)),
                                                      float(abs(np.median(np.log(true / predicted)))),
                                                      float(admitted.mean()), over))
    rows = []
    for (k, kind), values in per.items():
        v = np.array(values)
        rows.append({"samples": k, "which": kind, "cover 95 % mean": 100 * v[:, 0].mean(),
                     "cover 95 % worst": 100 * v[:, 0].min(), "|median log ratio|": v[:, 1].mean(),
                     "admitted @p25 %": 100 * v[:, 2].mean(),
                     "over among admitted @p25 %": 100 * np.nanmean(v[:, 3]) if np.isfinite(v[:, 3]).any() else None})
    print(f"Command: `{command_line()}`\n")
    print(markdown_table(rows, digits=2))


if __name__ == "__main__":
    main()
