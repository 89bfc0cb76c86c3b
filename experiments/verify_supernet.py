"""Supernet ranking quality: does the weight-sharing supernet rank NAS-Bench-201 cells the way
training each cell from scratch does, on the same real data?

1. Ground truth: ``experiments/standalone.py`` trained a seeded sample of >= 30 distinct cells
   from scratch on MNIST (bundled 10k digits, 16x16, 80/20 split with seed 0) in the small
   benchmark skeleton (channels 8, 1 cell per stage, 3 stages), seeds 0 and 1
   (``experiments/data/standalone_nb201_mnist.csv``).
2. A SPOS supernet with the same skeleton is trained on the same training split.
3. Each cell's subnet is scored on the validation split after BN recalibration, and Kendall /
   Spearman between supernet and standalone accuracy are printed, next to the agreement of two
   standalone seeds with each other (the ceiling any cheap estimate can hope for).

    python experiments/verify_supernet.py            # full: supernet 60 epochs, ships the checkpoint
    python experiments/verify_supernet.py --quick    # supernet 8 epochs (a few minutes on CPU; a smoke
                                                     # run: 8 epochs are too few to rank, tau ~ 0)
    python experiments/verify_supernet.py --checkpoint /tmp/sn.pt   # retrain from scratch (~20 min CPU)
    python experiments/verify_supernet.py --mbv3     # also a small OFA-style mbv3 supernet sanity table

Full mode resumes ``checkpoints/supernet_nb201_mnist.pt``: on a clone that ships it, the 60
epochs are already done and only the evaluation runs (a minute or two), leaving the checkpoint as shipped. Standalone cells are
those rows of the CSV present when the script runs (seed 1 may cover only some cells).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
import standalone  # noqa: E402  (the shared data setting and ground-truth runner)

from gennas.checkpoint import reproduce_command  # noqa: E402
from gennas.evaluators.supernet import Supernet  # noqa: E402
from gennas.resources import checkpoints_dir  # noqa: E402
from gennas.spaces import load_space  # noqa: E402

#: below this standalone accuracy a cell is degenerate (its output path is cut, ~ chance level)
DEGENERATE_ACC = 50.0


def ground_truth(path: Path) -> tuple[dict[str, float], dict[str, list[float]], int]:
    """Mean standalone accuracy per cell, the per-seed accuracies, and the epochs used."""
    rows = standalone.read_rows(path)
    if not rows:
        raise SystemExit(f"no ground truth at {path}; run python experiments/standalone.py first")
    epochs = max(int(r["epochs"]) for r in rows)
    per_seed: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if int(r["epochs"]) == epochs:
            per_seed[r["arch"]].append(float(r["val_acc"]))
    return {a: float(np.mean(v)) for a, v in per_seed.items()}, per_seed, epochs


def rank_row(name: str, x: list[float], y: list[float]) -> str:
    tau = stats.kendalltau(x, y).statistic
    rho = stats.spearmanr(x, y).statistic
    return f"| {name} | {len(x)} | {tau:.3f} | {rho:.3f} |"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="supernet 8 epochs")
    parser.add_argument("--epochs", type=int, default=None, help="supernet epochs (full 60, quick 8)")
    parser.add_argument("--calib-batches", type=int, default=10, help="BN recalibration batches of 128")
    parser.add_argument("--torch-device", default="auto", help="auto (GPU when present), cpu, cuda, ...")
    parser.add_argument("--ground-truth", type=Path, default=standalone.DATA_DIR / "standalone_nb201_mnist.csv")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="training checkpoint (resumed if present); full mode default: "
                             "checkpoints/supernet_nb201_mnist.pt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mbv3", action="store_true", help="also train a small OFA-style mbv3 supernet")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the CPU is shared; one thread
    epochs = args.epochs or (8 if args.quick else 60)
    checkpoint = args.checkpoint or (None if args.quick else checkpoints_dir() / "supernet_nb201_mnist.pt")
    command = reproduce_command("experiments/verify_supernet.py", sys.argv[1:] if argv is None else argv)
    truth, per_seed, sa_epochs = ground_truth(args.ground_truth)
    space = load_space("nb201")
    train, val = standalone.loaders()
    sn = Supernet(space, num_classes=10, in_channels=standalone.SETTING["channels"],
                  torch_device=args.torch_device,
                  seed=args.seed, **standalone.SETTING["build"])
    where = "GPU" if sn.torch_device.type == "cuda" else "CPU"
    print(f"# {command}\n# supernet on {where} ({sn.torch_device}); data {standalone.SETTING}; "
          f"ground truth {args.ground_truth.name}: {len(truth)} cells, {sa_epochs} epochs standalone")

    start = time.perf_counter()
    resumed = checkpoint is not None and checkpoint.exists()
    written = checkpoint.stat().st_mtime_ns if resumed else None
    sn.fit(train, epochs, lr=0.05, checkpoint=checkpoint, val_loader=val)
    # fit writes the checkpoint after every epoch it trains: unchanged, the run only evaluates
    trained_now = checkpoint is not None and (not resumed or checkpoint.stat().st_mtime_ns != written)
    train_s = time.perf_counter() - start
    archs = [space.from_string(a) for a in truth]
    results = sn.evaluate(archs, val, calib_loader=train, calib_batches=args.calib_batches)
    scores = [r.score for r in results]
    gt = [truth[a] for a in truth]
    s_per_arch = float(np.mean([r.cost_s for r in results]))

    print("\n## Supernet vs standalone training (NAS-Bench-201 cells, MNIST 16x16)\n")
    print("| comparison | cells | Kendall tau | Spearman |\n|---|---|---|---|")
    print(rank_row("supernet vs standalone (mean of seeds), all cells", scores, gt))
    keep = [i for i, a in enumerate(truth) if truth[a] >= DEGENERATE_ACC]
    if 2 < len(keep) < len(truth):  # only when the sample holds degenerate cells
        print(rank_row(f"same, cells with standalone acc >= {DEGENERATE_ACC:.0f}%",
                       [scores[i] for i in keep], [gt[i] for i in keep]))
    two = [a for a in truth if len(per_seed[a]) >= 2]
    if two:
        s0, s1 = [per_seed[a][0] for a in two], [per_seed[a][1] for a in two]
        print(rank_row("standalone seed 0 vs seed 1 (noise ceiling), all cells", s0, s1))
        keep2 = [i for i, a in enumerate(two) if truth[a] >= DEGENERATE_ACC]
        if 2 < len(keep2) < len(two):
            print(rank_row(f"standalone seed 0 vs seed 1, acc >= {DEGENERATE_ACC:.0f}%",
                           [s0[i] for i in keep2], [s1[i] for i in keep2]))
        idx = [list(truth).index(a) for a in two]
        print(rank_row("supernet vs standalone seed 0, same cells", [scores[i] for i in idx], s0))
        print(rank_row("supernet vs standalone seed 1, same cells", [scores[i] for i in idx], s1))

    last = sn.history[-1] if sn.history else {}
    sa_rows = standalone.read_rows(args.ground_truth)
    sa_where = sorted({r["device"] for r in sa_rows})  # the CSV column "device" is the torch device
    print("\n## Schedules and cost\n")
    print("| run | where | schedule | seconds |\n|---|---|---|---|")
    trained_on = sorted({h.get("torch_device", "cpu") for h in sn.history})  # older epochs may predate this run
    print(f"| supernet training (SPOS, uniform single path) | {'/'.join(trained_on).upper()} | "
          f"{epochs} epochs x {len(train)} batches of 128, SGD nesterov lr 0.05 cosine per epoch, wd 5e-4 | "
          f"{sum(h['seconds'] for h in sn.history):.1f} over "
          f"{sn.epochs_done} epochs ({'resumed from ' + checkpoint.name + ', ' if resumed else ''}"
          f"{train_s:.1f} in this run) |")
    print(f"| supernet evaluation per cell | {where} | BN recalibration on {args.calib_batches} train batches "
          f"+ {len(val.dataset)} val images | {s_per_arch:.3f} s/arch |")
    print(f"| standalone training per cell and seed | {'/'.join(sa_where).upper()} | {sa_epochs} epochs x "
          f"{len(train)} batches of 128, SGD nesterov lr 0.05 cosine per step, wd 5e-4 | "
          f"{np.mean([float(r['seconds']) for r in sa_rows]):.1f} s/arch |")
    print(f"\nsupernet final train loss {last.get('loss', float('nan')):.3f}, train acc (random paths) "
          f"{last.get('train_acc', float('nan')):.1f}%; subnet val acc mean {np.mean(scores):.2f}%, "
          f"range {min(scores):.2f}-{max(scores):.2f}%")
    tau = float(stats.kendalltau(scores, gt).statistic)
    # only a run that trained writes the checkpoint: resumed and only evaluated, it rewrote the
    # shipped file (its timing in the manifest) and left a clone dirty (a README walk)
    if checkpoint is not None and trained_now:
        sn.save(checkpoint, command=command,
                metrics={"kendall_tau_vs_standalone": tau, "cells": len(truth), "s_per_arch": s_per_arch},
                data=f"MNIST t10k 16x16, 80/20 split seed 0 ({len(train.dataset)} train images)")
        print(f"checkpoint: {checkpoint} ({checkpoint.stat().st_size / 1e6:.2f} MB)")
    out = {"kendall_tau": tau, "s_per_arch": s_per_arch, "cells": len(truth)}
    if args.mbv3:
        out["mbv3_gap"] = mbv3_section(args.torch_device, epochs=2 if args.quick else 6, seed=args.seed,
                                       images=1000 if args.quick else 2500)
    return out


def mbv3_section(torch_device: str, epochs: int, seed: int, images: int = 2500) -> float:
    """Sanity check of the elastic (OFA-style) supernet: after training, do bigger subnets score
    higher? Prints a table; returns largest minus smallest subnet accuracy (points)."""
    from gennas.datasets import image_loaders

    space = load_space("mbv3")
    train, val = image_loaders("mnist", batch_size=64, seed=0, size=32, channels=1, limit=images)
    sn = Supernet(space, in_channels=1, torch_device=torch_device, seed=seed, width_mult=0.35)
    start = time.perf_counter()
    sn.fit(train, epochs, lr=0.1)
    train_s = time.perf_counter() - start
    named = {"largest (k7e6 x 4 per stage)": space.from_string("|".join(["-".join(["k7e6"] * 4)] * 5)),
             "smallest (k3e3 x 2 per stage)": space.from_string("|".join(["-".join(["k3e3"] * 2)] * 5))}
    named.update({f"random {i}": a for i, a in enumerate(space.sample_many(6, rng=seed))})
    results = sn.evaluate(list(named.values()), val, calib_loader=train, calib_batches=5)
    where = "GPU" if sn.torch_device.type == "cuda" else "CPU"
    print(f"\n## mbv3 elastic supernet (width 0.35, MNIST 32x32, {len(train.dataset)} train images, "
          f"{epochs} epochs, {where}, {train_s:.0f} s training)\n")
    print("| subnet | MFLOPs (32x32) | supernet val acc % |\n|---|---|---|")
    for (name, arch), r in zip(named.items(), results):
        mflops = space.count_flops(arch, input_size=32, in_channels=1, width_mult=0.35) / 1e6
        print(f"| {name} | {mflops:.1f} | {r.score:.2f} |")
    print(f"\nseconds per evaluated mbv3 subnet: {np.mean([r.cost_s for r in results]):.3f}")
    return results[0].score - results[1].score


if __name__ == "__main__":
    main()
