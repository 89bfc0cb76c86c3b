"""The contract every evaluator passes (an :class:`~gennas.evaluators.Evaluator` or a wrapped callable).

    from gennas.testing.evaluators import check_evaluator

    check_evaluator(TableEvaluator("nb201", "cifar10"), "nb201")

:func:`check_evaluator` runs every check below; each raises AssertionError naming the broken
property, and each can be called on its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import SupportsFloat

from gennas.errors import GennasError
from gennas.evaluators.base import Evaluator, Result, as_evaluator
from gennas.graph import ArchGraph
from gennas.search.evaluator_settings import check_evaluator_space
from gennas.search.executor import checked
from gennas.spaces import SearchSpace, list_spaces, load_space, resolve_space


def check_evaluator(evaluator: Evaluator | Callable[[ArchGraph], SupportsFloat], space: SearchSpace | str, n: int = 4,
                    seed: int = 0, refuses_foreign: bool = True) -> None:
    """Run the whole evaluator contract on ``n`` random architectures of ``space``.

    Args:
        evaluator: an Evaluator, or a callable ``ArchGraph -> float`` (wrapped by ``as_evaluator``).
        space: the space it verifies.
        refuses_foreign: it knows its space, so an architecture of another space is refused
            (a plain callable that scores any graph does not).
    """
    evaluator, space = as_evaluator(evaluator), resolve_space(space)
    try:  # the harness's own refusal: one declaring another space fails every verification of a search
        check_evaluator_space(evaluator, space.name)
    except GennasError as exc:
        raise AssertionError(str(exc)) from None
    archs = space.sample_many(n, seed)
    check_results(evaluator, archs)
    check_results(evaluator, archs[::-1])  # in order, whatever the order
    check_empty_batch(evaluator)
    if refuses_foreign:
        check_refuses_foreign(evaluator, foreign_arch(space, seed))


def check_results(evaluator: Evaluator, archs: Sequence[ArchGraph]) -> list[Result]:
    """One :class:`Result` per architecture, in order, each of that architecture, with its ``kind``
    set and either a finite score or ``failed`` with an error; ``cost_s`` finite and >= 0, ``metadata``
    a JSON-serialisable dict."""
    name = type(evaluator).__name__
    results = evaluator.evaluate(list(archs))
    if not isinstance(results, list):
        raise AssertionError(f"{name}.evaluate returned a {type(results).__name__}, not a list")
    if len(results) != len(archs):
        raise AssertionError(f"{name}.evaluate returned {len(results)} results for {len(archs)} architectures")
    for i, (arch, r) in enumerate(zip(archs, results)):
        where = f"{name}.evaluate: result {i}"
        if not isinstance(r, Result):
            raise AssertionError(f"{where} is a {type(r).__name__}, not a Result")
        if r.arch != arch:
            raise AssertionError(f"{where} is of {r.arch}, not of the architecture asked about ({arch}): out of order?")
        if not isinstance(r.kind, str) or not r.kind:
            raise AssertionError(f"{where} has no kind (got {r.kind!r})")
        if r.failed and not (isinstance(r.error, str) and r.error):
            raise AssertionError(f"{where} failed (score {r.score!r}) without saying why (error={r.error!r})")
        if not r.failed and not math.isfinite(r.score):
            raise AssertionError(f"{where} has score {r.score!r}, neither finite nor failed")
        if not (isinstance(r.cost_s, (int, float)) and math.isfinite(r.cost_s) and r.cost_s >= 0):
            raise AssertionError(f"{where} has cost_s {r.cost_s!r}: want seconds, finite and >= 0")
        if not isinstance(r.metadata, dict):
            raise AssertionError(f"{where} has metadata of type {type(r.metadata).__name__}, not a dict")
        try:
            json.dumps(r.metadata)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{where} has metadata that is not JSON-serialisable: {exc}") from exc
        kept = checked(r, evaluator)  # what a search stores of it: passing here means working there
        if kept.failed and not r.failed:
            raise AssertionError(f"{where} would fail in a search: {kept.error}")
    return results


def check_empty_batch(evaluator: Evaluator) -> None:
    """An empty batch gives an empty list."""
    results = evaluator.evaluate([])
    if results != []:
        raise AssertionError(f"{type(evaluator).__name__}.evaluate([]) returned {results!r}, not []")


def check_refuses_foreign(evaluator: Evaluator, arch: ArchGraph) -> None:
    """An architecture of another space raises a GennasError or comes back as a failed Result with an error."""
    name = type(evaluator).__name__
    try:
        results = evaluator.evaluate([arch])
    except GennasError:
        return
    except Exception as exc:  # anything else is the bug this check is for
        raise AssertionError(f"{name}.evaluate raised {type(exc).__name__} on an architecture of space "
                             f"{arch.space!r}: want a GennasError or a failed Result ({exc})") from exc
    if len(results) != 1 or not results[0].failed or not results[0].error:
        raise AssertionError(f"{name}.evaluate scored an architecture of space {arch.space!r}: {results!r}")


def foreign_arch(space: SearchSpace, seed: int = 0) -> ArchGraph:
    """An architecture of a bundled space other than ``space``."""
    others = [s for s in list_spaces() if s != space.name]
    if not others:
        raise AssertionError(f"no bundled space besides {space.name!r} to take a foreign architecture from")
    return load_space(others[0]).sample(seed)


__all__ = ["check_empty_batch", "check_evaluator", "check_refuses_foreign", "check_results", "foreign_arch"]
