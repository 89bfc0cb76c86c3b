"""What the search loop itself costs: CPU seconds per verification of each method, with the table
as evaluator (so nearly all the time is the optimizer's), at batch 1, with and without a latency
budget, and the top lines of a cProfile of one designer run.

Every run verifies exactly ``--budget`` cells (no stop at the optimum, unlike experiments/search.py)
on NAS-Bench-201 ``--dataset`` with one torch thread; CPU time is ``time.process_time`` of this
process, so a busy machine stretches the wall time but not the figure. Before the table, one untimed
3-verification run per method and budget pays the process's one-time set-up (imports,
checkpoints, the space's equivalence classes), so the table shows the cost per run.

    python experiments/loop_cost.py                    # 50 verifications, 3 seeds, ~7 min on 2 cores
    python experiments/loop_cost.py --seeds 1 --profile
    python experiments/loop_cost.py --methods gennas-scratch --seeds 1 --profile --profile-method gennas-scratch --profile-seed 2 --profile-no-budget
    python experiments/loop_cost.py --methods gennas-scratch --scratch-members 3   # the members' cost
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(1)

from gennas.bench import load_benchmark  # noqa: E402
from gennas.design import pretrained  # noqa: E402
from gennas.evaluators import TableEvaluator  # noqa: E402
from gennas.search import LatencyFilter, run_search  # noqa: E402
from search import LOOP_OPTIONS, METHODS  # noqa: E402  (experiments/search.py: the same method factories)

from _common import command_line  # noqa: E402

#: the budgets: None, then the pixel3 latency of the 10th percentile cell (5 ms, tight)
DEVICE = "pixel3"
#: seed of the untimed warm-up runs (none of the timed seeds)
WARM_UP_SEED = 10_000


def one_run(method: str, seed: int, budget: int, dataset: str, max_latency_ms: float | None) -> tuple[float, float]:
    """(CPU s, best accuracy) of one run of ``budget`` verifications."""
    device = DEVICE if max_latency_ms is not None else None
    bench = load_benchmark("nb201")
    cpu = time.process_time()
    optimizer = METHODS[method](bench.space, seed, dataset, device=device, max_latency_ms=max_latency_ms)
    if max_latency_ms is not None:  # as experiments/search.py: every method proposes within the budget
        optimizer = LatencyFilter(optimizer, lambda a: bench.latency(a, device), max_latency_ms, device)
    result = run_search(optimizer, TableEvaluator("nb201", dataset), budget, progress=False, space=bench.space)
    return time.process_time() - cpu, result.best.score


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="bananas,gennas-transfer,gennas-scratch")
    p.add_argument("--budget", type=int, default=50)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--max-latency-ms", type=float, default=5.0, help=f"the budget run's {DEVICE} budget")
    p.add_argument("--profile", action="store_true", help="also profile one run (--profile-method, under the budget)")
    p.add_argument("--profile-method", default="gennas-transfer", help="the method --profile profiles")
    p.add_argument("--profile-seed", type=int, default=0, help="the seed of the profiled run")
    p.add_argument("--profile-no-budget", action="store_true", help="profile the run without a latency budget")
    p.add_argument("--guide-members", type=int, help="ensemble members that guide generation (0: all; "
                   "default: LoopSettings.guide_members)")
    p.add_argument("--regenerate", type=int, help="results between two guided generations "
                   "(default: 8 with a pretrained predictor and no budget, else 4)")
    p.add_argument("--scratch-members", type=int, help="ensemble members of gennas-scratch's untrained predictor "
                   "(default: gennas.design.pretrained.SCRATCH_MEMBERS)")
    args = p.parse_args(argv)
    if args.scratch_members is not None:  # read by untrained_predictor when each run builds its designer
        pretrained.SCRATCH_MEMBERS = args.scratch_members
    if args.guide_members is not None:
        LOOP_OPTIONS["guide_members"] = args.guide_members or None
    if args.regenerate is not None:
        LOOP_OPTIONS["regenerate"] = args.regenerate
    print(command_line())
    bench = load_benchmark("nb201")
    bench.accuracy_of(None, args.dataset)  # loads the table before any timing
    methods = args.methods.split(",")
    # What a process pays once (imports such as scipy.stats, checkpoint loading, the space's
    # equivalence classes) is not the loop's cost per verification: one short untimed run of
    # each method, with and without the budget, pays it before the table; its CPU is printed.
    warm = sum(one_run(m, WARM_UP_SEED, 3, args.dataset, b)[0] for m in methods for b in (None, args.max_latency_ms))
    print(f"\none-time process set-up (a 3-verification run of each method and budget first): {warm:.1f} CPU s")
    print(f"\n### CPU s per run of {args.budget} verifications (batch 1, table evaluator, "
          f"{args.dataset}, mean over {args.seeds} seeds; per verification in brackets)\n")
    print(f"| method | no budget | {DEVICE} <= {args.max_latency_ms:g} ms |")
    print("|---|---|---|")
    for method in methods:
        cells = []
        for budget_ms in (None, args.max_latency_ms):
            runs = [one_run(method, seed, args.budget, args.dataset, budget_ms) for seed in range(args.seeds)]
            cpu = statistics.mean(c for c, _ in runs)
            cells.append(f"{cpu:.1f} ({cpu / args.budget:.2f})")
            print(f"  {method} budget={budget_ms}: " + ", ".join(f"{c:.1f} s best {b:.2f}" for c, b in runs),
                  file=sys.stderr, flush=True)
        print(f"| {method} | " + " | ".join(cells) + " |", flush=True)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        budget = None if args.profile_no_budget else args.max_latency_ms
        one_run(args.profile_method, args.profile_seed, args.budget, args.dataset, budget)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        where = "no budget" if budget is None else f"{DEVICE} <= {budget:g} ms"
        print(f"\n### profile: {args.profile_method}, {where}, seed {args.profile_seed} (cumulative)\n")
        print("```\n" + "\n".join(out.getvalue().splitlines()[:45]) + "\n```")


if __name__ == "__main__":
    main()
