"""Does a registered device's latency bound hold on its own machine? Checked where it was timed.

A budget on a device registered by ``gennas latency measure`` is judged by the estimator's upper
bound (:class:`~gennas.design.budget.LatencyBudget`), calibrated leave-one-device-out over the
bundled devices. A new machine can rank architectures unlike any of them: this project's VM, with
1x1 convolutions 2-5x faster than the bundled CPUs, had its 95 % bound cover 76-88 % of random
nb201 cells in four of five registrations (docs/results.md, "nb201 budgets on a device registered here").
``gennas latency measure --check N`` times ``N`` seeded random architectures after the
references (stored in the device file as ``check``) and a budget on the device then warns
(:class:`~gennas.design.budget.UncalibratedBound`) when its bound covered significantly fewer of
them than its confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace

#: one-sided binomial test level below which a bound is said not to hold on the device
CHECK_LEVEL = 0.05


def check_archs(space: SearchSpace, n: int, seed: int = 0, exclude: Sequence[ArchGraph] = ()) -> list[ArchGraph]:
    """``n`` distinct seeded random architectures a design can be (output depends on the input),
    none of ``exclude`` (the references: a budget judges those by their own timing)."""
    rng = np.random.default_rng(seed)
    taken = {a.canonical_hash() for a in exclude}
    out: list[ArchGraph] = []
    for _ in range(100 * max(n, 1)):  # bounded: a tiny space may hold fewer
        if len(out) >= n:
            break
        arch = space.sample(rng)
        key = arch.canonical_hash()
        if key not in taken and not space.output_is_constant(arch):
            taken.add(key)
            out.append(arch)
    return out


@dataclass(frozen=True)
class BoundCheck:
    """How many of ``cells`` architectures timed on the device its bound at ``confidence`` covered."""

    cells: int
    covered: int
    confidence: float

    @classmethod
    def of(cls, budget: Any, archs: Sequence[ArchGraph], measured_ms: Sequence[float] | np.ndarray) -> BoundCheck:
        """How many of ``archs``, timed at ``measured_ms`` ``(n,)`` on the device, the bound of
        ``budget`` (a :class:`~gennas.design.budget.LatencyBudget`, typed loosely: budget.py imports
        this module) at its confidence covered."""
        measured = np.asarray(measured_ms, dtype=np.float64)
        return cls(len(measured), int(np.sum(measured <= budget.judged_ms(archs))), float(budget.confidence))

    @property
    def holds(self) -> bool:
        """False when the coverage is significantly below the confidence (one-sided binomial test)."""
        return self.cells == 0 or binomtest(self.covered, self.cells, self.confidence,
                                            alternative="less").pvalue >= CHECK_LEVEL

    def describe(self) -> str:
        return (f"its {self.confidence:.0%} latency bound covered {self.covered} of {self.cells} architectures "
                f"timed there ({self.covered / max(self.cells, 1):.0%})")


def stored_check(record: dict[str, Any] | None, space: SearchSpace) -> tuple[list[ArchGraph], np.ndarray] | None:
    """The architectures and timings ``(n,)`` ms of a device file's ``check``, or None."""
    check = (record or {}).get("check")
    if not check or not check.get("samples"):
        return None
    archs = [space.parse(a) for a, _ in check["samples"]]
    return archs, np.array([ms for _, ms in check["samples"]], dtype=np.float64)
