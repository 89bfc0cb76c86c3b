"""The one protocol every search method implements: ``ask(k)`` and ``tell(results)``."""

from __future__ import annotations

import numbers
import weakref
from collections import Counter
from typing import Any, Protocol, runtime_checkable

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

    What the harness (:func:`~gennas.search.run_search`) relies on besides:

    - scores are told higher-is-better: a search with ``direction="minimize"`` tells each score
      negated, unless the optimizer declares a ``direction`` attribute (the designer's loop):
      then it is told the evaluator's scores as they are, and its ``direction`` must be the
      search's; a wrapper around an optimizer forwards the wrapped one's ``direction``;
    - a proposal already verified, or proposed twice in one ask, is dropped without being told:
      ask for architectures not verified yet (``gennas.testing.check_optimizer`` checks it);
    - optional attributes read where present: ``space`` (else ``run_search(space=...)``),
      ``history``, ``release(archs)`` (proposals not verified after all), ``search_notes``.
    """

    def ask(self, k: int) -> list[ArchGraph]:
        """Up to ``k`` architectures to verify next."""
        ...

    def tell(self, results: list[Result]) -> None:
        """Learn from verified ``results`` (failed ones included)."""
        ...


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


def untold(optimizer: object, results: list[Result]) -> list[Result]:
    """``results`` less those ``optimizer`` holds already (its ``history``: the designer's loop, the
    baselines), each counted once per time it holds it: a designer resuming the study its own
    search (or :meth:`~gennas.Designer.from_study`) told it was told them again, each counted
    twice (a 12-result study resumed to 14 held 26 results). An optimizer without a
    ``history`` is told them all."""
    history = getattr(optimizer, "history", None)  # `or ()` asked a numpy array for its truth (user walk 50)
    held = Counter(_key(r) for r in (() if history is None else history) if isinstance(r, Result))
    rest = []
    for r in results:
        if held[_key(r)] > 0:
            held[_key(r)] -= 1
        else:
            rest.append(r)
    return rest


def _key(result: Result) -> tuple[str, str]:
    """A result as told: its architecture's canonical hash and its score (a NaN of a failure alike)."""
    return result.arch.canonical_hash(), repr(float(result.score))


#: optimizers a registered method made (gennas.search.registry) -> the method's name
MADE_BY: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def method_name(optimizer: Any) -> str:
    """The ``method`` a study records for ``optimizer``: the registered method's name that made it
    (:data:`MADE_BY`, as ``gennas search --method`` records it), else the name its class declares
    (every baseline's, the designer's loop "designer"), else the class's dotted path; a wrapper (a
    latency filter) by what it wraps. A resume with another method is then refused (it was resumed
    by any optimizer unsaid)."""
    while True:
        made = _made_by(optimizer)
        if made is not None:
            return made
        if isinstance(getattr(type(optimizer), "name", None), str) or not hasattr(optimizer, "optimizer"):
            break
        optimizer = optimizer.optimizer
    declared = getattr(type(optimizer), "name", None)
    return declared if isinstance(declared, str) else f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"


def _made_by(optimizer: Any) -> str | None:
    try:
        return MADE_BY.get(optimizer)
    except TypeError:  # not weakly referable (__slots__ without __weakref__): not one a method made
        return None
