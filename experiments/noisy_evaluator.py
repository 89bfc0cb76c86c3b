"""A noisy evaluator's winner's curse, and what ``Designer.reverify`` does about it.

A real training is noisy: two trainings of one architecture differ by a fraction of a point
(NAS-Bench-201's seeds: about 0.2-0.5 on cifar10, 0.5-1 on cifar100). Simulated here: the bundled
table's mean accuracy plus Gaussian noise of ``--noise`` points (cifar10) and twice that
(cifar100), a fresh draw per call, seeded. A designer (shipped predictor) searches with it:

* ``search 30``: ``designer.search(noisy, budget=30)``;
* ``search 30-k + reverify k`` (k = 3, 6): ``budget=30-k``, then ``designer.reverify(noisy,
  budget=k)`` (the best verified cell again until verified twice and still the best); what it
  leaves of its k is searched after (30 verifications in all);
* ``noise-free``: ``search 30`` with the table itself (the control).

Columns, over the seeds: "#1 stated" / "#1 true" the mean of what ``generate(1)``'s design states
(its verified mean) and its table accuracy; "over" their difference, with the lowest and highest
seed; "#1 best verified" how many seeds' #1 is the truly best cell the search verified; "best
verified true" the mean table accuracy of that cell.

    python experiments/noisy_evaluator.py --seeds 0,1,2,3,4,5,6,7
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gennas  # noqa: E402
from gennas.bench import load_benchmark  # noqa: E402
from gennas.errors import GennasWarning  # noqa: E402

from _common import command_line, markdown_table  # noqa: E402

BUDGET = 30
#: the reverify budgets compared, within the same 30 verifications
REVERIFY = (3, 6)


def noisy(bench, ds: str, sd: float, seed: int) -> gennas.CallableEvaluator:
    """The table's accuracy plus N(0, sd) per call (accuracies in %)."""
    rng = np.random.default_rng(1000 + seed)
    return gennas.CallableEvaluator(lambda a: float(bench.accuracy(a, ds)) + sd * float(rng.normal()), kind="train")


def judged(bench, ds: str, designer) -> dict:
    """What ``generate(1)`` states of its design against the table, and the best verified cell's truth."""
    first = designer.generate(1)[0]
    verified = {r.arch.canonical_hash(): r.arch for r in designer.history if not r.failed}
    truth = {key: float(bench.accuracy(arch, ds)) for key, arch in verified.items()}
    stated = first.verified_score if first.verified_score is not None else first.predicted_accuracy
    return {"stated": stated, "true": float(bench.accuracy(first.arch, ds)),
            "best": max(truth.values()), "is_best": truth.get(first.arch.canonical_hash()) == max(truth.values())}


def run(bench, ds: str, sd: float, seed: int, arm: str) -> dict:
    designer = gennas.Designer("nb201", task=ds, seed=seed)
    table = gennas.CallableEvaluator(lambda a: float(bench.accuracy(a, ds)), kind="train")
    evaluator = table if arm == "noise-free" else noisy(bench, ds, sd, seed)
    if arm.startswith("search") and "reverify" in arm:
        extra = int(arm.rsplit(" ", 1)[1])
        designer.search(evaluator, budget=BUDGET - extra, progress=False)
        spent = len(designer.reverify(evaluator, budget=extra))
        if spent < extra:  # the best was confirmed early: the rest of the 30 as search
            designer.search(evaluator, budget=extra - spent, progress=False)
    else:
        designer.search(evaluator, budget=BUDGET, progress=False)
    return judged(bench, ds, designer)


def noise_arguments(doc: str | None) -> tuple[list[int], float]:
    """The seeds and the noise std (points, cifar10's) these noise experiments take."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--noise", type=float, default=0.5, help="noise std on cifar10, points (cifar100: twice)")
    args = parser.parse_args()
    return [int(s) for s in args.seeds.split(",")], args.noise


def main() -> None:
    seeds, noise = noise_arguments(__doc__)
    bench = load_benchmark("nb201")
    arms = [f"search {BUDGET}", *(f"search {BUDGET - k} + reverify {k}" for k in REVERIFY), "noise-free"]
    rows = []
    for ds, sd in (("cifar10", noise), ("cifar100", 2 * noise)):
        for arm in arms:
            runs = []
            for seed in seeds:
                with warnings.catch_warnings():  # noisy scores above the table's best warn once per designer
                    warnings.simplefilter("ignore", GennasWarning)
                    runs.append(run(bench, ds, sd, seed, arm))
                print(f"{ds} {arm} seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
            over = np.array([r["stated"] - r["true"] for r in runs])
            rows.append({"dataset": ds, "noise sd": sd if arm != "noise-free" else 0.0, "arm": arm,
                         "seeds": len(seeds), "#1 stated": float(np.mean([r["stated"] for r in runs])),
                         "#1 true": float(np.mean([r["true"] for r in runs])),
                         "over": f"{over.mean():+.2f} [{over.min():+.2f}, {over.max():+.2f}]",
                         "#1 best verified": f"{sum(r['is_best'] for r in runs)}/{len(runs)}",
                         "best verified true": float(np.mean([r["best"] for r in runs]))})
    print(f"`{command_line()}`\n")
    print(markdown_table(rows, digits=2))


if __name__ == "__main__":
    main()
