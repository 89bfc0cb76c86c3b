"""A latency budget on a device: which architectures keep it, checked once per pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gennas.graph import ArchGraph
from gennas.surrogates.protocols import LatencyModel


@dataclass(frozen=True)
class LatencyBudget:
    """``max_latency_ms`` on ``device`` (a latency target such as ``pixel3``), judged by ``model``.

    Attributes:
        model: gives latency in ms for a batch of architectures.
        device: the latency target's name.
        max_latency_ms: the budget in ms (> 0).
    """

    model: LatencyModel
    device: str
    max_latency_ms: float

    def latency_ms(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Latency in ms, float64 ``(len(archs),)``: one model call for the whole batch."""
        if not archs:
            return np.zeros(0)
        return np.asarray(self.model.predict(list(archs), self.device), dtype=np.float64).reshape(-1)

    def within(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Bool ``(len(archs),)``: True where the architecture keeps the budget."""
        return self.latency_ms(archs) <= self.max_latency_ms
