"""How a :class:`~gennas.design.loop.DesignLoop` reads the unit of its told scores.

Maximised scores within 0-1 read as accuracies (fractions, :func:`~gennas.design.scores.percent_per_unit`).
On a dataset the pretrained predictor learned in % (a bundled table's), the loop learns them as
that % (:attr:`~gennas.design.scores.ScoreScale.factor` 100): fine-tuned towards fractions, the
network's cifar10 head was pulled from 94 to 0.94, and a 20-cell search verified cells of 92.5 %
on average against 93.6 % for the same scores in % (development seeds 5-14, batch 4; user walk 57;
``python experiments/bundled_fractions.py`` at 66b9ee9; now the same cells as in %).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gennas.design.scores import percent_per_unit, scored_by_proxy
from gennas.evaluators.base import Result
from gennas.surrogates.calibration import table_reach

#: model units per score of maximised fractions a predictor learned in % learns them in
FRACTION_FACTOR = 100.0


def trained_beyond_results(pretrained: Any) -> bool:
    """Whether a designer's starting predictor learned more than its own results: trained, and not
    one a search saved after training it from scratch (``origin`` "saved")."""
    return bool(pretrained.is_trained) and getattr(pretrained, "origin", None) != "saved"


def learns_in_percent(loop: Any) -> bool:
    """Whether ``loop``'s pretrained predictor learned its task as accuracies in %: one trained
    beyond its results (:func:`trained_beyond_results`) whose tasks hold the loop's named task, a
    dataset the space's table measured."""
    pretrained, task = loop.pretrained, loop.task
    return (trained_beyond_results(pretrained) and task is not None and task.kind == "named"
            and task.name in pretrained.tasks and table_reach(loop.space, task) is not None)


def score_percent(loop: Any, results: Sequence[Result]) -> tuple[float | None, bool]:
    """% per unit of the successful ``results``' scores where they read as accuracies on ``loop``
    (:func:`~gennas.design.scores.percent_per_unit`: 1 for %, 100 for fractions), and whether they
    are a zero-cost proxy's."""
    told = [r for r in results if not r.failed]
    proxy = scored_by_proxy([r.kind for r in told], getattr(loop.task, "name", None))  # no task: the default's
    scores = np.array([r.score for r in told])
    return percent_per_unit(scores, loop.direction == "maximize", loop.scale.compress, proxy), proxy


def unit_factor(loop: Any, results: Sequence[Result]) -> float:
    """Model units per score of the successful ``results`` on ``loop``: :data:`FRACTION_FACTOR` where
    they read as fractions (:func:`score_percent`) of a task its predictor learned in %
    (:func:`learns_in_percent`), else 1."""
    return FRACTION_FACTOR if score_percent(loop, results)[0] == FRACTION_FACTOR and learns_in_percent(loop) else 1.0


def told_unit(loop: Any) -> tuple[float | None, bool]:
    """% per unit of ``loop``'s predictor scale where its told scores read as accuracies
    (:func:`score_percent` over the scale's factor), and whether they are a zero-cost proxy's."""
    percent, proxy = score_percent(loop, loop.history)
    return (None if percent is None else percent / loop.scale.factor), proxy
