"""Train the shipped performance predictors: ``checkpoints/predictor_nb201[_no-<dataset>].pt``.

Each is one ensemble trained on (a) NAS-Bench-201 cifar10 and cifar100 accuracies of a seeded
random subset of cells (named tasks) and (b) every image task of the meta-dataset built by
``experiments/meta_dataset.py`` (tasks described by their images). ``_no-cifar10`` and
``_no-cifar100`` leave that dataset's labels out entirely, for honest transfer experiments.
Metrics in each manifest are measured on the cells *not* used for training (for the held-out
dataset: on all of its cells, since its labels are never seen).

The transfer checkpoints may use every cell of the *other* dataset (``--cells 15625``), a wider
GNN (``--hidden``) and a ranking loss that weighs the best cells more (``--top-weight``): a
search verifies the top of the predictor's ranking first, so that is where its mistakes cost.

    python experiments/train_predictor.py --variants all       # the default checkpoint (2,000 cells)
    python experiments/train_predictor.py --variants cifar10,cifar100 --cells 15625 --hidden 64 --steps 4000
                                                     # the shipped transfer checkpoints (~5 min CPU each)
    python experiments/train_predictor.py --quick    # small run into /tmp/gennas_predictor_quick
    python experiments/train_predictor.py --space mbv3   # the mbv3 proxy predictor (see "mbv3" below)
"""

from __future__ import annotations

import argparse
import csv
import gzip
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

import gennas
from gennas.checkpoint import reproduce_command
from gennas.datasets import load_images
from gennas.evaluators import zero_cost
from gennas.spaces import load_space
from gennas.surrogates.predictor import Predictor, PredictorConfig
from gennas.surrogates.shipped_predictor import checkpoint_path
from gennas.surrogates.task import Task

HERE = Path(__file__).resolve().parent
DATASETS = ("cifar10", "cifar100")


def meta_path() -> Path | None:
    """The full meta-dataset if built, else the quick one, else None."""
    for name in ("meta_nb201.csv.gz", "meta_nb201_quick.csv.gz"):
        if (HERE / "data" / name).is_file():
            return HERE / "data" / name
    return None


def load_meta(path: Path | None = None) -> list[tuple[Task, list[str], np.ndarray, str]]:
    """Meta-dataset tasks as ``(Task from images, arch strings, accuracies %, task id)``."""
    path = path or meta_path()
    if path is None:
        return []
    rows: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["task"]].append(row)
    out = []
    for task_id, items in rows.items():
        classes = [int(c) for c in items[0]["classes"].split("-")]
        task = Task.from_dataset(items[0]["dataset"], classes=classes)
        out.append((task, [r["arch"] for r in items], np.array([float(r["val_acc"]) for r in items]), task_id))
    return out


def train_variant(holdout: str | None, cells: int, steps: int, seed: int, meta, config: PredictorConfig
                  ) -> tuple[Predictor, dict]:
    """Fit one checkpoint; return it with its held-out metrics."""
    bench = gennas.load_benchmark("nb201")
    archs = bench.archs()
    order = np.random.default_rng(seed).permutation(len(archs))
    train, test = order[:cells], order[cells:]
    data = [(ds, [archs[i] for i in train], bench.accuracy_of(None, ds)[train])
            for ds in DATASETS if ds != holdout]
    data += [(task, strings, scores) for task, strings, scores, _ in meta]
    start = time.perf_counter()
    pred = Predictor("nb201", config, seed=seed).fit_tasks(data, steps=steps)
    seconds = time.perf_counter() - start
    metrics: dict = {"train_seconds": round(seconds, 1), "held_out_cells": int(len(test)),
                     "holdout_dataset_cells": len(archs) if holdout else 0}
    for ds in DATASETS:
        # the held-out dataset's labels were never seen: all its cells are test cells
        rows = np.arange(len(archs)) if ds == holdout else test
        if len(rows) == 0:
            continue  # trained on every cell of this dataset: nothing held out to score
        test_archs = [archs[i] for i in rows]
        truth = bench.accuracy_of(None, ds)[rows]
        if ds != holdout:
            mean = pred.predict(test_archs, task=ds)[0]
            metrics[f"{ds}_kendall"] = round(float(kendalltau(mean, truth)[0]), 4)
            metrics[f"{ds}_spearman"] = round(float(spearmanr(mean, truth)[0]), 4)
        else:  # transfer: no target labels, then 20 verified target samples
            mean = pred.predict(test_archs)[0]
            metrics[f"{ds}_kendall_0_samples"] = round(float(kendalltau(mean, truth)[0]), 4)
            metrics[f"{ds}_top1_0_samples"] = round(float(truth[int(np.argmax(mean))]), 2)
            pick = np.random.default_rng(seed + 1).choice(len(rows), 20, replace=False)
            task = Task.from_samples([(test_archs[i], truth[i]) for i in pick])
            rest = np.setdiff1d(np.arange(len(rows)), pick)
            mean = pred.predict([test_archs[i] for i in rest], task=task)[0]
            metrics[f"{ds}_kendall_20_samples"] = round(float(kendalltau(mean, truth[rest])[0]), 4)
    return pred, metrics


