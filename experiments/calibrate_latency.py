"""Calibrate the latency estimator's upper bound, leave-one-device-out (nb201, 19 devices).

For each bundled device: the estimator trained (as ``experiments/train_latency.py`` trains the
shipped one, 1000 steps) on the *other 18* devices, adapted to the held-out device from its 10
reference latencies only, predicts all 15,625 cells; the residuals ``log(true / predicted)``,
divided by the device's scale ``s = spread + floor`` (``spread``: the root-mean-square
leave-one-out log-error on its 10 references, see ``gennas/surrogates/latency_bound.py``;
``--scale none``: not divided), are pooled. The bound at confidence ``c`` is
``predicted * exp(q_c * s)`` with ``q_c`` the split-conformal ``c``-quantile of the pooled
residuals, per bin of the cell's predicted-latency rank on its device (``BIN_EDGES``; ``--no-bins``:
one bin). Written to ``gennas/data/latency_bound_nb201.npz`` (a grid of confidences -> ``q`` per
bin, the bin edges, the floor, the median spread, and this command).

Printed per held-out device: MAPE of the point prediction, the coverage (share of all cells
whose true latency is within the bound) of the 90 % and 95 % bounds, each computed *without that
device's residuals* (cross-conformal, so the figure is honest), how far the 95 % bound sits
above the truth (median bound / true), and what a budget sees: at the device's 10th / 25th /
50th percentile latency, the share of the cells the 95 % bound admits that are truly over it.
Then the same summary for other scalings and without the bins.

The 19 held-out estimators are trained once and cached as checkpoints under
``experiments/data/latency_lodo/`` (about 45-60 s each on one core; delete them to retrain);
``experiments/budgets.py`` reuses them.

    python experiments/calibrate_latency.py                 # all 19 devices, writes the calibration
    python experiments/calibrate_latency.py --devices pixel3 gold_6240   # a look, writes nothing
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.latency import LatencyConfig, LatencyEstimator, load_latency_estimator  # noqa: E402
from gennas.surrogates.latency_bound import BoundCalibration, calibration_path, load_calibration  # noqa: E402

CACHE = DATA / "latency_lodo"
STEPS = 1000  # as the shipped estimator
GRID = np.array([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995])
#: inner edges of the bins of predicted-latency rank (finer among the fast cells, where budgets bind)
BIN_EDGES = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7])


def lodo_estimator(held: str, steps: int = STEPS, seed: int = 0) -> LatencyEstimator:
    """The nb201 estimator trained on every bundled device but ``held`` (cached checkpoint)."""
    bench = gennas.load_benchmark("nb201")
    if held not in bench.devices:
        raise SystemExit(f"unknown device {held!r}; bundled: {', '.join(bench.devices)}")
    path = CACHE / f"latency_nb201_without_{held}_s{steps}_seed{seed}.pt"
    if path.is_file():
        return LatencyEstimator.load(path, bench.space)
    torch.set_num_threads(1)
    table = {d: bench.latency_of(None, d) for d in bench.devices if d != held}
    est = LatencyEstimator(bench.space, LatencyConfig())
    start = time.time()
    est.fit(bench.archs(), table, steps=steps, seed=seed)
    print(f"trained without {held}: {time.time() - start:.0f} s -> {path}", file=sys.stderr, flush=True)
    est.save(path)
    return est


def held_out_residuals(held: str, steps: int = STEPS, seed: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """``log(true / predicted)`` over every cell ``(15625,)``, the device's leave-one-out spread
    on its references, and each cell's predicted-latency rank there ``(15625,)``, for ``held``
    adapted from its 10 reference latencies by an estimator that never saw it."""
    bench = gennas.load_benchmark("nb201")
    est = lodo_estimator(held, steps, seed)
    refs = est.reference_archs(10)
    est.adapt(held, list(zip(refs, bench.latency_of(refs, held))))
    pred = est.predict(bench.archs(), held)
    return np.log(bench.latency_of(None, held) / pred), est.device_spread[held], est.predicted_rank(pred, held)


@functools.lru_cache(maxsize=None)
def cached_residuals(held: str, steps: int = STEPS, seed: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """:func:`held_out_residuals`, computed once per process."""
    return held_out_residuals(held, steps, seed)


def calibration_without(held: str, steps: int = STEPS, seed: int = 0) -> BoundCalibration:
    """The bound's calibration as the shipped one is fitted (its scale, floor and bins), on the
    leave-one-device-out residuals of every bundled device but ``held``: what a budget on ``held``
    as a new device may honestly use (the shipped file pools every device's residuals, ``held``'s
    too). Trains the 19 held-out estimators the first time (cached, see :func:`lodo_estimator`)."""
    shipped = load_calibration("nb201")
    others = [d for d in gennas.load_benchmark("nb201").devices if d != held]
    found = {d: cached_residuals(d, steps, seed) for d in others}
    typical = float(np.median([spread for _, spread, _ in found.values()]))
    shape = replace(shipped, typical_spread=typical)
    pooled = np.concatenate([r / shape.device_scale(spread) for r, spread, _ in found.values()])
    ranks = np.concatenate([rank for _, _, rank in found.values()])
    fitted = BoundCalibration.from_residuals("nb201", pooled, GRID, shipped.scale, shipped.floor, typical,
                                             ranks=ranks, bin_edges=shipped.bin_edges,
                                             note=f"leave-one-device-out residuals of the {len(others)} devices "
                                                  f"other than {held}")
    return replace(fitted, device_spreads={d: v for d, v in shipped.device_spreads.items() if d != held})


def device_rows(residuals: dict[str, np.ndarray], scales: dict[str, float], ranks: dict[str, np.ndarray],
                edges: np.ndarray) -> list[dict]:
    """Per held-out device: point MAPE, coverage of the 90 / 95 % bounds calibrated on the *other*
    devices' residuals (divided by their ``scales``; per bin of ``ranks`` by ``edges``), the
    median bound / true at 95 %, and the share of the cells the 95 % bound admits under the
    device's 10th / 25th / 50th percentile latency that are truly over it."""
    bench = gennas.load_benchmark("nb201")
    norm = {d: r / scales[d] for d, r in residuals.items()}
    rows = []
    for d, r in residuals.items():
        others = [o for o in norm if o != d]
        cal = BoundCalibration.from_residuals("nb201", np.concatenate([norm[o] for o in others]), np.array([0.9, 0.95]),
                                              ranks=np.concatenate([ranks[o] for o in others]), bin_edges=edges)
        q90, q95 = (cal.quantile(c, ranks[d]) * scales[d] for c in (0.90, 0.95))
        true = bench.latency_of(None, d)
        bound = true * np.exp(q95 - r)  # predicted * exp(q95), as r = log(true / predicted)
        row = {"device": d, "MAPE %": float(np.mean(np.abs(np.exp(-r) - 1)) * 100),
               "cover 90 %": float(np.mean(r <= q90)) * 100, "cover 95 %": float(np.mean(r <= q95)) * 100,
               "bound/true @95": float(np.median(np.exp(q95 - r)))}
        for level in (10, 25, 50):
            budget = np.percentile(true, level)
            admitted = bound <= budget
            row[f"over @p{level} %"] = float(np.mean(true[admitted] > budget)) * 100 if admitted.any() else 0.0
        rows.append(row)
    return rows


