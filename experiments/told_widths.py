"""How wide are the designer's intervals after a few random results on a new dataset, per seed?

``experiments/calibration.py`` prints the width over all cells as a mean over seeds; one seed
whose results include a cell that failed to train (10 % on cifar10) can carry that mean alone.
For each seed this script tells ``--told`` random cells of the table to a holdout designer (its
task named as a new dataset, as in ``calibration.py``), states every cell of nb201, and prints the
mean width of the 90 % interval where the statement is within the results, below them
(``below_calibration``) and beyond them (``beyond_calibration``), with the share of cells in each
and the lowest told score.

    python experiments/told_widths.py --dataset cifar10 --seeds 60,61,62,63,64,65,66,67,68,69,70,71,72,73,74
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402


def seed_row(bench, dataset: str, predictor, generator, seed: int, told: int) -> dict:
    """Widths of one seed's statements after ``told`` random results (the first ``told`` of the
    same random order as ``calibration.py``'s, so its rows and these describe the same results)."""
    archs, truth = bench.archs(), bench.accuracy_of(None, dataset)
    order = np.random.default_rng(seed).choice(len(archs), size=max(50, told), replace=False)[:told]
    designer = gennas.Designer("nb201", task=f"new-{dataset}", predictor=predictor, generator=generator,
                               seed=seed, loop=LoopSettings(pool=1))
    designer.tell([Result(archs[i], float(truth[i]), "table") for i in order])
    p = designer.predictions(archs)
    row = {"seed": seed, "lowest told": float(truth[order].min())}
    if p.low is None or p.high is None or p.beyond is None or p.below is None:
        return row | {"within": "rank only"}
    width = p.high - p.low
    within = ~(p.beyond | p.below)
    for name, cells in (("within", within), ("below", p.below), ("beyond", p.beyond)):
        row[name] = f"{width[cells].mean():.2f} ({100 * cells.mean():.0f} %)" if cells.any() else "-"
    row["all"] = float(width.mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cifar10", choices=("cifar10", "cifar100"))
    parser.add_argument("--seeds", default="5,6,7,8,9", help="comma-separated seeds")
    parser.add_argument("--told", type=int, default=10, help="random results told to the designer")
    args = parser.parse_args()
    if args.told < 1:
        parser.error(f"--told takes a positive count, got {args.told}")
    torch.set_num_threads(1)  # small models: one thread each is fastest on a shared CPU
    bench = gennas.load_benchmark("nb201")
    generator = gennas.load_generator("nb201", kind="diffusion")
    predictor = gennas.load_predictor("nb201", holdout=args.dataset)
    start = time.perf_counter()
    rows = [seed_row(bench, args.dataset, predictor, generator, int(s), args.told) for s in args.seeds.split(",")]
    print(f"Command: `{command_line()}` ({time.perf_counter() - start:.0f} s); mean width of the 90 % "
          f"interval in points (share of the space's cells)\n")
    print(markdown_table(rows, ["seed", "lowest told", "within", "below", "beyond", "all"], digits=2))


if __name__ == "__main__":
    main()
