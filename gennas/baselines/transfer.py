"""transfer-topk and transfer-local: what a practitioner does without any tool on a new dataset.

Verify, in order, the architectures that rank best on average over the bundled tables of the
*other* datasets (the target's own labels are never looked at). The bar a transfer method must
clear: if a designer cannot beat "try what was best elsewhere", its transfer is worth nothing.
transfer-local adds the obvious next step, the neighbours of the best verified cell
(the designer's transfer lead over transfer-topk was that one local step).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from gennas.baselines.base import BaseOptimizer
from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.search.optimizer import asked_count
from gennas.spaces import RngLike, SearchSpace


class TransferTopK(BaseOptimizer):
    """Architectures in order of their mean rank over the other datasets' accuracy tables.

    Args:
        space: a space with a bundled benchmark (``nb201``).
        seed: breaks ties between equal mean ranks.
        task: the target dataset, left out of the ranking (None: every bundled dataset counts);
            ``new-<dataset>`` (a bundled table standing in for a new dataset, as the designer's
            held-out runs name it) leaves ``<dataset>`` out too: named so, it ranked by the target's
            own table and verified the optimum first.
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
        while len(out) < asked_count(k) and (arch := self._next_source()) is not None:
            out.append(arch)
        return out

    def _next_source(self) -> ArchGraph | None:
        """The best-ranked cell not yet proposed (isomorphic cells are verified once), claimed; None when all are."""
        while self._next < len(self.order):
            arch = self.space.from_string(self.order[self._next])
            self._next += 1
            if self._claim(arch):
                return arch
        return None


class TransferLocal(TransferTopK):
    """transfer-topk with a local step: what a practitioner tries next, one edit from what worked.

    The source tables' best cell first; then every other pick is the unproposed one-edit neighbour
    (``space.neighbours``) of the best cell verified so far that ranks best on the source tables,
    and the picks between them are transfer-topk's next cells: source best, neighbour, source,
    neighbour, ... The local step comes right after the source's best because that is the step
    that finds a target optimum lying one edit from the source's. A pick with nothing left on
    its side takes the other side's. Before any result (the first ask of a batch) the anchor of
    the local step is the source's best. Same arguments as :class:`TransferTopK`.
    """

    name = "transfer-local"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, task: str | None = None) -> None:
        super().__init__(space, seed, task)
        self.rank = {text: i for i, text in enumerate(self.order)}  # position in the source ranking
        self._asked = 0
        self._first: ArchGraph | None = None

    def ask(self, k: int) -> list[ArchGraph]:
        out: list[ArchGraph] = []
        while len(out) < asked_count(k):
            local = self._asked % 2 == 1
            first, second = (self._next_neighbour, self._next_source) if local else (self._next_source,
                                                                                      self._next_neighbour)
            arch = first()
            arch = second() if arch is None else arch
            if arch is None:  # every cell proposed
                break
            self._first = arch if self._first is None else self._first
            out.append(arch)
            self._asked += 1
        return out

    def _next_neighbour(self) -> ArchGraph | None:
        """The unproposed neighbour of the best verified cell (else the first pick) that ranks best
        on the source tables, claimed; None when it has none left."""
        anchor = self.best.arch if self.best is not None else self._first
        if anchor is None:
            return None
        fresh = [a for a in self.space.neighbours(anchor) if a.canonical_hash() not in self._seen]
        if not fresh:
            return None
        arch = min(fresh, key=lambda a: self.rank[self.space.to_string(a)])
        self._claim(arch)
        return arch