def bundled_spreads() -> dict[str, float]:
    """The shipped estimator's spread on each bundled device when adapted from its 10 references
    (its checkpoint records none: its devices were fitted on every cell)."""
    bench = gennas.load_benchmark("nb201")
    est = load_latency_estimator("nb201", with_registered=False)
    refs = est.reference_archs(10)
    out = {}
    for device in est.bundled:
        est.adapt("as-new", list(zip(refs, bench.latency_of(refs, device))))
        out[device] = est.device_spread["as-new"]
    return out


def bundled_rows(calibration: BoundCalibration) -> list[dict]:
    """Coverage of the shipped estimator's 90 / 95 % bounds on its own (bundled) devices, all cells."""
    bench = gennas.load_benchmark("nb201")
    est = load_latency_estimator("nb201", with_registered=False)
    est.calibration = calibration
    archs = bench.archs()
    rows = []
    for device in est.bundled:
        true, pred = bench.latency_of(None, device), est.predict(archs, device)
        cover = {f"cover {c:.0%}": float(np.mean(true <= est.upper_bound(archs, device, c))) * 100
                 for c in (0.9, 0.95)}
        rows.append({"device": device, "spread": calibration.device_spreads[device],
                     "MAPE %": float(np.mean(np.abs(pred / true - 1)) * 100), **cover})
    return rows


def shrunk_spread(spread: float, typical: float, samples: int, weight: float) -> float:
    """A device's spread from ``samples`` references pulled towards the ``typical`` one of other
    devices, as a variance's posterior mean under a scaled-inverse-chi-square prior of ``weight``
    degrees of freedom: ``sqrt((weight * typical**2 + samples * spread**2) / (weight + samples))``
    (log units). Ten references misjudge a device both ways: gold_6240's fit well and its other
    cells do not (its bound covered 68.6 %), samsung_s7's fit badly (its bound 1.35x the truth)."""
    return float(np.sqrt((weight * typical ** 2 + samples * spread ** 2) / (weight + samples)))


