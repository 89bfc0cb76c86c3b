"""The registered devices of a space, each described by the model it was measured for.

A device is normally adapted from the pretrained estimator's reference architectures
(:mod:`gennas.surrogates.latency`), whose bound is calibrated on devices like the bundled ones. A
machine can rank architectures unlike all of them (this project's VM: the 95 % bound covered
76-88 % of random nb201 cells in four of five registrations, docs/results.md "nb201 budgets on a device
registered here"); ``gennas latency measure --cells N`` describes it instead by N random
architectures timed on it (:mod:`gennas.surrogates.slot_latency`), whose bound is calibrated on
the device itself. A space without an estimator has only such devices. :func:`registered_models`
loads each registered device into its model, and :class:`RoutedLatencyModel` answers for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.latency_bound import deferred_outliers
from gennas.surrogates.measure import (adapt_registered, registered_devices, registered_record, timed_at_random,
                                      timed_by_gennas)
from gennas.surrogates.protocols import LatencyModel
from gennas.surrogates.slot_latency import SlotLatencyModel

Archs = Sequence[ArchGraph | str] | ArchGraph | str


class RoutedLatencyModel:
    """The pretrained ``estimator``'s devices and the ``slots`` model's (timed at random), one model:
    each call goes to the model that holds its device; anything else (bundled devices, references,
    ``adapt``) is the estimator's."""

    def __init__(self, estimator: LatencyModel, slots: SlotLatencyModel) -> None:
        self.estimator = estimator
        self.slots = slots

    def __getattr__(self, name: str) -> Any:
        # only what the estimator has: not its own fields before they are set, nor the protocols
        # copy and pickle look up (deepcopy asked for __setstate__ and recursed)
        if name in ("estimator", "slots") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.estimator, name)

    @property
    def devices(self) -> list[str]:
        return sorted({*self.estimator.devices, *self.slots.devices})

    def _model(self, device: str) -> Any:
        return self.slots if device in self.slots.fits else self.estimator

    def predict(self, archs: Archs, device: str) -> np.ndarray:
        """Latency in ms ``(len(archs),)`` on ``device``, by the model that holds it."""
        return self._model(device).predict(archs, device)

    def upper_bound(self, archs: Archs, device: str, confidence: float = 0.95) -> np.ndarray:
        """Calibrated upper bound (ms) ``(len(archs),)`` on ``device`` at ``confidence``."""
        return self._model(device).upper_bound(archs, device, confidence)

    def bound_factor(self, device: str, confidence: float = 0.95, predicted_ms: np.ndarray | None = None
                     ) -> float | np.ndarray:
        """``upper_bound / predict`` on ``device`` (per prediction ``(n,)`` ms where given)."""
        return self._model(device).bound_factor(device, confidence, predicted_ms)

    def predict_soft(self, slot_probs: torch.Tensor, device: str) -> torch.Tensor:
        """Differentiable latency (ms) ``(B,)`` of relaxed architectures ``(B, num_slots, len(slot_vocab))``."""
        return self._model(device).predict_soft(slot_probs, device)


def registered_models(estimator: LatencyModel | None, space: SearchSpace) -> LatencyModel:
    """``estimator`` (a :class:`~gennas.surrogates.latency.LatencyEstimator`; None: the space has
    none) with every device registered for ``space``: those
    timed at random (every one where there is no estimator) in a :class:`SlotLatencyModel`, the
    others adapted by the estimator; routed where both hold devices. Its ``outlying_timings``
    keep each device's :class:`~gennas.surrogates.latency_bound.OutlyingTiming` messages for when
    the device is used."""
    devices = registered_devices(space.name)  # the device files read once (they were read three times)
    records = {name: registered_record(name, space.name) for name in devices}  # and their settings once more
    slot_named = {name for name in devices if estimator is None or timed_at_random(records[name])}
    slots = SlotLatencyModel(space, base=estimator)
    adapt_registered(slots, space.name, only=slot_named, devices=devices)
    if estimator is None:
        return slots
    with deferred_outliers() as outlying:  # said when the device is used (warn_outlying), not by every load
        adapt_registered(estimator, space.name, skip=slot_named, devices=devices,
                         built_here={name for name, record in records.items() if timed_by_gennas(record)})
    model = RoutedLatencyModel(estimator, slots) if slots.devices else estimator
    model.outlying_timings = outlying
    return model


def random_cells_model(model: LatencyModel) -> SlotLatencyModel:
    """The model of a device described by random architectures timed on it, in ``model``'s space
    (``gennas latency measure --cells``): ``model`` itself where it is one (a space without an
    estimator), else a :class:`SlotLatencyModel` on the pretrained estimator's references."""
    if isinstance(model, SlotLatencyModel):
        return model
    # the estimator alone: a routed one would answer a name registered again with --force by its old fit
    return SlotLatencyModel(model.space, base=model.estimator if isinstance(model, RoutedLatencyModel) else model)
