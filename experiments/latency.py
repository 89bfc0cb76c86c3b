"""Leave-one-device-out evaluation of the few-shot latency estimator on NAS-Bench-201 (and mbv3).

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

``--space mbv3``: the mbv3 table has two devices (torch and onnxruntime on this machine's CPU,
``experiments/measure_mbv3.py``): leave-one-device-out is train on one, adapt to the other from
10 reference subnets and score every other subnet; then a split by subnet (train on both
back-ends on 80 % of the subnets, re-adapt each from 10 references, score the other 20 %).
``--write-bound`` also writes the mbv3 upper bound's calibration from the held-out residuals.

    python experiments/latency.py --space mbv3 --write-bound

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
from _common import DATA, command_line, markdown_table, nb201_costs  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.latency import LatencyConfig, LatencyEstimator  # noqa: E402

QUICK_DEVICES = ["1080ti_1", "gold_6240", "pixel3", "samsung_a50"]


def mape(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - true) / true) * 100)


def evaluate_fold(held: str, bench, archs, onehot: np.ndarray, flops: np.ndarray, args) -> dict:
    """Train without ``held``, adapt from its reference latencies, score all cells."""
    table = {d: bench.latency_of(None, d) for d in bench.devices if d != held}
    est = LatencyEstimator(bench.space, LatencyConfig(hidden=args.hidden, rank=args.rank, k=args.k), seed=args.seed)
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


# ---------------------------------------------------------------- mbv3 (two measured CPU back-ends)
BOUND_GRID = np.array([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98])


def mbv3_flops(space, strings: list[str]) -> np.ndarray:
    """FLOPs (224 px, 1000 classes, as measured) of each subnet ``(len(strings),)``, cached in
    ``experiments/data/mbv3_flops.npz`` (~0.15 s of CPU per subnet to count)."""
    path = DATA / "mbv3_flops.npz"
    known: dict[str, float] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            known = dict(zip(z["strings"].tolist(), z["flops"].tolist()))
    missing = [t for t in strings if t not in known]
    for i, text in enumerate(missing):
        known[text] = float(space.count_flops(text, num_classes=1000))
        if i % 100 == 0:
            print(f"counting FLOPs: {i}/{len(missing)}", file=sys.stderr, flush=True)
    if missing:
        np.savez(path, strings=np.array(list(known), dtype=np.str_), flops=np.array(list(known.values())))
    return np.array([known[t] for t in strings])


def mbv3_measurement_rows() -> list[dict]:
    """Per device of the mbv3 table: how steady its measurements were (spread = IQR / median of
    the timed passes of a subnet) and how much longer the wall clock ran than the CPU clock."""
    import csv
    import gzip

    from gennas.resources import data_dir

    with gzip.open(data_dir() / "mbv3_latency.csv.gz", "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for d in sorted({k.removesuffix("_spread") for k in rows[0] if k.endswith("_spread")}):
        spread = np.array([float(r[f"{d}_spread"]) for r in rows])
        ms = np.array([float(r[f"{d}_ms"]) for r in rows])
        wall = np.array([float(r[f"{d}_wall_ms"]) for r in rows])
        out.append({"device": d, "subnets": len(rows), "median ms": float(np.median(ms)),
                    "min ms": float(ms.min()), "max ms": float(ms.max()),
                    "median spread": float(np.median(spread)), "90th pct spread": float(np.quantile(spread, 0.9)),
                    "median wall/cpu": float(np.median(wall / ms))})
    return out


def score_mbv3(est: LatencyEstimator, device: str, refs: list, ref_ms: np.ndarray, archs: list,
               truth: np.ndarray, onehot: np.ndarray, ref_onehot: np.ndarray, flops: np.ndarray,
               ref_flops: np.ndarray) -> tuple[dict, np.ndarray]:
    """Adapt ``est`` to ``device`` from the references' latencies; score ``archs`` against ``truth``.
    Returns the row and the log-ratio residuals ``log(true / predicted)`` of the adapted model.
    Baselines from the same 10 samples: a line ``ms = a + b * FLOPs``, and ridge regression of
    log-latency on the one-hot encoding (``10-only``)."""
    est.device_params[f"{device}:embed"] = est.embed(ref_ms)
    embed = est.predict(archs, f"{device}:embed")
    est.adapt(device, list(zip(refs, ref_ms)))
    adapted = est.predict(archs, device)
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(ref_onehot, np.log(ref_ms))
    alone = np.exp(ridge.predict(onehot))
    flops_ms = np.clip(np.polyval(np.polyfit(ref_flops, ref_ms, 1), flops), 1e-3, None)
    row: dict = {"device": device, "scored": len(archs)}
    for name, pred in [("flops", flops_ms), ("10-only", alone), ("embed", embed), ("adapted", adapted)]:
        row[f"{name} rho"] = float(spearmanr(flops if name == "flops" else pred, truth)[0])
        row[f"{name} MAPE%"] = mape(pred, truth)
    row["spread"] = est.device_spread[device]
    return row, np.log(truth / adapted)


def fresh_mbv3(archs: list, table: dict[str, np.ndarray], args) -> tuple[LatencyEstimator, float]:
    est = LatencyEstimator("mbv3", LatencyConfig(hidden=args.hidden, rank=args.rank, k=args.k), seed=args.seed)
    start = time.time()
    est.fit(archs, table, steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    return est, time.time() - start


def mbv3_main(args) -> None:
    """Leave-one-device-out over the two measured back-ends, and a split by subnet."""
    from gennas.bench import load_latency_table
    from gennas.surrogates.latency_bound import BoundCalibration, calibration_path, conformal_quantile

    bench = load_latency_table("mbv3")
    archs = bench.archs()
    onehot = bench.space.encode(archs)
    table = {d: bench.latency_of(None, d) for d in bench.devices}
    flops = mbv3_flops(bench.space, bench.strings)
    print(f"mbv3 latency table: {len(archs)} subnets x {len(table)} devices ({', '.join(bench.devices)})",
          file=sys.stderr, flush=True)
    lodo, residuals, spreads = [], {}, {}
    for held in bench.devices:
        train = {d: v for d, v in table.items() if d != held}
        est, train_s = fresh_mbv3(archs, train, args)
        refs = est.reference_archs(args.k)
        rows = bench.rows(refs)
        rest = np.setdiff1d(np.arange(len(archs)), rows)  # the references are not scored
        row, residuals[held] = score_mbv3(est, held, refs, table[held][rows], [archs[i] for i in rest],
                                          table[held][rest], onehot[rest], onehot[rows], flops[rest], flops[rows])
        spreads[held] = row["spread"]
        row["trained on"] = ", ".join(train)
        row["train s"] = train_s
        lodo.append(row)
        print(f"held out {held}: adapted rho {row['adapted rho']:.3f}, MAPE {row['adapted MAPE%']:.1f} % "
              f"({train_s:.0f} s)", file=sys.stderr, flush=True)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(archs))
    cut = int(round(0.8 * len(archs)))
    tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
    est, train_s = fresh_mbv3([archs[i] for i in tr], {d: v[tr] for d, v in table.items()}, args)
    refs = est.reference_archs(args.k)
    rows = bench.rows(refs)
    test_archs = [archs[i] for i in te]
    split = []
    for device in bench.devices:
        fitted = est.predict(test_archs, device)  # device vector fitted on all training subnets
        row, _ = score_mbv3(est, device, refs, table[device][rows], test_archs, table[device][te],
                            onehot[te], onehot[rows], flops[te], flops[rows])
        row.update({"fitted rho": float(spearmanr(fitted, table[device][te])[0]),
                    "fitted MAPE%": mape(fitted, table[device][te]), "train s": train_s})
        split.append(row)
    print("\nmbv3 measurements (gennas/data/mbv3_latency.csv.gz; ms on the thread's CPU clock)\n")
    print(markdown_table(mbv3_measurement_rows()))
    cols = ["device", "scored", "adapted rho", "embed rho", "flops rho", "10-only rho", "adapted MAPE%",
            "embed MAPE%", "flops MAPE%", "10-only MAPE%"]
    print(f"\nmbv3, leave-one-device-out: trained on the other back-end ({args.steps} steps), adapted from "
          f"{args.k} reference subnets, every other subnet scored\n")
    print(markdown_table(lodo, ["trained on", *cols]))
    print(f"\nmbv3, split by subnet: trained on both back-ends on {len(tr)} subnets (80 %), each back-end "
          f"re-adapted from {args.k} reference subnets, the other {len(te)} subnets scored "
          f"('fitted': the device vector fitted on all training subnets)\n")
    print(markdown_table(split, cols + ["fitted rho", "fitted MAPE%"]))
    # The upper bound: each device's coverage from a bound calibrated on the other device only.
    scales = {d: spreads[d] + args.bound_floor for d in residuals}
    cover = []
    for d, r in residuals.items():
        others = np.concatenate([residuals[o] / scales[o] for o in residuals if o != d])
        q90, q95 = (conformal_quantile(others, c) * scales[d] for c in (0.90, 0.95))
        cover.append({"device": d, "spread": spreads[d], "cover 90 %": float(np.mean(r <= q90)) * 100,
                      "cover 95 %": float(np.mean(r <= q95)) * 100,
                      "bound/true @95": float(np.median(np.exp(q95 - r)))})
    print(f"\nmbv3 upper bound (floor {args.bound_floor:g}): coverage on each held-out back-end of the bound "
          "calibrated on the other one alone\n")
    print(markdown_table(cover, ["device", "spread", "cover 90 %", "cover 95 %", "bound/true @95"]))
    if args.write_bound:
        pooled = np.concatenate([residuals[d] / scales[d] for d in residuals])
        note = (f"leave-one-device-out residuals log(true/predicted) of {len(archs)} measured mbv3 subnets on "
                f"{', '.join(residuals)} (each predicted by an estimator trained on the other back-end, "
                f"{args.steps} steps, seed {args.seed}, adapted from {args.k} reference subnets)")
        typical = float(np.median(list(spreads.values())))
        cal = BoundCalibration.from_residuals("mbv3", pooled, BOUND_GRID, "spread", args.bound_floor, typical,
                                              command_line(), note)
        shipped = gennas.load_latency_estimator("mbv3", with_registered=False)
        srefs = shipped.reference_archs(args.k)
        device_spreads = {}
        for device in shipped.bundled:
            shipped.adapt("as-new", list(zip(srefs, bench.latency_of(srefs, device))))
            device_spreads[device] = shipped.device_spread["as-new"]
        cal = BoundCalibration(cal.space, cal.confidences, cal.quantiles, cal.scale, cal.floor,
                               cal.typical_spread, cal.command, cal.note, device_spreads)
        print(f"\nwrote {cal.save(calibration_path('mbv3'))}; q: "
              + ", ".join(f"{c:g}: {q:.3f}" for c, q in zip(cal.confidences, cal.quantiles)))
    print(f"\ncommand: {command_line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=["nb201", "mbv3"], default="nb201",
                        help="mbv3: leave-one-device-out over its two measured back-ends and a split by subnet")
    parser.add_argument("--write-bound", action="store_true",
                        help="mbv3: write the upper bound's calibration (gennas/data/latency_bound_mbv3.npz)")
    parser.add_argument("--bound-floor", type=float, default=0.05, help="mbv3 bound: added to each spread")
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
    if args.space == "mbv3":
        mbv3_main(args)
        return

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
