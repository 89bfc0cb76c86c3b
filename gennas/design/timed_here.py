"""Designs timed on this machine before they are shown: a latency budget kept by measurement.

A device registered here by ``gennas latency measure`` judges a budget by its latency model's
upper bound, calibrated on the random architectures it timed. The designer does not pick at
random: it picks the best-predicted architectures the bound admits, and among those near the
budget the ones the model under-rates are over-represented. On a 4-node space of a user's own
(``--clock cpu``), 20 designs stated under 1.2 ms at 95 % were timed: 3 ran over
their bound (up to 1.46 ms), though the bound covered 29 of 30 random cells. Where the device is
this machine, a design can be timed rather than bounded: ``gennas design --time-here`` times each
design here twice with the registration's settings, in rank order, and keeps those whose slower
timing times the registration's re-timing margin (:mod:`gennas.surrogates.retiming`) is within
the budget. The margin covers a second timing in the same sitting, not another load: designs
kept at the budget ran over it in another sitting as often as the machine's speed moved
(docs/results.md, "Designs timed here").
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gennas.design.candidate import Candidate
from gennas.errors import GennasError
from gennas.spaces import SearchSpace
from gennas.threads import torch_threads

__all__ = ["GENERATING_TO_TIME", "SITTING_CELLS", "TIMED_POOL", "TIME_HERE_GENERATION", "TIMINGS_PER_DESIGN", "TIMING_SETTINGS",
           "TimedDesigns", "can_time_here", "generating_to_time", "keep_timed_within", "local_registration", "picked_by_missed_estimate", "pool_to_time",
           "registered_timer", "sitting_speed"]

#: the registration's settings a design (or a recheck) is timed with (``gennas latency measure`` stores them)
TIMING_SETTINGS = ("batch_size", "repeats", "max_repeats", "warmup", "target_spread", "max_seconds", "clock",
                   "torch_device")


def local_registration(name: str, space: SearchSpace) -> dict[str, Any]:
    """The record of device ``name``, registered for ``space`` on this machine by ``gennas latency
    measure`` (with the settings it timed with); else a GennasError saying why it cannot be timed here."""
    from gennas.spaces.identity import space_argument
    from gennas.surrogates import measure

    record = measure.registered_record(name, space.name)
    if record is None:
        from gennas.surrogates.latency import load_latency_estimator

        if name in getattr(load_latency_estimator(space), "bundled", ()):  # listed by `latency devices` too
            raise GennasError(f"{name!r} is a device bundled with {space.name}'s tables, measured elsewhere: only a "
                              "device registered with `gennas latency measure` on this machine can be timed here")
        # a user space is loaded by its YAML path: `--space walk12space` failed as an unknown space
        raise GennasError(f"device {name!r} is not registered for {space.name} (`gennas latency devices --space "
                          f"{space_argument(space)}` lists those that are): only a device registered here can be "
                          "timed here")
    if record.get("machine") not in (None, platform.node()):
        raise GennasError(f"device {name!r} was measured on machine {record.get('machine')!r}, and this is "
                          f"{platform.node()!r}: timing it here would time another machine")
    # timings a refused measure here kept, then registered, are this machine's too (they name it)
    if record.get("registered_from") and record.get("machine") is None:
        raise GennasError(f"device {name!r} was registered from timings taken elsewhere ({record['registered_from']}), "
                          "not by `gennas latency measure` here: only a device measured on this machine, with the "
                          "settings that command stores, can be timed here")
    if not all(k in record for k in TIMING_SETTINGS):  # a registration by an earlier gennas: "(None)" before
        raise GennasError(f"device {name!r} was registered without the timing settings `gennas latency measure` now "
                          "records (by an earlier gennas, or from a file): it cannot be timed again the same way; "
                          f"measure it here again, `gennas latency measure --space {space_argument(space)} --name "
                          f"{name} --force`")
    return record


def can_time_here(name: str, space: SearchSpace) -> bool:
    """Whether device ``name`` of ``space`` can be timed on this machine (``--time-here``): it was
    registered here by ``gennas latency measure`` (:func:`local_registration`)."""
    try:
        local_registration(name, space)
    except GennasError:  # measured elsewhere, or bundled: nothing to time here
        return False
    return True


def registered_timer(record: dict[str, Any], space: SearchSpace) -> Callable[[Any], float]:
    """``arch -> ms``: a timing on this machine with ``record``'s settings (clock, batch, repeats,
    torch threads, build options), as ``gennas latency measure`` timed the device."""
    from gennas.surrogates import measure

    settings = {k: record[k] for k in TIMING_SETTINGS if k != "clock"}
    threads, build = int(record.get("torch_threads", 1)), record.get("build", {})
    if record.get("samples"):  # a process's first timing runs cold (see measure.warm_up)
        with torch_threads(threads):
            measure.warm_up(record["samples"][0][0], space, **settings, **build)

    def time_one(arch: Any) -> float:
        with torch_threads(threads):
            return measure.measure_timing(arch, space, basis=record["clock"], **settings, **build).ms

    return time_one


@dataclass(frozen=True)
class TimedDesigns:
    """What timing designs here kept and left out.

    Attributes:
        kept: designs within the budget by their timing, re-ranked 1.. in their order, each with
            ``predicted_latency_ms`` its timing (``latency_measured``) and ``latency_bound_ms``
            the timing times the margin.
        over: ``(design, timing ms)`` of those left out, in their order.
    """

    kept: list[Candidate]
    over: list[tuple[Candidate, float]]


#: designs generated per design asked for under --time-here: some time over the budget and are left out
TIMED_POOL = 3
#: the latency confidence designs are generated under with --time-here: the model's point estimate
#: (its bound at 0.5) proposes, the timing here decides
TIME_HERE_GENERATION = 0.5
#: True while ``--time-here`` generates the designs it will time (:func:`generating_to_time`): a budget
#: none is estimated within then advised --time-here and a lower --latency-confidence, both in effect
#: already
GENERATING_TO_TIME: ContextVar[bool] = ContextVar("gennas_generating_to_time", default=False)


@contextmanager
def generating_to_time() -> Iterator[None]:
    """Within it, designs are generated to be timed here (:data:`GENERATING_TO_TIME` is True): an
    infeasible budget's reason says what limits ``--time-here`` instead of advising it."""
    token = GENERATING_TO_TIME.set(True)
    try:
        yield
    finally:
        GENERATING_TO_TIME.reset(token)


