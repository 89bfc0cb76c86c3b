"""A designer held to the unit of the scores it was told first.

A stored study of 20 accuracies in % resumed with an evaluator that now returned fractions stored
0.7304 beside 72.2 without a word, and ``generate`` then stated 65.5 for a cell verified at
73.16 %; fractions told by hand after results in % stated 50.64 for 73.17; a proxy's 1234 told
among accuracies was ranked first ("verified 1234.0") and every design stated 48.53. A score that
reads in another unit than the results told before it (:func:`other_units`) is therefore never
learned: told by hand it is recorded as a failed verification with an :class:`OtherUnit` warning
(:func:`told_in_unit`); in a search it stops the search with a GennasError (:func:`held_to_unit`).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gennas.design.scores import ACCURACY_KINDS, TABLE_NOISE, check_kind_direction, scored_by_proxy
from gennas.errors import GennasError, GennasWarning, caller_stacklevel
from gennas.evaluators.base import Result
from gennas.surrogates.calibration import table_reach

#: the kinds a told Result may have (``proxy:<name>`` for any zero-cost proxy's score)
KNOWN_KINDS = (*ACCURACY_KINDS, "callable", "user", "proxy:<name>")
#: another reading of a score is the designer's unit where it lies within this many told ranges
#: (at least a tenth of the highest score) of the told scores: a slipped fraction of a cell a little
#: better or worse than those reads so, a chance-level accuracy does not (the first rule, from half
#: the lowest to 1.5 times the highest, read 1.0 % on cifar100, a cell that learned nothing, as
#: 100 % among results of 56-70 % and recorded it as failed; a 0.99 % one, 99 %, too)
PLAUSIBLE_RANGES = 1.0
#: maximised scores told within 0-1 from which any later score of 1-100 reads as an accuracy in %
#: (as ``scores.told_unit_problems`` judges "nearly all fractions" from 5)
FRACTIONS_TOLD = 5
#: a maximised score above 100 and this many times the highest told in % or fractions is of another scale
OTHER_SCALE = 10.0
#: how the error of a result recorded as read in another unit ends
OTHER_UNIT_ERROR = ", not in the designer's unit"


class OtherUnit(GennasWarning):
    """A score told in another unit than the designer's earlier results: recorded as failed."""


def is_known_kind(kind: str) -> bool:
    """Whether gennas knows what a Result of ``kind`` measures (:data:`KNOWN_KINDS`; a bare
    ``"proxy"`` is read as a proxy's, as :func:`~gennas.design.scores.scored_by_proxy` reads it)."""
    return kind in KNOWN_KINDS or kind == "proxy" or kind.startswith("proxy:")


