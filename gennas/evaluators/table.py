"""TableEvaluator: the bundled benchmark tables as an evaluator (experiments and tests)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gennas.bench import Benchmark, load_benchmark
from gennas.errors import UnknownDataset, unknown
from gennas.evaluators.base import Result, architectures_to_evaluate
from gennas.graph import ArchGraph


class TableEvaluator:
    """Test accuracy (%) of each architecture on ``dataset``, looked up in ``benchmark``.

    Args:
        benchmark: a :class:`~gennas.bench.Benchmark` or its name (``"nb201"``).
        dataset: a column of the table (``"cifar10"``, ``"cifar100"``).
    """

    kind = "table"

    def __init__(self, benchmark: Benchmark | str = "nb201", dataset: str = "cifar10") -> None:
        self.benchmark = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
        if dataset not in self.benchmark.datasets:
            raise UnknownDataset(unknown("dataset", dataset, self.benchmark.datasets))
        self.dataset = dataset

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
