"""How far a second timing of an architecture can land from its first: the margin its timing is judged with.

A device registered by ``gennas latency measure`` keeps the timings taken on it, and a design that
is one of the timed architectures is judged by its timing, not by the latency model's bound. A
timing is one draw of a noisy measurement, and a budget selects on it: the timed architectures
that came in under a budget are disproportionately the ones timed low. On this project's VM
(mbv3 with ``--cells 30``, ``python experiments/slot_latency.py --mbv3-here``) the tightest
budgets' designs were timed architectures, and timed again in the same sitting 8 of 9 ran over
(up to 1.20x). So ``latency measure`` times :data:`RETIMED` of its architectures a second time,
and a timed architecture is judged at ``timing * margin``: with ``L = log(second / first)``
symmetric (two draws of one noise), ``P(fresh > margin * recorded) <= 1 - c`` holds where
``log margin`` is the ``2c - 1`` quantile of ``|L|``, taken split-conformally from the pairs (a
new pair's ``|L|`` is below it with probability at least ``2c - 1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gennas.surrogates.latency_bound import check_confidence, conformal_quantile

#: architectures `gennas latency measure` times a second time (all of them where it times fewer)
RETIMED = 20
#: the confidence whose margin tells drift from noise, for `gennas latency recheck` and the budget's
#: warning alike (at a budget's 0.5 the margin is 1.0, and a 1 % drift the recheck had called
#: within its margin was warned about)
DRIFT_CONFIDENCE = 0.95


def retiming_margin(first_ms: Sequence[float], second_ms: Sequence[float], confidence: float) -> float:
    """Factor (>= 1) a recorded timing is multiplied by to bound a fresh timing of the same
    architecture at ``confidence``, from ``K`` paired timings (ms ``(K,)`` each); ``inf`` where
    ``K`` pairs cannot promise it (``2c - 1 > K / (K + 1)``), 1.0 with no pairs at all (nothing
    known of the noise: the timings are taken as they are)."""
    confidence = check_confidence(confidence)
    first, second = np.asarray(first_ms, dtype=np.float64), np.asarray(second_ms, dtype=np.float64)
    if first.shape != second.shape:
        raise ValueError(f"paired timings differ in shape: {first.shape} and {second.shape}")
    if first.size == 0:
        return 1.0
    if confidence <= 0.5:  # |L|'s quantile at 0 or below: a symmetric noise needs no margin at the median
        return 1.0
    return max(1.0, math.exp(conformal_quantile(np.abs(np.log(second / first)), 2.0 * confidence - 1.0)))


def highest_margin_confidence(pairs: int) -> float:
    """The highest confidence :func:`retiming_margin` bounds from ``pairs`` paired timings
    (``2c - 1 <= K / (K + 1)``; 0.5 without pairs)."""
    return 0.5 * (1.0 + pairs / (pairs + 1.0)) if pairs > 0 else 0.5


def recorded_margin(record: Mapping[str, Any] | None, confidence: float) -> float:
    """:func:`retiming_margin` of a registered device's record (its ``samples`` and ``retimed``
    ``[[arch, ms], ...]``); 1.0 for a record without second timings (registered before they were
    taken, or from a file by ``gennas latency register``)."""
    if not record or not record.get("retimed"):
        check_confidence(confidence)
        return 1.0
    first = {str(arch): float(ms) for arch, ms in record.get("samples", [])}
    pairs = [(first[str(arch)], float(ms)) for arch, ms in record["retimed"] if str(arch) in first]
    return retiming_margin([a for a, _ in pairs], [b for _, b in pairs], confidence)
