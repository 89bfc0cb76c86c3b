"""proxy-topk: a zero-cost proxy's order alone, the designer's from-scratch warm-up without the rest.

Verify the cells of the space in descending order of a zero-cost proxy's shipped score (synflow by
default: the proxy and the table the designer's warm-up ranks by, through the same function,
:func:`gennas.design.pool.proxy_order`). If the designer from scratch cannot beat this, what it
finds early is the proxy's doing (the order alone reached the cifar10 optimum at
verification 13, cifar100 at 3). :class:`ProxyWarmup` gives a baseline the designer's warm-up.
"""

from __future__ import annotations

from gennas.baselines.base import BaseOptimizer
from gennas.design.pool import proxy_order
from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.optimizer import asked_count
from gennas.spaces import RngLike, SearchSpace
from gennas.surrogates.features import available


class ProxyTopK(BaseOptimizer):
    """Every cell in descending order of ``proxy``, isomorphic cells verified once.

    Cells whose output cannot depend on their input are left out, as the designer leaves them out
    (:meth:`~gennas.spaces.base.SearchSpace.output_is_constant`).

    Args:
        space: a space shipping ``proxy`` for every cell (``nb201``): ranking a whole space by a
            computed proxy would cost a network build per cell.
        seed: breaks ties between equal scores.
        proxy: a zero-cost proxy shipped for ``space`` (``gennas.surrogates.features.available``).
    """

    name = "proxy-topk"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, proxy: str = "synflow") -> None:
        super().__init__(space, seed)
        if not self.space.is_finite_enumerable() or proxy not in available(self.space):
            raise GennasError(f"proxy-topk needs shipped {proxy!r} scores for every cell; space "
                              f"{self.space.name!r} ships them for {available(self.space) or 'no proxy'}")
        cells = [a for a in self.space.enumerate() if not self.space.output_is_constant(a)]
        # proxy_order sorts stably: a seeded shuffle first makes the seed break ties between equal scores
        cells = [cells[int(i)] for i in self.rng.permutation(len(cells))]
        self.order = [cells[int(i)] for i in proxy_order(self.space, cells, proxy)]
        self.proxy = proxy
        self._next = 0

    def ask(self, k: int) -> list[ArchGraph]:
        out: list[ArchGraph] = []
        while len(out) < asked_count(k) and self._next < len(self.order):
            arch = self.order[self._next]
            self._next += 1
            if self._claim(arch):  # isomorphic cells are verified once
                out.append(arch)
        return out


class ProxyWarmup:
    """Any optimizer, its first ``n`` proposals taken from :class:`ProxyTopK` instead: the designer's
    from-scratch warm-up (``LoopSettings(warmup=5, warmup_proxy="synflow")``) given to a baseline.

    Every result is told to both, so the wrapped optimizer learns from the warm-up's cells and never
    proposes them again; after the warm-up it runs unchanged (its own random start included).

    Args:
        optimizer: the wrapped optimizer (a baseline of ``optimizer.space``).
        n: proposals taken in the proxy's order first.
        proxy: the zero-cost proxy of the order.
        seed: breaks ties in the proxy's order.
    """

    def __init__(self, optimizer: BaseOptimizer, n: int = 5, proxy: str = "synflow", seed: RngLike = None) -> None:
        self.optimizer, self.space = optimizer, optimizer.space
        self.order = ProxyTopK(optimizer.space, seed, proxy)
        self.left = int(n)

    @property
    def history(self) -> list[Result]:
        """What the wrapped optimizer was told (the harness leaves these out of a resumed tell)."""
        return self.optimizer.history

    def ask(self, k: int) -> list[ArchGraph]:
        out = self.order.ask(min(asked_count(k), self.left))
        self.left -= len(out)
        if len(out) < k:
            # an ask across the warm-up's end: the wrapped optimizer has not been told the cells just
            # taken, so any of them it proposes too is dropped (the batch comes out short)
            taken = {a.canonical_hash() for a in out}
            out += [a for a in self.optimizer.ask(k - len(out)) if a.canonical_hash() not in taken]
        return out

    def tell(self, results: list[Result]) -> None:
        self.order.tell(results)
        self.optimizer.tell(results)
