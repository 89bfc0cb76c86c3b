"""LatencyFilter: any optimizer, kept within a latency budget without spending verifications."""

from __future__ import annotations

import math
from collections.abc import Callable

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.optimizer import Optimizer

#: proposals of a wrapped optimizer looked at for feasible ones before giving up on this ask: more
#: than nb201 holds, as an optimizer that proposes in a fixed order (transfer-topk: big, slow cells
#: first) may reach the first cell within a tight budget only after thousands (100 rounds of one
#: proposal each verified nothing under 4 ms on pixel3)
MAX_FILTER_PROPOSALS = 20_000


class LatencyFilter:
    """Makes any optimizer respect a latency budget without spending verifications on it.

    Proposals with ``latency(arch) > max_latency_ms`` are told back to the wrapped optimizer
    at once as failed results (so it learns to avoid them) and never reach the evaluator;
    only feasible architectures are returned, and only they count against the budget.
    """

    def __init__(self, optimizer: Optimizer, latency: Callable[[ArchGraph], float], max_latency_ms: float,
                 device: str = "") -> None:
        if not max_latency_ms > 0:
            raise GennasError(f"max_latency_ms must be positive, got {max_latency_ms}")
        self.optimizer, self.latency = optimizer, latency
        self.max_latency_ms, self.device = float(max_latency_ms), device
        self.space = getattr(optimizer, "space", None)
        self.rejected = 0

    def ask(self, k: int) -> list[ArchGraph]:
        out: list[ArchGraph] = []
        looked = 0
        while looked < MAX_FILTER_PROPOSALS:
            proposed = self.optimizer.ask(k - len(out))
            if not proposed:
                break
            looked += len(proposed)
            rejected = []
            for arch in proposed:
                ms = float(self.latency(arch))
                if ms <= self.max_latency_ms:
                    out.append(arch)
                else:
                    error = f"latency {ms:.3g} ms over the {self.max_latency_ms:g} ms budget"
                    rejected.append(Result(arch, math.nan, "latency", error=error,
                                           metadata={"latency_ms": ms, "device": self.device}))
            if rejected:
                self.rejected += len(rejected)
                self.optimizer.tell(rejected)
            if len(out) >= k:
                break
        return out

    def tell(self, results: list[Result]) -> None:
        self.optimizer.tell(results)