def check_known_kinds(results: Sequence[Result]) -> None:
    """Raise GennasError naming :data:`KNOWN_KINDS` for a successful Result of another kind: a
    Result of kind "imagenet" was taken without a word as a score of no unit, and every design
    then lost its %. Failed results carry no score to read, whatever their kind."""
    for i, r in enumerate(results):
        if r.failed or is_known_kind(str(r.kind)):
            continue
        close = difflib.get_close_matches(str(r.kind), KNOWN_KINDS, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise GennasError(f"tell(): result {i} ({r.score:g}) has kind {r.kind!r}{hint}, which gennas does not know: "
                          "'table', 'train' or 'supernet' for accuracies in %, 'proxy:<name>' for a zero-cost "
                          "proxy's score, 'callable' (or tell(arch, score)) for a score of no unit; nothing was told")


def told_in_unit(loop: Any, results: list[Result]) -> list[Result]:
    """``results`` as :meth:`Designer.tell` records them on ``loop``: their kinds checked (known,
    not accuracies minimised), and those in another unit than the earlier results recorded as
    failed, with a warning, before any other check reads them as told."""
    check_kind_direction([r.kind for r in results], loop.scale.direction, "tell")  # nothing recorded
    check_known_kinds(results)
    return held_to_unit(loop, results, stop=False)


def warn_each(problems: Iterable[str | Warning]) -> None:
    """Each of ``problems`` as a warning at the user's line."""
    for problem in problems:
        warnings.warn(problem, GennasWarning, stacklevel=caller_stacklevel())  # a Warning keeps its class


def searched(loop: Any, force: bool) -> Any:
    """``loop`` for a search or a study replayed (:meth:`Designer.from_study`): one that stops on
    a score in another unit (:func:`held_to_unit`), unless ``force`` (a forced resume records such
    stored scores as failed)."""
    loop.stops_on_other_unit = not force
    return loop


def held_to_unit(loop: Any, results: list[Result], stop: bool | None = None) -> list[Result]:
    """``results`` with those in another unit than the results told before them
    (:func:`other_units`) recorded as failed, with an :class:`OtherUnit` warning; where ``stop``
    (by default the loop's ``stops_on_other_unit``, set by :func:`searched`) a GennasError instead.
    A loop no designer set (a cross-fitting fold, told part of the designer's results) is not
    held: its results were held when the designer was told them.

    A search stops: the harness stores each result before it tells the loop (so the first one in
    another unit is in the study already), and a demanding user would rather be stopped at it
    than spend the rest of the budget, a training each, on results never learned. Recording it as
    failed instead of learning it keeps every later replay of the study holding to the unit the
    same way, so ``resume=True, force=True`` goes on once the evaluator is corrected."""
    stop = getattr(loop, "stops_on_other_unit", None) if stop is None else stop
    readings, told = ({}, None) if stop is None else other_units(loop, results)
    if not readings or told is None:
        return results
    if stop and not lone_chance_level(loop, readings):
        raise GennasError(stop_text(results, readings, told))
    warnings.warn(OtherUnit(tell_text(results, readings, told, chance=bool(stop))), stacklevel=caller_stacklevel())
    return [replace(r, error=f"score {r.score:g} read as {readings[i]}{OTHER_UNIT_ERROR}")
            if i in readings else r for i, r in enumerate(results)]


def other_units(loop: Any, results: Sequence[Result]) -> tuple[dict[int, str], Told]:
    """The successful ``results`` (by index) whose scores read in another unit than those told to
    ``loop`` before them (its history, then the earlier ones of this call), with what each reads
    as: a fraction after accuracies in % or the reverse (where that other reading lies among the
    told scores, :data:`PLAUSIBLE_RANGES`), a proxy's score after accuracies, an accuracy after a
    proxy's. Minimised scores alike (an error rate in % and as a fraction: 0.0637 after errors of
    5.6-6.3 % was learned as the best result by far); nothing for compressed scores (synflow near
    1e49, log-scores): no unit ties them to a fraction. Also returns what the others told say of
    their unit."""
    measured = table_reach(loop.space, loop.task)  # a bundled dataset: its lowest cell is where chance lies
    told = Told(not loop.scale.compress, getattr(loop.task, "name", None),
                minimized=loop.scale.direction == "minimize", lowest=None if measured is None else measured[0])
    for r in loop.history:
        if not r.failed:
            told.add(r)
    out: dict[int, str] = {}
    for i in first_told(results, fresh=not told.count):
        reading = told.other_reading(results[i])
        if reading is None:
            told.add(results[i])
        else:
            out[i] = reading
    return out, told


def first_told(results: Sequence[Result], fresh: bool) -> list[int]:
    """The indices of the successful ``results`` in the order they set the unit: as told, but in a
    ``fresh`` designer's first call accuracies in % (of an accuracy kind, above 1) first, the unit
    their kind declares (else ``[0.7, 71.0]`` of kind "train" held 71.0 to be the slip); where no
    kind declares one, the scores of the majority's range (0-1 or 1-100) first."""
    done = [i for i, r in enumerate(results) if not r.failed]
    declared = [i for i in done if fresh and results[i].kind in ACCURACY_KINDS and results[i].score > 1]
    rest = sorted(set(done) - set(declared))
    if fresh and not declared:
        # no kind declares the unit: the majority's, not the first score's (a slipped fraction told
        # first among four accuracies in % recorded the four as failed, user walk 57)
        percent = [i for i in rest if 1 < results[i].score <= 100]
        fraction = [i for i in rest if 0 <= results[i].score <= 1]
        major = percent if len(percent) > len(fraction) else fraction if len(fraction) > len(percent) else []
        rest = major + [i for i in rest if i not in set(major)]
    return declared + rest


@dataclass
class Told:
    """What the successful results told so far say of their unit, kept as they come (a study
    replayed in one call is read in one pass). ``readable``: uncompressed scores, the only ones
    read in % or fractions; ``task``: the task's name (one named after a proxy is a proxy's);
    ``minimized``: lower is better (an error rate, a loss); ``lowest``: the lowest accuracy (%) the
    space's table measured for the task's dataset, None for a dataset it did not measure."""

    readable: bool
    task: str | None
    minimized: bool = False
    lowest: float | None = None
    count: int = 0
    fractions: int = 0  # scores within [0, 1]
    percents: int = 0  # scores within (1, 100]
    low: dict[str, float] = field(default_factory=dict)  # the lowest score of each range, "%" / "fraction"
    high: dict[str, float] = field(default_factory=dict)
    accuracy_kind: bool = False
    proxy: bool = False
    kinds: set[str] = field(default_factory=set)

    def add(self, r: Result) -> None:
        """Count the successful result ``r`` in. A score of 0-1 among accuracies in % was not read
        as a fraction (:meth:`other_reading`: outside their plausible window), so it is taken for
        an accuracy of a network that learned nothing: counted in %, their range left as it is.
        Counted as a fraction, it left the unit open and every later fraction passed unread (a
        random cell's 0.6082 after results of 72-73 %, then 0.7230 for a cell of 72.30 %)."""
        s = float(r.score)
        self.count += 1
        within = "fraction" if 0 <= s <= 1 else "%" if 1 < s <= 100 else None
        if within == "fraction" and self.unit() == "%":
            self.percents += 1
            return
        if within == "fraction" and r.kind in ACCURACY_KINDS and not self.fractions:
            # declared accuracies in %, all at most 1 (1-epoch trainings of 1,000 classes): read in %,
            # as the designer reads them (scores.told_unit_problems warns); read as fractions, a
            # 45 % result after them was recorded as failed and stopped the search (user walk 57)
            within = "%"
        if within is not None:
            self.fractions, self.percents = self.fractions + (within == "fraction"), self.percents + (within == "%")
            self.low[within], self.high[within] = min(self.low.get(within, s), s), max(self.high.get(within, s), s)
        self.accuracy_kind = self.accuracy_kind or r.kind in ACCURACY_KINDS
        self.proxy = self.proxy or scored_by_proxy([r.kind], self.task)
        self.kinds.add(r.kind)

    def unit(self) -> str | None:
        """``"%"`` where no readable score lies in [0, 1] and most lie in (1, 100] (a slip warned of
        at its tell, 150 or -3, leaves the others their unit; a score of 0-1 told once the unit is
        % counts as one: a network that learned nothing scores under 1 %, :meth:`add`),
        ``"fraction"`` where all lie in [0, 1]."""
        if not self.readable or not self.count:
            return None
        if not self.fractions and 2 * self.percents > self.count:
            return "%"
        return "fraction" if self.fractions == self.count else None

    def other_reading(self, r: Result) -> str | None:
        """What the successful ``r`` reads as where it contradicts the unit told, else None."""
        if not self.count:
            return None
        if self.proxy:
            return f"an accuracy, kind {r.kind!r}" if r.kind in ACCURACY_KINDS else None
        unit = self.unit()
        if r.kind.startswith("proxy") and (unit is not None or self.accuracy_kind):
            return f"a zero-cost proxy's score, kind {r.kind!r}"
        if unit is None:
            return None
        s, spread = float(r.score), max(self.high[unit] - self.low[unit], 0.1 * self.high[unit])
        low, high = self.low[unit] - PLAUSIBLE_RANGES * spread, self.high[unit] + PLAUSIBLE_RANGES * spread
        # below a measured dataset's lowest cell by more than a training's noise, a score is no accuracy
        # of it (0.6084 on cifar10, whose cells at chance read 10 %, was kept as one, user walk 57) where
        # the told accuracies lie above that cell (declared accuracies all under 1 are one unit with it)
        below_chance = (not self.minimized and self.lowest is not None
                        and s < self.lowest - TABLE_NOISE <= self.low[unit] and 100 * s >= self.lowest)
        # 0 and 1 excluded: 0 reads alike in both units, 1.0 % is chance on 100 classes
        if unit == "%" and 0 < s < 1 and (low <= 100 * s <= high or below_chance):
            return f"a fraction: {100 * s:.4g} %"
        # maximised fractions are read as accuracies (scores.percent_per_unit): no score above 1 is one,
        # and a poorer cell's % lies anywhere below them (60.84 after fractions of 0.94 became the best
        # result, user walk 57), once :data:`FRACTIONS_TOLD` say so; a minimised unit's may be a loss that
        # rises above 1, scores of only 0 and 1 (a constant 1.0) are no fractions' unit, and a score of
        # its own may start below 1 (conv3 counted plus a tenth of the distinct ops: 0.2, then 1.2)
        held_fractions = (not self.minimized and self.fractions >= FRACTIONS_TOLD
                          and self.low.get("fraction", 1) < 1 and self.high.get("fraction", 0) > 0)
        if unit == "fraction" and 1 < s <= 100 and (held_fractions or low <= s / 100 <= high):
            return f"{'a score' if self.minimized else 'an accuracy'} in %: {s / 100:.4g} as a fraction"
        # far above what the unit holds: a proxy's score or a log told by a callable (1234 after fractions,
        # 1e49 after accuracies in % were named the best verified design, user walk 57); a minimised loss
        # may diverge that far, and a declared accuracy above 100 is warned of as one (told_unit_problems)
        if not self.minimized and r.kind not in ACCURACY_KINDS and s > 100 and s >= OTHER_SCALE * self.high[unit]:
            return f"a score of another scale, {s / self.high[unit]:.3g} times the highest told"
        return None

    def text(self) -> str:
        """The unit of the results told and their range, as a message names it."""
        unit = self.unit()
        results = f"{self.count} result{'s' if self.count > 1 else ''}"
        if unit is None:
            return f"scores of kind {', '.join(sorted(self.kinds))} ({results})"
        inside = self.percents if unit == "%" else self.fractions
        outside = f", {self.count - inside} outside 0-100" if inside < self.count else ""
        if self.minimized:
            what = ("scores in %" if unit == "%" else "scores of 0-1") + " (lower is better)"
        else:
            what = "accuracies in %" if unit == "%" else "fractions of 1"
        return f"{what} ({results}, {self.low[unit]:g} to {self.high[unit]:g}{outside})"


def as_recorded(results: Sequence[Result], history: Sequence[Result]) -> list[Result]:
    """``results`` (a search's, as stored) with each that ``history`` (the loop's) recorded as failed
    in another unit replaced by that record: a forced search's result had named such a score its
    best, verified, while the designer held it failed."""
    other = {(r.arch.canonical_hash(), r.score): r for r in history if (r.error or "").endswith(OTHER_UNIT_ERROR)}
    return [r if r.failed else other.get((r.arch.canonical_hash(), r.score), r) for r in results]


def lone_chance_level(loop: Any, readings: dict[int, str]) -> bool:
    """Whether ``readings`` are one score under 1 read as a fraction among accuracies in %, right
    after a result that was not: as likely a training that learned nothing (chance is 1 % on 100
    classes). A diverged cifar100 training's 0.8 % stopped a search as "a fraction: 80 %"; a
    search records it as failed instead, and only a second in a row (a changed evaluator)
    stops it. Read from the loop's history, so a replay of the study holds it the same way."""
    if loop.scale.direction == "minimize":  # a score under 1 among errors in % is a very good one, not chance
        return False
    if len(readings) != 1 or not next(iter(readings.values())).startswith("a fraction:"):
        return False
    last = loop.history[-1] if loop.history else None
    return last is None or not (last.error or "").endswith(OTHER_UNIT_ERROR)


def named(results: Sequence[Result], readings: dict[int, str]) -> str:
    """The scores in another unit and what they read as, the first with its architecture."""
    items = [f"{results[i].score:g} ({reading})" for i, reading in readings.items()]
    first = next(iter(readings))
    shown = ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
    return f"{shown}, {'the first ' if len(items) > 1 else ''}for {results[first].arch}"


def remedy(readings: dict[int, str], minimized: bool = False) -> str:
    """The scores to give instead of those read as ``readings`` (``minimized``: lower is better)."""
    text = " ".join(readings.values())
    if "fraction:" in text:
        return f"{'scores' if minimized else 'accuracies'} in %, as before (fractions times 100)"
    if "in %:" in text:
        return "fractions, as before (accuracies in % divided by 100)"
    return ("scores of the kind told before (a proxy's scores to a designer of their own, its task named after "
            "the proxy, e.g. 'cifar100-synflow')")


def tell_text(results: Sequence[Result], readings: dict[int, str], told: Told, chance: bool = False) -> str:
    """The warning of a ``tell`` (by hand, or of a forced resume) whose ``results`` hold scores in
    another unit than ``told``; ``chance``: a search's lone score under 1 (:func:`lone_chance_level`)."""
    if chance:
        return (f"a score under 1 among accuracies in %: {named(results, readings)}, or a training that learned "
                f"nothing ({results[next(iter(readings))].score:g} %: chance is 1 % on 100 classes); the designer's "
                f"other results are {told.text()}. It is recorded as a failed verification, not learned from, and "
                "the search goes on; a second such score in a row stops it (an evaluator that now returns fractions)")
    return (f"scores in another unit: {named(results, readings)}: the designer's other results are "
            f"{told.text()}, and one designer learns one unit (learned, these would be taken for it). They are "
            f"recorded as failed verifications, not learned from. Give {remedy(readings, told.minimized)} and tell "
            "them again, or correct the evaluator; for scores in another unit, use a new designer (a new study, "
            "or a task of its own)")


def stop_text(results: Sequence[Result], readings: dict[int, str], told: Told) -> str:
    """The GennasError of a search told ``results`` in another unit than ``told``."""
    return (f"stopped at results in another unit: {named(results, readings)}: the designer's other "
            f"results are {told.text()}, and one designer learns one unit (learned, these would be taken "
            "for it; a changed evaluator?). A stored study keeps each result before the designer learns it, "
            f"so it may hold them already: make the evaluator return {remedy(readings, told.minimized)} and "
            "resume (or Designer.from_study) with force=True (`--force` on the command line), which records "
            "stored scores of another unit as failed verifications, with a warning; or start a new study "
            "(another study_name) for scores in the new unit. Nothing of these results was learned")
