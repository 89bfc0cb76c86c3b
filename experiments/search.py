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
max_latency_ms=None)``): the registered baselines, evolution and BANANAS with the designer's
synflow warm-up (``evolution-synflow``, ``bananas-synflow``), and the Designer in transfer mode
(predictor pretrained without the target's labels) and from scratch (untrained predictor).

A run stops as soon as it verifies the target (the benchmark optimum, or the best under the
latency budget): from then on its best-so-far curve is constant, so the rest of the budget
would change no figure in the tables. Each finished run is cached in
``experiments/data/search_runs/`` (one JSON file per method and setting, keyed by seed), so an
interrupted table resumes where it stopped and rows computed by separate invocations (say,
``--methods bananas`` in one shell and ``--methods gennas-scratch`` in another) are combined
by a later full invocation; ``--fresh`` ignores the cache (do so after changing a method).

    python experiments/search.py --quick      # 3 seeds, budget 100, minutes on 2 cores
    python experiments/search.py --latency-seeds 5   # the README tables (20 seeds, budget 300;
                                                     # latency table 5 seeds, 50 verifications)
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gennas.design.holdout import HeldOutNaming
from gennas.design.loop import LoopSettings
from gennas.bench import Benchmark, load_benchmark
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search import OPTIMIZERS, LatencyFilter, Optimizer, run_search

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from _common import DATA, command_line  # noqa: E402

#: finished runs, one JSON file per method and setting: {"seed": {"curve": [...], "seconds": s}}
RUNS = DATA / "search_runs"
#: runs this invocation read from :data:`RUNS` instead of running them, said under the tables (a
#: changed method under its old name printed its old row, unsaid: user walk 50)
CACHED: dict[str, int] = {}

Factory = Callable[..., Optimizer]

#: method name -> factory(space, seed, task, device=None, max_latency_ms=None) -> Optimizer
def _unfiltered(name: str) -> Factory:
    """The registered baseline without the registry's own budget filter: :func:`one_run` filters by
    the table's true latency (as the cached runs of the README's tables did)."""
    return lambda space, seed, task, **_: OPTIMIZERS[name](space, seed, task)


METHODS: dict[str, Factory] = {name: _unfiltered(name)
                               for name in ("random", "evolution", "local", "tpe", "bananas", "transfer-topk",
                                            "transfer-local", "proxy-topk")}


def _synflow_first(name: str) -> Factory:
    """The registered baseline with the designer's from-scratch warm-up: its first 5 proposals by
    shipped synflow (:class:`gennas.baselines.ProxyWarmup`), then the baseline unchanged."""
    from gennas.baselines import ProxyWarmup

    return lambda space, seed, task, **_: ProxyWarmup(OPTIMIZERS[name](space, seed, task),
                                                      LoopSettings().warmup, LoopSettings().warmup_proxy, seed)


METHODS.update({f"{name}-synflow": _synflow_first(name) for name in ("evolution", "local", "bananas")})



@functools.lru_cache(maxsize=None)
def _pretrained(holdout: str | None):
    """(predictor, generator) loaded once per process; ``holdout``: dataset whose labels the predictor never saw."""
    from gennas.generators import load_generator
    from gennas.surrogates.shipped_predictor import load_predictor

    return load_predictor("nb201", holdout=holdout), load_generator("nb201", kind="diffusion")


#: the designer methods' LoopSettings (experiments/loop_cost.py --guide-members changes one)
LOOP_OPTIONS: dict = {"pool": 1}
#: architectures asked and verified per round (``--batch-size``): every method's runs alike
BATCH = {"size": 1}


def gennas_transfer(space, seed, task, device=None, max_latency_ms=None) -> Optimizer:
    """The Designer with a predictor pretrained WITHOUT the target dataset's labels (transfer mode)."""
    from gennas.design.designer import Designer

    predictor, generator = _pretrained(task)
    with warnings.catch_warnings():
        # the task names the table held out on purpose: that table is the evaluator here, and the
        # designer never reads it (HeldOutNaming tells a user who means a new dataset to say "new-")
        warnings.simplefilter("ignore", HeldOutNaming)
        designer = Designer(space, task=task, device=device, max_latency_ms=max_latency_ms, seed=seed,
                            predictor=predictor, generator=generator, loop=LoopSettings(**LOOP_OPTIONS))
    return designer.loop


def gennas_scratch(space, seed, task, device=None, max_latency_ms=None) -> Optimizer:
    """The Designer with an untrained predictor: everything it knows comes from verified results."""
    from gennas.design.designer import Designer
    from gennas.design.pretrained import untrained_predictor

    _, generator = _pretrained(None)
    return Designer(space, task=task, device=device, max_latency_ms=max_latency_ms, seed=seed,
                    predictor=untrained_predictor(space, seed), generator=generator,
                    loop=LoopSettings(**LOOP_OPTIONS)).loop


METHODS["gennas-transfer"] = gennas_transfer
METHODS["gennas-scratch"] = gennas_scratch

CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)
#: the synflow table's methods without ``--methods``: proxy-topk is the designer's warm-up lookup
#: alone (the shipped synflow of every cell, the evaluator's own values, read uncharged)
SYNFLOW_METHODS = ("random", "bananas", "proxy-topk", "gennas-scratch", "gennas-transfer")
DEVICES = ("pixel3", "1080ti_1", "gold_6240")
LATENCY_PERCENTILES = (10, 25, 50)


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


