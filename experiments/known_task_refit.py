"""Should a search retrain the pretrained encoders on a task they were trained on?

The shipped nb201 predictor learnt cifar10 and cifar100 from 2,000 cells each. A designer with
it searches one of them (``designer.search(table, budget=20, batch_size=5)``, as the "search 20"
state of experiments/calibration.py), then states ``generate(20)``. Two refit rules:

* ``heads only`` (the loop's rule for a known task since issue 11's fourth round): every refit
  trains the heads on the frozen encoders' embeddings;
* ``encoders 2.0`` (the rule before): the encoders are retrained at the first refit and
  whenever the results have doubled since (``LoopSettings.encoder_growth``), as for a new task.

Per dataset and rule, over seeds 100-109 (which no README table uses): searches that verified
the table's optimum, the median best verified accuracy, and of the 20 designs stated afterwards
the mean true accuracy (and the first one's), and over the 20 best-ranked designs not verified
(a verified design is stated with its measurement, so its interval promises nothing) the mean
|predicted - true| and the 90 % interval's coverage.

    python experiments/known_task_refit.py      # ~75 s on one core
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gennas  # noqa: E402
from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402
from gennas.design.loop import DesignLoop, LoopSettings  # noqa: E402

SEEDS = range(100, 110)
BUDGET, BATCH, DESIGNS = 20, 5, 20
RULES = ("heads only", "encoders 2.0")


def one_search(bench, dataset: str, seed: int, predictor, generator) -> dict:
    """Best verified; generate's designs' true mean and its first's; the unverified designs'
    |bias| and coverage."""
    designer = gennas.Designer("nb201", task=dataset, predictor=predictor, generator=generator, seed=seed,
                               loop=LoopSettings(pool=1))
    designer.search(lambda a: bench.accuracy(a, dataset), budget=BUDGET, batch_size=BATCH, progress=False)
    shown, designs = returned_and_unverified(designer, DESIGNS)
    returned = np.array([bench.accuracy(c.arch, dataset) for c in shown])  # generate(DESIGNS)
    true = np.array([bench.accuracy(c.arch, dataset) for c in designs])
    stated = np.array([c.predicted_accuracy for c in designs])
    covered = [low <= t <= high for (low, high), t in zip([c.interval for c in designs], true)]
    return {"best": max(r.score for r in designer.history), "true": float(returned.mean()),
            "first": float(returned[0]), "abs bias": float(np.abs(stated - true).mean()),
            "cov": 100.0 * float(np.mean(covered))}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=len(SEEDS), help="the first N of seeds 100-109")
    args = p.parse_args(argv)
    bench = gennas.load_benchmark("nb201")
    generator = gennas.load_generator("nb201", kind="diffusion")
    now = DesignLoop.encoder_growth
    rows, start = [], time.perf_counter()
    for dataset in ("cifar10", "cifar100"):
        optimum = float(bench.accuracy_of(None, dataset).max())
        for rule in RULES:
            # the rule before: a known task's encoders retrained like a new task's
            DesignLoop.encoder_growth = now if rule == "heads only" else (lambda loop: loop.settings.encoder_growth)
            runs = [one_search(bench, dataset, seed, gennas.load_predictor("nb201"), generator)
                    for seed in list(SEEDS)[: args.seeds]]
            DesignLoop.encoder_growth = now
            best = np.array([r["best"] for r in runs])
            found = f"{int(np.sum(best >= optimum))}/{len(runs)}"
            rows.append({"dataset": dataset, "refits": rule, "optimum found": found,
                         "best verified (median)": f"{np.median(best):.2f}",
                         "designs' true mean": f"{np.mean([r['true'] for r in runs]):.2f}",
                         "first design's true": f"{np.mean([r['first'] for r in runs]):.2f}",
                         "mean abs(pred - true)": f"{np.mean([r['abs bias'] for r in runs]):.2f}",
                         "coverage %": f"{np.mean([r['cov'] for r in runs]):.0f}",
                         "per seed best": " ".join(f"{b:.2f}" for b in best)})
            print(markdown_table(rows[-1:]), flush=True)
    print(f"\nCommand: `{command_line()}` ({time.perf_counter() - start:.0f} s; seeds {list(SEEDS)[: args.seeds]}, "
          f"{BUDGET} verifications in batches of {BATCH}, then generate({DESIGNS}))\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
