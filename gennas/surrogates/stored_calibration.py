"""The shipped predictors' calibrations, stored with them, and a predictor that states them.

Calibrations of the shipped predictors are stored in ``gennas/data/calibration_<space>.json.gz``
(written by ``python experiments/calibration.py --write``, command inside), each with the
predictions of a few fixed cells as a fingerprint: a table is used only for the exact predictor
it was made for (:func:`stored_calibrations`). :class:`CalibratedPredictor` wraps any
:class:`~gennas.surrogates.protocols.AccuracyModel` with such tables.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.resources import data_dir
from gennas.spaces import SearchSpace
from gennas.surrogates.calibration import COVERAGE, Calibration, pretrained_reach
from gennas.surrogates.protocols import AccuracyModel
from gennas.surrogates.task import Task

#: cells whose predictions identify a predictor (fingerprint of a stored table)
FINGERPRINT_CELLS = 4


def table_path(space_name: str) -> Path:
    """Where the stored calibrations of a space's shipped predictors live."""
    return data_dir() / f"calibration_{space_name}.json.gz"


@functools.lru_cache(maxsize=8)
def _read_tables(path: str) -> dict[str, Any]:
    if not Path(path).is_file():
        return {}
    with gzip.open(path, "rt") as fh:
        return json.load(fh)


def fingerprint(model: AccuracyModel, space: SearchSpace, task: str) -> dict[str, Any]:
    """Raw predictions of :data:`FINGERPRINT_CELLS` fixed seeded cells: identifies a predictor."""
    rng = np.random.default_rng(12345)
    cells = [space.sample(rng) for _ in range(FINGERPRINT_CELLS)]
    return {"cells": [c.to_string() for c in cells],
            "predicted": np.round(model.predict(cells, task)[0], 4).tolist()}


def stored_calibrations(model: AccuracyModel, space: SearchSpace) -> dict[str, Calibration]:
    """Task name -> the stored calibration made for exactly ``model`` (fingerprints match)."""
    tables = _read_tables(str(table_path(space.name))).get("predictors", {})
    out: dict[str, Calibration] = {}
    for entry in tables.values():
        for task, data in entry.get("tasks", {}).items():
            if task in out or task not in model.tasks:
                continue
            cells = [space.from_string(s) for s in data["fingerprint"]["cells"]]
            if np.allclose(model.predict(cells, task)[0], data["fingerprint"]["predicted"], atol=2e-3):
                out[task] = Calibration.from_dict(data["calibration"])
    return out


@dataclass
class CalibratedPredictor:
    """An :class:`AccuracyModel` whose ``predict`` is calibrated, with :meth:`interval`.

    ``predict`` gives the calibrated mean and the normal-equivalent std of the :data:`COVERAGE`
    interval for tasks with a calibration; for others the raw mean clipped to what the task can
    reach (:func:`pretrained_reach`) and the raw std. ``predict_soft``, ``fit`` and ``update`` are
    the wrapped model's (a refit makes the calibrations stale: they are dropped).

    Attributes:
        model: the wrapped model (raw predictions).
        space: its search space.
        calibrations: task name -> :class:`Calibration` of ``model``.
    """

    model: AccuracyModel
    space: SearchSpace
    calibrations: dict[str, Calibration] = field(default_factory=dict)

    @classmethod
    def load(cls, model: AccuracyModel, space: SearchSpace) -> CalibratedPredictor:
        """``model`` with the stored calibrations made for it (none if it is not a shipped one)."""
        return cls(model, space, stored_calibrations(model, space) if model.is_trained else {})

    tasks = property(lambda self: self.model.tasks)
    is_trained = property(lambda self: self.model.is_trained)

    def calibration(self, task: Task | str | None) -> Calibration | None:
        """The calibration for ``task`` (None: the model's default task), if there is one."""
        if task is None:
            task = getattr(self.model, "default_task", None)
        name = task.name if isinstance(task, Task) and task.kind == "named" else task
        return self.calibrations.get(name) if isinstance(name, str) else None

    def predict(self, archs: Sequence[ArchGraph], task: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated mean and std, float64 ``(n,)`` (see the class doc)."""
        raw, spread = self.model.predict(archs, task)
        calibration = self.calibration(task)
        if calibration is None:
            return np.clip(raw, *pretrained_reach(self.space, task)), spread
        return calibration.mean(raw), calibration.std(raw)

    def interval(self, archs: Sequence[ArchGraph], task: Any = None,
                 coverage: float = COVERAGE) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, float64 ``(n,)``: holds the true score with probability ``coverage``."""
        calibration = self.calibration(task)
        if calibration is None:
            raise GennasError(f"no calibration of this predictor for task {task!r}: intervals are stated only "
                              f"for {sorted(self.calibrations) or 'no task'}")
        return calibration.interval(self.model.predict(archs, task)[0], coverage)

    def predict_soft(self, slot_probs: Any, task: Any = None, **kw: Any) -> Any:
        return self.model.predict_soft(slot_probs, task, **kw)

    def fit(self, archs: Sequence[ArchGraph], scores: Sequence[float], task: Any = None, steps: Any = None) -> Any:
        self.calibrations = {}  # stale: they describe the model as it was
        return self.model.fit(archs, scores, task, steps)

    def update(self, archs: Sequence[ArchGraph], scores: Sequence[float], task: Any = None, steps: Any = None, **kw: Any) -> Any:
        self.calibrations = {}
        return self.model.update(archs, scores, task, steps, **kw)
