"""The scale the loop's predictor learns on: any evaluator's scores, mapped there and back.

Evaluators score on any scale and sign: accuracy in %, a fraction, a loss to minimise, synflow
near 1e49, log-scores. The predictor learns *higher is better* on a scale where float32 stays
finite: a loss is negated, and scores of huge magnitude are compressed by a signed log (order is
kept, so rankings and acquisitions are unchanged). Accuracies in % pass unchanged, so a
pretrained task's units (and what transfers from it) stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gennas.errors import GennasError, GennasWarning
from gennas.evaluators.base import ACCURACY_KINDS

#: scores beyond this magnitude are compressed (float32 predictions squared in a loss overflow near 1e19)
COMPRESS_ABOVE = 1e4
DIRECTIONS = ("maximize", "minimize")
#: the largest value expm1 maps to a finite float64 (log of its largest, 1.8e308)
LOG_MAX = float(np.log(np.finfo(np.float64).max))


@dataclass
class ScoreScale:
    """Monotone map from an evaluator's scores to the predictor's scale.

    Attributes:
        direction: ``"maximize"`` (higher scores are better) or ``"minimize"``.
        compress: scores pass through ``sign(s) * log1p(|s|)`` (decided from the scores seen).
        factor: scores are multiplied by it first: 100 for fractions of a dataset the predictor
            learned in % (:mod:`gennas.design.told_scale`), else 1.
    """

    direction: str = "maximize"
    compress: bool = False
    #: the scores' unit when known without results ("%", "" for a proxy's): a saved predictor's
    unit: str | None = None
    factor: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise GennasError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")

    def observe(self, scores: np.ndarray) -> bool:
        """Look at raw scores; True when the map changed (then everything told must be re-mapped)."""
        if not self.compress and np.abs(np.asarray(scores, dtype=np.float64)).max(initial=0.0) > COMPRESS_ABOVE:
            self.compress = True
            return True
        return False

    def to_model(self, scores: np.ndarray) -> np.ndarray:
        """Raw scores -> the predictor's scale (higher is better), float64."""
        y = self.factor * np.asarray(scores, dtype=np.float64)
        if self.compress:
            y = np.sign(y) * np.log1p(np.abs(y))
        return -y if self.direction == "minimize" else y

    def range_to_model(self, low: float, high: float) -> tuple[float, float]:
        """Raw scores' range ``[low, high]`` (infinite ends allowed) on the predictor's scale, lowest first."""
        ends = self.to_model(np.array([low, high]))
        return float(ends.min()), float(ends.max())

    def from_model(self, values: np.ndarray) -> np.ndarray:
        """The predictor's scale -> raw scores (inverse of :meth:`to_model`), float64."""
        y = np.asarray(values, dtype=np.float64)
        y = -y if self.direction == "minimize" else y
        # capped below log(float64 max): a prediction past the largest score is that score, not inf
        y = np.sign(y) * np.expm1(np.minimum(np.abs(y), LOG_MAX)) if self.compress else y
        return y / self.factor


def check_kind_direction(kinds: Sequence[str], direction: str, source: str) -> None:
    """Raise GennasError where scores of an accuracy kind (:data:`ACCURACY_KINDS`, higher is better)
    are to be minimised: the search looks for the worst architectures
    (``Designer(..., direction="minimize").search(TableEvaluator("nb201", "cifar10"))`` returned its
    lowest accuracy, 92.18, without a word; error rates told as kind "train" read "verified 5.63 %"
    under ``pred_acc``). ``source``: what gave the scores, as the message names it."""
    wrong = sorted({kind for kind in kinds if kind in ACCURACY_KINDS})
    if direction != "minimize" or not wrong:
        return
    raise GennasError(f"{source} gives scores of kind {wrong[0]!r}, which are accuracies in % (higher is better), "
                      "but they are to be minimized (direction='minimize'): the search would look for the worst "
                      "architectures. For accuracies use direction='maximize' (the default); for a score to "
                      "minimise (a loss, an error rate) give it another kind (CallableEvaluator(fn), or "
                      "Result(..., kind='callable')); nothing was verified or told")


def score_unit(task_name: str | None, result_kinds: list[str], saved: str | None = None) -> str:
    """``"%"`` when the designer's scores are accuracies, else ``""`` (a proxy's or a callable's score).

    Scores are not accuracies when any verified result came from another kind of evaluator, when
    none was verified and the saved predictor's unit (``saved``) says so, or when the task is named
    after a zero-cost proxy (the shipped mbv3 predictor's ``mnist-synflow-log10``).
    """
    from gennas.evaluators.zero_cost import names_a_proxy

    if any(kind not in ACCURACY_KINDS for kind in result_kinds) or (not result_kinds and saved == ""):
        return ""
    return "" if names_a_proxy(task_name) else "%"


