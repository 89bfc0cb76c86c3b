"""The contract every ask/tell optimizer passes: each baseline and the designer loop alike.

    from gennas.testing.optimizers import check_optimizer

    check_optimizer(lambda seed: make_baseline("tpe", space, seed), space, TableEvaluator("nb201"))

``make(seed)`` builds a fresh optimizer. :func:`check_optimizer` runs every check below; each
raises AssertionError naming the broken property, and each can be called on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import SupportsFloat

import numpy as np

from gennas.evaluators.base import Evaluator, Result, as_evaluator
from gennas.graph import ArchGraph
from gennas.search.harness import SearchResult, run_search
from gennas.search.optimizer import Optimizer
from gennas.spaces import SearchSpace, resolve_space
from gennas.testing import check_new_valid

#: a fresh optimizer from a seed
Factory = Callable[[int], Optimizer]

#: seed of the architectures told without being asked for (a resumed run's history)
FOREIGN_SEED = 99
#: error text of the results the suite tells as failed
FAILED = "told as failed by the optimizer contract"


def check_optimizer(make: Factory, space: SearchSpace | str,
                    evaluator: Evaluator | Callable[[ArchGraph], SupportsFloat],
                    rounds: int = 4, k: int = 2, budget: int = 8, seed: int = 0, deterministic: bool = True,
                    full_batches: bool = True, seed_matters: bool = False) -> None:
    """Run the whole optimizer contract on optimizers built by ``make(seed)``.

    Args:
        make: builds a fresh optimizer from a seed.
        space: the space its proposals must belong to.
        evaluator: verifies proposals (an Evaluator or a callable ``ArchGraph -> float``).
        rounds: asks of ``k`` in the hand-driven ask/tell loop.
        k: architectures asked per round (and the batch size of the search).
        budget: verifications of the :func:`run_search` check.
        seed: the seed every optimizer is built with.
        deterministic: the same seed and the same feedback give the same proposals.
        full_batches: every ``ask(k)`` returns exactly ``k`` (else at most ``k``).
        seed_matters: another seed gives other proposals (:func:`check_seed_matters`; off by
            default: a method may be seed-free by design, as transfer-topk).
    """
    space, evaluator = resolve_space(space), as_evaluator(evaluator)
    check_protocol(make(seed))
    asked = check_ask_tell(make(seed), space, evaluator, rounds, k, full_batches)
    if deterministic:
        check_seeded(make, space, evaluator, rounds, k, seed, first=asked)
    if seed_matters:
        check_seed_matters(make, space, evaluator, rounds, k, seed, first=asked)
    check_ask_after_many_tells(make(seed), space, evaluator, k)
    check_run_search(make(seed), space, evaluator, budget, k)


def check_protocol(optimizer: object) -> None:
    """It is an :class:`~gennas.search.Optimizer`: callable ``ask`` and ``tell``."""
    if not isinstance(optimizer, Optimizer):
        raise AssertionError(f"{type(optimizer).__name__} is not an Optimizer: it needs ask(k) and tell(results)")


def check_ask_tell(optimizer: Optimizer, space: SearchSpace, evaluator: Evaluator, rounds: int = 4, k: int = 2,
                   full_batches: bool = True) -> list[ArchGraph]:
    """Driven by hand (:func:`drive`), it accepts failed results and results it never asked for, and
    each ask returns at most ``k`` (exactly ``k`` with ``full_batches``) valid architectures, none
    repeated across asks or equal to a told one. Returns what it proposed."""
    asked = drive(optimizer, space, evaluator, rounds, k)
    want = rounds * k
    if full_batches and len(asked) != want:
        raise AssertionError(f"{_name(optimizer)} proposed {len(asked)} architectures in {rounds} asks of {k}, "
                             f"not {want}")
    if not asked:
        raise AssertionError(f"{_name(optimizer)} proposed nothing in {rounds} asks of {k}")
    return asked


def check_seeded(make: Factory, space: SearchSpace, evaluator: Evaluator, rounds: int = 4, k: int = 2,
                 seed: int = 0, first: list[ArchGraph] | None = None) -> None:
    """Two optimizers built with the same seed and told the same results (:func:`drive`) propose the
    same architectures; ``first``: what the first one proposed, if it was driven already."""
    first = drive(make(seed), space, evaluator, rounds, k) if first is None else first
    second = drive(make(seed), space, evaluator, rounds, k)
    for i, (a, b) in enumerate(zip(first, second)):
        if a != b:
            raise AssertionError(f"seed {seed} is not reproducible: proposal {i} was {a.to_string()}, "
                                 f"then {b.to_string()}")
    if len(first) != len(second):
        raise AssertionError(f"seed {seed} is not reproducible: {len(first)} proposals, then {len(second)}")


def check_seed_matters(make: Factory, space: SearchSpace, evaluator: Evaluator, rounds: int = 4, k: int = 2,
                       seed: int = 0, first: list[ArchGraph] | None = None) -> None:
    """Optimizers built with ``seed`` and ``seed + 1`` and told the same results propose something
    different: one ignoring its seed made every seed of a benchmark one run (user walk 50)."""
    first = drive(make(seed), space, evaluator, rounds, k) if first is None else first
    if drive(make(seed + 1), space, evaluator, rounds, k) == first:
        raise AssertionError(f"seeds {seed} and {seed + 1} proposed the same {len(first)} architectures: is the "
                             "seed used? (a seed-free method: seed_matters=False)")


def check_ask_after_many_tells(optimizer: Optimizer, space: SearchSpace, evaluator: Evaluator, k: int = 2,
                               tells: int = 4, per_tell: int = 5) -> list[ArchGraph]:
    """After ``tells`` batches of results it never asked for (some failed), ``ask(k)`` still proposes
    at least one new valid architecture, none of them a told one."""
    told: set[str] = set()
    archs = unseen_samples(space, tells * per_tell, told, FOREIGN_SEED + 1)
    for start in range(0, len(archs), per_tell):
        _tell(optimizer, verify(evaluator, archs[start:start + per_tell], fail_every=3))
    batch = _ask(optimizer, space, k, told)
    if not batch:
        raise AssertionError(f"{_name(optimizer)}.ask({k}) proposed nothing after {tells} tells")
    return batch


def check_run_search(optimizer: Optimizer, space: SearchSpace, evaluator: Evaluator, budget: int = 8,
                     batch_size: int = 2) -> SearchResult:
    """Inside :func:`~gennas.search.run_search` it spends the whole budget on distinct valid architectures."""
    result = run_search(optimizer, evaluator, budget, batch_size=batch_size, progress=False, space=space)
    if result.exhausted or len(result.history) != budget:
        raise AssertionError(f"run_search with {_name(optimizer)} verified {len(result.history)} of a budget "
                             f"of {budget} (exhausted={result.exhausted})")
    check_new_valid([r.arch for r in result.history], space, f"run_search with {_name(optimizer)}")
    return result


# ---------------------------------------------------------------- the hand-driven loop
def drive(optimizer: Optimizer, space: SearchSpace, evaluator: Evaluator, rounds: int, k: int,
          foreign: int = 3, fail_every: int = 5) -> list[ArchGraph]:
    """Ask/tell by hand and check every ask; returns the proposals in order.

    First ``foreign`` results of architectures it never asked for are told (a resumed run's
    history; every second one failed); then ``rounds`` asks of ``k``, each batch verified by
    ``evaluator`` with every ``fail_every``-th result told as failed. The middle round's batch
    also carries the result of an architecture nobody asked for (verified by hand).
    """
    seen: set[str] = set()
    _tell(optimizer, verify(evaluator, unseen_samples(space, foreign, seen, FOREIGN_SEED), fail_every=2))
    asked: list[ArchGraph] = []
    for i in range(rounds):
        batch = _ask(optimizer, space, k, seen)
        seen.update(a.canonical_hash() for a in batch)
        results = [_failed(r) if (len(asked) + j) % fail_every == fail_every - 1 else r
                   for j, r in enumerate(verify(evaluator, batch))]
        asked += batch
        if i == rounds // 2:
            results += verify(evaluator, unseen_samples(space, 1, seen, FOREIGN_SEED + 2))
        _tell(optimizer, results)
    return asked


def verify(evaluator: Evaluator, archs: Sequence[ArchGraph], fail_every: int = 0) -> list[Result]:
    """``evaluator``'s results of ``archs``, every ``fail_every``-th told as failed (none with 0)."""
    results = list(evaluator.evaluate(list(archs)))
    if len(results) != len(archs):
        raise AssertionError(f"the evaluator returned {len(results)} results for {len(archs)} architectures")
    return [_failed(r) if fail_every and i % fail_every == fail_every - 1 else r for i, r in enumerate(results)]


