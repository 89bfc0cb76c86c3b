"""A task name that looks like a slip for a known one ("CIFAR10", "cifar-10", "cifr100", "cifar1OO"),
and what it was likely meant for (:func:`gennas.errors.close_name`, which device names use too).

A name the pretrained predictor does not know is a new dataset: the designer ranks only until it
has results. A slip of a known name must therefore be visible: "CIFAR10" and "cifar11" were
silently new datasets, ranked only, with nothing of cifar10's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from gennas.design.holdout import HeldOutNaming, holdout_naming_problem
from gennas.errors import GennasWarning, caller_stacklevel, close_name, folded


class TaskNameSlip(GennasWarning):
    """A task name the predictor does not know that looks like a slip for a known one ("CIFAR10"):
    a new dataset in Python; refused on the command line, where a pipeline would otherwise go on
    with ranks only and no accuracy columns. ``warnings.filterwarnings("error",
    category=TaskNameSlip)`` refuses it in Python too."""


def warn_of_task_name(name: str, predictor: Any, space: str, measured: set[str]) -> None:
    """Warn where ``name``, unknown to ``predictor``, looks like a slip for a known task
    (:func:`warn_if_misnamed`) or disagrees with the predictor about a held-out bundled table
    (:func:`~gennas.design.holdout.holdout_naming_problem`); ``space``: its name."""
    warn_if_misnamed(name, getattr(predictor, "tasks", []), measured)
    problem = holdout_naming_problem(name, predictor, space, measured)
    if problem is not None:
        warnings.warn(problem, HeldOutNaming, stacklevel=caller_stacklevel())


#: how alike (difflib, after :data:`LOOKALIKES`) a name must be to a known task's to be asked about:
#: below errors.CLOSE_CUTOFF (0.85), as a known name joined to other words ("new-cifar100", 0.80
#: alike) is no slip here (:func:`deliberate`). At 0.8: "cifar" (0.83 to cifar10), "newcifar100"
#: (0.84); not "imagenet" (0.73), "cinic10", "mnist", "my-dataset"
SLIP_CUTOFF = 0.8
#: characters typed for one another: the letter O for a zero, l and I for a one. "cifar1OO" was
#: 0.75 alike to cifar100 and 0.80 to cifar10, and was silently a new dataset
LOOKALIKES = str.maketrans({"o": "0", "l": "1", "i": "1"})


def lookalike(name: str) -> str:
    """``name`` as slips are compared: :func:`~gennas.errors.folded`, lookalike characters as one."""
    return folded(name).translate(LOOKALIKES)


def deliberate(name: str, names: Iterable[str]) -> bool:
    """Whether ``name`` and a known name differ by whole '-'-joined words: a new dataset named so on
    purpose ("new-cifar100", as documented for a held-out table), scores of a known one named after
    what they measure ("cifar10-600epochs", the naming ScoresOffTable advises), or a task whose name
    a known one extends ("mnist-synflow" beside 'mnist-synflow-log10', another score)."""
    words = folded(name).split("-")
    known = [folded(k).split("-") for k in names if folded(k) != folded(name)]
    return any(_within(k, words) or _within(words, k) for k in known)


def _within(run: list[str], words: list[str]) -> bool:
    """Whether ``run`` occurs in ``words`` as consecutive words."""
    return any(words[i:i + len(run)] == run for i in range(len(words) - len(run) + 1))


def slip_for(name: str, names: Iterable[str]) -> str | None:
    """The one of ``names`` that ``name`` looks like a slip for (difflib on :func:`lookalike`
    forms, at least :data:`SLIP_CUTOFF` alike), or None."""
    forms = {lookalike(n): n for n in names}
    close = close_name(lookalike(name), list(forms), cutoff=SLIP_CUTOFF)
    return None if close is None else forms[close]


def warn_if_misnamed(name: str, known_tasks: Iterable[str], measured: set[str]) -> None:
    """Warn (UserWarning, "did you mean ...?") where ``name``, unknown to the predictor, is close to
    one of ``known_tasks`` (the predictor's) or of ``measured`` (the space's tables' datasets: a
    holdout predictor knowing cifar10 alone was asked 'cifar10' for "cifr100", where 'cifar100'
    was meant). Not a slip: a dataset the tables measured (a holdout predictor's own, named as
    documented), or a known name joined to other words (:func:`deliberate`)."""
    names = [*known_tasks, *sorted(measured)]
    close = slip_for(name, names)
    # by its exact name: "Cifar100" is a slip of case, said nothing before
    if close and name not in measured and not deliberate(name, names):
        warnings.warn(f"task {name!r} is not one the predictor knows, so it is a new dataset "
                      f"(ranks only until results); did you mean {close!r}? (a new dataset named on "
                      f"purpose: 'new-{name}')", TaskNameSlip, stacklevel=caller_stacklevel())
