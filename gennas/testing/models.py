"""The contracts of the designer's models: an accuracy model (:class:`~gennas.AccuracyModel`,
``predictor=``) and a latency model (:class:`~gennas.LatencyModel`, ``estimator=``).

    from gennas.testing.models import check_accuracy_model, check_latency_model

    check_accuracy_model(lambda: MyPredictor(space), space)
    check_latency_model(MyEstimator(), space, "my_phone")

Each check raises AssertionError naming the broken property. They check the shapes, types and
gradients the designer relies on (a prediction of the wrong shape failed deep inside a designer's
ranking: user walk 50), never the quality of a prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.protocols import AccuracyModel, LatencyModel, check_prediction

#: confidences an ``upper_bound`` is asked at: a higher one may not give a lower bound
BOUND_CONFIDENCES = (0.5, 0.95)


def check_latency_model(model: LatencyModel, space: SearchSpace, device: str, n: int = 8, seed: int = 0) -> None:
    """``model`` lists ``device``; ``predict`` gives ``n`` finite positive ms, the same twice;
    ``predict_soft`` of the architectures' one-hot slots gives ``(n,)`` with a gradient; an
    ``upper_bound``, where there is one, is at least the prediction and grows with the confidence."""
    name = type(model).__name__
    devices = getattr(model, "devices", None)
    if not isinstance(devices, (list, tuple)) or device not in devices:
        raise AssertionError(f"{name}.devices must list {device!r} (got {devices!r})")
    archs = space.sample_many(n, seed)
    ms = _vector(model.predict(archs, device), n, f"{name}.predict(archs, {device!r})")
    if not (np.isfinite(ms).all() and (ms > 0).all()):
        raise AssertionError(f"{name}.predict gives ms that are not all finite and positive: {ms}")
    if not np.array_equal(ms, _vector(model.predict(archs, device), n, f"{name}.predict, again")):
        raise AssertionError(f"{name}.predict gives other ms for the same architectures the second time")
    _check_soft(lambda probs: model.predict_soft(probs, device), space, archs, f"{name}.predict_soft")
    bound = getattr(model, "upper_bound", None)
    if callable(bound):
        low, high = (_vector(bound(archs, device, confidence=c), n, f"{name}.upper_bound(confidence={c})")
                     for c in BOUND_CONFIDENCES)
        if (high < ms * (1 - 1e-6)).any():
            raise AssertionError(f"{name}.upper_bound at {BOUND_CONFIDENCES[1]} lies below its prediction: "
                                 f"{high} < {ms}")
        if (high < low * (1 - 1e-6)).any():
            raise AssertionError(f"{name}.upper_bound is lower at confidence {BOUND_CONFIDENCES[1]} than at "
                                 f"{BOUND_CONFIDENCES[0]}: {high} < {low}")


def check_accuracy_model(make: Callable[[], AccuracyModel], space: SearchSpace, task: Any = None, n: int = 8,
                         seed: int = 0) -> None:
    """A model from ``make()`` declares ``tasks`` and ``is_trained``; once fitted on ``n``
    results (where it is not trained) it is trained; ``predict`` gives a finite mean and a
    finite, non-negative std of ``(n,)``, the same twice; ``predict_soft`` of one-hot slots gives
    ``(n,)`` twice with a gradient; ``update`` with new results, and with ``steps=0`` (how the
    designer remembers results without training), leaves it predicting."""
    model = make()
    name = type(model).__name__
    if not isinstance(model.tasks, (list, tuple)) or not isinstance(model.is_trained, bool):
        raise AssertionError(f"{name}: tasks must be a list of names and is_trained a bool "
                             f"(got {model.tasks!r}, {model.is_trained!r})")
    archs = space.sample_many(2 * n, seed)
    scores = [50.0 + 40.0 * i / (2 * n) for i in range(2 * n)]  # any distinct scores: no quality is judged
    if not model.is_trained:
        model.fit(archs[:n], scores[:n], task)
        if not model.is_trained:
            raise AssertionError(f"{name}.is_trained is still False after fit")
    _check_predict(model, archs[:n], task, name)
    _check_soft(lambda probs: model.predict_soft(probs, task)[0], space, archs[:n], f"{name}.predict_soft mean")
    _check_soft(lambda probs: model.predict_soft(probs, task)[1], space, archs[:n], f"{name}.predict_soft std")
    model.update(archs[n:], scores[n:], task)
    model.update(archs[:n], scores[:n], task, steps=0)
    _check_predict(model, archs, task, f"{name} after update")


def _check_predict(model: AccuracyModel, archs: list[ArchGraph], task: Any, name: str) -> None:
    out = model.predict(archs, task)
    try:  # the designer's own check of a user's model (it names the model)
        check_prediction(out, len(archs), model)
    except GennasError as exc:
        raise AssertionError(f"{name}: {exc}") from None
    mean, std = (np.asarray(v, dtype=np.float64) for v in out)
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()):
        raise AssertionError(f"{name}.predict: mean {mean} and std {std} must be finite, the std >= 0")
    again = model.predict(archs, task)
    if not (np.array_equal(mean, np.asarray(again[0], dtype=np.float64).reshape(-1))
            and np.array_equal(std, np.asarray(again[1], dtype=np.float64).reshape(-1))):
        raise AssertionError(f"{name}.predict gives another mean or std for the same architectures the second time")


def _check_soft(soft: Callable[[torch.Tensor], torch.Tensor], space: SearchSpace, archs: list[ArchGraph],
                what: str) -> None:
    """``soft`` of the one-hot slots of ``archs`` ``(n, num_slots, len(slot_vocab))``: a float
    tensor ``(n,)``, finite, through which a gradient reaches the slots (the guidance's steering)."""
    probs = torch.tensor(space.encode(archs)).reshape(len(archs), space.num_slots, len(space.slot_vocab))
    probs.requires_grad_(True)
    out = soft(probs)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (len(archs),):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"{what} must give a tensor ({len(archs)},), got {shape}")
    if not torch.isfinite(out).all():
        raise AssertionError(f"{what} gives values that are not finite: {out}")
    if out.requires_grad:  # a detached result: torch's own error would say only "does not require grad"
        out.sum().backward()
    if probs.grad is None or not torch.isfinite(probs.grad).all():
        raise AssertionError(f"{what}: no finite gradient reaches the slot probabilities (the guidance steers by it)")


def _vector(values: Any, n: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise AssertionError(f"{what} must give ({n},) values, got shape {array.shape}")
    return array
