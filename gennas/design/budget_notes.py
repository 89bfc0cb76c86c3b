"""Notes on a latency budget itself, beside the designs (:mod:`gennas.design.notes`): one that keeps
every architecture (a budget in another unit?), and one tighter than any the statements were
checked under."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def loose_budget_note(budget: Any, space: Any) -> str | None:
    """Where the latency ``budget`` (a :class:`~gennas.design.budget.LatencyBudget`, None: none)
    keeps every architecture of ``space`` (its slowest judged within it), that it constrains nothing
    and may be in another unit: `--max-latency-ms 20000` on pixel3 (slowest cell 36.8 ms) designed
    and searched as without a budget, without a word. In a space too large to list
    (its slowest architecture is unknown), a budget far above a sample's slowest
    (:func:`sampled_loose_budget_note`). None elsewhere."""
    if budget is None:
        return None
    if not space.is_finite_enumerable():
        return sampled_loose_budget_note(budget, space)
    slowest = budget.slowest_ms(space)  # judged once per budget
    if slowest > budget.max_latency_ms:
        return None
    how = "measured at" if budget.exact else f"bounded at {budget.confidence:.0%} confidence at"
    return (f"the budget of {budget.max_latency_ms:g} ms keeps every {space.name} architecture on {budget.device} "
            f"(the slowest is {how} {slowest:.3g} ms), so it constrains nothing: is it in milliseconds?")


#: a budget this many times the slowest latency found in a sampled space is likely in another unit
LOOSE_FACTOR = 10


def sampled_loose_budget_note(budget: Any, space: Any) -> str | None:
    """Where ``budget`` in a space too large to list is :data:`LOOSE_FACTOR` times or more the
    slowest latency it judges among seeded random architectures and those timed on the device
    (:meth:`~gennas.design.budget.LatencyBudget.sampled_slowest_ms`), that it may be in another
    unit: darts at 54000 ms and mbv3 at 17000 ms (µs typed as ms; timed at 33-77 and 19-29 ms)
    designed as without a budget, without a word. None elsewhere."""
    from gennas.design.budget import SLOWEST_DRAWS

    slowest = budget.sampled_slowest_ms(space)
    if slowest <= 0 or budget.max_latency_ms < LOOSE_FACTOR * slowest:
        return None
    how = "measured" if budget.exact else (f"by the latency model's {budget.confidence:.0%} upper bound" +
                                           (" or a measurement" if budget.own else ""))
    timed = " and those measured there" if budget.own and not budget.exact else ""
    return (f"the budget of {budget.max_latency_ms:g} ms is {budget.max_latency_ms / slowest:,.0f}x the slowest "
            f"latency judged on {budget.device} among {SLOWEST_DRAWS} random {space.name} architectures{timed} "
            f"({slowest:.3g} ms, {how}), so it likely constrains nothing: is it in milliseconds?")


#: the tightest budget, as a percentile of a bundled device's measured latencies over the space's
#: cells, under which the statements of the designs are checked (``experiments/budgets.py``: the
#: 10th, 25th and 50th)
CHECKED_PERCENTILE = 10.0


def tight_budget_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Where a measured budget keeps fewer of the space's cells than :data:`CHECKED_PERCENTILE` %
    and designs state accuracies: that their statements were not checked that tight, and how far
    they missed there. At the 2nd percentile the shipped predictor's stored calibration, fitted over
    every cell, over-stated the fast cells a budget leaves, without a word (user walk 58; the figures:
    ``python experiments/budgets.py --bundled-only --percentiles 2,5 --seeds 3``). None elsewhere."""
    budget = designer.loop.budget
    if (budget is None or not budget.exact or designer.space.benchmark is None
            or not any(c.predicted_accuracy is not None and c.verified_score is None for c in candidates)):
        return None
    from gennas.bench import load_benchmark

    bench = load_benchmark(designer.space.benchmark)
    if budget.device not in bench.devices:
        return None
    share = 100.0 * float(np.mean(bench.latency_of(None, budget.device) <= budget.max_latency_ms))
    if share >= CHECKED_PERCENTILE:
        return None
    return (f"the budget keeps {share:.1f} % of the {designer.space.name} cells on {budget.device}, tighter than "
            f"the {CHECKED_PERCENTILE:g}th percentile down to which the stated accuracies were checked: at the "
            "2nd percentile of six devices' latencies the 20 designs read +4.96 points high on average (+1.00 to "
            "+6.60), their 90 % intervals covering 42.5 % of them; at the 5th +0.72, 85.3 % (docs/results.md, "
            "\"Latency budgets kept\"). Verify a few designs before trusting the figures")
