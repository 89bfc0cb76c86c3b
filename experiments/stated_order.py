"""Does ranking generate's designs by what they state cost anything? (gennas.design.verified.in_stated_order)

After results the conservative score (the learned calibration's binned low end) chooses which
designs ``generate`` returns; their stated means now order them. For each setting (the shipped
predictor told n random table results on a bundled dataset) this prints, over the unverified
designs of ``generate(20)``, the pairs the conservative score's order put against their stated
means, and the Kendall tau of each order with the true accuracy and the true mean of the first
five in each order.

    python experiments/stated_order.py                 # development seeds 5, 6: about 10 s
    python experiments/stated_order.py --seeds 5,6,7,8
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

import gennas  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402

DESIGNS = 20


def inverted_pairs(values: np.ndarray) -> int:
    """Pairs ``i < j`` of ``values`` ``(m,)`` (in rank order) where the later one is higher."""
    return int(sum(np.sum(values[i + 1:] > values[i] + 1e-9) for i in range(len(values))))


def row(dataset: str, seed: int, told: int) -> dict:
    bench = gennas.load_benchmark("nb201")
    archs, y = bench.archs(), bench.accuracy_of(None, dataset)
    designer = gennas.Designer("nb201", task=dataset, seed=seed)
    rows = np.random.default_rng(seed).choice(len(archs), size=told, replace=False)
    designer.tell([Result(archs[i], float(y[i]), "table") for i in rows])
    designs = [c for c in designer.generate(DESIGNS)
               if c.verified_score is None and c.predicted_accuracy is not None]
    p = designer.predictions([c.arch for c in designs])
    conservative = np.lexsort((-p.raw, -p.score))  # the conservative score's order (Predictions.order)
    stated = np.arange(len(designs))  # generate's order: by the stated means
    truth = np.array([y[bench.rows([c.arch])[0]] for c in designs])
    means = np.array([c.predicted_accuracy for c in designs])
    tau = lambda order: float(kendalltau(-np.arange(len(order)), truth[order]).statistic)  # noqa: E731
    return {"dataset": dataset, "seed": seed, "told": told, "designs": len(designs),
            "inverted pairs, conservative order": inverted_pairs(means[conservative]),
            "inverted pairs, stated order": inverted_pairs(means[stated]),
            "tau conservative": tau(conservative), "tau stated": tau(stated),
            "top5 true conservative": float(truth[conservative[:5]].mean()),
            "top5 true stated": float(truth[stated[:5]].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="5,6", help="comma-separated seeds (development: 5-19)")
    args = ap.parse_args()
    rows = [row(ds, seed, told) for ds in ("cifar10", "cifar100") for seed in map(int, args.seeds.split(","))
            for told in (10, 50)]
    print(f"Command: `{command_line()}`\n")
    print(markdown_table(rows))
    mean = {key: float(np.mean([r[key] for r in rows])) for key in ("tau conservative", "tau stated")}
    print(f"\nmean Kendall tau with the truth: conservative order {mean['tau conservative']:.3f}, "
          f"stated order {mean['tau stated']:.3f}")


if __name__ == "__main__":
    main()
