"""How a transfer search's refits should train: what the loop knows of a new dataset after n
of its own verified results, and what the refits cost.

A designer in transfer mode (the predictor pretrained without the target's labels, as
``gennas-transfer`` in experiments/search.py) searches NAS-Bench-201 with the target table as
evaluator for 50 verifications at batch 1 (no stop at the optimum: on these two tables the
transfer loop reaches it by the second verification, so verifications-to-optimum cannot tell
refit rules apart). After 20, 30 and 50 results the script asks the loop's own ranking of every
cell (``DesignLoop.predict``, the refitted predictor corrected by the source tables) and
compares it with the target table:

* Kendall tau over all 15,625 cells, and over the truly best 5 % (the cells a search is after);
* the best true accuracy among the 10 unverified cells the loop ranks highest (what its next
  picks could reach), as a gap in points to the best unverified cell.

It also prints the CPU seconds of the run's ``tell`` calls (the refits). Variants:
``--encoder-growth G`` retrains the encoders when the results grew by G since they last were
(``LoopSettings.encoder_growth``); ``inf`` never retrains them (heads-only refits).
Seeds 100-104, which no README table uses.

    python experiments/transfer_refit.py --encoder-growth 1.5     # ~5 min on one core
    python experiments/transfer_refit.py --encoder-growth inf
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402

torch.set_num_threads(1)

import search  # noqa: E402  (experiments/search.py: the same method factory)
from _common import command_line  # noqa: E402
from gennas.bench import load_benchmark  # noqa: E402
from gennas.evaluators import TableEvaluator  # noqa: E402

SEEDS = range(100, 105)
CHECKPOINTS = (20, 30, 50)
TOP_SHARE = 0.05
NEXT_PICKS = 10


def loop_quality(loop, cells: list, truth: np.ndarray, verified: set[str]) -> tuple[float, float, float]:
    """(tau over all cells, tau over the truly best TOP_SHARE, the best true accuracy of the
    unverified cells minus the best among the NEXT_PICKS of them ranked highest) of the loop's ranking."""
    mean, _ = loop.predict(cells)
    top = truth >= np.quantile(truth, 1 - TOP_SHARE)
    unverified = np.array([c.canonical_hash() not in verified for c in cells])
    order = np.argsort(-np.where(unverified, mean, -np.inf), kind="stable")[:NEXT_PICKS]
    return (float(kendalltau(mean, truth)[0]), float(kendalltau(mean[top], truth[top])[0]),
            float(truth[unverified].max() - truth[order].max()))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder-growth", type=float, default=None,
                   help="LoopSettings.encoder_growth (inf: heads-only refits; default: the loop's)")
    p.add_argument("--refit-batch", type=int, default=None,
                   help="rows per refit step (PredictorConfig.batch_size; default: the checkpoint's)")
    p.add_argument("--seeds", type=int, default=len(SEEDS), help="the first N of seeds 100-104")
    args = p.parse_args(argv)
    print(command_line())
    bench = load_benchmark("nb201")
    cells = list(bench.space.enumerate())
    print(f"\n| dataset | results | tau, all cells | tau, best {TOP_SHARE:.0%} | gap of the next {NEXT_PICKS} picks "
          "(points) | tell CPU s |", flush=True)
    print("|---|---|---|---|---|---|")
    for dataset in ("cifar10", "cifar100"):
        truth = np.array([bench.accuracy(c, dataset) for c in cells])
        evaluator = TableEvaluator(bench, dataset)
        rows: dict[int, list[tuple[float, float, float, float]]] = {n: [] for n in CHECKPOINTS}
        for seed in list(SEEDS)[: args.seeds]:
            if args.refit_batch is not None:  # the loop refits a copy of this predictor
                search._pretrained(dataset)[0].config.batch_size = args.refit_batch
            loop = search.gennas_transfer(bench.space, seed, dataset)
            if args.encoder_growth is not None:
                loop.settings.encoder_growth = args.encoder_growth
            tell_cpu = 0.0
            for n in range(1, max(CHECKPOINTS) + 1):
                results = evaluator.evaluate(loop.ask(1))
                start = time.process_time()
                loop.tell(results)
                tell_cpu += time.process_time() - start
                if n in rows:
                    verified = {r.arch.canonical_hash() for r in loop.history}
                    rows[n].append((*loop_quality(loop, cells, truth, verified), tell_cpu))
        for n, values in rows.items():
            tau, tau_top, gap, cpu = np.median(np.array(values), axis=0)
            print(f"| {dataset} | {n} | {tau:.3f} | {tau_top:.3f} | {gap:.2f} | {cpu:.1f} |", flush=True)
    print(f"\nmedians over seeds {list(SEEDS)[: args.seeds]}; encoder growth "
          f"{'the loop default' if args.encoder_growth is None else args.encoder_growth}; refit batch "
          f"{'the default' if args.refit_batch is None else args.refit_batch}")


if __name__ == "__main__":
    main()
