"""Does the designer keep its latency budgets? Checked against the measured tables.

For 6 bundled devices x 3 budgets (the 10th / 25th / 50th percentile of the device's measured
latencies over all 15,625 nb201 cells), the designer (pretrained predictor and generator,
cifar10) is asked to ``generate(20)`` and to run a 20-verification search (table evaluator,
batches of 5). Printed per setting: the share of designs and of search proposals whose
*measured* latency is over the budget (target 0 %), and the best true cifar10 accuracy among
the designs and among the verified proposals, next to the best accuracy that exists under the
budget.

    python experiments/budgets.py            # 6 devices x 3 budgets (a few minutes on 2 cores)
    python experiments/budgets.py --quick    # 2 devices x 3 budgets
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402

DEVICES = ("pixel3", "samsung_s7", "1080ti_1", "titanxp_32", "gold_6240", "silver_4210r")
QUICK_DEVICES = ("pixel3", "1080ti_1")
PERCENTILES = (10, 25, 50)
TASK = "cifar10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK_DEVICES}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = gennas.load_benchmark("nb201")
    predictor = gennas.load_predictor("nb201")
    generator = gennas.load_generator("nb201", kind="diffusion")
    accuracy = bench.accuracy_of(None, TASK)
    rows = []
    for device in QUICK_DEVICES if args.quick else DEVICES:
        measured = bench.latency_of(None, device)
        for pct in PERCENTILES:
            budget = float(np.percentile(measured, pct))
            best_feasible = float(accuracy[measured <= budget].max())
            start = time.process_time()
            designer = gennas.Designer("nb201", task=TASK, device=device, max_latency_ms=budget, seed=args.seed,
                                       predictor=predictor, generator=generator, loop=LoopSettings(pool=1))
            designs = [c.arch for c in designer.generate(20)]
            result = designer.search(lambda a: bench.accuracy(a, TASK), budget=20, batch_size=5)
            proposals = [r.arch for r in result.history]
            seconds = time.process_time() - start
            over = lambda archs: 100.0 * float(np.mean(bench.latency_of(archs, device) > budget))  # noqa: E731
            rows.append({
                "device": device, "budget ms": f"{budget:.3g} (p{pct})",
                "designs over (%)": f"{over(designs):.0f}", "proposals over (%)": f"{over(proposals):.0f}",
                "best design": f"{bench.accuracy_of(designs, TASK).max():.2f}",
                "best verified": f"{result.best.score:.2f}", "best under budget": f"{best_feasible:.2f}",
                "CPU s": f"{seconds:.1f}",
            })
            print(rows[-1], file=sys.stderr)
    print(f"Command: `{command_line()}`\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
