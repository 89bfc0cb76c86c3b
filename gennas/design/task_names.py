"""A task name that looks like a slip for a known one ("CIFAR10", "cifar-10", "cifr100"), and
what it was likely meant for (:func:`gennas.errors.close_name`, which device names use too).

A name the pretrained predictor does not know is a new dataset: the designer ranks only until it
has results. A slip of a known name must therefore be visible: "CIFAR10" and "cifar11" were
silently new datasets, ranked only, with nothing of cifar10's (user walks).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from gennas.design.holdout import HeldOutNaming, holdout_naming_problem
from gennas.errors import caller_stacklevel, close_name, folded


def warn_of_task_name(name: str, predictor: Any, space: str, measured: set[str]) -> None:
    """Warn where ``name``, unknown to ``predictor``, looks like a slip for a known task
    (:func:`warn_if_misnamed`) or disagrees with the predictor about a held-out bundled table
    (:func:`~gennas.design.holdout.holdout_naming_problem`, walk 26 #6); ``space``: its name."""
    warn_if_misnamed(name, getattr(predictor, "tasks", []), measured)
    problem = holdout_naming_problem(name, predictor, space, measured)
    if problem is not None:
        warnings.warn(problem, HeldOutNaming, stacklevel=caller_stacklevel())


def warn_if_misnamed(name: str, known_tasks: Iterable[str], measured: set[str]) -> None:
    """Warn (UserWarning, "did you mean ...?") where ``name``, unknown to the predictor, is close to
    one of ``known_tasks`` (the predictor's) or of ``measured`` (the space's tables' datasets: a
    holdout predictor knowing cifar10 alone was asked 'cifar10' for "cifr100", where 'cifar100'
    was meant). Not a slip: a dataset the tables measured (a holdout predictor's own, named as
    documented), or a known name with a suffix, the naming ScoresOffTable advises
    ('cifar10-600epochs')."""
    names = [*known_tasks, *sorted(measured)]
    close = close_name(name, names)
    # by its exact name: "Cifar100" is a slip of case, said nothing before (a user walk)
    if close and name not in measured and not any(folded(name).startswith(folded(k) + "-") for k in names):
        warnings.warn(f"task {name!r} is not one the predictor knows, so it is a new dataset "
                      f"(ranks only until results); did you mean {close!r}?",
                      stacklevel=caller_stacklevel())

