"""Leave-one-device-out evaluation of the few-shot latency estimator on NAS-Bench-201.

For each held-out device of the 19 bundled (HELP) devices: train the estimator on the other
18, take the latencies of its 10 reference architectures on the held-out device (the only
numbers a new device provides), and score the predicted latency of all 15,625 cells against
the measured table: Spearman's rho and MAPE (%). In the same run:

- ``flops``: FLOPs of the cell's network (Spearman; MAPE after a least-squares line
  ``ms = a + b * FLOPs`` through the 10 reference samples),
- ``10-only``: ridge regression (cross-validated alpha) of log-latency on the one-hot cell
  encoding, fitted on the same 10 samples alone,
- ``embed``: the estimator with the hardware embedding only (HELP-style, no fit),
- ``adapted``: embedding plus the closed-form ridge refit of the device vector (the default).

    python experiments/latency.py --quick   # 4 held-out devices, short training (minutes)
    python experiments/latency.py           # all 19 devices
    python experiments/latency.py --here 40 --devices   # only: this machine as a new device

``--here N`` also treats *this machine* as a new device: it times the 10 reference cells and
``N`` random cells here (``gennas.measure_latency``, CPU, batch 1), adapts the shipped
estimator (trained on all 19 bundled devices, none of them this machine) from the 10
references, and scores its predictions of the ``N`` cells.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import RidgeCV

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, nb201_costs  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.latency import LatencyConfig, LatencyEstimator  # noqa: E402

QUICK_DEVICES = ["1080ti_1", "gold_6240", "pixel3", "samsung_a50"]


def mape(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - true) / true) * 100)


def evaluate_fold(held: str, bench, archs, onehot: np.ndarray, flops: np.ndarray, args) -> dict:
    """Train without ``held``, adapt from its reference latencies, score all cells."""
    table = {d: bench.latency_of(None, d) for d in bench.devices if d != held}
    est = LatencyEstimator(bench.space, LatencyConfig(hidden=args.hidden, rank=args.rank, k=args.k))
    start = time.time()
    est.fit(archs, table, steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    train_s = time.time() - start
    y = bench.latency_of(None, held)
    refs = est.reference_archs(args.k)
    rows = bench.rows(refs)
    ref_ms = y[rows]

    est.device_params[f"{held}:embed"] = est.embed(ref_ms)
    embed = est.predict(archs, f"{held}:embed")
    start = time.time()
    est.adapt(held, list(zip(refs, ref_ms)))
    adapt_ms = (time.time() - start) * 1e3
    adapted = est.predict(archs, held)

    line = np.polyfit(flops[rows].astype(float), ref_ms, 1)
    flops_ms = np.clip(np.polyval(line, flops.astype(float)), 1e-3, None)
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(onehot[rows], np.log(ref_ms))
    alone = np.exp(ridge.predict(onehot))

    out = {"device": held}
    for name, pred in [("flops", flops_ms), ("10-only", alone), ("embed", embed), ("adapted", adapted)]:
        rho = spearmanr(flops if name == "flops" else pred, y)[0]
        out[f"{name} rho"] = float(rho)
        out[f"{name} MAPE%"] = mape(pred, y)
    out["train s"] = train_s
    out["adapt ms"] = adapt_ms
    return out


def evaluate_here(n: int, flops: np.ndarray, bench, seed: int, repeats: int) -> dict:
    """This machine as an unseen device: adapt from its reference timings, score ``n`` random cells."""
    est = gennas.load_latency_estimator("nb201", with_registered=False)
    refs = est.reference_archs()
    cells = bench.space.sample_many(n, seed)
    timed = {a: gennas.measure_latency(a, bench.space, repeats=repeats) for a in [*refs, *cells]}
    est.adapt("here", [(a, timed[a]) for a in refs])
    truth = np.array([timed[a] for a in cells])
    pred = est.predict(cells, "here")
    return {"device": f"this machine (cpu, {torch.get_num_threads()} thread, {n} random cells)",
            "adapted rho": float(spearmanr(pred, truth)[0]), "adapted MAPE%": mape(pred, truth),
            "flops rho": float(spearmanr(flops[bench.rows(cells)], truth)[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"hold out only {QUICK_DEVICES}, fewer steps")
    parser.add_argument("--devices", nargs="*", help="held-out devices (default: all 19)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per fold (default 1000, quick 300)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--k", type=int, default=10, help="reference architectures per device")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--here", type=int, default=0, help="also score N random cells timed on this machine")
    parser.add_argument("--repeats", type=int, default=20, help="timed passes per cell for --here")
    args = parser.parse_args()
    args.steps = args.steps or (300 if args.quick else 1000)
    torch.set_num_threads(args.threads)

    bench = gennas.load_benchmark("nb201")
    archs = bench.archs()
    onehot = bench.space.encode(archs)
    flops = nb201_costs()["flops"]
    devices = (args.devices if args.devices is not None and (args.devices or args.here)
               else QUICK_DEVICES if args.quick else bench.devices)
    if args.here:
        here = evaluate_here(args.here, flops, bench, args.seed, args.repeats)
        print("\nThis machine as a new device (shipped estimator, adapted from 10 reference timings)\n")
        print(markdown_table([here], ["device", "adapted rho", "adapted MAPE%", "flops rho"]))
        if not devices:
            print(f"\ncommand: {command_line()}")
            return
    results = []
    for held in devices:
        results.append(evaluate_fold(held, bench, archs, onehot, flops, args))
        r = results[-1]
        print(f"{held}: adapted rho {r['adapted rho']:.3f}, embed {r['embed rho']:.3f}, "
              f"flops {r['flops rho']:.3f}, 10-only {r['10-only rho']:.3f} ({r['train s']:.0f} s)",
              file=sys.stderr, flush=True)
    mean = {"device": "**mean**"}
    for key in results[0]:
        if key != "device":
            mean[key] = float(np.mean([r[key] for r in results]))
    rest = [r for r in results if r["device"] != "pixel3"]
    if len(rest) < len(results) and rest:
        # pixel3 reports ~0.003 ms for cells whose output is zero (its runtime prunes them),
        # so any percentage error on those rows is enormous; show the mean without it too.
        mean_rest = {"device": "mean without pixel3"}
        mean_rest.update({k: float(np.mean([r[k] for r in rest])) for k in results[0] if k != "device"})
    else:
        mean_rest = None
    print(f"\nLeave-one-device-out latency prediction on NAS-Bench-201 ({len(devices)} held-out devices, "
          f"{args.k} reference samples each, all 15,625 cells scored)\n")
    columns = ["device", "adapted rho", "embed rho", "flops rho", "10-only rho",
               "adapted MAPE%", "embed MAPE%", "flops MAPE%", "10-only MAPE%"]
    print(markdown_table(results + [mean] + ([mean_rest] if mean_rest else []), columns))
    print(f"\ntraining {mean['train s']:.0f} s per fold ({args.steps} steps), adaptation {mean['adapt ms']:.1f} ms per device")
    print(f"\ncommand: {command_line()}")


if __name__ == "__main__":
    main()
