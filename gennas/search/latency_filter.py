"""LatencyFilter: any optimizer, kept within a latency budget without spending verifications."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.optimizer import Optimizer
from gennas.spaces import SearchSpace

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
                 device: str = "", skip: Callable[[ArchGraph], str | None] | None = None,
                 keeping: Callable[[], int | None] | None = None, budget: Any = None) -> None:
        """``skip(arch)``: a reason to refuse a proposal whatever its latency (None: judge it);
        ``keeping()``: how many distinct architectures keep the budget (None: unknown), said when
        the search runs out of proposals; ``budget``: the
        :class:`~gennas.design.budget.LatencyBudget` ``latency`` reads, where there is one."""
        if not max_latency_ms > 0:
            raise GennasError(f"max_latency_ms must be positive, got {max_latency_ms}")
        self.optimizer, self.latency, self.skip, self.keeping = optimizer, latency, skip, keeping
        self.max_latency_ms, self.device, self.budget = float(max_latency_ms), device, budget
        self.space = getattr(optimizer, "space", None)
        self.rejected = 0

    @property
    def direction(self) -> str | None:
        """The wrapped optimizer's, where it declares one (the designer's loop reads scores of its
        direction itself): not forwarded, a minimising search negated them twice and the designer
        learned the worst cells as the best (user walk 50)."""
        return getattr(self.optimizer, "direction", None)

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
                reason = None if self.skip is None else self.skip(arch)
                ms = math.nan if reason is not None else float(self.latency(arch))
                if reason is None and ms <= self.max_latency_ms:
                    out.append(arch)
                else:
                    error = reason or f"latency {ms:.3g} ms over the {self.max_latency_ms:g} ms budget"
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

    def search_notes(self, exhausted: bool) -> list[str]:
        """The wrapped optimizer's notes, and when the search ran out of proposals, why: the
        budget (a random search stopped saying only that it "proposed nothing new")."""
        inner = getattr(self.optimizer, "search_notes", None)
        notes = list(inner(exhausted)) if callable(inner) else []
        if exhausted and self.rejected:
            on = f" on {self.device}" if self.device else ""
            count = None if self.keeping is None else self.keeping()
            few = "few architectures keep it" if count is None else \
                f"{count} distinct working architecture{'s' * (count != 1)} keep{'s' * (count == 1)} it"
            notes.append(f"{self.rejected} of its proposals were over the {self.max_latency_ms:g} ms budget{on} "
                         f"and not verified: {few}")
        return notes


def budget_filter(optimizer: Optimizer, space: SearchSpace, device: str | None, max_latency_ms: float,
                  confidence: float = 0.95) -> LatencyFilter:
    """``optimizer`` kept within a latency budget judged as the designer judges it: the measured
    latency where the bundled tables have ``device``, else the estimator's upper bound at
    ``confidence`` (a device registered by ``gennas latency measure``). A cell whose output cannot
    depend on its input is never proposed: pixel3 times such cells at 0.003 ms, and under a tight
    budget every baseline verified only those, at chance. :class:`InfeasibleBudget` at once where
    no working cell keeps the budget (an enumerable space is checked exhaustively)."""
    from gennas.design.budget import check_feasible, latency_models  # the designer's own judgement

    if device is None:
        raise GennasError("a latency budget (max_latency_ms) needs a device")
    _, budget = latency_models(space, device, max_latency_ms, confidence)
    check_feasible(budget, space)

    def constant(arch: ArchGraph) -> str | None:
        return "its output cannot depend on the input (at chance on any task)" if space.output_is_constant(arch) else None

    def keeping() -> int | None:
        return len(budget.admissible(space, 0)) if space.is_finite_enumerable() else None

    return LatencyFilter(optimizer, lambda arch: float(budget.judged_ms([arch])[0]), max_latency_ms, device, constant,
                         keeping, budget)
