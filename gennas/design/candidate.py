"""A designed architecture and what is stated about it (:meth:`gennas.Designer.generate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gennas.display import number
from gennas.graph import ArchGraph


@dataclass(frozen=True)
class Candidate:
    """One generated architecture with its predictions, and its own score if it was verified.

    Attributes:
        arch: the architecture.
        predicted_accuracy: calibrated predicted score for the task, in its units (% for
            accuracy), within what the task can reach; None when only the rank is known (a task
            nothing was verified or described for, under ``MIN_STATED`` (10) results or distinct
            samples, or results of one value: no accuracy is made up).
        predicted_std: the normal-equivalent std of ``interval`` (without one: the ensemble spread;
            None from scratch, where that spread says nothing yet, and on a signed-log score scale
            such as synflow's, where a std in score units means nothing), same units.
        predicted_latency_ms: latency on the designer's device in ms, or None without one:
            measured where the bundled tables have the device or a registered device timed the cell
            itself (``latency_measured``), else estimated.
        rank: 1 for the best: before any result by the calibrated mean (ties by the raw
            prediction); after results the conservative score (the interval's low end) chooses
            which come back and their stated means rank them (ties by that score), a verified
            architecture by its measurement (``verified_score``), before the first unverified one
            whose stated mean is not above it: no design states more than one ranked above it.
        latency_measured: True when ``predicted_latency_ms`` is a measurement.
        interval: ``(low, high)``: holds the true score with probability 0.9
            (:data:`gennas.surrogates.calibration.COVERAGE`); None where nothing calibrates it,
            and for a verified design (``verified_score`` is its score; ``predicted_std`` is None too).
        relative_score: without an accuracy, the predicted value standardised over the generated
            pool (higher is better; a rank, not a score of the task).
        unit: ``"%"`` for accuracies, ``""`` for another evaluator's score (a proxy's).
        beyond_calibration: predicted above every cell its interval was calibrated on (after
            results: above every verified one): the statement is an extrapolation (flat, or on a
            new dataset along the line to the measured ones), so the truth may lie outside it.
        below_calibration: predicted below the cells its interval was calibrated on (all but
            one at most: one cell sets no level), or on a new dataset measured below every
            verified cell on each dataset the space's tables measured: an extrapolation too (on a
            bundled task the stored calibration's statement; on a new dataset between the learned
            one and the line's). With no ``predicted_accuracy``: below them further than they
            tell how far the truth falls, so nothing is stated (``relative_score`` ranks it).
        verified_score: what the designer's results measured for this very architecture (their
            mean where it was verified more than once), in the task's units; None if it never was.
            The prediction stays beside it: it is what the model says, checked against this.
        latency_bound_ms: where a latency budget is judged by the latency model rather than a
            measurement, what it was judged by: the model's upper bound at the budget's
            confidence, in ms (at most the budget); for an architecture timed on a registered
            device, its timing times the margin a second timing may reach
            (:mod:`gennas.surrogates.retiming`); None where measured exactly or without a budget.
        verified_count: how many successful verifications ``verified_score`` is the mean of (more
            than one after :meth:`~gennas.Designer.reverify` or a repeated ``tell``); None if unverified.
        verified_by_equivalent: ``verified_score`` is of equivalent cells only (the same
            ``canonical_hash``, measured apart, at other latencies): this cell itself was never
            verified (user walk 58: "verified 75.84 %, mean of 2" under a budget that its two
            equivalents, at 7.6 and 10.0 ms, did not keep).
        unlike_results: no value stated because a predictor learned from scratch learned it from
            results that all hold its operations in other numbers, or that all lie further from it
            than from one another (:mod:`gennas.design.scratch_statement`):
            its value would be theirs, not its own; ranked after the designs it states.
    """

    arch: ArchGraph
    predicted_accuracy: float | None
    predicted_std: float | None
    predicted_latency_ms: float | None
    rank: int
    latency_measured: bool = False
    interval: tuple[float, float] | None = None
    relative_score: float | None = None
    unit: str = "%"
    beyond_calibration: bool = False
    below_calibration: bool = False
    verified_score: float | None = None
    latency_bound_ms: float | None = None
    unlike_results: bool = False
    verified_count: int | None = None
    verified_by_equivalent: bool = False

    @property
    def unstated_above(self) -> bool:
        """No value stated because the design is predicted above every verified result by a
        predictor learned from scratch, which nothing calibrates there."""
        return self.predicted_accuracy is None and self.beyond_calibration

    @property
    def unstated_below(self) -> bool:
        """No accuracy stated because the design lies below every verified cell further than they
        tell how far the truth falls (not a rank-only statement: the other designs are stated)."""
        return self.predicted_accuracy is None and self.below_calibration

    def __repr__(self) -> str:
        # the dataclass repr, every field and the graph's, filled a notebook
        return f"Candidate({self})"

    def __str__(self) -> str:
        how = "measured" if self.latency_measured else "estimated"
        lat = "" if self.predicted_latency_ms is None else f", {self.predicted_latency_ms:.3g} ms {how}"
        lat += "" if self.latency_bound_ms is None else f" (bound {self.latency_bound_ms:.3g} ms)"
        unit = f" {self.unit}" if self.unit else ""
        num = number
        if self.verified_score is not None:
            # the measurement is the statement; the model's value beside it, as it is checked
            model = "" if self.predicted_accuracy is None else f"; predicted {num(self.predicted_accuracy)}{unit}"
            # a mean of several says so: with a noisy evaluator one verification is the luckier read
            times = f", mean of {self.verified_count}" if (self.verified_count or 1) > 1 else ""
            cells = "equivalent cells" if (self.verified_count or 1) > 1 else "an equivalent cell"
            by = f" on {cells}" if self.verified_by_equivalent else ""
            return (f"#{self.rank} {self.arch.to_string()} (verified {num(self.verified_score)}{unit}{by}{times}{model}"
                    f"{lat})")
        if self.unstated_below:
            what = (f"relative score {self.relative_score:+.2f}; no accuracy: below every verified cell, further "
                    "than they tell how far the truth falls")
        elif self.unstated_above:
            what = (f"relative score {self.relative_score:+.2f}; no value: predicted above every verified result by a "
                    "predictor learned from scratch, which nothing calibrates there")
        elif self.unlike_results:
            what = (f"relative score {self.relative_score:+.2f}; no value: unlike every verified result (its "
                    "operations in other numbers, or further from them than they lie from one another), which "
                    "are all a predictor learned from scratch knows")
        elif self.predicted_accuracy is None:
            # why varies (too few results; results a budget set later leaves out): generate's .notes say
            what = (f"relative score {self.relative_score:+.2f}; no accuracy: a rank only (the designs' .notes say "
                    "why and what would state one)")
        else:
            if self.interval is not None:
                what = (f"{num(self.predicted_accuracy)}{unit}, 90 % in "
                        f"[{num(self.interval[0])}, {num(self.interval[1])}]")
            elif self.predicted_std is None:
                what = f"{num(self.predicted_accuracy)}{unit}; uncalibrated: no interval"
            else:
                what = f"{num(self.predicted_accuracy)} +/- {num(self.predicted_std)}{unit}"
            # uncalibrated too: a task described by samples flags what lies beyond every sample
            cells = "calibrated cell" if self.interval is not None else "described sample"
            what += f"; beyond every {cells}: extrapolated" if self.beyond_calibration else ""
            what += f"; below every {cells}: extrapolated" if self.below_calibration else ""
        return f"#{self.rank} {self.arch.to_string()} ({what}{lat})"


def candidate_row(candidate: Candidate) -> dict[str, Any]:
    """The prediction columns of a designed ``Candidate``: rank, arch, predicted accuracy
    (``pred_acc``; ``pred_score`` where the task's scores are not accuracies in %: a proxy's, a
    fraction, a loss) with its 90 % interval (``pred_low``/``pred_high``, ``beyond_calibration``, ``below_calibration``; ``pred_std`` its
    normal-equivalent std) and ``verified``, its measured score where the designer's results have
    it; for a task nothing was verified or described for, the rank and a ``relative_score``
    instead: no accuracy is made up (so too, beside stated designs, for one below the results
    further than they tell: its accuracy and interval empty, ``below_calibration`` set; and for
    one unlike every result of a predictor learned from scratch: ``unlike_results`` True)."""
    row: dict[str, Any] = {"rank": candidate.rank, "arch": candidate.arch.to_string()}
    unstated = candidate.unstated_below
    if candidate.predicted_accuracy is None and not unstated:
        row["relative_score"] = candidate.relative_score
        # why a row beside stated ones has no value (JSON carries no notes)
        if candidate.unlike_results:
            row["unlike_results"] = True
        if candidate.unstated_above:
            row["beyond_calibration"] = True
        row["verified"] = candidate.verified_score  # a rank only still shows what was measured
        row["verified_count"] = candidate.verified_count
        row["verified_by_equivalent"] = _by_equivalent(candidate)
        return row
    row["pred_acc" if candidate.unit == "%" else "pred_score"] = candidate.predicted_accuracy
    if unstated:  # beside stated designs, below the results further than they tell: the same keys, empty
        row["relative_score"] = candidate.relative_score
    if candidate.interval is not None or candidate.verified_score is not None or unstated:
        # a verified design states its measurement, no interval: the same keys, empty (JSON rows alike)
        row["pred_low"], row["pred_high"] = candidate.interval or (None, None)
        # above every cell the interval was calibrated on: the truth may lie above it
        row["beyond_calibration"] = candidate.beyond_calibration
        row["below_calibration"] = candidate.below_calibration  # below them (all but one at most): extrapolated too
    row["pred_std"] = candidate.predicted_std
    row["verified"] = candidate.verified_score  # measured by the designer's results, else None
    row["verified_count"] = candidate.verified_count
    row["verified_by_equivalent"] = _by_equivalent(candidate)
    return row


def _by_equivalent(candidate: Candidate) -> bool | None:
    """Whether a verified design's measurement is of equivalent cells only; None (empty) for an unverified one."""
    return None if candidate.verified_score is None else candidate.verified_by_equivalent