class StopAtTarget:
    """Wraps an optimizer; proposes nothing more once a told score reaches ``target`` (the
    harness then ends the run as exhausted). Exact for the tables: the target is the best that
    exists, so the best-so-far curve cannot change after it."""

    def __init__(self, optimizer: Optimizer, target: float) -> None:
        self.optimizer, self.target, self.reached = optimizer, target, False
        self.space = getattr(optimizer, "space", None)

    def ask(self, k: int) -> list[ArchGraph]:
        return [] if self.reached else self.optimizer.ask(k)

    def tell(self, results: list[Result]) -> None:
        self.optimizer.tell(results)
        self.reached = self.reached or any(not r.failed and r.score >= self.target - 1e-9 for r in results)


class SynflowScores:
    """``arch -> synflow`` of the benchmark network (``ProxyEvaluator(space, "synflow")``, seed 0,
    10 classes), memoised per canonical cell and kept in ``experiments/data/search_runs/`` so
    every method and seed scores a cell once. Synflow is data-free and deterministic for a
    seed, so a memoised score is the score the evaluator would return again."""

    def __init__(self, bench: Benchmark) -> None:
        from gennas.evaluators.proxy import ProxyEvaluator

        self.bench = bench
        self.evaluator = ProxyEvaluator(bench.space, "synflow", num_classes=10, seed=0)
        self.path = RUNS / "synflow_nb201.json"
        self.scores: dict[str, float] = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.new = 0

    def __call__(self, arch: ArchGraph) -> float:
        key = arch.canonical_hash()
        if key not in self.scores:
            self.scores[key] = self.evaluator.evaluate([arch])[0].score
            self.new += 1
        return self.scores[key]

    def save(self) -> None:
        if self.new:
            RUNS.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.scores))
            tmp.replace(self.path)
            self.new = 0


def one_run(factory: Factory, bench: Benchmark, dataset: str, seed: int, budget: int,
            device: str | None = None, max_latency_ms: float | None = None,
            evaluator: Callable[[ArchGraph], float] | None = None) -> tuple[np.ndarray, float]:
    """Best true accuracy after each verification, ``(budget,)`` (NaN until a success), and seconds.

    With ``evaluator`` (a proxy) the search sees only its scores, and the curve is the true
    accuracy of the architecture the evaluator scored best so far (what a user would pick).
    """
    start = time.perf_counter()
    optimizer = factory(bench.space, seed, dataset, device=device, max_latency_ms=max_latency_ms)
    # Every method alike: no cell at chance (the designer never proposes one; the baselines verified 2-5 of
    # 20 under pixel3's 3.27 ms, user walk 50, and random search 3.4 a run without a budget, walk 55), and
    # under a budget the true latency; without one the filter refuses those cells only.
    no_budget = max_latency_ms is None
    optimizer = LatencyFilter(optimizer, (lambda a: 0.0) if no_budget else (lambda a: bench.latency(a, device)),
                              math.inf if no_budget else max_latency_ms, device or "",
                              skip=lambda a: "output constant" if bench.space.output_is_constant(a) else None)
    if evaluator is None:
        optimizer = StopAtTarget(optimizer, bench.best(dataset, max_latency_ms, device)[1])
    result = run_search(optimizer, evaluator or (lambda a: bench.accuracy(a, dataset)), budget, progress=False,
                        space=bench.space, batch_size=BATCH["size"])
    curve = np.full(budget, np.nan)
    trace = result.best_so_far() if evaluator is None else true_accuracy_of_best(result.history, bench, dataset)
    curve[: len(trace)] = trace
    if 0 < len(trace) < budget:  # an exhausted optimizer keeps its best
        curve[len(trace):] = trace[-1]
    return curve, time.perf_counter() - start


def true_accuracy_of_best(history: list[Result], bench: Benchmark, dataset: str) -> np.ndarray:
    """True accuracy of the best-scored architecture after each verification, ``(len(history),)``."""
    out, best, accuracy = np.full(len(history), np.nan), -math.inf, math.nan
    for i, r in enumerate(history):
        if not r.failed and r.score > best:
            best, accuracy = r.score, bench.accuracy(r.arch, dataset)
        out[i] = accuracy
    return out


