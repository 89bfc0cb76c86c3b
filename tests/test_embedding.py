"""gennas embedded in another library: shared designers, the host's random streams, its grad mode
and dtype, objects freed after a search (user walk 44)."""

from __future__ import annotations

import collections
import warnings
from concurrent.futures import ThreadPoolExecutor

import gennas


def test_one_designer_asked_and_told_from_two_threads_takes_turns(bench):
    """Both threads refitted the predictor at once: a corrupted heap (6 runs in 10), a KeyError from
    the prediction memo, and the same architecture asked by both workers."""
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    asked: list[str] = []

    def worker(_: int) -> None:
        for _ in range(4):
            archs = designer.ask(2)
            asked.extend(map(str, archs))
            designer.tell([gennas.Result(a, bench.accuracy(a, "cifar10"), "train") for a in archs])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(worker, [0, 1]))  # re-raises a worker's exception
    assert len(asked) == 16 and max(collections.Counter(asked).values()) == 1
    assert len(designer.history) == 16 and designer.pending == []
