"""The one protocol every search method implements: ``ask(k)`` and ``tell(results)``."""

from __future__ import annotations

import numbers
from typing import Protocol, runtime_checkable

import numpy as np

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph


@runtime_checkable
class Optimizer(Protocol):
    """Ask/tell optimizer over the architectures of one space.

    ``ask(k)`` proposes up to ``k`` architectures; ``tell(results)`` reports verified results,
    failed ones included (``Result.failed``), possibly of architectures it never asked for
    (a resumed run tells the stored history first).
    """

    def ask(self, k: int) -> list[ArchGraph]: ...

    def tell(self, results: list[Result]) -> None: ...


def check_optimizer(obj: object) -> Optimizer:
    """``obj`` if it has ``ask(k)`` and ``tell(results)``; a GennasError naming what is missing."""
    missing = [m for m in ("ask", "tell") if not callable(getattr(obj, m, None))]
    if missing:
        raise GennasError(f"{type(obj).__name__} is not an optimizer: it needs ask(k) and tell(results) "
                          f"(missing {', '.join(missing)})")
    return obj  # type: ignore[return-value]


def told_results(results: object) -> list[Result]:
    """What ``tell`` was given, checked: a Result or an iterable of them, each with an
    :class:`~gennas.graph.ArchGraph` and a numeric score (NaN allowed: a failure). A string score
    told by hand was stored, and every later ``ask`` of BANANAS and the designer then raised a
    TypeError; a string arch failed deep inside with an AttributeError."""
    if isinstance(results, Result):
        results = [results]
    try:
        items = list(results)  # type: ignore[call-overload]
    except TypeError:
        raise GennasError(f"tell() takes a list of Result, got {type(results).__name__}") from None
    for r in items:
        if not isinstance(r, Result):
            raise GennasError(f"tell() takes a list of Result, got an item {type(r).__name__} {r!r:.60}")
        if not isinstance(r.arch, ArchGraph):
            raise GennasError(f"a told Result's arch must be an ArchGraph (space.parse(text)), got {r.arch!r:.60}")
        if isinstance(r.score, bool) or not isinstance(r.score, numbers.Real):
            raise GennasError(f"a told Result's score must be a number (NaN for a failure), got {r.score!r:.40}")
    return items


def asked_count(k: object) -> int:
    """``k`` of ``ask(k)`` as a non-negative int (0 asks nothing); a GennasError naming anything else."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise GennasError(f"ask(k) takes a whole number k >= 0, got {k!r}")
    return int(k)
