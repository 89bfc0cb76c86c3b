"""Do generate's intervals hold with a noisy evaluator?

The evaluator is the bundled table's accuracy plus Gaussian noise (std ``--noise`` points on cifar10,
twice that on cifar100; a fresh draw per call, seeded), as in ``experiments/noisy_evaluator.py``,
and, for comparison, the table itself (noise 0). States: ``told 15`` (15 random cells verified by
it, then ``tell``) and ``search 20`` (``designer.search(noisy, budget=20)``), for ``cifar10`` (the
shipped predictor) and ``new-cifar100`` (the predictor that never saw cifar100, the task named as a
new dataset). Judged: ``generate(20)``'s unverified designs that state an interval.

Columns: "stated" how many of the seeds' designs state an interval; "bias" mean (stated - table);
"cov table %" / "cov fresh %" the share of intervals holding the table's accuracy / one fresh noisy
verification (what retraining the design once gives); "width" mean interval width (points);
"verified - table" the mean over the designs ``generate`` returned verified (their measured mean
against the table).

    python experiments/noisy_statements.py --seeds 0,1,2,3,4
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gennas  # noqa: E402
from gennas.bench import load_benchmark  # noqa: E402
from gennas.errors import GennasWarning  # noqa: E402

from _common import command_line, markdown_table  # noqa: E402
from noisy_evaluator import noise_arguments, noisy  # noqa: E402

TASKS = {"cifar10": ("cifar10", None), "new-cifar100": ("cifar100", "cifar100")}  # task -> (dataset, held out)


def run(bench, task: str, state: str, sd: float, seed: int) -> dict[str, list[float]]:
    """One designer's statements against the table and a fresh noisy verification."""
    ds, holdout = TASKS[task]
    predictor = None if holdout is None else gennas.load_predictor("nb201", holdout=holdout)
    designer = gennas.Designer("nb201", task=task, seed=seed, predictor=predictor)
    evaluator = noisy(bench, ds, sd, seed)
    if state == "search 20":
        designer.search(evaluator, budget=20, progress=False)
    else:
        archs = bench.space.sample_many(15, np.random.default_rng(10_000 + seed))
        designer.tell(evaluator.evaluate(archs))
    fresh = np.random.default_rng(20_000 + seed)
    out: dict[str, list[float]] = {"bias": [], "table": [], "fresh": [], "width": [], "verified": []}
    for c in designer.generate(20):
        truth = float(bench.accuracy(c.arch, ds))
        if c.verified_score is not None:
            out["verified"].append(c.verified_score - truth)
        elif c.interval is not None:
            low, high = c.interval
            again = truth + sd * float(fresh.normal())
            out["bias"].append(c.predicted_accuracy - truth)
            out["table"].append(float(low <= truth <= high))
            out["fresh"].append(float(low <= again <= high))
            out["width"].append(high - low)
    return out


def main() -> None:
    seeds, noise = noise_arguments(__doc__)
    bench = load_benchmark("nb201")
    rows = []
    for task in TASKS:
        for state in ("told 15", "search 20"):
            for sd in (0.0, noise * (2 if TASKS[task][0] == "cifar100" else 1)):
                pooled: dict[str, list[float]] = {}
                for seed in seeds:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", GennasWarning)
                        for key, values in run(bench, task, state, sd, seed).items():
                            pooled.setdefault(key, []).extend(values)
                mean = lambda key: float(np.mean(pooled[key])) if pooled[key] else float("nan")  # noqa: E731
                rows.append({"task": task, "state": state, "noise sd": sd, "seeds": len(seeds),
                             "stated": len(pooled["bias"]), "bias": f"{mean('bias'):+.2f}",
                             "cov table %": 100 * mean("table"), "cov fresh %": 100 * mean("fresh"),
                             "width": mean("width"), "verified - table": f"{mean('verified'):+.2f}"})
                print(rows[-1], file=sys.stderr, flush=True)
    print(f"`{command_line()}`\n")
    print(markdown_table(rows, digits=1))


if __name__ == "__main__":
    main()
