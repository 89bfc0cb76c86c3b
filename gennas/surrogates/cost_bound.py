"""A latency upper bound from an architecture's exact cost (FLOPs), for spaces where it is additive.

The learned estimator is ranked well on the architectures it was trained on but, on mbv3, guided
generation finds subnets it under-rates by 1.6-2.5x (``experiments/mbv3_budgets.py``): the
generator is optimised against it. FLOPs cannot be fooled that way. For mbv3 they are exactly a
sum over slots (``space.encode(arch) @ weights``, max relative error 4e-15 over 2,000 counted
subnets), so a bound costs one matrix product:

    ms <= exp(intercept + slope * log(FLOPs)) * exp(q_confidence(log residuals))

``gennas/data/<space>_cost_bound.npz`` (written by ``python experiments/cost_bound.py``) holds the
per-slot FLOPs weights and, per measured device, the log-log line fitted on the measured subnets
and its sorted log residuals (the conformal quantile at any confidence is read from them). A
device registered from reference subnets (``gennas latency measure --space mbv3``) takes the mean
slope and pooled residuals of the measured devices and its own intercept (median over its
references). A :class:`~gennas.design.budget.LatencyBudget` judges by the larger of this bound and
the estimator's, and steers generation by it too (:func:`cost_bounds`: FLOPs are linear in
the slot probabilities, so the bound is differentiable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch

from gennas.graph import ArchGraph
from gennas.resources import data_dir
from gennas.spaces import SearchSpace


@dataclass(frozen=True)
class CostLine:
    """``log ms = intercept + slope * log FLOPs``; ``residuals`` sorted float64 ``(n,)`` log residuals."""

    intercept: float
    slope: float
    residuals: np.ndarray

    def margin(self, confidence: float) -> float:
        """The conformal log margin: the residuals' ``confidence`` quantile."""
        return float(np.quantile(self.residuals, confidence, method="higher"))

    def upper_ms(self, flops: np.ndarray, confidence: float) -> np.ndarray:
        """Upper bound ms ``(n,)`` that holds with probability ``confidence`` for a typical architecture."""
        return np.exp(self.intercept + self.slope * np.log(flops) + self.margin(confidence))


@functools.lru_cache(maxsize=4)
def _tables(space_name: str) -> tuple[np.ndarray, dict[str, CostLine]] | None:
    path = data_dir() / f"{space_name}_cost_bound.npz"
    if not path.is_file():
        return None
    z = np.load(path, allow_pickle=False)
    lines = {str(d): CostLine(float(c[0]), float(c[1]), np.sort(z[f"residuals_{d}"]))
             for d, c in zip(z["devices"], z["coefficients"])}
    return z["weights"].astype(np.float64), lines


def flops_of(space: SearchSpace, archs: Sequence[ArchGraph]) -> np.ndarray | None:
    """Exact FLOPs ``(n,)`` from the additive per-slot table, None for a space without one."""
    tables = _tables(space.name)
    if tables is None:
        return None
    x = space.encode(list(archs)).astype(np.float64)
    return x @ tables[0][:-1] + tables[0][-1]


def cost_line(space: SearchSpace, device: str,
              references: Sequence[tuple[ArchGraph | str, float]] = ()) -> CostLine | None:
    """The measured device's line, or one for ``device`` from its ``(arch, ms)`` references
    (mean slope, pooled residuals of the measured devices); None where neither exists."""
    tables = _tables(space.name)
    if tables is None:
        return None
    lines = tables[1]
    if device in lines:
        return lines[device]
    if not references:
        return None
    slope = float(np.mean([line.slope for line in lines.values()]))
    archs = [space.parse(a) for a, _ in references]
    log_ms = np.log([float(ms) for _, ms in references])
    intercept = float(np.median(log_ms - slope * np.log(cast(np.ndarray, flops_of(space, archs)))))  # tables: above
    pooled = np.sort(np.concatenate([line.residuals - np.median(line.residuals) for line in lines.values()]))
    return CostLine(intercept, slope, pooled)


def cost_bounds(space: SearchSpace, device: str, confidence: float,
                references: Sequence[tuple[ArchGraph | str, float]] = ()
                ) -> tuple[Callable[[Sequence[ArchGraph]], np.ndarray], Callable[[torch.Tensor], torch.Tensor]] | None:
    """The upper bound at ``confidence`` on ``device`` as ``(hard, soft)``: ``archs -> ms (n,)`` and
    its differentiable form ``(B, S, V) slot probs -> ms (B,)`` (expected FLOPs under the slot
    distributions, through the line); None where the space has no cost table or the device no line."""
    line, tables = cost_line(space, device, references), _tables(space.name)
    if line is None or tables is None:  # (a line: the space has tables)
        return None
    weights = tables[0]
    per_slot = torch.tensor(weights[:-1].reshape(space.num_slots, len(space.slot_vocab)), dtype=torch.float32)
    log_offset = line.intercept + line.margin(confidence)  # once, not per judged batch

    def hard(archs: Sequence[ArchGraph]) -> np.ndarray:
        return np.exp(log_offset + line.slope * np.log(cast(np.ndarray, flops_of(space, archs))))  # tables: above

    def soft(slot_probs: torch.Tensor) -> torch.Tensor:
        flops = (slot_probs * per_slot).sum((1, 2)) + float(weights[-1])
        return torch.exp(log_offset + line.slope * torch.log(flops))
    return hard, soft