#: registered architectures timed again before the designs, to say how fast this sitting runs
SITTING_CELLS = 3


def sitting_speed(record: dict[str, Any], time_one: Callable[[Any], float], cells: int = SITTING_CELLS) -> float:
    """This sitting's timings of the first ``cells`` registered architectures over their
    registered timings, the median (below 1: faster now than when the device was registered).
    Designs kept at a budget in a fast sitting ran over it in a busier one (docs/results.md, "Designs
    timed here")."""
    samples = [(arch, float(ms)) for arch, ms in record.get("samples", [])[:cells]]
    return float(np.median([time_one(arch) / ms for arch, ms in samples])) if samples else 1.0


#: timings per design under --time-here, the slowest of which judges it: kept on one timing, the
#: designs near the budget were the ones timed low, and timed again 15 of 25 ran over their bound
#: (nb201 at 4 ms)
TIMINGS_PER_DESIGN = 2


def pool_to_time(designer: Any, rebudgeted: Callable[[float], Any], margin: float, size: int) -> list[Candidate]:
    """Up to ``size`` designs to time for ``designer``'s budget B, in rank order: those its latency
    model estimates within B / ``margin`` first (``rebudgeted(ms)`` is the designer under budget
    ``ms``), then, where they are fewer than ``size``, those within B. A design is kept only if its
    timing x ``margin`` is within B: generated under B, the pool held designs estimated just under
    it, which timed near B and were all left out (a user walk: margin 1.7, none of 30 kept)."""
    from gennas.generators.guidance import InfeasibleBudget

    pool: list[Candidate] = []
    if margin > 1.0:
        try:
            pool = list(rebudgeted(designer.max_latency_ms / margin).generate(size))
        except InfeasibleBudget:  # none estimated within it: the budget's own pool, judged by its timings
            pool = []
    if len(pool) < size:
        seen = {c.arch.canonical_hash() for c in pool}
        pool += [c for c in designer.generate(size) if c.arch.canonical_hash() not in seen][:size - len(pool)]
    return [replace(c, rank=rank) for rank, c in enumerate(pool, 1)]


def keep_timed_within(candidates: Sequence[Candidate], time_one: Callable[[Any], float], max_latency_ms: float,
                      margin: float, n: int, step: Callable[[str], None] | None = None,
                      timings: int = TIMINGS_PER_DESIGN) -> TimedDesigns:
    """Time ``candidates`` in rank order (``time_one(arch) -> ms``, ``timings`` times each, the
    slowest counting) until ``n`` are kept: those whose timing times ``margin`` is at most
    ``max_latency_ms``; the others timed are :attr:`TimedDesigns.over`. ``step`` is told each
    design's timing as it is taken."""
    kept: list[Candidate] = []
    over: list[tuple[Candidate, float]] = []
    for candidate in candidates:
        if len(kept) == n:
            break
        ms = max(float(time_one(candidate.arch)) for _ in range(timings))
        if step is not None:
            step(f"{candidate.arch.to_string()}: {ms:.3f} ms")
        if ms * margin <= max_latency_ms:
            kept.append(replace(candidate, rank=len(kept) + 1, predicted_latency_ms=ms, latency_measured=True,
                                latency_bound_ms=ms * margin))
        else:
            over.append((candidate, ms))
    return TimedDesigns(kept, over)


def picked_by_missed_estimate(budget: Any, record: dict[str, Any], space: SearchSpace) -> str | None:
    """Under ``--time-here``: where the registration's check (``gennas latency measure --check``)
    found the bound the designs to time were generated under (``budget``'s, at
    :data:`TIME_HERE_GENERATION`) covering significantly fewer than its confidence, what that
    means here (the pool may hold fewer designs within the budget; the timings still judge them);
    else None. It warned "designs may run over the budget" of a 50 % bound no one asked for."""
    from gennas.design.bound_check import BoundCheck, stored_check

    checked = stored_check(record, space)
    if budget is None or checked is None or (check := BoundCheck.of(budget, *checked)).holds:
        return None
    return (f"the designs to time were generated under the latency model's estimate for {budget.device!r} (its "
            f"{check.confidence:.0%} bound), which was at or above the timing of only {check.covered} of the "
            f"{check.cells} architectures timed at its registration: fewer of them may be within the budget; "
            "each design kept is judged by its own timing here, not by the estimate")