def scored_by_proxy(kinds: Sequence[str], task_name: str | None) -> bool:
    """Whether the scores are a zero-cost proxy's (a result of kind ``proxy:...``, or a task named
    after one): known not to be accuracies, whatever their range."""
    from gennas.evaluators.zero_cost import names_a_proxy

    return any(kind.startswith("proxy") for kind in kinds) or names_a_proxy(task_name)


def reads_as_percent(told: np.ndarray, maximize: bool, compressed: bool, proxy: bool = False) -> bool:
    """Whether verified scores ``(n,)`` can be accuracies in % (the measured tables' unit):
    maximised, uncompressed, within [0, 100], not all at most 1 (fractions) and not a zero-cost
    proxy's (``proxy``, :func:`scored_by_proxy`: log10 synflow reads 37-50). A plain callable's
    scores in that range are taken for accuracies (what a training returns)."""
    told = np.asarray(told, dtype=np.float64)
    return (maximize and not compressed and not proxy and len(told) > 0
            and bool(np.all((told >= 0) & (told <= 100))) and float(told.max()) > 1.0)


def percent_per_unit(told: np.ndarray, maximize: bool, compressed: bool, proxy: bool = False) -> float | None:
    """How many % one unit of verified scores ``(n,)`` is, where they read as accuracies: 1 for
    accuracies in % (:func:`reads_as_percent`); 100 for fractions (maximised, all within [0, 1],
    not a proxy's). None where the unit is unknown (a loss, a log-score, accuracies shifted or
    scaled): nothing ties the scores to the tables' %.

    Minimised scores within [0, 1] are not read as error rates: a cross-entropy under 1 would be
    too, and its relation to accuracy is not 1 - it (log(100 / accuracy) told as if error rates
    after 15 random cifar100 results on a new dataset: designs above the results stated -2.73
    points low, 78 % covered; unread: -1.46, 53 %; development seeds 5-9,
    ``python experiments/score_units.py --seeds 5,6,7,8,9``)."""
    told = np.asarray(told, dtype=np.float64)
    if reads_as_percent(told, maximize, compressed, proxy):
        return 1.0
    if not maximize or compressed or proxy or not len(told) or not np.all((told >= 0) & (told <= 1)):
        return None
    return 100.0


def told_unit_problems(results: Sequence[Any], direction: str = "maximize") -> list[str]:
    """What looks wrong with the unit of Results told by hand (``kind``, ``score``), as warnings'
    text: accuracies in % outside 0-100, or accuracies that are all fractions (0.91 read as 0.91 %:
    the output read "verified 0.91 %; predicted 0.87 %" without a word); accuracies beside scores
    of another kind; maximised scores nearly all fractions but for a few. A kind gennas does not
    know ("trained") is refused before (:func:`gennas.design.told_units.check_known_kinds`), and
    failed results (scores in another unit than those told before among them) are not read."""
    problems = []
    kinds = sorted({r.kind for r in results if r.kind not in ACCURACY_KINDS and not r.failed})
    accuracies = [float(r.score) for r in results if r.kind in ACCURACY_KINDS and not r.failed]
    outside = [a for a in accuracies if not 0.0 <= a <= 100.0]
    if outside:
        problems.append(f"Results of kind {', '.join(ACCURACY_KINDS)} are accuracies in %, but {len(outside)} of "
                        f"them lie outside 0-100 (e.g. {outside[0]:g}): check the scores, or give another kind")
    elif accuracies and max(accuracies) <= 1.0:
        problems.append(f"Results of kind {', '.join(ACCURACY_KINDS)} are accuracies in %, and these are all at "
                        f"most 1 (e.g. {accuracies[0]:g}, read as {accuracies[0]:g} %): give fractions times 100")
    if accuracies and kinds:  # "train" in % beside fractions of another kind stated 31.70 for 70.36
        problems.append(f"Results of kind {sorted({r.kind for r in results if r.kind in ACCURACY_KINDS})[0]!r} "
                        f"(accuracies in %) and of kind {kinds[0]!r} are told together: all scores are learned as "
                        "one unit, no longer read as %; tell one kind of score per designer")
    scores = np.array([float(r.score) for r in results if not r.failed])
    inside = int(np.sum((scores >= 0) & (scores <= 1)))
    if direction == "maximize" and len(scores) >= 5 and 0 < len(scores) - inside and inside >= 0.8 * len(scores):
        # one slip turned fractions into a unit of its own (14 fractions and a 5)
        beyond = scores[(scores < 0) | (scores > 1)]
        problems.append(f"{inside} of the {len(scores)} scores lie within 0-1 and {len(beyond)} outside it (e.g. "
                        f"{beyond[0]:g}): fractions are read as accuracies only when all lie within 0-1; check "
                        "the outside ones")
    return problems


