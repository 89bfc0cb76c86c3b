"""A task name that looks like a slip for a known one ("CIFAR10", "cifar-10", "cifr100"), and
:func:`close_name`, which finds the known name a slip was meant for (device names use it too).

A name the pretrained predictor does not know is a new dataset: the designer ranks only until it
has results. A slip of a known name must therefore be visible: "CIFAR10" and "cifar11" were
silently new datasets, ranked only, with nothing of cifar10's (user walks).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable

from gennas.errors import caller_stacklevel

#: how alike a name must be to a known one to be asked about: "new-cifar100" (0.80 alike) names a
#: new dataset on purpose
CUTOFF = 0.85


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


def folded(name: str) -> str:
    """``name`` as slips are compared: lower case, '_' as '-' ("CIFAR_10" and "cifar-10" alike)."""
    return name.lower().replace("_", "-")


def close_name(name: str, names: Iterable[str], cutoff: float = CUTOFF) -> str | None:
    """The one of ``names`` that ``name`` looks like a slip for (difflib on :func:`folded` names, at
    least ``cutoff`` alike; a task's, a device's: "pixel_3", "Walk23CPU"), or None."""
    known = {folded(n): n for n in names}
    close = difflib.get_close_matches(folded(name), list(known), n=1, cutoff=cutoff)
    return known[close[0]] if close else None