def _failed(result: Result) -> Result:
    return Result(result.arch, math.nan, result.kind, error=FAILED)


def unseen_samples(space: SearchSpace, n: int, seen: set[str], seed: int) -> list[ArchGraph]:
    """``n`` random architectures of ``space`` whose canonical hashes are not in ``seen`` (added to it)."""
    rng = np.random.default_rng(seed)
    out: list[ArchGraph] = []
    for _ in range(100 * n):
        arch = space.sample(rng)
        h = arch.canonical_hash()
        if h not in seen:
            seen.add(h)
            out.append(arch)
            if len(out) == n:
                return out
    raise AssertionError(f"fewer than {n} unseen {space.name} architectures in {100 * n} samples: "
                         "the space is too small for the suite")


def _ask(optimizer: Optimizer, space: SearchSpace, k: int, seen: set[str]) -> list[ArchGraph]:
    """``optimizer.ask(k)``, checked: a list of at most ``k`` new valid architectures."""
    name = _name(optimizer)
    batch = optimizer.ask(k)
    if not isinstance(batch, list):
        raise AssertionError(f"{name}.ask({k}) returned a {type(batch).__name__}, not a list")
    if len(batch) > k:
        raise AssertionError(f"{name}.ask({k}) returned {len(batch)} architectures")
    check_new_valid(batch, space, f"{name}.ask({k}) (after {len(seen)} asked or told)", seen)
    return batch


def _tell(optimizer: Optimizer, results: list[Result]) -> None:
    try:
        optimizer.tell(results)
    except Exception as exc:  # any error here breaks the contract; say which results it refused
        failed = sum(r.failed for r in results)
        raise AssertionError(f"{_name(optimizer)}.tell refused {len(results)} results ({failed} failed, some "
                             f"possibly never asked for): {type(exc).__name__}: {exc}") from exc


def _name(optimizer: object) -> str:
    return type(optimizer).__name__


__all__ = ["FAILED", "Factory", "check_ask_after_many_tells", "check_ask_tell", "check_optimizer", "check_protocol",
           "check_run_search", "check_seeded", "drive", "unseen_samples", "verify"]
