"""A new task the bundled tables rank wrongly: does the designer recover, and how fast?

A designer given a new task by name (``Designer("nb201", task="mytask")``) starts from what the
tables say (gennas.design.prior): the best cells of cifar10 and cifar100. A user
walk (2026-12-07) had it lose to random search on a synthetic image set whose ranking the tables
did not share. Real trainings on several such sets cost hours here, so this builds tasks whose
truth is known and whose ranking the tables get wrong: the score of a cell is the cifar10 table's
accuracy of the cell with its operations relabelled by a permutation (``conv3x3 -> avg_pool``, ...).
The landscape keeps the table's structure (a few good cells, many poor ones), but the tables'
best cells are poor cells of the task. Per permutation and seed, one search of ``--budget``
verifications by each method; printed: the median [quartiles] over seeds of the best score after
5, 10, 20, 50 (and the budget's) verifications, and of the best rank reached (1 = the task's best
of 15,625 cells). ``identity`` is the control where the tables are right (the cifar10 table itself,
which the designer's predictor was trained on, named as a new task).

With ``--noise SD`` every verification adds seeded Gaussian noise of SD points to the score (a
short training's: two trainings of one cell differ), the searches see only the noisy scores, and
"best" is the best true (noise-free) score among the cells verified so far. "tables dropped" counts the
designer's searches that stopped ranking by the tables, and at which result (median).

    python experiments/misleading_prior.py --seeds 0-4 --budget 50      # ~10 min on 2 cores
    python experiments/misleading_prior.py --seeds 0-9 --budget 30 --noise 1 --methods random,gennas
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, seed_span  # noqa: E402

import gennas  # noqa: E402
from gennas.design.pretrained import untrained_predictor  # noqa: E402
from gennas.search import make_optimizer, run_search  # noqa: E402

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: name -> the op each op of a cell is read as; fixed in advance, not chosen by their results
PERMUTATIONS = {
    "identity": OPS,
    "convs-to-pools": ("none", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_1x1"),
    "rotate": ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none"),
}
#: gennas: the shipped predictor (trained on cifar10 cells among others: the table these tasks are
#: built from); gennas-holdout: the predictor that never saw cifar10's labels (its tables' prior is
#: cifar100's); gennas-scratch: an untrained predictor (no tables, every pick from the results)
METHODS = ("random", "evolution", "transfer-topk", "gennas", "gennas-holdout", "gennas-scratch")


def relabelled(arch: gennas.ArchGraph, space: gennas.SearchSpace, perm: tuple[str, ...]) -> gennas.ArchGraph:
    """The cell with each op ``OPS[i]`` replaced by ``perm[i]``."""
    text = arch.to_string()
    for i, op in enumerate(OPS):
        text = text.replace(f"|{op}~", f"|@{i}~")
    for i, op in enumerate(perm):
        text = text.replace(f"|@{i}~", f"|{op}~")
    return space.from_string(text)


def optimizer(method: str, space: gennas.SearchSpace, seed: int):
    """The method's optimizer; the designer knows the task only by its new name."""
    if not method.startswith("gennas"):
        return make_optimizer(method, space, seed, task="cifar10")
    predictor = {"gennas": None, "gennas-holdout": lambda: gennas.load_predictor("nb201", holdout="cifar10"),
                 "gennas-scratch": lambda: untrained_predictor(space, seed)}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the new task's note
        return gennas.Designer(space, task="relabelled-task", seed=seed,
                               predictor=predictor() if predictor else None).loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4")
    parser.add_argument("--budget", type=int, default=50, help="verifications per search")
    parser.add_argument("--permutations", default=",".join(PERMUTATIONS), help="comma-separated names")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated names")
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian noise on every score, points (sd)")
    args = parser.parse_args()
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    table = bench.accuracy_of(None, "cifar10")  # every cell, in the table's order
    checkpoints = [c for c in (5, 10, 20, 50, 100, 200) if c < args.budget] + [args.budget]
    rows = []
    for name in args.permutations.split(","):
        perm = PERMUTATIONS[name]
        truth = np.sort(table)[::-1]  # a permutation of ops permutes cells: the same scores, other cells

        def true_score(arch: gennas.ArchGraph, perm: tuple[str, ...] = perm) -> float:
            return bench.accuracy(relabelled(arch, space, perm), "cifar10")

        for method in args.methods.split(","):
            curves, ranks, drops, seconds = [], [], [], 0.0
            for seed in seed_span(args.seeds):
                noise = np.random.default_rng(10_000 + seed)  # the same draws for every method

                def evaluate(arch: gennas.ArchGraph, noise: np.random.Generator = noise) -> float:
                    return true_score(arch) + args.noise * float(noise.normal())

                start = time.process_time()
                searcher = optimizer(method, space, seed)
                result = run_search(searcher, evaluate, args.budget, progress=False, space=space)
                seconds += time.process_time() - start
                if method in ("gennas", "gennas-holdout"):
                    drops.append(searcher.prior.dropped_at)
                # the true score of the best cell verified so far (the searches saw the noisy ones)
                best = np.maximum.accumulate([true_score(r.arch) for r in result.history if not r.failed])
                best = np.concatenate([best, np.full(args.budget - len(best), best[-1])])
                curves.append(best)
                ranks.append(int(np.sum(truth > best[-1] + 1e-9)) + 1)
            curves_array = np.array(curves)
            row = {"task": name, "method": method}
            for c in checkpoints:
                q = np.percentile(curves_array[:, c - 1], [50, 25, 75])
                row[f"best@{c}"] = f"{q[0]:.2f} [{q[1]:.2f}, {q[2]:.2f}]"
            r = np.percentile(ranks, [50, 25, 75])
            row["rank at end"] = f"{r[0]:.0f} [{r[1]:.0f}, {r[2]:.0f}]"
            dropped = [d for d in drops if d is not None]
            row["tables dropped"] = (f"{len(dropped)} / {len(drops)}" + (f" (at {np.median(dropped):.0f})" if dropped
                                                                          else "")) if drops else ""
            row["cpu s / search"] = round(seconds / len(curves), 1)
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    print(f"\n{command_line()}\n\nbest score found (median [quartiles] over seeds {args.seeds}); the task's best "
          f"is {np.max(table):.2f}\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
