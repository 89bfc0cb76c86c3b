"""Search efficiency on NAS-Bench-201 with the bundled table as evaluator (real accuracies).

For each method, dataset and seed, one search of ``--budget`` verifications through
:func:`gennas.search.run_search`; the table printed gives, over seeds, the median and
quartiles of

* the number of verified architectures needed to reach the benchmark optimum (the best test
  accuracy in the table; ``>B`` when not reached within the budget B), and
* the best true accuracy found after 1, 2, 5, 10, 20, 50, 100 verifications.

The latency-constrained setting runs every method on several devices at three latency
budgets each (the 10th, 25th and 50th percentile of the device's latencies): proposals over
the true latency are refused before verification (no budget spent, see
:class:`gennas.search.LatencyFilter`); the table compares the best true accuracy found with
the best that exists under that latency.

Methods come from :data:`METHODS` (name -> ``factory(space, seed, task, device=None,
max_latency_ms=None)``); add the Designer there.

    python experiments/search.py --quick      # 3 seeds, budget 100, minutes on 2 cores
    python experiments/search.py              # 20 seeds, budget 300 (the README table)
"""

from __future__ import annotations

import argparse
import functools
import math
import shlex
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from gennas.bench import Benchmark, load_benchmark
from gennas.search import OPTIMIZERS, LatencyFilter, Optimizer, run_search

Factory = Callable[..., Optimizer]

#: method name -> factory(space, seed, task, device=None, max_latency_ms=None) -> Optimizer.
#: The Designer goes here too, e.g. "gennas": lambda space, seed, task, **kw: Designer(space, task, seed=seed, **kw)
METHODS: dict[str, Factory] = {name: OPTIMIZERS[name] for name in ("random", "evolution", "local", "tpe", "bananas")}



@functools.lru_cache(maxsize=None)
def _pretrained(holdout: str | None):
    """(predictor, generator) loaded once per process; ``holdout``: dataset whose labels the predictor never saw."""
    from gennas.generators import load_generator
    from gennas.predictor import load_predictor

    return load_predictor("nb201", holdout=holdout), load_generator("nb201", kind="diffusion")


def gennas_transfer(space, seed, task, device=None, max_latency_ms=None) -> Optimizer:
    """The Designer with a predictor pretrained WITHOUT the target dataset's labels (transfer mode)."""
    from gennas.designer import Designer

    predictor, generator = _pretrained(task)
    return Designer(space, task=task, device=device, max_latency_ms=max_latency_ms, seed=seed,
                    predictor=predictor, generator=generator, pool=1)


def gennas_scratch(space, seed, task, device=None, max_latency_ms=None) -> Optimizer:
    """The Designer with an untrained predictor: everything it knows comes from verified results."""
    from gennas.designer import Designer
    from gennas.predictor import Predictor

    _, generator = _pretrained(None)
    return Designer(space, task=task, device=device, max_latency_ms=max_latency_ms, seed=seed,
                    predictor=Predictor(space, seed=seed), generator=generator, pool=1)


METHODS["gennas-transfer"] = gennas_transfer
METHODS["gennas-scratch"] = gennas_scratch

CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)
DEVICES = ("pixel3", "1080ti_1", "gold_6240")
LATENCY_PERCENTILES = (10, 25, 50)


def command_line() -> str:
    return "python " + " ".join(shlex.quote(a) for a in sys.argv)


def quartiles(values: np.ndarray, nearest: bool = False) -> tuple[float, float, float]:
    """(25th, 50th, 75th) percentiles; ``nearest`` picks observed values (no interpolation), which
    keeps censored counts (inf = not reached) meaningful."""
    method = "inverted_cdf" if nearest else "linear"
    q = np.quantile(np.asarray(values, dtype=np.float64), [0.25, 0.5, 0.75], method=method)
    return float(q[0]), float(q[1]), float(q[2])


def fmt_count(values: np.ndarray, budget: int) -> str:
    q1, med, q3 = quartiles(values, nearest=True)
    show = lambda v: f">{budget}" if not math.isfinite(v) else f"{v:.0f}"  # noqa: E731
    return f"{show(med)} [{show(q1)}, {show(q3)}]"


