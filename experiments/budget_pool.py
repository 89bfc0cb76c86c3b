"""Does the designer find the predictor's best cells within a latency budget?

For one bundled device and budget (default pixel3, 5 ms; cifar10, seed 0): how many cells keep
the budget and the best of them in the table; the predictor's own ranking of those cells (Kendall
tau against the table, the true accuracy range of its top 20); and the true accuracy of the first
design `generate(10)` returns, and of its best. The figures behind `Designer.generate` ranking
every cell of an enumerable space within a budget (docs/results.md "Latency budgets kept, by the measurements").

    python experiments/budget_pool.py                        # pixel3, 5 ms (about 10 s)
    python experiments/budget_pool.py --device gold_6240 --max-latency-ms 10
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import kendalltau

import gennas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="pixel3")
    parser.add_argument("--max-latency-ms", type=float, default=5.0)
    parser.add_argument("--task", default="cifar10")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bench = gennas.load_benchmark("nb201")
    keep = np.flatnonzero(bench.latency_of(None, args.device) <= args.max_latency_ms)
    archs = [bench.space.from_string(bench.strings[i]) for i in keep]
    true = np.array([bench.accuracy(a, args.task) for a in archs])
    predicted, _ = gennas.load_predictor("nb201").predict(archs, args.task)
    top20 = true[np.argsort(-predicted)[:20]]
    designer = gennas.Designer("nb201", task=args.task, device=args.device, max_latency_ms=args.max_latency_ms,
                               seed=args.seed)
    designs = [bench.accuracy(c.arch, args.task) for c in designer.generate(10)]
    print(f"{len(keep)} cells keep {args.max_latency_ms:g} ms on {args.device}; the best of them: {true.max():.2f} %")
    print(f"predictor within the budget: Kendall tau {kendalltau(predicted, true)[0]:.3f}, its top 20 "
          f"{top20.min():.2f}-{top20.max():.2f} %")
    print(f"generate(10): first design {designs[0]:.2f} %, best {max(designs):.2f} %, mean {np.mean(designs):.2f} %")


if __name__ == "__main__":
    main()