def statement_keys(unit: str) -> dict[str, None]:
    """Every prediction column :func:`candidate_row` may fill, empty, in its order; ``unit`` names
    the value's key as there (% -> ``pred_acc``)."""
    value = "pred_acc" if unit == "%" else "pred_score"
    return dict.fromkeys(["rank", "arch", value, "pred_low", "pred_high", "beyond_calibration",
                          "below_calibration", "pred_std", "relative_score", "unlike_results", "verified",
                          "verified_count", "verified_by_equivalent"])


def with_every_column(rows: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """:func:`same_keys` of ``rows`` holding every column of :func:`statement_keys` (None where
    nothing is stated): a rank-only row (a new dataset, or a slip of a task's name) had only rank,
    arch, relative_score and verified, and a pipeline's ``row["pred_acc"]`` failed far from the
    cause."""
    return same_keys([statement_keys(unit), *rows])[1:]


def same_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with one set of keys, None where a row has no value: a verified design's row
    carried ``pred_low``/``pred_high`` and the calibration flags, the unverified rows beside it did
    not (JSON rows of one output should share a schema). Keys keep each row's order."""
    order: list[str] = []
    for row in rows:
        at = 0
        for key in row:
            if key in order:
                at = order.index(key) + 1
            else:
                order.insert(at, key)
                at += 1
    return [{key: row.get(key) for key in order} for row in rows]
