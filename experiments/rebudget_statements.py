"""What a designer states under a latency budget set after its search: bias and coverage.

A search verifies cells without a budget (or under a looser one); the user then designs from it
under a budget (``Designer.from_study(..., device=, max_latency_ms=)``, ``gennas design --storage
... --device ... --max-latency-ms ...``). The designs within the new budget are faster cells than
the results, and a statement learned from those results need not hold for them. Per seed and
dataset: ``designer.search(table, budget=20)`` without a budget, then a designer under pixel3 at
the 10th / 25th / 50th percentile of its measured latencies told the same results (what
``from_study`` does), and its ``generate(20)``'s unverified designs judged by the table: mean
(stated - true), coverage of the 90 % interval, how many results lie within the budget, and the
share of designs stated above the best cell within the budget.

With ``--searched-under`` each budget gets its own search of 20 under it instead: the statement
a search that kept the budget makes.

    python experiments/rebudget_statements.py --seeds 0,1,2,3,4       # about 1 min
    python experiments/rebudget_statements.py --seeds 0,1,2,3,4 --searched-under
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
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402

import gennas  # noqa: E402

DEVICE = "pixel3"
PERCENTILES = (10, 25, 50)
TOP = 20


def one_seed(bench, dataset: str, seed: int, under: bool = False) -> list[dict]:
    """Rows for one seed: the search without a budget, then the statement under each budget
    (``under``: a search of 20 under each budget instead, the statement after it)."""
    score = lambda a: bench.accuracy(a, dataset)  # noqa: E731
    told: list = []
    if not under:
        searched = gennas.Designer("nb201", task=dataset, seed=seed)
        searched.search(score, budget=20, progress=False)
        told = list(searched.history)
    rows = []
    for pct in PERCENTILES:
        limit = float(f"{np.percentile(bench.latency_of(None, DEVICE), pct):.3g}")
        designer = gennas.Designer("nb201", task=dataset, seed=seed, device=DEVICE, max_latency_ms=limit)
        if under:
            designer.search(score, budget=20, progress=False)
            told = list(designer.history)
        else:
            designer.loop.tell(told)  # as Designer.from_study does
        _, designs = returned_and_unverified(designer, TOP)
        truth = np.array([bench.accuracy(c.arch, dataset) for c in designs])
        stated = [c for c in designs if c.interval is not None]
        within = int(np.sum(bench.latency_of([r.arch for r in told], DEVICE) <= limit))
        row = {"dataset": dataset, "seed": seed, "max ms": limit, "results within": within, "designs": len(designs),
               "stated": len(stated)}
        if stated:
            t = np.array([bench.accuracy(c.arch, dataset) for c in stated])
            mean = np.array([c.predicted_accuracy for c in stated])
            low, high = np.array([c.interval for c in stated]).T
            best = bench.best(dataset, limit, DEVICE)[1]
            row.update({"bias": float(np.mean(mean - t)), "coverage %": 100.0 * float(np.mean((t >= low) & (t <= high))),
                        "above best within %": 100.0 * float(np.mean(mean > best))})
        row["true mean"] = float(truth.mean())
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    parser.add_argument("--datasets", default="cifar10,cifar100")
    parser.add_argument("--searched-under", action="store_true",
                        help="search under each budget instead (the statement after a search that kept it)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the designers' notes (a budget set after the search) are expected here
    bench = gennas.load_benchmark("nb201")
    start, rows = time.perf_counter(), []
    for dataset in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            rows += one_seed(bench, dataset, seed, args.searched_under)
            print(markdown_table(rows[-len(PERCENTILES):]), file=sys.stderr, flush=True)
    print(f"Command: `{command_line()}` ({time.perf_counter() - start:.0f} s)\n")
    print(markdown_table(rows, digits=2) + "\n")
    summary = []
    for dataset in args.datasets.split(","):
        for pct in PERCENTILES:
            mine = [r for i, r in enumerate(rows)
                    if r["dataset"] == dataset and PERCENTILES[i % len(PERCENTILES)] == pct and "bias" in r]
            stated = sum(r["stated"] for r in mine)
            summary.append({"dataset": dataset, "percentile": pct, "seeds stated": len(mine),
                            "bias": float(np.mean([r["bias"] for r in mine])) if mine else float("nan"),
                            "coverage % (pooled)": sum(r["coverage %"] * r["stated"] / 100 for r in mine) * 100 / max(1, stated),
                            "above best within %": float(np.mean([r["above best within %"] for r in mine]))
                            if mine else float("nan")})
    print(markdown_table(summary, digits=2))


if __name__ == "__main__":
    main()
