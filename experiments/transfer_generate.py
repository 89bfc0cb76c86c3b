"""Before any result on a new dataset: are the designer's ``generate(n)`` designs as good as the
obvious list, the cells best on the other datasets' tables (``transfer-topk``'s first n)?

Each NAS-Bench-201 dataset in turn stands in for a new one: the designer gets the predictor
pretrained without its labels (``load_predictor("nb201", holdout=D)``) and the task
``new-<D>`` (a name the tool does not know, so it reads no table of D); the held-out table only
judges. Per dataset and seed: the mean true accuracy of the ``n`` designs, of the first 5, the
first design's, and the worst; the same for transfer-topk's first ``n`` (one per function, as the
designer returns them, so neither list spends places on equivalent cells).

A user walk (walk 26 #2) found ``generate(20)`` at a mean 71.2-71.7 % on held-out cifar100
against 72.68 for transfer-topk's first 20 (10/10 seeds).

    python experiments/transfer_generate.py                  # ~1 min on one core
    python experiments/transfer_generate.py --n 10 --seeds 0-9
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gennas  # noqa: E402
from gennas.baselines.transfer import TransferTopK  # noqa: E402

from gennas.design.verified import one_per_function  # noqa: E402

from _common import command_line, seed_span  # noqa: E402


def first_designable(space, archs, n: int) -> list:
    """The first ``n`` of ``archs`` computing distinct functions whose output can depend on the
    input (what the designer returns: one per function, never a constant network)."""
    live = [a for a in archs if not space.output_is_constant(a)]
    return [live[i] for i in one_per_function(range(len(live)), live, {}, n)]


def summary(truth: list[float]) -> tuple[float, float, float, float]:
    """(mean, mean of the first 5, first, worst) true accuracy of a ranked list."""
    return float(np.mean(truth)), float(np.mean(truth[:5])), truth[0], float(min(truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="designs per call")
    parser.add_argument("--seeds", default="0-9", help="designer seeds, e.g. 0-9")
    args = parser.parse_args()
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    print(f"`{command_line()}`\n")
    for dataset in bench.datasets:
        predictor = gennas.load_predictor("nb201", holdout=dataset)
        rows, wins = [], 0
        for seed in seed_span(args.seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the rank-only notes of a new task
                designs = gennas.Designer("nb201", task=f"new-{dataset}", predictor=predictor, seed=seed).generate(args.n)
            ours = summary([bench.accuracy(d.arch, dataset) for d in designs])
            topk = TransferTopK(space, seed=seed, task=f"new-{dataset}")
            theirs = summary([bench.accuracy(a, dataset) for a in first_designable(space, topk.ask(5 * args.n), args.n)])
            wins += round(ours[0], 6) >= round(theirs[0], 6)  # equal lists: equal means, summed in another order
            rows.append((seed, ours, theirs))
        print(f"### held out {dataset} (best {bench.best(dataset)[1]:.2f} %): generate({args.n}) before any result "
              f"against transfer-topk's first {args.n}, true accuracy %\n")
        print("| seed | generate: mean | first 5 | first | worst | transfer-topk: mean | first 5 | first | worst |")
        print("|---|---|---|---|---|---|---|---|---|")
        for seed, ours, theirs in rows:
            print(f"| {seed} | " + " | ".join(f"{v:.2f}" for v in (*ours, *theirs)) + " |")
        mean = lambda i, j: np.mean([r[i][j] for r in rows])  # noqa: E731
        print("| mean | " + " | ".join(f"{mean(i, j):.2f}" for i in (1, 2) for j in range(4)) + " |")
        print(f"\ngenerate's mean at least transfer-topk's on {wins} of {len(rows)} seeds\n")


if __name__ == "__main__":
    main()
