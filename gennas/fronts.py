"""Where a stored run's verified results lie on its device: their latencies as its budget judged
them, and the Pareto front of score against latency (``gennas report``'s figure and ``--json``,
:meth:`gennas.search.SearchResult.pareto`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gennas.evaluators.base import Result
from gennas.search.runs import StudyRun


def latencies(run: StudyRun, archs: Sequence[Any]) -> tuple[np.ndarray, str] | None:
    """Latency (ms) of ``archs`` on the run's device and where it comes from: the bundled table;
    else, for a run with a budget, what judged it (the latency model's upper bound at the run's
    confidence, or a measurement: a registered device's own timing of a cell, a subnet of mbv3's
    bundled table); else the estimator's prediction. None when the run has no device, or one neither
    knows here (a user's own model's, ``estimator=``: it failed the whole report, user walk 51)."""
    if run.device is None or not archs:
        return None
    if run.space.benchmark:
        from gennas.bench import load_benchmark

        bench = load_benchmark(run.space.benchmark)
        if run.device in bench.devices:
            return bench.latency_of(list(archs), run.device), "table latency"
    from gennas.design.budget import LatencyBudget
    from gennas.surrogates.latency import load_latency_estimator

    estimator = load_latency_estimator(run.space)
    if run.device not in estimator.devices:
        return None
    if run.budget_ms is None:
        return estimator.predict(list(archs), run.device), "estimated latency"
    # the point estimate beside the budget line showed slack the search never had: it judged the
    # bound (mbv3 on a registered device: estimates 10.6-11.5 ms, bounds 15.2-15.98, budget 16)
    confidence = float(run.attrs.get("latency_confidence") or 0.95)
    budget = LatencyBudget.for_device(run.space, estimator, run.device, run.budget_ms, confidence)
    bound = f"latency bound at {100 * confidence:g} %"
    margin = budget.own_margin  # infinite: a timed cell is judged by the bound too
    timed = f"timing x its margin ({margin:.3g})" if margin != 1.0 else "measured latency"
    how = f"{timed}, else the {bound}" if budget.timed(list(archs)).any() and not math.isinf(margin) else bound
    return budget.judged_ms(list(archs)), f"{how} (what judged the budget)"


def knows_device(run: StudyRun) -> bool:
    """Whether the run's device is in its space's table or estimator (registered devices included)."""
    from gennas.bench import load_benchmark
    from gennas.surrogates.latency import load_latency_estimator

    if run.space.benchmark and run.device in load_benchmark(run.space.benchmark).devices:
        return True
    return run.device in load_latency_estimator(run.space).devices


def pareto_front(latency: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both (lower latency, higher score), by latency."""
    order = np.lexsort((-score, latency))
    front, best = [], -math.inf
    for i in order:
        if score[i] > best:
            front.append(i)
            best = score[i]
    return np.array(front, dtype=int)


@dataclass(frozen=True)
class Front:
    """A run's Pareto front on its device.

    Attributes:
        device: the run's device.
        latency: where the ms come from ("table latency", "estimated latency", what judged the budget).
        points: ``(result, ms)`` of the verified results no other beats on both score (by the run's
            direction) and latency, fastest first.
    """

    device: str
    latency: str
    points: list[tuple[Result, float]]


def study_front(run: StudyRun) -> Front | None:
    """The run's Pareto front on its device (:func:`latencies`); None where it has no device, one
    not known here, or no verified result."""
    done = [r for r in run.results if not r.failed]
    found = latencies(run, [r.arch for r in done])
    if found is None or run.device is None:
        return None
    ms, source = found
    sign = 1.0 if run.direction == "maximize" else -1.0
    front = pareto_front(ms, sign * np.array([r.score for r in done], dtype=np.float64))
    return Front(run.device, source, [(done[i], float(ms[i])) for i in front])
