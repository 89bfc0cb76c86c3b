"""Batch acquisition: pick which generated candidates to verify next.

The score of a candidate is an upper confidence bound, ``mean + kappa * std`` (predicted
accuracy plus a bonus for what the predictor is unsure about). A batch is chosen greedily;
after each pick, candidates that share most of their slot choices with a picked one lose
``diversity * (shared fraction)`` of the score spread, so a batch does not spend its budget on
near-copies of one architecture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


def ucb(mean: np.ndarray, std: np.ndarray, kappa: float) -> np.ndarray:
    """Upper confidence bound, float64 ``(n,)``: ``mean + kappa * std`` (score units)."""
    return np.asarray(mean, dtype=np.float64) + kappa * np.asarray(std, dtype=np.float64)


def select_batch(space: SearchSpace, archs: Sequence[ArchGraph], mean: np.ndarray, std: np.ndarray, k: int,
                 kappa: float = 0.5, diversity: float = 0.5) -> list[int]:
    """Indices of the ``k`` candidates to verify, best first.

    Args:
        archs: candidates, length ``n``.
        mean, std: predicted score and its uncertainty, ``(n,)`` in score units.
        k: batch size (at most ``n`` come back).
        kappa: weight of the uncertainty bonus.
        diversity: penalty, in units of the score spread, for sharing all slots with a pick.
    """
    if k <= 0:
        raise GennasError(f"batch size must be positive, got {k}")
    n = len(archs)
    if not (len(mean) == len(std) == n):
        raise GennasError(f"got {n} candidates but {len(mean)} means and {len(std)} stds")
    if n == 0:
        return []
    score = ucb(mean, std, kappa)
    if k == 1 or n == 1:
        return [int(np.argmax(score))]
    slots = np.array([space.choices(a) for a in archs])  # (n, num_slots) op names
    spread = float(np.std(score)) or 1.0
    remaining = score.copy()
    picks: list[int] = []
    for _ in range(min(k, n)):
        best = int(np.argmax(remaining))
        picks.append(best)
        remaining[best] = -np.inf
        shared = (slots == slots[best]).mean(axis=1)  # fraction of slots equal to the pick
        remaining = remaining - diversity * spread * shared
    return picks
