"""The small costs behind issue 12's third round, each measured on its own (CPU ms, one thread).

* a heads-only ``Predictor.update`` of one new result on top of 40 told ones (5 steps), the
  default path, and the same with a cleared embedding cache (every row embedded again, as
  before the cache) and the members switched in and out of training mode as before;
* ``members.eval()`` of the shipped predictor (what ``predict`` called every time);
* a deep copy of a predictor whose embedding cache holds every nb201 class (the loop copies
  the pretrained predictor once per search);
* building one nb201 graph through ``ArchGraph(...)`` (normalised and checked) against
  ``ArchGraph.from_checked`` (what the spaces use now);
* in a fresh interpreter: importing ``scipy.stats`` and computing nb201's equivalence classes
  (what experiments/loop_cost.py's warm-up run pays once per process).

    python experiments/refit_speed.py     # ~1 min
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import copy  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gennas  # noqa: E402
from _common import command_line, no_options  # noqa: E402
from gennas.graph import ArchGraph  # noqa: E402
from gennas.surrogates.embedding_cache import EmbeddingCache  # noqa: E402

REPEATS = 10


def cpu_ms(fn, repeats: int = REPEATS) -> float:
    """Mean CPU milliseconds of ``fn()`` over ``repeats`` calls."""
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return 1000 * (time.process_time() - start) / repeats


def main() -> None:
    no_options(__doc__)
    print(command_line() + "\n")
    bench = gennas.load_benchmark("nb201")
    rng = np.random.default_rng(0)
    cells = [bench.space.parse(s) for s in rng.choice(bench.strings, 41, replace=False)]
    scores = [bench.accuracy(c, "cifar10") for c in cells]
    predictor = gennas.load_predictor("nb201", holdout="cifar10")
    predictor.update(cells[:40], scores[:40], task="cifar10", steps=5, encoders=False)
    one_new = lambda p: p.update(cells[40:], scores[40:], task="cifar10", steps=5, encoders=False)  # noqa: E731

    def as_before() -> None:  # every row re-embedded, modes switched around training
        predictor._embeddings.clear()
        predictor.members.train()
        one_new(predictor)
        predictor.members.eval()

    print("| what | CPU ms |\n|---|---|")
    print(f"| heads-only update, one new result on 40 (5 steps) | {cpu_ms(lambda: one_new(predictor)):.1f} |")
    print(f"| the same, cache cleared and modes switched (as before) | {cpu_ms(as_before):.1f} |")
    print(f"| members.eval() | {cpu_ms(predictor.members.eval, 100):.2f} |")
    predictor.predict(list(bench.space.enumerate()), "cifar100")  # fills the cache: every class
    shared = cpu_ms(lambda: copy.deepcopy(predictor), 3)
    cache = predictor._embeddings

    class TensorByTensor(EmbeddingCache):
        __deepcopy__ = None  # copy.deepcopy's default: every stored tensor copied, as before

    predictor._embeddings = TensorByTensor()
    predictor._embeddings._rows, predictor._embeddings._fingerprint = cache._rows, cache._fingerprint
    plain = cpu_ms(lambda: copy.deepcopy(predictor), 3)
    print(f"| deep copy of the predictor, {len(cache):,} cached embeddings shared | {shared:.0f} |")
    print(f"| the same, every cached tensor copied (as before) | {plain:.0f} |")
    choices = bench.space.choices(cells[0])
    edges = cells[0].edges
    print(f"| ArchGraph(...), normalised and checked | "
          f"{cpu_ms(lambda: ArchGraph('nb201', ('input', *choices, 'output'), edges), 10000):.4f} |")
    print(f"| ArchGraph.from_checked | {cpu_ms(lambda: ArchGraph.from_checked('nb201', choices, edges), 10000):.4f} |")
    code = ("import time;t=time.process_time();import scipy.stats;a=time.process_time();"
            "from gennas.surrogates.equivalence import equivalence_classes;b=time.process_time();"
            "equivalence_classes('nb201');print(f'{1000*(a-t):.0f} {1000*(time.process_time()-b):.0f}')")
    imports, classes = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True).stdout.split()
    print(f"| import scipy.stats, fresh interpreter | {imports} |")
    print(f"| nb201 equivalence classes, once per process | {classes} |")


if __name__ == "__main__":
    main()
