"""The typed seams the designer depends on: any accuracy model, latency model or generator with
these methods can stand in for gennas' own (the guidance, the acquisition and the loop only
ever call what is listed here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from gennas.errors import GennasError
from gennas.graph import ArchGraph

if TYPE_CHECKING:
    import torch

    from gennas.spaces import SearchSpace


@runtime_checkable
class AccuracyModel(Protocol):
    """Predicts a task's score of architectures, with an uncertainty, and learns from results.

    Scores are in the task's units (accuracy in %); ``task`` is a :class:`~gennas.Task`, a task
    name, or None for the model's default task.

    Inside a designer (user walk 50 found these unsaid): the loop refits a deep copy (the object
    given as ``predictor=`` stays as it was; the refitted one is ``designer.loop.predictor``), and
    tells it scores on the designer's scale, :class:`~gennas.design.scores.ScoreScale`: higher is
    better (a minimised score negated) and, for scores of a huge range (a proxy's), ``sign(s) *
    log1p(|s|)``. From scratch it calls ``fit`` on every result and then ``update`` with the same
    results and ``steps=0``: remember them without training (a model whose ``fit`` remembers its
    results already must not add them twice).
    """

    @property
    def tasks(self) -> list[str]:
        """Names of the tasks the model was trained on."""

    @property
    def is_trained(self) -> bool:
        """False for a model that has seen no results yet (``predict`` would fail)."""

    def predict(self, archs: Sequence[ArchGraph], task: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std, float64 ``(len(archs),)``."""

    def predict_soft(self, slot_probs: torch.Tensor, task: Any = None,
                     members: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std ``(B,)`` for relaxed architectures ``(B, num_slots, len(slot_vocab))``,
        differentiable w.r.t. ``slot_probs``; ``members``: only the first ones of an ensemble
        (a cheaper guidance; a model without members may ignore it)."""

    def fit(self, archs: Sequence[ArchGraph], scores: Sequence[float], task: Any = None,
            steps: int | None = None) -> Any:
        """Train from scratch on one task."""

    def update(self, archs: Sequence[ArchGraph], scores: Sequence[float], task: Any = None,
               steps: int | None = None, encoders: bool = True) -> Any:
        """Refit warm on new results of ``task`` (earlier ones are remembered); ``encoders=False``
        asks for a cheaper refit that keeps the shared representation (a model without one may
        ignore it); ``steps=0``: remember the results without training (see the class doc)."""


@runtime_checkable
class LatencyModel(Protocol):
    """Latency in ms of architectures on named devices (latency targets such as ``pixel3``).

    Optional: ``upper_bound(archs, device, confidence) -> (len(archs),)`` ms, a bound each true
    latency is under with probability ``confidence``; a budget on a device without measurements is
    judged by it. A model without it has the budget judged by its prediction, which keeps no
    confidence (warned :class:`~gennas.design.budget.UncalibratedBound`; designs show no bound)."""

    @property
    def devices(self) -> list[str]:
        """The devices it can predict for."""

    def predict(self, archs: Sequence[ArchGraph], device: str) -> np.ndarray:
        """Latency in ms, float ``(len(archs),)``."""

    def predict_soft(self, slot_probs: torch.Tensor, device: str) -> torch.Tensor:
        """Latency in ms ``(B,)`` of relaxed architectures, differentiable."""


@runtime_checkable
class Generator(Protocol):
    """Samples distinct valid architectures of its space, optionally guided."""

    space: SearchSpace
    kind: str

    def sample(self, n: int, seed: int | None = None, guidance: Any = None, *,
               max_draws: int | None = None) -> list[ArchGraph]:
        """Up to ``n`` distinct architectures (fewer under a tight latency budget, or when
        ``max_draws`` samples, repeats included, are drawn first); ``guidance`` is a
        :class:`gennas.Guidance` (untyped here: the generators' module imports these protocols).
        ``max_draws`` keyword-only: the shipped generators take ``unique`` before it, and a
        positional one made them mismatch the protocol for type checkers (user walk 49)."""


def check_stand_in(model: Any, protocol: type | None, argument: str, space: str) -> None:
    """Raise GennasError where ``model``, passed as ``argument`` (``"estimator="``), lacks a member
    of ``protocol`` (None: not checked) or declares another space than ``space``: a latency model
    of another space was taken and failed at ``generate`` with a tensor shape error naming
    neither, and an object without the protocol's methods with an AttributeError from deep inside."""
    members = [] if protocol is None else [name for name in vars(protocol) if not name.startswith("_")]
    missing = [name for name in members if not hasattr(model, name)]
    if missing and protocol is not None:  # (none is missing without a protocol)
        raise GennasError(f"{argument} ({type(model).__name__}) is not a {protocol.__name__}: it lacks "
                          f"{', '.join(missing)}")
    owner = getattr(getattr(model, "space", None), "name", getattr(model, "space", None))
    if isinstance(owner, str) and owner != space:
        raise GennasError(f"{argument} is for space {owner!r}, not {space!r}")


def check_prediction(prediction: Any, n: int, model: Any) -> None:
    """Raise GennasError naming ``model`` where its ``predict`` of ``n`` architectures did not return
    a mean and a std, each ``(n,)`` (a mean alone failed deep inside the loop with "correct() takes 6
    positional arguments but 24 were given": user walk 50)."""
    try:
        mean, std = prediction
        shapes = np.shape(mean), np.shape(std)
    except (TypeError, ValueError):
        shapes = None
    if shapes != ((n,), (n,)):
        got = f"shapes {shapes}" if shapes is not None else f"a {type(prediction).__name__}"
        raise GennasError(f"{type(model).__name__}.predict of {n} architecture{'s' * (n != 1)} returned {got}: an "
                          f"AccuracyModel returns (mean, std), each of shape ({n},)")

