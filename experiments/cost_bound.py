"""Write ``gennas/data/mbv3_cost_bound.npz``: mbv3 FLOPs as an exact sum over slots, and per measured
device the log-log line latency ~ FLOPs with its residuals (see :mod:`gennas.surrogates.cost_bound`).

1. FLOPs of the 2,000 measured subnets (``experiments/data/mbv3_flops.npz``, counted by
   ``torch.utils.flop_counter`` at 224 px) are fitted by least squares on the one-hot slot
   encoding (200 columns + intercept); the fit must be exact (max relative error < 1e-9), else
   nothing is written.
2. Per device of ``gennas/data/mbv3_latency.csv.gz``: held-out check first (line fitted on 80 %
   of the subnets, the 95 % bound's coverage and Spearman on the other 20 %), then the line and
   residuals on all subnets, which ship.

    python experiments/cost_bound.py
"""

from __future__ import annotations

import csv
import gzip
import sys

import numpy as np
from scipy.stats import spearmanr

import gennas
from gennas.resources import data_dir
from gennas.surrogates.cost_bound import CostLine

from _common import command_line, no_options
from latency import mbv3_flops


def fit_line(flops: np.ndarray, ms: np.ndarray) -> CostLine:
    a = np.stack([np.ones_like(flops), np.log(flops)], 1)
    (intercept, slope), *_ = np.linalg.lstsq(a, np.log(ms), rcond=None)
    return CostLine(float(intercept), float(slope), np.sort(np.log(ms) - a @ [intercept, slope]))


def main() -> None:
    no_options(__doc__)
    print(command_line())
    space = gennas.load_space("mbv3")
    with gzip.open(data_dir() / "mbv3_latency.csv.gz", "rt") as fh:
        rows = list(csv.DictReader(fh))
    strings = [r["arch"] for r in rows]
    flops = mbv3_flops(space, strings)
    x = np.concatenate([space.encode([space.parse(s) for s in strings]).astype(np.float64),
                        np.ones((len(strings), 1))], 1)
    weights, *_ = np.linalg.lstsq(x, flops, rcond=None)
    err = float(np.max(np.abs(x @ weights - flops) / flops))
    print(f"FLOPs as a sum over slots: max relative error {err:.1e} over {len(flops)} subnets")
    if err > 1e-9:
        sys.exit("FLOPs are not additive in the slot encoding: nothing written")
    devices = sorted({k[:-3] for k in rows[0] if k.endswith("_ms") and not k.endswith("_wall_ms")})
    held = np.arange(len(rows)) % 5 == 0
    print("\n| device | held-out Spearman | held-out MAPE % | 95 % bound covers | bound / true (median) |")
    print("|---|---|---|---|---|")
    out: dict[str, np.ndarray] = {"weights": weights, "devices": np.array(devices)}
    coefficients = []
    for device in devices:
        ms = np.array([float(r[f"{device}_ms"]) for r in rows])
        line = fit_line(flops[~held], ms[~held])
        pred = np.exp(line.intercept + line.slope * np.log(flops[held]))
        bound = line.upper_ms(flops[held], 0.95)
        print(f"| {device} | {spearmanr(pred, ms[held])[0]:.3f} | {100 * np.mean(np.abs(pred / ms[held] - 1)):.1f} | "
              f"{100 * np.mean(ms[held] <= bound):.1f} % | {np.median(bound / ms[held]):.2f} |")
        full = fit_line(flops, ms)
        coefficients.append([full.intercept, full.slope])
        out[f"residuals_{device}"] = full.residuals
    out["coefficients"] = np.array(coefficients)
    path = data_dir() / "mbv3_cost_bound.npz"
    np.savez_compressed(path, **out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
