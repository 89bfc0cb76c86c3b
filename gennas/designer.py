"""Designer: "give me N architectures for this task, under this latency on this device".

``Designer(space, task=..., device=..., max_latency_ms=...).generate(n)`` samples a pool of
architectures from a pretrained generator guided by the pretrained predictor (expected accuracy
for the task) and latency estimator (budget on the device), keeps those predicted within the
budget, and returns the best ``n`` ranked by predicted accuracy, without verifying any.

The generation steps are separate methods (:meth:`Designer.guidance`, :meth:`Designer._candidates`,
:meth:`Designer._rank`) so a search loop (ask/tell, refit on verified results) can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from gennas.design_loop import DesignLoop, _is_trained
from gennas.errors import GennasError, UnknownDataset, UnknownDevice, unknown
from gennas.generators import SlotGenerator, load_generator
from gennas.generators.base import _check_n
from gennas.graph import ArchGraph
from gennas.guidance import Guidance, HardFn, InfeasibleBudget
from gennas.space import SearchSpace, resolve_space


@dataclass(frozen=True)
class Candidate:
    """One generated architecture with its predictions (nothing here was measured).

    Attributes:
        arch: the architecture.
        predicted_accuracy: predictor mean for the task, in % (the task's score units).
        predicted_std: predictor ensemble spread, same units.
        predicted_latency_ms: estimator latency on the designer's device, or None without one.
        rank: 1 for the best predicted.
    """

    arch: ArchGraph
    predicted_accuracy: float
    predicted_std: float
    predicted_latency_ms: float | None
    rank: int

    def __str__(self) -> str:
        lat = "" if self.predicted_latency_ms is None else f", {self.predicted_latency_ms:.3g} ms"
        return f"#{self.rank} {self.arch.to_string()} ({self.predicted_accuracy:.2f} ± {self.predicted_std:.2f} %{lat})"


class Designer(DesignLoop):
    """Guided generation of ranked architectures for a task and a latency budget.

    Args:
        space: a SearchSpace or its name.
        task: task name (``"cifar10"``) or :class:`gennas.Task`; None = the predictor's default.
        device: device name for latency (must be known to the estimator).
        max_latency_ms: latency budget on ``device`` in ms (needs ``device``).
        seed: makes :meth:`generate` reproducible (each call advances it).
        generator: ``"diffusion"``, ``"vae"`` or a :class:`SlotGenerator`.
        predictor / estimator: override the pretrained ones (same interface).
        guidance_scale / latency_scale / num_candidates / reward: see :class:`gennas.Guidance`
            (0.3: with the pretrained predictor a larger scale gave the same top-100 quality in
            experiments/generators.py but half as many distinct samples).
        pool: architectures sampled per requested one (at least 200 in all).
        storage: where :meth:`search` stores verified results (optuna storage URL or ``.db``
            path); None keeps them in memory.

    A task the predictor does not know (a new dataset named only) cannot be *generated* for,
    but can be *searched* for: :meth:`search` / :meth:`ask` start from the predictor's
    default task and learn the new task's embedding from each verified result.
    """

    def __init__(self, space: SearchSpace | str, task: Any = None, device: str | None = None,
                 max_latency_ms: float | None = None, seed: int | None = None, *,
                 generator: str | SlotGenerator = "diffusion", predictor: Any = None, estimator: Any = None,
                 guidance_scale: float = 0.3, latency_scale: float = 1.0, num_candidates: int = 1,
                 reward: HardFn | None = None, pool: int = 10, storage: Any = None) -> None:
        self.space = resolve_space(space)
        self.storage = storage
        self.task = task
        self.device = device
        self.max_latency_ms = max_latency_ms
        self.seed = seed
        self._calls = 0
        if max_latency_ms is not None and device is None:
            raise GennasError("a latency budget (max_latency_ms) needs a device")
        if max_latency_ms is not None and (not np.isfinite(max_latency_ms) or max_latency_ms <= 0):
            raise InfeasibleBudget(f"latency budget must be a positive number of ms, got {max_latency_ms!r}")
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise GennasError(f"pool must be an integer >= 1, got {pool!r}")
        self.pool = pool
        self.generator = (generator if isinstance(generator, SlotGenerator)
                          else load_generator(self.space, kind=generator))
        if self.generator.space.name != self.space.name:
            raise GennasError(f"generator is for space {self.generator.space.name!r}, not {self.space.name!r}")
        if predictor is None:
            from gennas.predictor import load_predictor
            predictor = load_predictor(self.space.name)
        self.predictor = predictor
        self._task_error: str | None = None
        try:
            if not _is_trained(predictor):
                self._task_error = "the predictor is not trained yet: search(evaluator) trains it from scratch"
            else:
                predictor.predict([self.space.sample(0)], task)  # an unknown task fails here, not mid-sampling
        except UnknownDataset as exc:
            if not isinstance(task, str):
                raise
            # A new dataset named only: search() can still learn it from verified results.
            self._task_error = (f"{exc}; describe the task by images (gennas.Task.from_images) or samples "
                                f"(gennas.Task.from_samples), or verify candidates with search(evaluator)")
        if device is not None:
            if estimator is None:
                from gennas.latency import load_latency_estimator
                estimator = load_latency_estimator(self.space)
            known = list(getattr(estimator, "devices", []))
            if known and device not in known:
                raise UnknownDevice(unknown("device", device, known))
        self.estimator = estimator
        self._guidance = Guidance.for_task(
            self.space, task=None, device=device, max_latency_ms=max_latency_ms, estimator=estimator,
            latency_scale=latency_scale, reward=reward, num_candidates=num_candidates)
        self._guidance = replace(self._guidance, value=_value(predictor, task if self._task_error is None else None),
                                 scale=guidance_scale)

    # ------------------------------------------------------------ public
    @property
    def guidance(self) -> Guidance:
        """The guidance the generator samples with."""
        return self._guidance

    def generate(self, n: int = 10) -> list[Candidate]:
        """The ``n`` best of a guided pool by predicted accuracy, within the budget; ranked 1..n.

        Fewer than ``n`` come back only when the guided sampler finds fewer distinct architectures
        within the budget (a very tight budget). Raises :class:`~gennas.guidance.InfeasibleBudget`
        if none meets it.
        """
        n = _check_n(n)
        if self._task_error is not None:
            raise (UnknownDataset if "unknown task" in self._task_error else GennasError)(self._task_error)
        seed = None if self.seed is None else self.seed + self._calls
        self._calls += 1
        pool = self._candidates(max(self.pool * n, 200), self.predictor, seed)
        return self._rank(pool, n)

    # ------------------------------------------------------------ steps (reused by search loops)
    def _candidates(self, n: int, predictor: Any = None, seed: int | None = None) -> list[ArchGraph]:
        """Up to ``n`` distinct guided samples within the budget. ``predictor`` (e.g. one refitted on
        verified results) replaces the designer's for the guidance value."""
        guidance = self._guidance
        if predictor is not None and predictor is not self.predictor:
            guidance = replace(guidance, value=_value(predictor, self.task))
        try:
            return self.generator.sample(n, seed=seed, guidance=guidance)
        except InfeasibleBudget as exc:
            raise InfeasibleBudget(self._budget_reason(str(exc))) from None

    def _rank(self, archs: Sequence[ArchGraph], n: int, predictor: Any = None) -> list[Candidate]:
        """Predict, sort by predicted accuracy (descending) and keep the top ``n``."""
        if not archs:
            return []
        predictor = predictor or self.predictor
        mean, std = predictor.predict(list(archs), self.task)
        latency = (np.asarray(self.estimator.predict(list(archs), self.device), dtype=np.float64)
                   if self.device is not None else np.full(len(archs), np.nan))
        order = np.argsort(-np.asarray(mean), kind="stable")[:n]
        return [Candidate(archs[i], float(mean[i]), float(std[i]),
                          None if self.device is None else float(latency[i]), rank)
                for rank, i in enumerate(order, start=1)]

    def _budget_reason(self, message: str) -> str:
        """Add the fastest architecture of the whole space to an infeasible-budget message, where
        the space is small enough to check exhaustively."""
        if not self.space.is_finite_enumerable() or self.estimator is None:
            return message
        fastest = float(np.min(self.estimator.predict(list(self.space.enumerate()), self.device)))
        return (f"no {self.space.name} architecture is predicted to run under {self.max_latency_ms:g} ms on "
                f"{self.device}: the fastest of all {self.space.size():,} is predicted at {fastest:.3g} ms")

    def __repr__(self) -> str:
        budget = "" if self.max_latency_ms is None else f", max_latency_ms={self.max_latency_ms:g}"
        return (f"Designer({self.space.name}, task={self.task!r}, device={self.device!r}{budget}, "
                f"generator={self.generator.kind})")


def _value(predictor: Any, task: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """Differentiable guidance value: the predictor's expected score for ``task``, ``(B, S, V) -> (B,)``."""
    def value(slot_probs: torch.Tensor) -> torch.Tensor:
        mean, _ = predictor.predict_soft(slot_probs, task)
        return mean
    return value
