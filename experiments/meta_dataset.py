"""Build the meta-training set of (task images, nb201 cell, accuracy) for task-conditioned prediction.

Tasks are class subsets of the real images bundled with gennas: the MNIST test set (10k digits)
and scikit-learn's 8x8 digits. For every task a sample of NAS-Bench-201 cells is built small
(``channels=8, cells_per_stage=1``, 16x16 grey input), trained briefly from scratch with SGD and
scored on a held-out split of that task's images. Each row records (task id, dataset, classes,
arch string, validation accuracy %, train seconds). The architectures are drawn from one shared
pool so that tasks overlap (what a predictor needs to learn how rankings move between tasks).

Brief training is deliberate: with a few hundred images and 30 SGD steps the cells differ
strongly (a cell whose output is zero stays at chance, pooling-only cells lag, conv cells
lead), which is the ranking signal; it is *not* the converged accuracy.

    python experiments/meta_dataset.py --quick          # ~1.5 min on one free core: 6 tasks x 16 cells
    python experiments/meta_dataset.py                  # 16 tasks x 32 cells (~7 min on one free core)
    python experiments/meta_dataset.py --torch-device cuda --workers 8   # the same on a GPU machine

Writes ``experiments/data/meta_nb201[_quick].csv.gz`` and a JSON manifest beside it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from gennas.checkpoint import reproduce_command  # noqa: E402
import gennas
from gennas.datasets import load_images
from gennas.training import evaluate_accuracy, train_classifier

DATA = Path(__file__).resolve().parent / "data"
SIZE = 16  # image side: MNIST is downsampled, digits upsampled, so every task looks alike
BUILD = {"channels": 8, "cells_per_stage": 1, "stages": 3}


def make_tasks(n_tasks: int, rng: np.random.Generator) -> list[dict]:
    """``n_tasks`` distinct class subsets (2..10 classes) alternating between MNIST and digits."""
    tasks, seen = [], set()
    while len(tasks) < n_tasks:
        dataset = ("mnist", "digits")[len(tasks) % 2]
        k = int(rng.integers(2, 11))
        classes = tuple(sorted(int(c) for c in rng.choice(10, size=k, replace=False)))
        if (dataset, classes) in seen:
            continue
        seen.add((dataset, classes))
        tasks.append({"task": f"{dataset}:{'-'.join(map(str, classes))}", "dataset": dataset,
                      "classes": list(classes)})
    return tasks


def task_split(task: dict, limit: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Seeded (train_x, train_y, val_x, val_y) of a task; at most ``limit`` images, 1/3 held out."""
    x, y = load_images(task["dataset"], classes=task["classes"], size=SIZE, channels=1)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:limit]
    n_val = len(order) // 3
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def train_once(arch_string: str, task: dict, split: tuple[torch.Tensor, ...], steps: int,
               seed: int, torch_device: str) -> tuple[float, float]:
    """Train one cell on one task; return (validation accuracy %, seconds)."""
    start = time.perf_counter()
    torch.manual_seed(seed)
    space = gennas.load_space("nb201")
    tx, ty, vx, vy = (t.to(torch_device) for t in split)
    model = space.build(arch_string, num_classes=len(task["classes"]), in_channels=1, **BUILD).to(torch_device)
    g = torch.Generator(device="cpu").manual_seed(seed)

    def batches(_epoch: int):
        for _ in range(steps):
            idx = torch.randint(len(ty), (64,), generator=g).to(torch_device)
            yield tx[idx], ty[idx]

    # A fixed number of steps (not epochs) so that small and large tasks get the same budget:
    # one "epoch" of ``steps`` random batches of 64, one-cycle schedule, no gradient clipping.
    train_classifier(model, batches, 1, lr=0.05, grad_clip=None, schedule="onecycle", steps_per_epoch=steps)
    acc = evaluate_accuracy(model, [(vx, vy)]).percent
    return acc, time.perf_counter() - start


def run_task(job: tuple[dict, list[str], int, int, int, str]) -> list[dict]:
    """Every (arch) training of one task, in one worker process."""
    task, archs, limit, steps, seed, torch_device = job
    torch.set_num_threads(1)
    split = task_split(task, limit, seed)
    rows = []
    for i, arch in enumerate(archs):
        acc, secs = train_once(arch, task, split, steps, seed + i, torch_device)
        rows.append({**{k: task[k] for k in ("task", "dataset")}, "classes": "-".join(map(str, task["classes"])),
                     "arch": arch, "val_acc": round(acc, 3), "train_s": round(secs, 3)})
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="6 tasks x 16 cells")
    p.add_argument("--tasks", type=int, default=None)
    p.add_argument("--cells", type=int, default=None, help="cells trained per task")
    p.add_argument("--pool", type=int, default=256, help="size of the shared architecture pool")
    p.add_argument("--limit", type=int, default=900, help="images per task (1/3 held out for scoring)")
    p.add_argument("--steps", type=int, default=30, help="SGD steps of batch 64 per training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--torch-device", default="cpu", help="cpu, cuda, ...")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    n_tasks = args.tasks or (6 if args.quick else 16)
    n_cells = args.cells or (16 if args.quick else 32)
    out = args.out or DATA / f"meta_nb201{'_quick' if args.quick else ''}.csv.gz"
    command = reproduce_command("experiments/meta_dataset.py", argv if argv is not None else sys.argv[1:])
    print(f"reproduce with: {command}")

    rng = np.random.default_rng(args.seed)
    space = gennas.load_space("nb201")
    pool = [a.to_string() for a in space.sample_many(args.pool, rng)]
    tasks = make_tasks(n_tasks, rng)
    jobs = [(t, [pool[i] for i in rng.choice(len(pool), size=n_cells, replace=False)], args.limit,
             args.steps, args.seed + 1000 * k, args.torch_device) for k, t in enumerate(tasks)]
    start = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as ex:
            results = list(ex.map(run_task, jobs))
    else:
        results = [run_task(j) for j in jobs]
    rows = [r for task_rows in results for r in task_rows]
    elapsed = time.perf_counter() - start

    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    accs = np.array([r["val_acc"] for r in rows])
    manifest = {"file": out.name, "command": command, "rows": len(rows), "tasks": n_tasks,
                "cells_per_task": n_cells, "distinct_cells": len({r["arch"] for r in rows}),
                "build": BUILD, "image_size": SIZE, "images_per_task": args.limit, "steps": args.steps, "batch": 64,
                "torch_device": args.torch_device, "seconds": round(elapsed, 1),
                "data": "class subsets of the bundled MNIST test set and sklearn digits"}
    out.with_suffix("").with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    print("\n| tasks | cells/task | rows | distinct cells | mean acc % | std acc % | seconds |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n_tasks} | {n_cells} | {len(rows)} | {manifest['distinct_cells']} | {accs.mean():.1f} "
          f"| {accs.std():.1f} | {elapsed:.0f} |")


if __name__ == "__main__":
    main()