def summary(rows: list[dict]) -> dict:
    return {"mean cover 90 %": np.mean([r["cover 90 %"] for r in rows]),
            "worst cover 90 %": min(r["cover 90 %"] for r in rows),
            "mean cover 95 %": np.mean([r["cover 95 %"] for r in rows]),
            "worst cover 95 %": min(r["cover 95 %"] for r in rows),
            "devices under 90 % @95": sum(r["cover 95 %"] < 90 for r in rows),
            "mean bound/true @95": np.mean([r["bound/true @95"] for r in rows]),
            **{f"mean over @p{p} %": np.mean([r[f"over @p{p} %"] for r in rows]) for p in (10, 25, 50)},
            "devices over 5 % @p10": sum(r["over @p10 %"] > 5 for r in rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="*", help="held-out devices (default: all 19)")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps per held-out estimator")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", choices=["spread", "none"], default="spread")
    parser.add_argument("--floor", type=float, default=0.05, help="added to each device's spread (log units)")
    parser.add_argument("--no-bins", action="store_true", help="one q for every cell (no bins of predicted-latency rank)")
    parser.add_argument("--out", type=Path, default=None, help="default gennas/data/latency_bound_nb201.npz "
                        "(only written when every device is held out)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = gennas.load_benchmark("nb201")
    devices = args.devices or bench.devices
    residuals, spreads, ranks = {}, {}, {}
    for held in devices:
        residuals[held], spreads[held], ranks[held] = held_out_residuals(held, args.steps, args.seed)
    edges = np.zeros(0) if args.no_bins else BIN_EDGES
    note = (f"leave-one-device-out residuals log(true/predicted) of all {len(bench)} nb201 cells on {len(devices)} "
            f"held-out devices ({', '.join(devices)}); estimators trained on the other devices, {args.steps} steps, "
            f"seed {args.seed}, adapted from the 10 reference cells")
    typical = float(np.median(list(spreads.values())))
    shape = BoundCalibration("nb201", np.array([0.5]), np.array([0.0]), args.scale, args.floor, typical)
    scales = {d: shape.device_scale(spreads[d]) for d in devices}
    rows = device_rows(residuals, scales, ranks, edges)
    for row in rows:
        row["spread"] = spreads[row["device"]]
    print(f"Command: `{command_line()}`\n")
    print(f"Held-out devices: estimator trained on the others ({args.steps} steps), adapted from 10 reference "
          f"latencies; all {len(bench)} cells scored; each device's bounds calibrated without it "
          f"(scale: {args.scale}, floor {args.floor:g}, bins of predicted-latency rank: {[float(e) for e in edges] or 'none'})\n")
    print(markdown_table(rows, ["device", "spread", "MAPE %", "cover 90 %", "cover 95 %", "bound/true @95",
                                "over @p10 %", "over @p25 %", "over @p50 %"], digits=2))
    print("\n" + markdown_table([{"scale": f"{args.scale} (written)", **summary(rows)}], digits=2))
    alternatives = [("none", 0.0, edges), ("spread", 0.0, edges), ("spread", 0.05, edges), ("spread", 0.1, edges),
                    ("spread", 0.2, edges), ("spread", args.floor, BIN_EDGES if args.no_bins else np.zeros(0))]
    compare = []
    for scale, floor, bins in alternatives:
        other = BoundCalibration("nb201", np.array([0.5]), np.array([0.0]), scale, floor, typical)
        alt = device_rows(residuals, {d: other.device_scale(spreads[d]) for d in devices}, ranks, bins)
        name = scale if scale == "none" else f"spread + {floor:g}"
        compare.append({"scale": f"{name}, {'binned' if len(bins) else 'one bin'}", **summary(alt)})
    for weight in (5, 10, 20, 40):  # the spread of 10 references pulled towards the other devices' typical one
        shrunk = {d: shrunk_spread(spreads[d], float(np.median([spreads[o] for o in devices if o != d])), 10, weight)
                  for d in devices}
        alt = device_rows(residuals, {d: shrunk[d] + args.floor for d in devices}, ranks, edges)
        compare.append({"scale": f"spread shrunk (prior weight {weight}) + {args.floor:g}, "
                                 f"{'binned' if len(edges) else 'one bin'}", **summary(alt)})
    print("\nAlternatives (same residuals)\n\n" + markdown_table(compare, digits=2))
    pooled = np.concatenate([residuals[d] / scales[d] for d in devices])
    calibration = BoundCalibration.from_residuals("nb201", pooled, GRID, args.scale, args.floor, typical,
                                                  command_line(), note, np.concatenate([ranks[d] for d in devices]),
                                                  edges)
    calibration = replace(calibration, device_spreads=bundled_spreads())
    bins = [f"[{lo:g}, {hi:g})" for lo, hi in zip(np.r_[0, edges], np.r_[edges, 1])]
    print(f"\nq (pooled, all held-out devices; typical spread {typical:.3f}), per bin of predicted-latency rank:\n")
    print(markdown_table([{"rank": b, **{f"q {c:g}": q for c, q in zip(calibration.confidences, row)
                                         if c in (0.9, 0.95, 0.99)}}
                          for b, row in zip(bins, calibration.quantiles)], digits=3))
    print("\nThe shipped estimator on its own (bundled) devices, all cells: budgets there are judged by the "
          "measurements, this is upper_bound() alone\n")
    print(markdown_table(bundled_rows(calibration), digits=2))
    out = args.out or (calibration_path("nb201") if set(devices) == set(bench.devices) else None)
    if out is not None:
        calibration.save(out)
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
