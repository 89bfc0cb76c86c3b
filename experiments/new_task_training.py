"""A new image task with real training: the designer given the task by name, random search, and the
designer told the task's images (``Task.from_images``), on nb201 (its small build, 16 px).

A user walk had a designer given a new task by name lose to random search on a synthetic set; since
then the designer checks the bundled tables' ranking against the task's results from the 10th,
random cells of the tables among them (``designer.loop.prior.dropped_at``: at which result it
dropped them, None if never; ``tau`` the Kendall tau it dropped them at). Per dataset, seed and
method (``--methods``, default all three), one search of ``--budget`` real trainings; printed: the
best validation accuracy after 5 / 10 / 16 / budget verifications, when the tables were dropped,
and wall seconds.

Datasets: MNIST (``--limit`` images, 16 px, 3 channels) and a synthetic set of 4 classes (noisy
stripes at two angles ``--sep`` radians apart, red and blue blobs; Gaussian noise ``--noise``).

    python experiments/new_task_training.py --dataset synth --noise 1.5 --sep 0.6 --epochs 2 --budget 20 --seeds 0-5
    python experiments/new_task_training.py --dataset mnist --limit 2000 --epochs 3 --budget 20 --seeds 0-5
    python experiments/new_task_training.py --dataset mnist --limit 600 --epochs 2 --budget 20 --seeds 0-1
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, seed_span  # noqa: E402

import gennas  # noqa: E402
from gennas.search import make_optimizer, run_search  # noqa: E402

METHODS = ("designer-named", "random", "designer-images")


def synthetic(n: int, seed: int, noise: float, sep: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` 3x16x16 images of 4 classes (0, 1: stripes at angles 0 and ``sep``; 2, 3: reddish and
    bluish blobs) plus Gaussian noise of std ``noise``, and their labels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16].astype(np.float32)
    x, y = np.zeros((n, 3, 16, 16), np.float32), rng.integers(0, 4, n)
    for i, c in enumerate(y):
        if c in (0, 1):
            angle = (0 if c == 0 else sep) + rng.normal(0, 0.3)
            freq, phase = rng.uniform(0.6, 1.2), rng.uniform(0, 2 * np.pi)
            img = np.sin(freq * (np.cos(angle) * yy + np.sin(angle) * xx) + phase)
            x[i] = rng.uniform(0.3, 1.0, 3)[:, None, None] * img[None]
        else:
            cy, cx = rng.uniform(4, 12, 2)
            r = rng.uniform(2, 4)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
            colour = (np.array([1.0, rng.uniform(0.2, 0.6), 0.2]) if c == 2
                      else np.array([0.2, rng.uniform(0.2, 0.6), 1.0])) + rng.normal(0, 0.25, 3)
            x[i] = colour[:, None, None] * blob[None]
    x += rng.normal(0, noise, x.shape).astype(np.float32)
    return torch.tensor(x), torch.tensor(y, dtype=torch.long)


def loaders(args: argparse.Namespace) -> tuple[str, DataLoader, DataLoader, torch.Tensor, torch.Tensor]:
    """(name, train loader, validation loader, training images, their labels)."""
    if args.dataset == "mnist":
        train, val = gennas.datasets.image_loaders("mnist", size=16, channels=3, limit=args.limit)
        return "mnist16", train, val, torch.cat([b[0] for b in train]), torch.cat([b[1] for b in train])
    xtr, ytr = synthetic(600, 100, args.noise, args.sep)
    xva, yva = synthetic(300, 101, args.noise, args.sep)
    train = DataLoader(TensorDataset(xtr, ytr), batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    return "synth16", train, DataLoader(TensorDataset(xva, yva), batch_size=256), xtr, ytr


def best_after(history: list, k: int) -> float:
    scores = [r.score for r in history[:k] if not (r.score is None or math.isnan(r.score))]
    return max(scores) if scores else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["mnist", "synth"], default="synth")
    parser.add_argument("--limit", type=int, default=600, help="MNIST images")
    parser.add_argument("--noise", type=float, default=0.6, help="synthetic: noise std")
    parser.add_argument("--sep", type=float, default=np.pi / 2, help="synthetic: angle between stripe classes")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--seeds", default="0-1", help="e.g. 0-5")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated, of " + ", ".join(METHODS))
    args = parser.parse_args()
    space = gennas.load_space("nb201")
    name, train, val, xs, ys = loaders(args)
    evaluator = gennas.TrainEvaluator(space, train, val, epochs=args.epochs, build_options=space.small_build_options,
                                      progress=False)
    rows = []
    for seed in seed_span(args.seeds):
        for method in args.methods.split(","):
            start, dropped, tau = time.time(), "-", None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if method == "random":
                    result = run_search(make_optimizer("random", space, seed), evaluator, args.budget, progress=False)
                else:
                    task = f"new-{name}" if method == "designer-named" else gennas.Task.from_images(xs, ys)
                    designer = gennas.Designer("nb201", task=task, seed=seed)
                    result = designer.search(evaluator, budget=args.budget, progress=False)
                    dropped, tau = designer.loop.prior.dropped_at, designer.loop.prior.dropped_tau
            h = result.history
            rows.append({"method": method, "seed": seed, "best@5": best_after(h, 5), "best@10": best_after(h, 10),
                         "best@16": best_after(h, 16), f"best@{args.budget}": best_after(h, args.budget),
                         "tables dropped at": dropped, "tau": "-" if tau is None else round(tau, 2),
                         "wall s": round(time.time() - start)})
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"\n{command_line()}\n\n{name}, {args.epochs} epochs, nb201 small build; best validation accuracy (%)\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
