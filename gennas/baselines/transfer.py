"""transfer-topk: what a practitioner does without any tool on a new dataset.

Verify, in order, the architectures that rank best on average over the bundled tables of the
*other* datasets (the target's own labels are never looked at). The bar a transfer method must
clear: if a designer cannot beat "try what was best elsewhere", its transfer is worth nothing.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from gennas.baselines.base import BaseOptimizer
from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import RngLike, SearchSpace


class TransferTopK(BaseOptimizer):
    """Architectures in order of their mean rank over the other datasets' accuracy tables.

    Args:
        space: a space with a bundled benchmark (``nb201``).
        seed: breaks ties between equal mean ranks.
        task: the target dataset, left out of the ranking (None: every bundled dataset counts);
            ``new-<dataset>`` (a bundled table standing in for a new dataset, as the designer's
            held-out runs name it) leaves ``<dataset>`` out too: named so, it ranked by the target's
            own table and verified the optimum first (a user walk).
    """

    name = "transfer-topk"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, task: str | None = None) -> None:
        super().__init__(space, seed)
        if self.space.benchmark is None:
            raise GennasError(f"transfer-topk needs bundled tables; space {self.space.name!r} has none")
        from gennas.bench import load_benchmark

        bench = load_benchmark(self.space.benchmark)
        target = task.removeprefix("new-") if isinstance(task, str) else task
        others = [d for d in bench.datasets if d != target]
        if not others:
            raise GennasError(f"transfer-topk has no dataset other than {task!r} to transfer from")
        # rank 1 = best on that dataset; ties (isomorphic cells score alike) share the mean rank
        ranks = np.mean([rankdata(-bench.accuracy_of(None, d)) for d in others], axis=0)
        jitter = self.rng.random(len(ranks))  # seeded tie-break among equal mean ranks
        self.order = [bench.strings[i] for i in np.lexsort((jitter, ranks))]
        self.sources = others
        self._next = 0

    def ask(self, k: int) -> list[ArchGraph]:
        out: list[ArchGraph] = []
        while len(out) < k and self._next < len(self.order):
            arch = self.space.from_string(self.order[self._next])
            self._next += 1
            if self._claim(arch):  # isomorphic cells are verified once
                out.append(arch)
        return out