def cached_line() -> str:
    """Which methods' runs came from the cache, as a line (empty where none did)."""
    if not CACHED:
        return ""
    read = ", ".join(f"{method} {n}" for method, n in sorted(CACHED.items()))
    return f"runs read from {RUNS} instead of run ({read}): --fresh reruns them (after changing a method)\n"


def cached_runs(method: str, factory: Factory, bench: Benchmark, dataset: str, seeds: list[int], budget: int,
                device: str | None = None, max_latency_ms: float | None = None,
                fresh: bool = False, synflow: SynflowScores | None = None) -> tuple[np.ndarray, list[float]]:
    """Curves ``(len(seeds), budget)`` and seconds per run; finished runs come from (and go to) the cache."""
    setting = f"{method}_{dataset}_b{budget}" + (f"_{device}_{max_latency_ms:g}ms" if max_latency_ms else "")
    setting += ("_synflow" if synflow is not None else "") + (f"_batch{BATCH['size']}" if BATCH["size"] > 1 else "")
    path = RUNS / f"{setting}.json"
    def read() -> dict:  # with ``fresh`` the old runs are neither used nor kept
        return json.loads(path.read_text()) if path.is_file() and not fresh else {}

    cache = read()
    curves, seconds = [], []
    for seed in seeds:
        if str(seed) not in cache:
            cache.update(read())  # another invocation may have run it meanwhile
        if str(seed) not in cache:
            curve, s = one_run(factory, bench, dataset, seed, budget, device, max_latency_ms, synflow)
            if synflow is not None:
                synflow.save()
            run = {"curve": [None if math.isnan(v) else v for v in curve.tolist()], "seconds": s}
            cache = {**read(), **cache, str(seed): run}  # merge: never drop another invocation's runs
            RUNS.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cache))
            tmp.replace(path)  # atomic: a kill never leaves a half-written cache
        else:
            CACHED[method] = CACHED.get(method, 0) + 1
        run = cache[str(seed)]
        curves.append(np.array([np.nan if v is None else v for v in run["curve"]], dtype=np.float64))
        seconds.append(run["seconds"])
    return np.stack(curves), seconds


def efficiency_table(bench: Benchmark, dataset: str, methods: dict[str, Factory], seeds: list[int],
                     budget: int, fresh: bool = False) -> list[str]:
    optimum = bench.best(dataset)[1]
    checkpoints = [c for c in CHECKPOINTS if c <= budget]
    header = ["method", "verifications to optimum", "reached", *[f"best after {c}" for c in checkpoints], "s/run"]
    lines = [f"### {dataset}: optimum {optimum:.2f}% ({len(seeds)} seeds, budget {budget}"
             + (f", batch {BATCH['size']}" if BATCH["size"] > 1 else "") + "; median [q1, q3])", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, factory in methods.items():
        curves, seconds = cached_runs(name, factory, bench, dataset, seeds, budget, fresh=fresh)
        hit = curves >= optimum - 1e-9
        needed = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.inf)
        row = [name, fmt_count(needed, budget), f"{int(hit.any(axis=1).sum())}/{len(seeds)}",
               *[fmt_acc(curves[:, c - 1]) for c in checkpoints], f"{np.mean(seconds):.1f}"]
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], file=sys.stderr, flush=True)  # progress while the table builds
    return lines


