"""TableEvaluator: the bundled benchmark tables as an evaluator (experiments and tests)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from gennas.bench import Benchmark, load_benchmark
from gennas.errors import GennasError, UnknownDataset, unknown
from gennas.evaluators.base import Result, architectures_to_evaluate
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


class TableEvaluator:
    """Test accuracy (%) of each architecture on ``dataset``, looked up in ``benchmark``.

    Args:
        benchmark: a :class:`~gennas.bench.Benchmark`, its name (``"nb201"``), or a space with a
            bundled table (``designer.space``, as the other evaluators take).
        dataset: a column of the table (``"cifar10"``, ``"cifar100"``).
    """

    kind = "table"

    def __init__(self, benchmark: Benchmark | SearchSpace | str = "nb201", dataset: str = "cifar10") -> None:
        self.benchmark = table_of(benchmark)
        if dataset not in self.benchmark.datasets:
            raise UnknownDataset(unknown("dataset", dataset, self.benchmark.datasets))
        self.dataset = dataset

    def __reduce__(self) -> str | tuple[Any, ...]:
        # a bundled table by its name: the 4 MB of it went with every pickled evaluator (to each
        # worker process, user walk 44); a process loads its own copy once
        try:
            bundled = self.benchmark is load_benchmark(self.benchmark.name)
        except GennasError:  # a table of one's own: pickled whole
            bundled = False
        return (TableEvaluator, (self.benchmark.name, self.dataset)) if bundled else super().__reduce__()

    def __repr__(self) -> str:
        # a bare <... object at 0x...> in a notebook said nothing of what it looks up
        return f"TableEvaluator(benchmark={self.benchmark.name!r}, dataset={self.dataset!r})"

    def evaluate(self, archs: Sequence[ArchGraph]) -> list[Result]:
        """One Result per architecture (kind ``"table"``, fidelity ``"full"``); an architecture
        of another space, or one without a row, raises InvalidArchitecture."""
        archs = architectures_to_evaluate(self.benchmark.space, archs, "TableEvaluator.evaluate")
        start = time.perf_counter()
        scores = self.benchmark.accuracy_of(archs, self.dataset)
        cost = (time.perf_counter() - start) / max(1, len(archs))
        meta = {"benchmark": self.benchmark.name, "dataset": self.dataset, "metric": "test accuracy %"}
        return [Result(a, float(s), self.kind, "full", cost, dict(meta)) for a, s in zip(archs, scores)]


def table_of(benchmark: Benchmark | SearchSpace | str) -> Benchmark:
    """The :class:`~gennas.bench.Benchmark` ``benchmark`` names: itself, its name, or the table of
    a space (``TableEvaluator(designer.space, "cifar10")``, as ``ProxyEvaluator(space, ...)`` is
    written, ended in an AttributeError: 'CellSpace' object has no attribute 'datasets')."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    if isinstance(benchmark, str):
        return load_benchmark(benchmark)
    if isinstance(benchmark, SearchSpace):
        if benchmark.benchmark is None:
            raise GennasError(f"space {benchmark.name!r} has no bundled table to look scores up in (only nb201's "
                              "cells have one): verify its architectures with ProxyEvaluator, TrainEvaluator or "
                              "Supernet")
        return load_benchmark(benchmark.benchmark)
    raise GennasError("TableEvaluator's benchmark must be a Benchmark, its name ('nb201') or a space with a "
                      f"bundled table, got {type(benchmark).__name__}")
