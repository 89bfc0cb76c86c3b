"""Calibration learned from verified results alone: cross-fitted models and the calibration of
their out-of-fold predictions (what a designer states on a task after results, see
:mod:`gennas.surrogates.calibration`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gennas.graph import ArchGraph
from gennas.surrogates.calibration import Calibration, Model, learned_reach

#: fewest verified results a calibration is learned from (cross-fitted folds need a few each)
MIN_LEARNED = 3


def cross_fit(archs: Sequence[ArchGraph], scores: np.ndarray, refit: Callable[[np.ndarray], Model],
              folds: int = 5, seed: int = 0) -> tuple[np.ndarray, list[Model]]:
    """Out-of-fold predictions ``(n,)`` of verified results, and the fold models: for each of
    ``folds`` folds, ``refit`` (given the indices of the other folds' results) returns a model
    ``archs -> (mean, std)`` that never saw the fold, and it predicts the fold."""
    k = max(2, min(folds, len(archs)))
    fold = np.random.default_rng(seed).permutation(len(archs)) % k
    out, models = np.empty(len(archs)), []
    for f in range(k):
        held = np.flatnonzero(fold == f)
        models.append(refit(np.flatnonzero(fold != f)))
        out[held] = np.asarray(models[-1]([archs[i] for i in held.tolist()])[0], dtype=np.float64)
    return out, models


@dataclass(frozen=True)
class CrossFitted:
    """What verified results say about predictions: models that each never saw one fold of them,
    and the calibration of their out-of-fold predictions. Predictions are the fold models'
    mean, so what is calibrated is what is stated (a model refitted on every result would be
    another model, whose errors the results cannot show: cross-validation+, Barber et al. 2021).

    Attributes:
        models: ``archs -> (mean, std)`` ``(n,)`` each, one per fold (the loop's scale).
        calibration: of their out-of-fold predictions, leave-one-out residuals, within the reach.
    """

    models: list[Model]
    calibration: Calibration

    def predict(self, archs: Sequence[ArchGraph]) -> tuple[np.ndarray, np.ndarray]:
        """Mean over the fold models ``(n,)`` and their spread ``(n,)``."""
        values = np.stack([np.asarray(model(archs)[0], dtype=np.float64) for model in self.models])
        return values.mean(0), values.std(0)


def learned_calibration(archs: Sequence[ArchGraph], scores: Sequence[float] | np.ndarray,
                        refit: Callable[[np.ndarray], Model], reach: tuple[float, float] | None, folds: int = 5,
                        seed: int = 0, unit: tuple[float, float] = (-math.inf, math.inf)) -> CrossFitted | None:
    """Calibration from verified results alone (:func:`cross_fit`), against the verified ``scores``
    ``(n,)``. ``reach`` None: :func:`learned_reach` within ``unit``. None under :data:`MIN_LEARNED` results."""
    y = np.asarray(scores, dtype=np.float64)
    if len(y) < MIN_LEARNED:
        return None
    oof, models = cross_fit(archs, y, refit, folds, seed)
    calibration = Calibration.fit(oof, y, source=f"{len(y)} verified results, {len(models)}-fold out-of-fold predictions")
    return CrossFitted(models, calibration.with_reach(*(reach or learned_reach(y, calibration, unit=unit))))
