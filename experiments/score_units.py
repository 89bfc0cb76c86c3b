"""Statements in the units of the user's scores: the same designs, told in other units.

A user's evaluator may return accuracy in %, a fraction, an error rate to minimise, a loss, an
accuracy shifted by a constant or scaled by 1e3, a regret (points below the best cell, 0 at best).
The designer promises the same statements in each of those units (the issue's "any evaluator
scale"). On cifar10 / cifar100 as new datasets (the holdout predictor, which never saw the dataset;
task ``new-<dataset>``), this script gives the designer each unit of the table's accuracy through a
plain callable, after a search (``search(budget=20, batch_size=5)``, the main calibration table's
setting) and after 15 random results told, and prints for the 20 best-ranked unverified designs of
``generate`` the bias (stated - true), mean absolute error and 90 % interval coverage and width,
all converted back to % points. ``%`` and fractions take the probit line to the measured tables
(scores in 0-100, and maximised scores in 0-1, read as accuracies:
``gennas.design.scores.percent_per_unit``); the other units cannot (their unit is unknown), so they
match one another, not ``%``.

    python experiments/score_units.py                       # report seeds 0-4, both datasets: 66-77 s
    python experiments/score_units.py --seeds 5,6 --datasets cifar10 --units pct,frac
    python experiments/score_units.py --design-quality 30 --seeds 0,1,2,3 --datasets cifar100
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402

import gennas  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402

#: unit -> (accuracy in % -> score, direction, score -> accuracy in %)
UNITS = {
    "pct": (lambda a: a, "maximize", lambda s: s),
    "frac": (lambda a: a / 100, "maximize", lambda s: 100 * s),
    "error": (lambda a: 1 - a / 100, "minimize", lambda s: 100 - 100 * s),
    "shifted": (lambda a: a - 100, "maximize", lambda s: s + 100),
    "x1000": (lambda a: 1000 * a, "maximize", lambda s: s / 1000),
    "logloss": (lambda a: math.log(100 / max(a, 1e-3)), "minimize", lambda s: 100 / math.exp(s)),
    "regret": None,  # points below the dataset's best cell, minimised (0 at the best): unit_maps
}


def unit_maps(unit: str, ds: str):
    """``UNITS[unit]`` on dataset ``ds``: (accuracy in % -> score, direction, score -> accuracy in %)."""
    if unit != "regret":
        return UNITS[unit]
    best = gennas.load_benchmark("nb201").best(ds)[1]
    return (lambda a: best - a, "minimize", lambda s: best - s)


def statements(designer, ds: str, to_percent, n: int = 20) -> tuple[list[float], list[bool], list[float], int]:
    """Errors (stated - true, % points), coverage and widths of the ``n`` best unverified designs,
    and how many of them state nothing."""
    bench = gennas.load_benchmark("nb201")
    _, unverified = returned_and_unverified(designer, n)
    errors, covered, widths, silent = [], [], [], 0
    for c in unverified:
        if c.predicted_accuracy is None or c.interval is None:
            silent += 1
            continue
        truth = bench.accuracy(c.arch, ds)
        low, high = sorted(to_percent(v) for v in c.interval)
        errors.append(to_percent(c.predicted_accuracy) - truth)
        covered.append(low <= truth <= high)
        widths.append(high - low)
    return errors, covered, widths, silent


def run(ds: str, unit: str, state: str, seeds: list[int], predictor) -> dict:
    bench = gennas.load_benchmark("nb201")
    to_score, direction, to_percent = unit_maps(unit, ds)
    errors, covered, widths, silent = [], [], [], 0
    for seed in seeds:
        designer = gennas.Designer("nb201", task=f"new-{ds}", predictor=predictor, seed=seed, direction=direction,
                                   loop=LoopSettings(pool=1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fractions told for a dataset named new-...: nothing to warn of here
            if state == "search 20":
                designer.search(lambda a: to_score(bench.accuracy(a, ds)), budget=20, batch_size=5, progress=False)
            else:
                archs = bench.space.sample_many(15, np.random.default_rng(seed))
                designer.tell([Result(a, to_score(bench.accuracy(a, ds)), "callable") for a in archs])
            e, c, w, s = statements(designer, ds, to_percent)
        errors += e
        covered += c
        widths += w
        silent += s
    stated = len(errors)
    return {"dataset": ds, "unit": unit, "state": state, "designs": stated + silent, "stated": stated,
            "bias": float(np.mean(errors)) if stated else math.nan,
            "MAE": float(np.mean(np.abs(errors))) if stated else math.nan,
            "coverage %": 100 * float(np.mean(covered)) if stated else math.nan,
            "median width": float(np.median(widths)) if stated else math.nan}


def design_quality(ds: str, unit: str, told: int, seeds: list[int]) -> dict:
    """Mean true accuracy (%) of the 5 best-ranked unverified designs of ``generate(40)`` after
    ``told`` random results in ``unit`` on task ``my-dataset`` (the shipped predictor, which knows
    neither the name nor the unit): what the guidance finds once the predictor learned the scores."""
    bench = gennas.load_benchmark("nb201")
    to_score, direction, _ = unit_maps(unit, ds)
    top = []
    for seed in seeds:
        designer = gennas.Designer("nb201", task="my-dataset", seed=seed, direction=direction)
        archs = bench.space.sample_many(told, np.random.default_rng(seed))
        designer.tell([Result(a, to_score(bench.accuracy(a, ds)), "callable") for a in archs])
        designs = [c for c in designer.generate(40) if c.verified_score is None][:5]
        top.append(float(np.mean([bench.accuracy(c.arch, ds) for c in designs])))
    return {"dataset": ds, "unit": unit, "told": told, "top-5 true %": float(np.mean(top)),
            "per seed": " ".join(f"{t:.2f}" for t in top)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated designer seeds")
    parser.add_argument("--datasets", default="cifar10,cifar100", help="comma-separated: cifar10, cifar100")
    parser.add_argument("--units", default=",".join(UNITS), help=f"comma-separated among {', '.join(UNITS)}")
    parser.add_argument("--states", default="search 20,told 15", help="comma-separated: 'search 20', 'told 15'")
    parser.add_argument("--design-quality", type=int, default=0, metavar="N",
                        help="instead: the true accuracy of the top 5 designs after N random results told")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    units = args.units.split(",")
    unknown = [u for u in units if u not in UNITS]
    if unknown:
        parser.error(f"unknown units {unknown}: choose among {', '.join(UNITS)}")
    states = args.states.split(",")
    if any(s not in ("search 20", "told 15") for s in states):
        parser.error("--states: 'search 20' and/or 'told 15'")
    torch.set_num_threads(1)
    if args.design_quality:
        start = time.perf_counter()
        rows = [design_quality(ds, unit, args.design_quality, seeds) for ds in args.datasets.split(",") for unit in units]
        print(f"`{command_line()}` ({time.perf_counter() - start:.0f} s)\n")
        print(markdown_table(rows, digits=2))
        return
    start, rows = time.perf_counter(), []
    for ds in args.datasets.split(","):
        predictor = gennas.load_predictor("nb201", holdout=ds)
        for state in states:
            for unit in units:
                rows.append(run(ds, unit, state, seeds, predictor))
                print(f"{ds} {state} {unit}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    print(f"`{command_line()}` ({time.perf_counter() - start:.0f} s); errors in % points, "
          "20 best unverified designs per seed\n")
    print(markdown_table(rows, digits=2))


if __name__ == "__main__":
    main()