#: a task's samples and its verified scores this many times apart in typical magnitude read on other scales
SCALE_RATIO = 10.0


def scale_mismatch_note(task: Any, scores: list[float]) -> str | None:
    """A note when a task described by samples and the verified ``scores`` lie on different scales
    (typical magnitudes ``SCALE_RATIO`` apart: fractions against %): the samples then describe
    another task than the one searched (samples of 0-1 with results in %: no note, and the best
    after 8 verifications fell from 73.51 to 70.2-70.6 % on two of three seeds)."""
    samples = [s for _, s in getattr(task, "samples", ())]
    if not samples or not scores:
        return None
    typical = [float(np.median(np.abs(np.asarray(v, dtype=np.float64)))) for v in (samples, scores)]
    if min(typical) <= 0 or max(typical) / min(typical) < SCALE_RATIO:
        return None
    return (f"the task's samples (typically {typical[0]:.4g}) and the verified scores (typically {typical[1]:.4g}) "
            "are on different scales: describe the task by samples on the evaluator's scale (a fraction against "
            "%, say), or the description misleads the search")


class RepeatedArchitecture(GennasWarning):
    """An architecture told again with another score: both results are kept."""


class InterruptedTell(GennasWarning):
    """A ``tell`` stopped (Ctrl-C, an error) after recording its results, before its refit finished."""


def repeated_results(history: Sequence[Any], results: Sequence[Any]) -> list[Warning]:
    """Warnings (:class:`RepeatedArchitecture`) for ``results`` whose architecture ``history`` holds
    with another score: both are kept and learned from, as two verifications of it (the same score
    again is a repeat, not a conflict)."""
    earlier = {r.arch.canonical_hash(): r.score for r in history if not r.failed}
    out: list[Warning] = []
    for r in results:
        before = earlier.get(r.arch.canonical_hash())
        if before is not None and not r.failed and before != r.score:
            out.append(RepeatedArchitecture(f"tell({r.arch}, {r.score:g}): this architecture was told {before:g} "
                                            "before; both results are kept and learned from (as two "
                                            "verifications of it)"))
    return out


class ToldTwice(GennasWarning):
    """Results told again as they were told before: not learned twice (the history keeps one)."""


def told_once(history: Sequence[Any], results: Sequence[Any]) -> tuple[list[Any], int]:
    """``results`` less those identical to one in ``history`` or earlier in ``results`` (canonical
    architecture, kind, fidelity, and score, or a failure's error), and how many were left out: a
    ``tell`` run twice doubled the history. Another score is a new measurement, kept."""
    def key(r: Any) -> tuple[Any, ...]:
        return (r.arch.canonical_hash(), r.kind, r.fidelity, *(("failed", r.error) if r.failed else (r.score,)))

    known = {key(r) for r in history}
    out = []
    for r in results:
        if key(r) not in known:
            known.add(key(r))
            out.append(r)
    return out, len(results) - len(out)


#: points a verified score may lie outside a bundled table's range and still be read as its
#: accuracy: a real training is noisy (NAS-Bench-201's seeds differ by 0.2-1 point), and one noisy
#: cifar10 result of 94.68, above the table's best 94.37, turned the table's range and calibration
#: off with advice to rename the task
TABLE_NOISE = 1.0


def are_table_accuracies(scores: np.ndarray, table: tuple[float, float], direction: str) -> bool:
    """Whether verified scores ``(n,)`` can be a bundled table's accuracies (its range ``table``):
    maximised and within it, give or take :data:`TABLE_NOISE` (a compressed score lies beyond 1e4,
    outside every table)."""
    return direction == "maximize" and not len(off_table(scores, table))


def off_table(scores: np.ndarray, table: tuple[float, float]) -> np.ndarray:
    """The scores of ``scores`` further than :data:`TABLE_NOISE` outside the range ``table``."""
    scores = np.asarray(scores, dtype=np.float64)
    return scores[(scores < table[0] - TABLE_NOISE) | (scores > table[1] + TABLE_NOISE)]
