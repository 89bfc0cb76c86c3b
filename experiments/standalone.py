"""Standalone-training ground truth for the supernet ranking check (experiments/verify_supernet.py).

Trains each of a fixed, seeded sample of NAS-Bench-201 cells from scratch in a small version
of the benchmark skeleton on real MNIST digits (the bundled 10k test images, resized, split
80/20 with a fixed seed: the same data the supernet sees) and records validation accuracy.
Rows are appended to a CSV as they finish, so an interrupted run resumes where it stopped.

    python experiments/standalone.py            # full: 32 cells x 2 seeds, 6 epochs
    python experiments/standalone.py --quick    # 8 cells x 1 seed, 2 epochs (a few minutes)
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gennas.checkpoint import reproduce_command
from gennas.datasets import image_loaders
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, load_space
from gennas.training import count_parameters, evaluate_accuracy, resolve_torch_device, train_classifier

DATA_DIR = Path(__file__).resolve().parent / "data"
#: the setting shared by the standalone runs and the supernet (change both or neither)
SETTING = {"dataset": "mnist", "size": 16, "channels": 1, "val_fraction": 0.2, "split_seed": 0,
           "build": {"channels": 8, "cells_per_stage": 1, "stages": 3}}
FIELDS = ["arch", "seed", "epochs", "val_acc", "train_loss", "params", "seconds", "device"]


def loaders(batch_size: int = 128, limit: int | None = None):
    """Seeded (train, val) MNIST loaders of :data:`SETTING`."""
    return image_loaders(SETTING["dataset"], batch_size=batch_size, val_fraction=SETTING["val_fraction"],
                         seed=SETTING["split_seed"], size=SETTING["size"], channels=SETTING["channels"],
                         limit=limit)


def sample_cells(space: SearchSpace, n: int, seed: int = 2024) -> list[ArchGraph]:
    """``n`` cells drawn uniformly, without two that compute the same function."""
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    while len(out) < n:
        arch = space.sample(rng)
        key = arch.canonical_hash(functional=True)
        if key not in seen:
            seen.add(key)
            out.append(arch)
    return out


def train_standalone(space: SearchSpace, arch: ArchGraph, train, val, epochs: int, seed: int,
                     torch_device: torch.device, lr: float = 0.05) -> dict[str, float]:
    """Train ``arch`` from scratch (SGD + Nesterov, cosine per step, wd 5e-4); validation accuracy in %."""
    torch.manual_seed(seed)
    net = space.build(arch, num_classes=10, in_channels=SETTING["channels"], **SETTING["build"]).to(torch_device)
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)  # the shuffling order is part of the seed
    xs, ys = train.dataset.tensors

    def epoch_batches(_epoch: int):
        return ((xs[idx], ys[idx]) for idx in torch.randperm(len(ys), generator=gen).split(train.batch_size))

    losses = train_classifier(net, epoch_batches, epochs, lr=lr, steps_per_epoch=len(train), torch_device=torch_device)
    return {"val_acc": evaluate_accuracy(net, val, torch_device).percent, "train_loss": losses[-1],
            "params": count_parameters(net), "seconds": time.perf_counter() - start}


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open() as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> list[dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 cells, 1 seed, 2 epochs, 4000 images")
    parser.add_argument("--num-archs", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="training seeds per cell")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--shard", type=str, default="0/1", help="i/n: train every n-th cell from the i-th")
    parser.add_argument("--torch-device", default="auto", help="auto (GPU when present), cpu, cuda, ...")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the CPU is shared; one thread per process
    num_archs = args.num_archs or (8 if args.quick else 32)
    seeds = args.seeds or (1 if args.quick else 2)
    epochs = args.epochs or (2 if args.quick else 6)
    limit = 4000 if args.quick else None
    out = args.out or DATA_DIR / ("standalone_nb201_mnist_quick.csv" if args.quick else "standalone_nb201_mnist.csv")
    shard, shards = (int(v) for v in args.shard.split("/"))
    torch_device = resolve_torch_device(args.torch_device)
    command = reproduce_command("experiments/standalone.py", argv or sys.argv[1:])
    print(f"# {command}\n# torch device: {torch_device} ({'GPU' if torch_device.type == 'cuda' else 'CPU'}), "
          f"{num_archs} cells x {seeds} seeds, {epochs} epochs, setting {SETTING}, limit {limit}")

    space = load_space("nb201")
    train, val = loaders(limit=limit)
    done = {(r["arch"], int(r["seed"]), int(r["epochs"])) for r in read_rows(out)}
    out.parent.mkdir(parents=True, exist_ok=True)
    new_file = not out.exists()
    with out.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        # Seeds in the outer loop: a run cut short still has every cell trained once.
        for seed in range(seeds):
            for i, arch in enumerate(sample_cells(space, num_archs)):
                if i % shards != shard:
                    continue
                text = space.to_string(arch)
                if (text, seed, epochs) in done:
                    continue
                r = train_standalone(space, arch, train, val, epochs, seed, torch_device)
                # the CSV column "device" (kept: the shipped ground truth has it) is the torch device
                row = {"arch": text, "seed": seed, "epochs": epochs, "device": torch_device.type,
                       **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}}
                writer.writerow(row)
                fh.flush()
                print(f"{i:3d} seed {seed} {r['val_acc']:6.2f}%  {r['seconds']:5.1f}s  {text}", flush=True)
    rows = read_rows(out)
    accs = [float(r["val_acc"]) for r in rows if int(r["epochs"]) == epochs]
    if accs:
        print(f"\n| rows | mean val acc | min | max | s/arch |\n|---|---|---|---|---|\n"
              f"| {len(accs)} | {np.mean(accs):.2f} | {min(accs):.2f} | {max(accs):.2f} | "
              f"{np.mean([float(r['seconds']) for r in rows]):.1f} |")
    return rows


if __name__ == "__main__":
    main()
