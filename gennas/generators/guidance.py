"""Guidance: what a generator should favour while it samples, usable with either generator.

Three kinds, combinable:

1. **Gradient guidance** by a differentiable value ``value(slot_probs (B, S, V)) -> (B,)``
   (the predictor's expected accuracy for a task), times ``scale``.
2. **A latency budget** ``max_latency_ms`` on a device: a differentiable penalty from a soft
   latency estimate ``latency(slot_probs) -> (B,)`` in ms (guidance), and a hard filter on the
   final samples with ``latency_hard(archs) -> (B,)`` ms.
3. **Derivative-free** selection (soft value-based decoding, SVDD): with ``num_candidates > 1``
   the generator draws several continuations per step and keeps the one whose completed
   architecture scores best by ``reward(archs) -> (B,)`` (a zero-cost proxy, a lookup table) or,
   without a reward, by ``value`` on the hard architecture.

Objective maximised (accuracy points): ``scale * value - latency_scale * 100 * relu(lat / target - 1)``,
i.e. ``latency_scale`` points per 1 % over ``target = (1 - latency_margin) * budget``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

import numpy as np
import torch

from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.protocols import AccuracyModel, LatencyModel

SoftFn = Callable[[torch.Tensor], torch.Tensor]
HardFn = Callable[[Sequence[ArchGraph]], np.ndarray]


class InfeasibleBudget(GennasError, ValueError):
    """No architecture (of those sampled or of the space) meets the latency budget."""


@dataclass(frozen=True)
class Guidance:
    """Guidance for :meth:`SlotGenerator.sample`; every field optional (all None = unguided).

    Attributes:
        value: differentiable ``(B, S, V) slot probabilities -> (B,)`` to maximise.
        scale: weight of ``value`` (>= 0).
        latency: differentiable ``(B, S, V) -> (B,)`` estimated latency in ms.
        max_latency_ms: the budget (> 0); needs ``latency`` or ``latency_hard``.
        latency_scale: accuracy points of penalty per 1 % over ``(1 - latency_margin) * budget`` in
            the gradient :meth:`objective` (17.6 points at the budget itself with 1 and 0.15), per
            1 % over the budget in the derivative-free :meth:`score` (there ``value``, or
            ``reward``, is not weighted by ``scale``).
        latency_hard: ``archs -> (B,)`` latency in ms; the final samples must be within budget as it
            judges them (:meth:`for_task`'s: the estimator's point prediction, not a bound: at a tight
            budget many are truly over; a Designer judges by measurements or a calibrated bound).
        reward: ``archs -> (B,)`` derivative-free value (higher is better).
        num_candidates: continuations per step in derivative-free mode (1 = off).
        device: device name, used in messages only.
        latency_margin: the soft penalty aims this fraction under the budget: a relaxed
            architecture at the budget decodes to hard ones around it, half of them over.
    """

    value: SoftFn | None = None
    scale: float = 1.0
    latency: SoftFn | None = None
    max_latency_ms: float | None = None
    latency_scale: float = 1.0
    latency_hard: HardFn | None = None
    reward: HardFn | None = None
    num_candidates: int = 1
    device: str | None = None
    latency_margin: float = 0.15

    def __post_init__(self) -> None:
        if not np.isfinite(self.scale) or self.scale < 0:
            raise GennasError(f"guidance scale must be a finite number >= 0, got {self.scale!r}")
        if not np.isfinite(self.latency_scale) or self.latency_scale < 0:
            raise GennasError(f"latency_scale must be a finite number >= 0, got {self.latency_scale!r}")
        if isinstance(self.num_candidates, bool) or not isinstance(self.num_candidates, int) \
                or self.num_candidates < 1:
            raise GennasError(f"num_candidates must be an integer >= 1, got {self.num_candidates!r}")
        if not 0 <= self.latency_margin < 1:
            raise GennasError(f"latency_margin must be in [0, 1), got {self.latency_margin!r}")
        if self.max_latency_ms is not None:
            if not np.isfinite(self.max_latency_ms) or self.max_latency_ms <= 0:
                raise InfeasibleBudget(f"latency budget must be a positive number of ms, got {self.max_latency_ms!r}")
            if self.latency is None and self.latency_hard is None:
                raise GennasError("a latency budget needs a latency estimate (latency or latency_hard)")

    # ------------------------------------------------------------ what is active
    @property
    def uses_gradient(self) -> bool:
        """True if the differentiable objective is non-trivial."""
        return (self.value is not None and self.scale > 0) or self._soft_budget

    @property
    def _soft_budget(self) -> bool:
        return self.latency is not None and self.max_latency_ms is not None and self.latency_scale > 0

    def __repr__(self) -> str:
        """The fields set, a model's method named by its class (the models' own reprs made one line of
        860 characters: user walk 49)."""
        def short(value: Any) -> str:
            owner = getattr(value, "__self__", None)
            return f"{type(owner).__name__}.{value.__name__}" if owner is not None and callable(value) else repr(value)
        shown = [f"{f.name}={short(getattr(self, f.name))}" for f in fields(self)
                 if getattr(self, f.name) is not f.default and getattr(self, f.name) != f.default]
        return f"Guidance({', '.join(shown)})"

    @property
    def derivative_free(self) -> bool:
        """True if candidates per step are to be compared on hard architectures."""
        return self.num_candidates > 1 and (self.reward is not None or self.value is not None
                                            or (self.latency_hard is not None and self.max_latency_ms is not None))

    @property
    def filters(self) -> bool:
        """True if final samples are filtered by the hard latency budget."""
        return self.max_latency_ms is not None and self.latency_hard is not None

    # ------------------------------------------------------------ objectives
    def _penalty(self, latency_ms: torch.Tensor | np.ndarray) -> Any:
        over = (latency_ms / cast(float, self.max_latency_ms) - 1.0)  # called under a budget only
        over = over.clamp_min(0.0) if isinstance(over, torch.Tensor) else np.maximum(over, 0.0)
        return self.latency_scale * 100.0 * over

    def objective(self, slot_probs: torch.Tensor) -> torch.Tensor:
        """Differentiable objective, ``(B, S, V) -> (B,)`` (accuracy points; higher is better)."""
        out = slot_probs.new_zeros(slot_probs.shape[0])
        if self.value is not None and self.scale > 0:
            out = out + self.scale * self.value(slot_probs).reshape(-1)
        if self._soft_budget and self.latency is not None:  # (a soft budget has a latency)
            target = 1.0 - self.latency_margin
            out = out - self._penalty(self.latency(slot_probs).reshape(-1) / target)
        return out

    def score(self, archs: Sequence[ArchGraph], one_hot: torch.Tensor) -> np.ndarray:
        """Derivative-free score of hard architectures, float64 ``(B,)``.

        ``one_hot (B, S, V)`` is the same batch as slot one-hots, so ``value`` can score it when
        there is no ``reward``; the budget penalty uses ``latency_hard`` (else ``latency``).
        """
        if self.reward is not None:
            out = np.asarray(self.reward(archs), dtype=np.float64).reshape(-1)
        elif self.value is not None:
            with torch.no_grad():
                out = self.value(one_hot).reshape(-1).double().numpy()
        else:
            out = np.zeros(len(archs))
        if self.max_latency_ms is not None:
            if self.latency_hard is not None:
                lat = np.asarray(self.latency_hard(archs), dtype=np.float64).reshape(-1)
            else:
                assert self.latency is not None  # __post_init__: a budget has latency or latency_hard
                with torch.no_grad():
                    lat = self.latency(one_hot).reshape(-1).double().numpy()
            out = out - self._penalty(lat)
        return np.nan_to_num(out, nan=-np.inf)

    def accept(self, archs: Sequence[ArchGraph]) -> tuple[np.ndarray, np.ndarray]:
        """(bool mask of archs within budget, their latency in ms) by ``latency_hard``."""
        hard, budget = cast(HardFn, self.latency_hard), cast(float, self.max_latency_ms)  # set: see filters
        lat = np.asarray(hard(archs), dtype=np.float64).reshape(-1)
        return lat <= budget, lat

    # ------------------------------------------------------------ construction from models
    @classmethod
    def for_task(cls, space: SearchSpace | str, task: str | None = None, device: str | None = None,
                 max_latency_ms: float | None = None, *, predictor: AccuracyModel | None = None,
                 estimator: LatencyModel | None = None,
                 scale: float = 1.0, latency_scale: float = 1.0, reward: HardFn | None = None,
                 num_candidates: int = 1) -> Guidance:
        """Guidance from the pretrained predictor (for ``task``) and latency estimator (for ``device``).

        ``predictor`` / ``estimator`` default to ``gennas.load_predictor(space)`` /
        ``gennas.load_latency_estimator(space)``, loaded only when needed.
        """
        space = resolve_space(space)
        value = latency = latency_hard = None
        if task is not None:
            if predictor is None:
                from gennas.surrogates.shipped_predictor import load_predictor
                predictor = load_predictor(space.name)
            value = predictor_value(predictor, task)
        if device is not None:
            if estimator is None:
                from gennas.surrogates.latency import load_latency_estimator
                estimator = load_latency_estimator(space.name)
            latency, latency_hard = _estimator_fns(estimator, device)
        elif max_latency_ms is not None:
            raise GennasError("a latency budget (max_latency_ms=, --max-latency-ms) needs a device (device=, --device)")
        return cls(value=value, scale=scale, latency=latency, max_latency_ms=max_latency_ms,
                   latency_scale=latency_scale, latency_hard=latency_hard, reward=reward,
                   num_candidates=num_candidates, device=device)


@dataclass(frozen=True)
class PredictorValue:
    """Differentiable guidance value: ``predictor``'s expected score for ``task``, ``(B, S, V) -> (B,)``,
    times ``points_per_unit``; ``members``: only the first ones of an ensemble (None: all). A class,
    not a closure, so a designer holding it pickles (a closure did not)."""

    predictor: AccuracyModel
    task: Any
    members: int | None = None
    points_per_unit: float = 1.0

    def __call__(self, slot_probs: torch.Tensor) -> torch.Tensor:
        options = {} if self.members is None else {"members": self.members}
        mean, _ = self.predictor.predict_soft(slot_probs, self.task, **options)
        return mean if self.points_per_unit == 1.0 else self.points_per_unit * mean


def predictor_value(predictor: AccuracyModel, task: Any, members: int | None = None,
                    points_per_unit: float = 1.0) -> SoftFn:
    """Differentiable guidance value: the predictor's expected score for ``task``, ``(B, S, V) -> (B,)``,
    in accuracy points (the unit of the guidance's other weights): a score in fractions takes
    ``points_per_unit`` 100 (it was guided 100 times weaker than %); ``members``: only the first
    ones of an ensemble (None: all)."""
    return PredictorValue(predictor, task, members, points_per_unit)


@dataclass(frozen=True)
class EstimatedLatency:
    """``estimator``'s latency on ``device`` in ms: :meth:`soft` of slot probabilities ``(B, S, V) ->
    (B,)`` (differentiable), :meth:`hard` of architectures ``(n,)``; picklable as PredictorValue."""

    estimator: LatencyModel
    device: str

    def soft(self, slot_probs: torch.Tensor) -> torch.Tensor:
        return self.estimator.predict_soft(slot_probs, self.device)

    def hard(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        return np.asarray(self.estimator.predict(list(archs), self.device), dtype=np.float64)


def _estimator_fns(estimator: LatencyModel, device: str) -> tuple[SoftFn, HardFn]:
    latency = EstimatedLatency(estimator, device)
    return latency.soft, latency.hard


class LinearSlotModel(torch.nn.Module):
    """A tiny differentiable surrogate: ``y = bias + sum_i w[i, op_i]`` over slot one-hots.

    Fitted by ridge least squares; ``forward(slot_probs (B, S, V)) -> (B,)`` evaluates it on soft
    slots (its expectation). Useful as a value or latency function for testing guidance, or
    where no pretrained predictor exists.
    """

    weight: torch.Tensor  # a buffer (register_buffer): annotation only

    def __init__(self, weight: torch.Tensor, bias: float) -> None:
        super().__init__()
        self.register_buffer("weight", weight.float())
        self.bias = float(bias)

    @classmethod
    def fit(cls, space: SearchSpace | str, archs: Sequence[ArchGraph] | np.ndarray, targets: np.ndarray,
            ridge: float = 1e-3) -> LinearSlotModel:
        """Fit on architectures, or on their ``space.encode`` array ``(N, S * V)`` (faster when reused)."""
        space = resolve_space(space)
        x = (archs if isinstance(archs, np.ndarray) else space.encode(list(archs))).astype(np.float64)
        y = np.asarray(targets, dtype=np.float64)
        mean = y.mean()
        a = x.T @ x + ridge * len(y) * np.eye(x.shape[1])
        w = np.linalg.solve(a, x.T @ (y - mean))
        return cls(torch.from_numpy(w.reshape(space.num_slots, -1)), mean)

    def forward(self, slot_probs: torch.Tensor) -> torch.Tensor:
        return (slot_probs * self.weight).sum(dim=(1, 2)) + self.bias
