"""Train the shipped latency estimator of a space on every device of its latency table.

``--space nb201`` (default): the 19 bundled NAS-Bench-201 devices (HELP's tables);
``--space mbv3``: the two CPU back-ends of ``gennas/data/mbv3_latency.csv.gz`` (torch and
onnxruntime, one thread, measured here by ``experiments/measure_mbv3.py``).

Writes ``checkpoints/latency_<space>.pt`` (a gennas.checkpoint file) and ``latency_<space>.json``
(manifest: data, this command, metrics, sha256). The metrics are the fit on the bundled devices
(every device's vector refitted on all rows) and, for the few-shot case, the same model's devices
re-adapted from their 10 reference samples only; the honest few-shot figure on *unseen*
devices is experiments/latency.py (leave-one-device-out, and a split by architecture).

    python experiments/train_latency.py --quick   # short run, written to checkpoints/latency_nb201_quick.pt
    python experiments/train_latency.py           # the shipped checkpoint
    python experiments/train_latency.py --space mbv3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.latency import LatencyConfig, LatencyEstimator  # noqa: E402
from gennas.bench import load_latency_table  # noqa: E402
from gennas.resources import checkpoints_dir  # noqa: E402
from gennas.surrogates.measure import table_build_options  # noqa: E402

DATA = {"nb201": "gennas/data/nb201_latency.csv.gz: HELP's measured latency (ms) of all 15,625 "
                 "NAS-Bench-201 cells on 19 devices; all rows and devices used for training",
        "mbv3": "gennas/data/mbv3_latency.csv.gz: latency (ms, median of 1-thread passes, thread CPU time) "
                "of {rows} seeded mbv3 subnets (224 px, batch 1, 1000 classes) measured on this project's "
                "2-core AMD EPYC VM with torch and onnxruntime (manifest mbv3_latency.json, written by "
                "experiments/measure_mbv3.py); all rows and {devices} devices used for training"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=["nb201", "mbv3"], default="nb201")
    parser.add_argument("--quick", action="store_true", help="300 steps, written beside the real checkpoint")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 1000, quick 300)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.steps = args.steps or (300 if args.quick else 1000)
    torch.set_num_threads(args.threads)
    out = args.out or checkpoints_dir() / f"latency_{args.space}{'_quick' if args.quick else ''}.pt"

    bench = load_latency_table(args.space)
    archs = bench.archs()
    table = {d: bench.latency_of(None, d) for d in bench.devices}
    est = LatencyEstimator(bench.space, LatencyConfig(hidden=args.hidden, rank=args.rank, k=args.k), seed=args.seed)
    start = time.time()
    est.fit(archs, table, steps=args.steps, batch_size=args.batch_size, seed=args.seed, log_every=100)
    train_s = time.time() - start

    refs = est.reference_archs(args.k)
    rows = []
    for device in bench.devices:
        y = table[device]
        fitted = est.predict(archs, device)
        few = LatencyEstimator.from_checkpoint(est.to_checkpoint(), bench.space)  # fresh copy for the 10-sample fit
        few.adapt(device, list(zip(refs, bench.latency_of(refs, device))))
        few_pred = few.predict(archs, device)
        rows.append({"device": device, "fitted rho": float(spearmanr(fitted, y)[0]),
                     "fitted MAPE%": float(np.mean(np.abs(fitted - y) / y) * 100),
                     "10-ref rho": float(spearmanr(few_pred, y)[0]),
                     "10-ref MAPE%": float(np.mean(np.abs(few_pred - y) / y) * 100)})
    mean = {"device": "**mean**", **{k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "device"}}
    params = sum(p.numel() for p in est.net.parameters())
    data = DATA[args.space].format(rows=len(archs), devices=len(bench.devices))
    metrics = {"mean_fitted_spearman": mean["fitted rho"], "mean_fitted_mape_pct": mean["fitted MAPE%"],
               "mean_10ref_spearman_seen_devices": mean["10-ref rho"],
               "mean_10ref_mape_pct_seen_devices": mean["10-ref MAPE%"],
               "per_device": rows,
               "unseen_devices": "see experiments/latency.py (leave-one-device-out)"}
    est.save(out, data, metrics, command_line(), train_seconds=round(train_s, 1), parameters=params,
             steps=args.steps, batch_size=args.batch_size, seed=args.seed,
             rows=len(archs), table_build_options=table_build_options(bench.space))
    print(markdown_table(rows + [mean]))
    print(f"\n{params} parameters, trained {train_s:.0f} s; wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")
    print(f"\ncommand: {command_line()}")


if __name__ == "__main__":
    main()
