"""Does `Designer("mbv3", device=..., max_latency_ms=...)` keep its budget on this CPU, measured?

For the CPU back-ends measured here (``cpu_ort_1t``, ``cpu_torch_1t``: see
``experiments/measure_mbv3.py``) and budgets at the 10th / 25th / 50th percentile of that
device's measured latencies, the designer generates ``--n`` subnets (its latency estimator's
calibrated upper bound must be within the budget; a subnet the table measured is judged by its
measurement, column "in table"); each design is then built at 224 px and timed exactly as the table was (1 thread, warm-up,
median of repeats, thread CPU time). The table gives the share truly over budget (target: at
most 1 - ``latency_confidence`` = 5 %), the median measured/budget ratio, and the median
measured/estimated ratio.

A machine's speed drifts between sittings (on 2026-12-03 this VM ran the subnets about 40 %
faster than when the table was timed), so the budget a design is judged against must be timed
in the same sitting: first ``--references`` subnets of the table (seeded, spread over its
latency range) are timed again, and the median ratio now / table of the :data:`NEAREST` of them
closest in table latency to the budget (the machine's drift there) turns each budget into today's
clock: "over today" compares a design's time with ``budget * drift``, "over (table's clock)" with
the budget as the table's clock read it. The drift depends on the subnet's speed (2026-12-04,
6 subnets per slice, a throwaway check: torch now / table 0.72 for the fastest 10 %,
0.55 in the middle, 0.39 for the slowest 10 %; onnxruntime 0.68 / 0.67 / 0.45): one median over
the whole range (until then) judged the fast subnets under torch's 10th-percentile budget
against a clock 0.57 / 0.72 too fast.

    nice -n 10 .venv/bin/python experiments/mbv3_budgets.py          # ~1 min on 2 cores
    nice -n 10 .venv/bin/python experiments/mbv3_budgets.py --n 5 --devices cpu_ort_1t --references 10
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gennas  # noqa: E402
from gennas.errors import GennasError  # noqa: E402
from gennas.resources import data_dir  # noqa: E402
from measure_mbv3 import read_rows, time_ort, time_torch  # noqa: E402

from _common import command_line  # noqa: E402

TIMERS = {"cpu_ort_1t": time_ort, "cpu_torch_1t": time_torch}
#: the timing settings of the shipped table (its manifest's command)
TIMING = SimpleNamespace(warmup=3, repeats=5, max_repeats=15, target_spread=0.05, max_seconds=3.0, clock="cpu")
#: reference subnets nearest in table latency whose median ratio now / table is the drift at a budget
NEAREST = 5


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--devices", nargs="+", default=list(TIMERS), choices=list(TIMERS))
    p.add_argument("--percentiles", default="10,25,50")
    p.add_argument("--n", type=int, default=10, help="designs generated per budget")
    p.add_argument("--task", default="mnist-synflow-log10", help="the designer's task (the shipped predictor's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--references", type=int, default=20,
                   help="table subnets timed again first, for the machine's drift since the table (0: none)")
    args = p.parse_args(argv)
    print(command_line())
    rows = read_rows(data_dir() / "mbv3_latency.csv.gz")
    space = gennas.load_space("mbv3")
    x = torch.randn(1, 3, 224, 224)
    print(f"\n### mbv3 designs measured on this CPU ({len(rows)} measured subnets set the budgets; "
          f"{args.n} designs per budget, seed {args.seed})\n")
    print("| device | budget (percentile) | drift now / table | designs | in table | over today | over (table's clock) "
          "| measured / today's budget (median, max) | measured / estimated (median) | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for device in args.devices:
        table_ms = np.array([float(r[f"{device}_ms"]) for r in rows])
        drift_at = machine_drift(space, rows, device, table_ms, x, args.references, args.seed)
        for q in (int(v) for v in args.percentiles.split(",")):
            budget = float(np.percentile(table_ms, q))
            drift = drift_at(budget)
            start = time.perf_counter()
            try:
                designs = gennas.Designer("mbv3", task=args.task, device=device, max_latency_ms=budget,
                                          seed=args.seed).generate(args.n)
            except GennasError as exc:
                print(f"| {device} | {budget:.2f} ms (p{q}) | {drift:.2f} | none: {str(exc).splitlines()[0][:80]} "
                      "| | | | | | |")
                continue
            measured, estimated = [], []
            for c in designs:
                model = space.build(c.arch, num_classes=1000).eval()
                measured.append(TIMERS[device](model, x, TIMING).ms)
                estimated.append(c.predicted_latency_ms)
                print(f"  {device} p{q}: #{c.rank} estimated {c.predicted_latency_ms:.2f} ms, "
                      f"measured {measured[-1]:.2f} ms (budget {budget:.2f})", file=sys.stderr, flush=True)
            m, e, today = np.array(measured), np.array(estimated, dtype=float), budget * drift
            share = lambda k: f"{k} ({100 * k / max(len(m), 1):.0f} %)"  # noqa: E731
            in_table = sum(c.latency_measured for c in designs)
            print(f"| {device} | {budget:.2f} ms (p{q}) | {drift:.2f} | {len(m)} | {in_table} | "
                  f"{share(int((m > today).sum()))} | "
                  f"{share(int((m > budget).sum()))} | {np.median(m / today):.2f}, {np.max(m / today):.2f} | "
                  f"{np.median(m / e):.2f} | {time.perf_counter() - start:.0f} |", flush=True)


def machine_drift(space, rows: list[dict[str, str]], device: str, table_ms: np.ndarray, x: torch.Tensor,
                  references: int, seed: int) -> Callable[[float], float]:
    """The drift at a table latency (ms): the median of (time now / time in the table) over the
    :data:`NEAREST` of ``references`` table subnets closest to it in table latency, timed as the
    table was; 1.0 with none. They are spread over the table's latency range (one per quantile
    slice, seeded within it): a machine's drift is not the same for small and large nets."""
    if references <= 0:
        return lambda ms: 1.0
    rng, order = np.random.default_rng(seed), np.argsort(table_ms)
    picks = [int(rng.choice(part)) for part in np.array_split(order, references)]
    ratios = []
    for i in picks:
        model = space.build(space.from_string(rows[i]["arch"]), num_classes=1000).eval()
        ratios.append(TIMERS[device](model, x, TIMING).ms / table_ms[i])
    at, ratios = table_ms[picks], np.array(ratios)
    print(f"  {device}: {references} table subnets timed again: now / table median {np.median(ratios):.2f} "
          f"(range {ratios.min():.2f}-{ratios.max():.2f}; fastest half {np.median(ratios[:len(picks) // 2]):.2f}, "
          f"slowest half {np.median(ratios[len(picks) // 2:]):.2f})", file=sys.stderr, flush=True)
    return lambda ms: float(np.median(ratios[np.argsort(np.abs(at - ms))[:NEAREST]]))


if __name__ == "__main__":
    main()