def fmt_acc(values: np.ndarray) -> str:
    if np.isnan(values).any():
        return "-"
    q1, med, q3 = quartiles(values)
    return f"{med:.2f} [{q1:.2f}, {q3:.2f}]"


def one_run(factory: Factory, bench: Benchmark, dataset: str, seed: int, budget: int,
            device: str | None = None, max_latency_ms: float | None = None) -> tuple[np.ndarray, float]:
    """Best true accuracy after each verification, ``(budget,)`` (NaN until a success), and seconds."""
    start = time.perf_counter()
    optimizer = factory(bench.space, seed, dataset, device=device, max_latency_ms=max_latency_ms)
    if max_latency_ms is not None:
        optimizer = LatencyFilter(optimizer, lambda a: bench.latency(a, device), max_latency_ms, device)
    result = run_search(optimizer, lambda a: bench.accuracy(a, dataset), budget, progress=False,
                        space=bench.space)
    curve = np.full(budget, np.nan)
    trace = result.best_so_far()
    curve[: len(trace)] = trace
    if 0 < len(trace) < budget:  # an exhausted optimizer keeps its best
        curve[len(trace):] = trace[-1]
    return curve, time.perf_counter() - start


def efficiency_table(bench: Benchmark, dataset: str, methods: dict[str, Factory], seeds: list[int],
                     budget: int) -> list[str]:
    optimum = bench.best(dataset)[1]
    checkpoints = [c for c in CHECKPOINTS if c <= budget]
    header = ["method", "verifications to optimum", "reached", *[f"best after {c}" for c in checkpoints], "s/run"]
    lines = [f"### {dataset}: optimum {optimum:.2f}% ({len(seeds)} seeds, budget {budget}; median [q1, q3])", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, factory in methods.items():
        curves, seconds = [], []
        for seed in seeds:
            curve, s = one_run(factory, bench, dataset, seed, budget)
            curves.append(curve)
            seconds.append(s)
        curves = np.stack(curves)
        hit = curves >= optimum - 1e-9
        needed = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.inf)
        row = [name, fmt_count(needed, budget), f"{int(hit.any(axis=1).sum())}/{len(seeds)}",
               *[fmt_acc(curves[:, c - 1]) for c in checkpoints], f"{np.mean(seconds):.1f}"]
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], file=sys.stderr, flush=True)  # progress while the table builds
    return lines


def latency_table(bench: Benchmark, dataset: str, methods: dict[str, Factory], seeds: list[int], budget: int,
                  devices: list[str]) -> list[str]:
    header = ["device", "max ms", "best under it", *methods]
    lines = [f"### {dataset} under a latency budget ({len(seeds)} seeds, {budget} verifications; "
             "best true accuracy found, median [q1, q3])", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for device in devices:
        column = bench.latency_of(None, device)
        for pct in LATENCY_PERCENTILES:
            limit = float(f"{np.percentile(column, pct):.3g}")
            best = bench.best(dataset, limit, device)[1]
            row = [device, f"{limit:g}", f"{best:.2f}"]
            for factory in methods.values():
                found = np.array([one_run(factory, bench, dataset, s, budget, device, limit)[0][-1] for s in seeds])
                row.append(fmt_acc(found))
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], file=sys.stderr, flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, budget 100, latency budget 20")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 20, quick 3)")
    parser.add_argument("--budget", type=int, help="verifications per run (default 300, quick 100)")
    parser.add_argument("--latency-budget", type=int, help="verifications per latency run (default 50, quick 20)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--datasets", nargs="+", default=["cifar10", "cifar100"])
    parser.add_argument("--devices", nargs="+", default=list(DEVICES))
    parser.add_argument("--no-latency", action="store_true", help="skip the latency-constrained table")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(args.seeds or (3 if args.quick else 20)))
    budget = args.budget or (100 if args.quick else 300)
    latency_budget = args.latency_budget or (20 if args.quick else 50)
    bench = load_benchmark("nb201")
    methods = {name: METHODS[name] for name in args.methods}

    print(f"command: `{command_line()}`\n")
    start = time.perf_counter()
    for dataset in args.datasets:
        print("\n".join(efficiency_table(bench, dataset, methods, seeds, budget)) + "\n", flush=True)
    if not args.no_latency:
        print("\n".join(latency_table(bench, args.datasets[0], methods, seeds, latency_budget, args.devices)) + "\n")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