def synflow_table(bench: Benchmark, dataset: str, methods: dict[str, Factory], seeds: list[int], budget: int,
                  fresh: bool = False) -> list[str]:
    """Every method with synflow as its only evaluator: the true accuracy of its best-by-synflow pick."""
    synflow = SynflowScores(bench)
    checkpoints = [c for c in (1, 2, 5, 10, 20, 50, 100) if c <= budget]
    header = ["method", *[f"after {c}" for c in checkpoints], "s/run"]
    lines = [f"### {dataset}, synflow as the only evaluator ({len(seeds)} seeds, budget {budget}; true accuracy "
             f"of the best-by-synflow architecture so far, median [q1, q3]; optimum {bench.best(dataset)[1]:.2f}%)",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, factory in methods.items():
        curves, seconds = cached_runs(name, factory, bench, dataset, seeds, budget, fresh=fresh, synflow=synflow)
        lines.append("| " + " | ".join([name, *[fmt_acc(curves[:, c - 1]) for c in checkpoints],
                                         f"{np.mean(seconds):.1f}"]) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def latency_table(bench: Benchmark, dataset: str, methods: dict[str, Factory], seeds: list[int], budget: int,
                  devices: list[str], fresh: bool = False) -> list[str]:
    header = ["device", "max ms", "best under it", *methods]
    lines = [f"### {dataset} under a latency budget ({len(seeds)} seeds, {budget} verifications; "
             "best true accuracy found, median [q1, q3])", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    shortfall: dict[str, list[np.ndarray]] = {name: [] for name in methods}  # best under it - curve, per run
    distinct: dict[str, list[int]] = {name: [] for name in methods}  # distinct best-so-far curves per setting
    for device in devices:
        column = bench.latency_of(None, device)
        for pct in LATENCY_PERCENTILES:
            limit = float(f"{np.percentile(column, pct):.3g}")
            best = bench.best(dataset, limit, device)[1]
            row = [device, f"{limit:g}", f"{best:.2f}"]
            for name, factory in methods.items():
                curves, secs = cached_runs(name, factory, bench, dataset, seeds, budget, device, limit, fresh)
                row.append(fmt_acc(curves[:, -1]))
                seconds[name] += secs
                shortfall[name] += list(best - curves)
                distinct[name].append(len({curve.tobytes() for curve in curves}))
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], file=sys.stderr, flush=True)
    checkpoints = [c for c in CHECKPOINTS if c <= budget]
    lines += ["", "CPU seconds per run (mean over the table): "
              + ", ".join(f"{name} {np.mean(s):.1f}" for name, s in seconds.items()),
              "", "Mean shortfall from the best under the budget (points, over every run of the table) after "
              + " / ".join(map(str, checkpoints)) + " verifications: "
              + ", ".join(f"{name} " + " / ".join(f"{np.nanmean(np.stack(runs)[:, c - 1]):.3f}" for c in checkpoints)
                          for name, runs in shortfall.items()),
              "", f"Distinct best-so-far curves among the {len(seeds)} seeds, per setting in the table's order (a "
              "method whose picks do not depend on the seed repeats one run): "
              + ", ".join(f"{name} {' '.join(map(str, counts))}" for name, counts in distinct.items())]
    return lines


def seed_list(text: str, parser: argparse.ArgumentParser) -> list[int]:
    """``"5"`` -> seeds 0-4; ``"5,6,7"`` -> those seeds (a parser error for anything else)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        parser.error(f"--latency-seeds takes a count or a comma-separated list of seeds, got {text!r}")
    if min(values) < 0:
        parser.error(f"--latency-seeds takes non-negative numbers, got {text!r}")
    return list(range(values[0])) if len(values) == 1 else values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, budget 100, latency budget 20")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 20, quick 3)")
    parser.add_argument("--budget", type=int, help="verifications per run (default 300, quick 100)")
    parser.add_argument("--latency-budget", type=int, help="verifications per latency run (default 50, quick 20)")
    parser.add_argument("--latency-seeds", help="seeds of the latency table: a count (5: seeds 0-4) or a "
                                                "comma-separated list (5,6,7,8,9); default: --seeds")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--datasets", nargs="+", default=["cifar10", "cifar100"])
    parser.add_argument("--devices", nargs="+", default=list(DEVICES))
    parser.add_argument("--batch-size", type=int, default=1, help="architectures asked and verified per round")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency-constrained table")
    parser.add_argument("--latency-only", action="store_true", help="only the latency-constrained table")
    parser.add_argument("--fresh", action="store_true", help="ignore runs cached in experiments/data/search_runs")
    parser.add_argument("--synflow", action="store_true",
                        help="only the synflow-evaluator table (random, bananas, proxy-topk and the designer by default)")
    args = parser.parse_args(argv)
    BATCH["size"] = args.batch_size
    torch.set_num_threads(1)
    seeds = list(range(args.seeds or (3 if args.quick else 20)))
    budget = args.budget or (100 if args.quick else 300)
    latency_budget = args.latency_budget or (20 if args.quick else 50)
    bench = load_benchmark("nb201")
    methods = {name: METHODS[name] for name in args.methods}

    print(f"command: `{command_line()}`\n")
    start = time.perf_counter()
    if args.synflow:
        chosen = methods if "--methods" in (argv or sys.argv) else {
            name: METHODS[name] for name in SYNFLOW_METHODS}
        for dataset in args.datasets:
            lines = synflow_table(bench, dataset, chosen, seeds, args.budget or 50, args.fresh)
            print("\n".join(lines) + "\n", flush=True)
        print(cached_line() + f"total {time.perf_counter() - start:.0f} s")
        return
    for dataset in [] if args.latency_only else args.datasets:
        print("\n".join(efficiency_table(bench, dataset, methods, seeds, budget, args.fresh)) + "\n", flush=True)
    if not args.no_latency:
        latency_seeds = seeds if args.latency_seeds is None else seed_list(args.latency_seeds, parser)
        lines = latency_table(bench, args.datasets[0], methods, latency_seeds, latency_budget, args.devices, args.fresh)
        print("\n".join(lines) + "\n")
    print(cached_line() + f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
