"""Predictor-guided local search from the best of a guided pool (:meth:`gennas.Designer.generate`).

The guided generator trades the predicted score against a latency penalty while it samples, so
under a budget its samples sit well inside it: in mbv3 under 20 ms on a registered device
its 200 samples were predicted 19.0-24.0 (log10 synflow) and 10-14 blocks deep, while 16-17-block
subnets of the cheapest ops that the same predictor rates ~30 and the same bound keeps were
one-edit chains away (a search's local picks found them). 2,000 samples reached only 24.3 (8 CPU s).
Each of the best few samples therefore climbs: it moves to its best one-edit neighbour
(:meth:`SearchSpace.neighbours`) that the budget's filter keeps, while that neighbour is ranked
above it; the climbs' ends join the pool. There, seeds 0-2: first design true log10 synflow
24.2 / 24.5 / 24.0 before, 29.3 / 29.7 / 29.5 after; generate 1.0 -> 2.8 CPU s
(``python experiments/generate_climb.py --space mbv3 --device here --budgets 20 [--before]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gennas.design.verified import failed_only
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace

#: samples that climb (the best of the pool by the ranking). mbv3 at 20 ms on a registered device,
#: seeds 0-2, mean true log10 synflow of the 10 designs: 5 starts 25.7-25.9, 10: 27.4-28.0 (2.8 CPU s),
#: 20: 27.9-28.6 (5 CPU s); before 23.3-23.7 (1.0 CPU s)
STARTS = 10
#: most one-edit moves per climb (mbv3: ~110 neighbours a subnet, ~0.02 s of predictions and
#: bounds); there the first design was 27.9-29.2 after 4, 28.4-29.7 after 8, the same after 16 and 30
ROUNDS = 16

#: ``archs -> indices best first`` (the designer's ranking: :meth:`Predictions.order`)
Order = Callable[[Sequence[ArchGraph]], np.ndarray]
#: ``archs -> bool mask`` of those that may be designed (the budget's filter; a varying output)
Keep = Callable[[Sequence[ArchGraph]], np.ndarray]


def refined(designer: Any, pool: Sequence[ArchGraph]) -> list[ArchGraph]:
    """``pool`` and the ends of :func:`climbed` on it, ranked as ``designer`` ranks its designs
    (:meth:`~gennas.Designer.predictions`) and kept as its samples are (the budget's filter, a
    varying output, not failed in every verification)."""
    space, guidance = designer.space, designer.guidance
    failed = failed_only(designer.loop.history)

    def keep(archs: Sequence[ArchGraph]) -> np.ndarray:
        ok = np.array([not space.output_is_constant(a) and a.canonical_hash() not in failed for a in archs], bool)
        return ok & guidance.accept(archs)[0] if guidance.filters else ok

    return climbed(space, pool, lambda archs: designer.predictions(archs).order(len(archs)), keep)


def climbed(space: SearchSpace, pool: Sequence[ArchGraph], order: Order, keep: Keep,
            starts: int | None = None, rounds: int | None = None) -> list[ArchGraph]:
    """``pool`` and, after it, the ends of the climbs of its best ``starts`` (see the module's
    docstring; defaults :data:`STARTS`, :data:`ROUNDS`); every climber moves at once, so one ranking
    per round covers them all."""
    pool = list(pool)
    starts = STARTS if starts is None else starts
    rounds = ROUNDS if rounds is None else rounds
    if not pool or starts <= 0 or rounds <= 0:
        return pool
    current = _distinct([pool[int(i)] for i in order(pool)[:starts]])
    seen = [{a.canonical_hash()} for a in current]  # each climber's: ranked once for it
    for _ in range(rounds):
        moved = _step(space, current, order, keep, seen)
        if moved == current:
            break
        current, seen = _merged(moved, seen)
    known = {a.canonical_hash() for a in pool}
    return pool + [a for a in current if a.canonical_hash() not in known]


def _step(space: SearchSpace, current: list[ArchGraph], order: Order, keep: Keep,
          seen: list[set[str]]) -> list[ArchGraph]:
    """Each climber's best neighbour not yet ranked for it that ``keep`` admits, where it ranks
    above the climber, else the climber itself; ``seen[k]`` grows by climber ``k``'s neighbours."""
    groups: list[list[ArchGraph]] = []
    for arch, ranked in zip(current, seen):
        fresh = []
        for a in space.neighbours(arch):
            h = a.canonical_hash()
            if h not in ranked:
                ranked.add(h)
                fresh.append(a)
        groups.append(fresh)
    flat = [a for g in groups for a in g]
    if not flat:
        return current
    admitted = iter(np.asarray(keep(flat), dtype=bool))
    candidates, owner = list(current), list(range(len(current)))  # owner: whose neighbour each is
    for k, group in enumerate(groups):
        for a in group:
            if next(admitted):
                candidates.append(a)
                owner.append(k)
    rank = np.empty(len(candidates), dtype=int)
    rank[np.asarray(order(candidates), dtype=int)] = np.arange(len(candidates))
    moved, best = list(current), [int(r) for r in rank[:len(current)]]
    for i in range(len(current), len(candidates)):
        k = owner[i]
        if rank[i] < best[k]:
            best[k], moved[k] = int(rank[i]), candidates[i]
    return moved


def _merged(climbers: list[ArchGraph], seen: list[set[str]]) -> tuple[list[ArchGraph], list[set[str]]]:
    """Climbers that reached the same cell go on as one (the first), with what each had ranked."""
    first: dict[str, int] = {}
    out: list[ArchGraph] = []
    out_seen: list[set[str]] = []
    for arch, ranked in zip(climbers, seen):
        h = arch.canonical_hash()
        if h in first:
            out_seen[first[h]] |= ranked
        else:
            first[h] = len(out)
            out.append(arch)
            out_seen.append(ranked)
    return out, out_seen


def _distinct(archs: Sequence[ArchGraph]) -> list[ArchGraph]:
    """``archs`` without repeats (by canonical hash), in order."""
    out: dict[str, ArchGraph] = {}
    for a in archs:
        out.setdefault(a.canonical_hash(), a)
    return list(out.values())
