"""Does telling results make ``generate``'s first design better or worse? Rank-only designers.

On cifar10 / cifar100 as new datasets (the holdout predictor, task ``new-<dataset>``), a designer
is told random working cells' table accuracies (kind "table"), or searches 10 cells at batch 5, and
``generate(5)``'s designs are judged by the table: the mean over seeds of the first design's true
accuracy, of the first five's, and how often the first is a told cell. Under 10 distinct results (or
under a budget with too few within it) only ranks are stated, and a told cell's place among the
unverified designs is what this measures (``gennas.design.verified.ranked``). Optionally under a
latency budget at a percentile of a device's latencies (user walk 58: after 30 random results at
1080ti_1's 2nd percentile, a told cell of 75.84 % came first above one of 86.45 %).

    python experiments/ranked_after_results.py                      # seeds 5-14, no budget: ~3 min
    python experiments/ranked_after_results.py --seeds 0-4 --device 1080ti_1 --percentile 2 --told 10,30
    python experiments/ranked_after_results.py --told 5,12 --samples 5,12 --no-search   # told or described by them
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import functools  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, seed_span  # noqa: E402

import gennas  # noqa: E402


@functools.cache
def working_rows() -> np.ndarray:
    """The table rows of nb201 cells whose output can depend on the input (the others are at chance)."""
    space = gennas.load_space("nb201")
    return np.flatnonzero([not space.output_is_constant(a) for a in gennas.load_benchmark("nb201").archs()])


def first_designs(ds: str, seed: int, scenario: str, budget: dict) -> tuple[list[float], bool]:
    """True accuracies (%) of ``generate(5)``'s designs after ``scenario`` ("told N", "samples N": the
    same N cells describing the task, ``Task.from_samples``, or "search 10"), and whether the first is
    a told cell."""
    bench = gennas.load_benchmark("nb201")
    archs, acc = bench.archs(), bench.accuracy_of(None, ds)
    rows = np.random.default_rng(seed).choice(working_rows(), size=int(scenario.split()[1]), replace=False)
    task = gennas.Task.from_samples([(archs[i], float(acc[i])) for i in rows]) if scenario.startswith("samples") \
        else f"new-{ds}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rank-only notes: what is judged here is the order
        designer = gennas.Designer("nb201", task=task, seed=seed, predictor=gennas.load_predictor("nb201", holdout=ds),
                                   **budget)
        if scenario.startswith("told"):
            designer.tell([gennas.Result(archs[i], float(acc[i]), "table") for i in rows])
        elif scenario.startswith("search"):
            designer.search(lambda a: bench.accuracy(a, ds), budget=10, batch_size=5, progress=False)
        designs = designer.generate(5)
    return [bench.accuracy(c.arch, ds) for c in designs], designs[0].verified_score is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="5-14", help="a span, e.g. 5-14 (development seeds)")
    parser.add_argument("--told", default="3,5,10", help="numbers of random results told, comma-separated")
    parser.add_argument("--samples", default="", help="numbers of random cells describing the task instead")
    parser.add_argument("--no-search", action="store_true", help="leave out the 10-cell search")
    parser.add_argument("--device", help="a bundled device for a latency budget")
    parser.add_argument("--percentile", type=float, default=25.0, help="the budget: this percentile of its latencies")
    args = parser.parse_args()
    seeds = seed_span(args.seeds)
    scenarios = [f"told {n}" for n in args.told.split(",") if n]
    scenarios += [f"samples {n}" for n in args.samples.split(",") if n] + ([] if args.no_search else ["search 10"])
    budget: dict = {}
    if args.device:
        latencies = gennas.load_benchmark("nb201").latency_of(None, args.device)
        ms = float(np.percentile(latencies[working_rows()], args.percentile))
        budget = {"device": args.device, "max_latency_ms": ms}
    rows = []
    for ds in ("cifar10", "cifar100"):
        for scenario in scenarios:
            runs = [first_designs(ds, seed, scenario, budget) for seed in seeds]
            rows.append({"dataset": ds, "results": scenario, "true #1 %": float(np.mean([t[0] for t, _ in runs])),
                         "true top-5 %": float(np.mean([np.mean(t) for t, _ in runs])),
                         "#1 told": f"{sum(told for _, told in runs)}/{len(seeds)}"})
    where = f", under {budget['max_latency_ms']:.3f} ms on {args.device} (p{args.percentile:g})" if budget else ""
    print(f"held-out predictor, task new-<dataset>, seeds {args.seeds}{where}; means over seeds")
    print(markdown_table(rows, digits=2))
    print(f"\n{command_line()}")


if __name__ == "__main__":
    main()
