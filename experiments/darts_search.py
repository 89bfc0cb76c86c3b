"""Search on darts with a zero-cost proxy as the only evaluator: the designer against random,
local and bananas, over seeds.

darts has no benchmark table, so the evaluator is the setting of step 7 ("search") of
``experiments/spaces.py``: ``gennas.ProxyEvaluator(space, "synflow", build_options=
space.small_build_options)``, the data-free synflow score of the space's small network (seed 0:
the same objective for every method and seed). For each method and each seed, one search of
``--budget`` verifications:

* ``designer``: ``gennas.Designer(space, task=None, seed=seed).search(evaluator, budget=B)``, as
  spaces.py builds it (darts ships no predictor: it starts untrained);
* ``random``, ``local``, ``bananas``: ``gennas.search.run_search(make_optimizer(name, space,
  seed), evaluator, B, progress=False)``.

Every run has its own fresh temporary ``$GENNAS_HOME``, so the predictor a designer search saves
there is never the next run's start. Before the timed runs, one untimed 1-verification run per
method (seed :data:`WARMUP_SEED`) pays the process's one-time set-up (imports, checkpoints).

The printed markdown table has one row per method: log10 of the best synflow score after 5, 10
and ``--budget`` verifications (scores span many orders of magnitude), each as median [q1, q3]
over seeds; on how many seeds the best after ``--budget`` is higher than random search's with the
same seed; and the mean CPU seconds per run (``time.process_time`` of this process, one torch
thread, so a busy machine stretches the wall time but not the figure). Not counted as
verifications: the designer's warm-up ranks up to 16 candidates per ask by synflow of the
*full-size* darts network (``LoopSettings.warmup``), part of its CPU seconds.

    nice -n 10 python experiments/darts_search.py     # 8 seeds, budget 20
    python experiments/darts_search.py --seeds 0,1,2 --methods designer random
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gennas  # noqa: E402
from gennas.search import SearchResult, run_search  # noqa: E402
from gennas.search.registry import make_optimizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from _common import command_line, markdown_table  # noqa: E402

METHODS = ("designer", "random", "local", "bananas")
#: verifications after which the best score is shown (those within the budget, and the budget)
CHECKPOINTS = (5, 10)
#: seed of the untimed set-up runs (outside the default seeds)
WARMUP_SEED = 1000


def evaluator(space: Any) -> Any:
    """The data-free synflow proxy on the small network (experiments/spaces.py, step 7)."""
    return gennas.ProxyEvaluator(space, "synflow", build_options=space.small_build_options)


def search(method: str, space: Any, seed: int, budget: int) -> SearchResult:
    """One search of ``budget`` verifications by ``method``, in a fresh temporary ``$GENNAS_HOME``."""
    before = os.environ.get("GENNAS_HOME")
    with tempfile.TemporaryDirectory(prefix="gennas-darts-search-") as home:
        os.environ["GENNAS_HOME"] = home
        try:
            if method == "designer":
                return gennas.Designer(space, task=None, seed=seed).search(evaluator(space), budget=budget, progress=False)
            return run_search(make_optimizer(method, space, seed), evaluator(space), budget, progress=False)
        finally:
            if before is None:
                os.environ.pop("GENNAS_HOME", None)
            else:
                os.environ["GENNAS_HOME"] = before


def best_log10(result: SearchResult, budget: int) -> np.ndarray:
    """log10 of the best score after each verification, ``(budget,)``: NaN before the first success,
    the last best after an optimizer that stopped proposing."""
    trace = result.best_so_far()
    curve = np.full(budget, np.nan)
    curve[: len(trace)] = trace
    if 0 < len(trace) < budget:
        curve[len(trace):] = trace[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(curve)


def timed_runs(method: str, space: Any, seeds: list[int], budget: int,
               report: Callable[[str], None]) -> tuple[np.ndarray, list[float]]:
    """Curves ``(len(seeds), budget)`` of :func:`best_log10` and CPU seconds per run."""
    curves, seconds = [], []
    for seed in seeds:
        cpu = time.process_time()
        result = search(method, space, seed, budget)
        seconds.append(time.process_time() - cpu)
        curves.append(best_log10(result, budget))
        report(f"  {method} seed {seed}: best log10 {curves[-1][-1]:.2f}, {len(result.failures)} failed, "
               f"{seconds[-1]:.1f} CPU s")
    return np.stack(curves), seconds


def quartiles(values: np.ndarray) -> str:
    """``median [q1, q3]`` of ``values`` (NaN: a run with no success by then)."""
    if np.isnan(values).any():
        return "-"
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return f"{med:.2f} [{q1:.2f}, {q3:.2f}]"


def table(curves: dict[str, np.ndarray], seconds: dict[str, list[float]], budget: int) -> str:
    """The markdown table: one row per method (see the module docstring)."""
    shown = [c for c in CHECKPOINTS if c < budget] + [budget]
    beats = f"runs where best after {budget} beats random's (same seed)"
    rows = []
    for method, curve in curves.items():
        row: dict[str, Any] = {"method": method}
        row.update({f"best log10 after {c}": quartiles(curve[:, c - 1]) for c in shown})
        random = curves.get("random")
        won = "-" if random is None or method == "random" else \
            f"{int((curve[:, -1] > random[:, -1]).sum())}/{len(curve)}"
        row[beats] = won
        row["CPU s/run"] = float(np.mean(seconds[method]))
        rows.append(row)
    return markdown_table(rows, digits=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7", help="comma-separated seeds of the searches")
    p.add_argument("--budget", type=int, default=20, help="verifications per search")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = p.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    return args


def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    space = gennas.load_space("darts")
    report = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    for method in args.methods:  # untimed: the process's one-time set-up
        search(method, space, WARMUP_SEED, 1)
    curves, seconds = {}, {}
    for method in args.methods:
        report(f"{method}:")
        curves[method], seconds[method] = timed_runs(method, space, args.seeds, args.budget, report)
    out = table(curves, seconds, args.budget)
    print(f"{command_line()}\nwall time {time.perf_counter() - start:.0f} s "
          f"({len(args.seeds)} seeds, budget {args.budget}, {torch.get_num_threads()} thread)\n")
    print(out)
    return out


if __name__ == "__main__":
    main()