# ---------------------------------------------------------------- mbv3
# Train the shipped mbv3 predictor ``checkpoints/predictor_mbv3.pt`` on what can be measured here.
#
# There is no mbv3 accuracy table in this project (OFA's ImageNet accuracies are not bundled), so
# the predictor is pretrained on a *zero-cost proxy*: log10 of synflow (Tanaka et al. 2020) of
# sampled mbv3 subnets, each built for 10 classes and scored on one batch of the bundled MNIST
# test images (64 images, 32x32 px, 3 channels; the batch ``gennas search --evaluator
# proxy:synflow --task mnist`` scores on), initialised from ``torch.manual_seed(0)``. Its one task
# is named ``mnist-synflow-log10``: it is NOT an accuracy, and says nothing measured about
# ImageNet. A designer for any other task (``imagenet``) ranks by it only as a prior and refits on
# the user's verified results.
#
# Subnets: ``space.sample_many(n, rng=seed)`` (the OFA prior). The last 20 % are held out; the
# manifest reports Spearman and Kendall of the prediction against their proxy scores.
#
#     python experiments/train_predictor.py --space mbv3                 # 1,000 subnets, the shipped one
#     python experiments/train_predictor.py --space mbv3 --quick         # 120 subnets, into /tmp

MBV3_TASK = "mnist-synflow-log10"
PROXY = "synflow"


def proxy_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """The 64 MNIST images (3 x 32 x 32) and labels the ``proxy:synflow`` CLI evaluator scores on."""
    images, labels = load_images("mnist", size=32, channels=3)
    return images[:64], labels[:64]


def proxy_scores(n: int, seed: int, cache: Path) -> tuple[list[str], np.ndarray]:
    """``n`` sampled mbv3 subnets (strings) and their log10 synflow scores, cached in ``cache``
    (a csv.gz of arch, synflow, seconds) so that a rerun only scores what is missing."""
    space = load_space("mbv3")
    archs = [a.to_string() for a in space.sample_many(n, seed)]
    known: dict[str, float] = {}
    if cache.is_file():
        with gzip.open(cache, "rt", newline="") as fh:
            known = {r["arch"]: float(r[PROXY]) for r in csv.DictReader(fh)}
    todo = [a for a in archs if a not in known]
    batch = proxy_batch()
    start = time.perf_counter()
    for i in range(0, len(todo), 25):  # in chunks, so an interrupted run keeps what it scored
        chunk = todo[i:i + 25]
        values = zero_cost.score(chunk, space, PROXY, data=batch, seed=0)
        known.update(zip(chunk, map(float, values)))
        _write(cache, known)
        done = i + len(chunk)
        print(f"  scored {done}/{len(todo)} subnets ({(time.perf_counter() - start) / done:.2f} s each)",
              flush=True)
    raw = np.array([known[a] for a in archs])
    return archs, np.log10(np.maximum(raw, 1e-30))  # synflow spans 1e24..1e30: its log is the scale


