"""Checks of what a latency model is adapted from: latencies in ms and the ridge strength."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gennas.errors import GennasError

__all__ = ["check_latencies", "check_ridge"]


def check_latencies(ms: np.ndarray, what: str) -> None:
    """Refuse latencies ``ms`` (any shape, ms) that are none, not finite or not positive (``what``: where they come from)."""
    if ms.size == 0:
        raise GennasError(f"{what}: no latency samples")
    if not np.all(np.isfinite(ms)) or np.any(ms <= 0):
        raise GennasError(f"{what}: latencies must be finite and positive (ms), got {ms[~(np.isfinite(ms) & (ms > 0))][:3]}")


def check_ridge(ridge: Any, device_name: str) -> float:
    """The ridge strength as a float; it must be a finite number >= 0."""
    try:
        lam = float(ridge)
    except (TypeError, ValueError):
        raise GennasError(f"adapting {device_name!r}: ridge must be a number, got {ridge!r}") from None
    if not math.isfinite(lam) or lam < 0:
        raise GennasError(f"adapting {device_name!r}: ridge must be a finite number >= 0, got {ridge!r}")
    return lam
