"""Shared state of the baseline optimizers: seeded RNG, history, and the set of seen hashes."""

from __future__ import annotations

from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.optimizer import asked_count, told_results
from gennas.spaces import RngLike, SearchSpace, as_rng, resolve_space

#: random draws tried before concluding that (almost) every architecture has been seen
MAX_DRAWS = 1000



class BaseOptimizer:
    """Ask/tell skeleton: subclasses implement :meth:`ask` and optionally :meth:`_observe`.

    Every architecture asked or told is remembered by canonical hash, so no subclass proposes
    an architecture twice (isomorphic cells count as one).
    """

    name = "base"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None) -> None:
        self.space = resolve_space(space)
        self.rng = as_rng(seed)
        self.history: list[Result] = []
        self._seen: set[str] = set()

    # ------------------------------------------------------------ bookkeeping
    def _claim(self, arch: ArchGraph) -> bool:
        """Mark ``arch`` as proposed; False if it (or an isomorphic graph) was seen before."""
        h = arch.canonical_hash()
        if h in self._seen:
            return False
        self._seen.add(h)
        return True

    def _random_new(self) -> ArchGraph | None:
        """A uniform sample not seen before, or None when none turns up in MAX_DRAWS draws."""
        for _ in range(MAX_DRAWS):
            arch = self.space.sample(self.rng)
            if self._claim(arch):
                return arch
        return None

    def _random_batch(self, k: int) -> list[ArchGraph]:
        """Up to ``k`` unseen uniform samples, stopping at the first miss: the space is (nearly)
        exhausted, and going on made MAX_DRAWS draws per missing one (``ask(20000)`` ran for minutes)."""
        out: list[ArchGraph] = []
        for _ in range(asked_count(k)):
            arch = self._random_new()
            if arch is None:
                break
            out.append(arch)
        return out

    def _mutant_new(self, parent: ArchGraph, tries: int = 50) -> ArchGraph | None:
        """A random unseen neighbour of ``parent`` (None when all tries hit seen ones)."""
        for _ in range(tries):
            child = self.space.mutate(parent, self.rng)
            if self._claim(child):
                return child
        return None

    @property
    def successes(self) -> list[Result]:
        return [r for r in self.history if not r.failed]

    @property
    def best(self) -> Result | None:
        ok = self.successes
        return max(ok, key=lambda r: r.score) if ok else None

    # ------------------------------------------------------------ protocol
    def ask(self, k: int) -> list[ArchGraph]:
        raise NotImplementedError

    def tell(self, results: list[Result]) -> None:
        """Record results (asked or not, failed or not) and update the optimizer's state."""
        for r in told_results(results):
            self._seen.add(r.arch.canonical_hash())
            self.history.append(r)
            self._observe(r)

    def _observe(self, result: Result) -> None:
        """Hook: react to one told result."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r}, told={len(self.history)})"