def _write(cache: Path, known: dict[str, float]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(cache, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["arch", PROXY])
        writer.writerows([a, repr(v)] for a, v in known.items())


def train_mbv3(n: int, steps: int, seed: int, out: Path, cache: Path, command: str) -> Path:
    """Score, fit on the first 80 %, measure on the rest, save with a manifest; returns the .pt path."""
    archs, y = proxy_scores(n, seed, cache)
    cut = int(0.8 * n)
    # the shipped predictor_mbv3 was trained before an mbv3 encoder shipped: from scratch, reproducibly
    config = PredictorConfig(pretrained=False)
    start = time.perf_counter()
    pred = Predictor("mbv3", config, seed=seed).fit(archs[:cut], y[:cut], task=MBV3_TASK, steps=steps)
    seconds = time.perf_counter() - start
    mean = pred.predict(archs[cut:], task=MBV3_TASK)[0]
    metrics = {"train_subnets": cut, "held_out_subnets": n - cut, "train_seconds": round(seconds, 1),
               "held_out_spearman": round(float(spearmanr(mean, y[cut:])[0]), 4),
               "held_out_kendall": round(float(kendalltau(mean, y[cut:])[0]), 4),
               "log10_synflow_range": [round(float(y.min()), 3), round(float(y.max()), 3)]}
    data = (f"NOT accuracy, NOT ImageNet: task {MBV3_TASK!r} = log10 of the zero-cost proxy synflow of {n} mbv3 "
            f"subnets sampled from the space prior (load_space('mbv3').sample_many({n}, rng={seed})), each "
            f"built for 10 classes at 32x32 px, initialised from torch.manual_seed(0) and scored on the first 64 "
            f"bundled MNIST test images (3 channels); first {cut} for training, the last {n - cut} held out. "
            "A designer for any other task uses it only as a prior for the rank and refits on verified results.")
    path = pred.save(out / "predictor_mbv3.pt", data, metrics, command, tasks=pred.tasks, steps=steps,
                     measures="zero-cost proxy (synflow), not accuracy")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print("\n| checkpoint | metric | value |\n|---|---|---|")
    for k, v in metrics.items():
        print(f"| {path.name} | {k} | {v} |")
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cells", type=int, default=None, help="nb201 cells with labels used for training")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variants", default="all,cifar10,cifar100",
                   help="comma list: 'all' (no holdout) and/or holdout dataset names")
    p.add_argument("--top-weight", type=float, default=PredictorConfig.top_weight,
                   help="emphasis of the ranking loss on the best cells (PredictorConfig.top_weight)")
    p.add_argument("--hidden", type=int, default=PredictorConfig.hidden, help="GNN width (PredictorConfig.hidden)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--space", choices=["nb201", "mbv3"], default="nb201",
                   help="mbv3: pretrain on a zero-cost proxy of sampled subnets (no accuracy table exists)")
    p.add_argument("--subnets", type=int, default=None, help="mbv3: subnets scored (default 1000; quick: 120)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/gennas_mbv3_synflow.csv.gz"),
                   help="mbv3: where proxy scores are kept between runs")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.space == "mbv3":
        out = args.out or (Path("/tmp/gennas_predictor_quick") if args.quick else checkpoint_path().parent)
        command = (reproduce_command("experiments/train_predictor.py", argv) if argv is not None
                   else reproduce_command())
        train_mbv3(args.subnets or (120 if args.quick else 1000), args.steps or (200 if args.quick else 1000),
                   args.seed, out, args.cache, command)
        return
    cells = args.cells or (300 if args.quick else 2000)
    steps = args.steps or (200 if args.quick else 2000)
    out = args.out or (Path("/tmp/gennas_predictor_quick") if args.quick else checkpoint_path().parent)
    command = reproduce_command("experiments/train_predictor.py", argv) if argv is not None else reproduce_command()
    print(f"reproduce with: {command}")
    mpath = meta_path()
    meta = load_meta(mpath)
    print(f"meta-dataset: {mpath.name if mpath else 'none'} ({len(meta)} image tasks)")
    # the shipped nb201 predictors were trained from scratch (2,000 labelled cells and more per task;
    # the self-supervised encoder is for a handful of labels): kept so their commands reproduce them
    config = PredictorConfig(hidden=args.hidden, top_weight=args.top_weight, pretrained=False)
    rows = []
    for variant in args.variants.split(","):
        holdout = None if variant == "all" else variant
        pred, metrics = train_variant(holdout, cells, steps, args.seed, meta, config)
        suffix = f"_no-{holdout}" if holdout else ""
        data = (f"nb201 {' and '.join(d for d in DATASETS if d != holdout)} accuracies of {cells} cells "
                f"(numpy default_rng({args.seed}).permutation(15625)[:{cells}]); {len(meta)} image tasks "
                f"({sum(len(s) for _, s, _, _ in meta)} rows) of the meta-dataset "
                f"{'experiments/data/' + mpath.name if mpath else '(none)'}")
        path = pred.save(out / f"predictor_nb201{suffix}.pt", data, metrics, command,
                         holdout=holdout, steps=steps, tasks=pred.tasks)
        rows.append((path.name, metrics))
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    print("\n| checkpoint | metric | value |\n|---|---|---|")
    for name, metrics in rows:
        for k, v in metrics.items():
            print(f"| {name} | {k} | {v} |")


if __name__ == "__main__":
    main()
