"""Model-free baselines: random search, regularised evolution, local search."""

from __future__ import annotations

from collections import deque

from gennas.baselines.base import BaseOptimizer
from gennas.search.optimizer import asked_count
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.spaces import RngLike, SearchSpace


class RandomSearch(BaseOptimizer):
    """Uniform samples from the space (its documented prior), never repeating a hash."""

    name = "random"

    def ask(self, k: int) -> list[ArchGraph]:
        return self._random_batch(k)


class RegularizedEvolution(BaseOptimizer):
    """Aging evolution (Real et al., AAAI 2019).

    The first ``population_size`` proposals are random; then each child is a mutation of
    the best of ``sample_size`` members drawn from the population, and the population keeps
    only the ``population_size`` most recent successful results (the oldest dies).
    """

    name = "evolution"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, population_size: int = 20,
                 sample_size: int = 5) -> None:
        super().__init__(space, seed)
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)
        self.population: deque[Result] = deque(maxlen=self.population_size)
        self._asked = 0

    def ask(self, k: int) -> list[ArchGraph]:
        out = []
        for _ in range(asked_count(k)):
            arch = None
            if self._asked >= self.population_size and self.population:
                idx = self.rng.choice(len(self.population), size=min(self.sample_size, len(self.population)),
                                      replace=False)
                parent = max((self.population[i] for i in idx), key=lambda r: r.score)
                arch = self._mutant_new(parent.arch)
            arch = arch or self._random_new()
            if arch is None:  # nothing unseen turns up: the space is (nearly) exhausted
                break
            out.append(arch)
            self._asked += 1
        return out

    def _observe(self, result: Result) -> None:
        if not result.failed:  # a failed child has no fitness; it simply never joins
            self.population.append(result)


class LocalSearch(BaseOptimizer):
    """Hill climbing with random restarts (White et al., UAI 2021).

    ``num_init`` random architectures seed the climb from the best of them; the neighbours of
    the current architecture are verified in random order and the climb moves as soon as one
    is better (first improvement). When a neighbourhood holds nothing better, the climb
    restarts from a fresh random architecture.
    """

    name = "local"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, num_init: int = 10) -> None:
        super().__init__(space, seed)
        self._init_left = int(num_init)
        self.current: Result | None = None
        self._queue: list[ArchGraph] = []

    def ask(self, k: int) -> list[ArchGraph]:
        out: list[ArchGraph] = []
        while len(out) < k:
            if self._init_left > 0 or self.current is None:
                self._init_left = max(self._init_left - 1, 0)
                arch = self._random_new()
                if arch is None:
                    break
                out.append(arch)
                continue
            while self._queue and len(out) < k:
                arch = self._queue.pop()
                if self._claim(arch):
                    out.append(arch)
            if len(out) < k and not self._queue:
                if out:  # wait for this batch's verdict before deciding to restart
                    break
                self.current = None  # local optimum: restart (the next told result becomes current)
        return out

    def _observe(self, result: Result) -> None:
        if result.failed:
            return
        if self.current is None or result.score > self.current.score:
            self.current = result
            neighbours = self.space.neighbours(result.arch)
            order = self.rng.permutation(len(neighbours))
            self._queue = [neighbours[i] for i in order]
