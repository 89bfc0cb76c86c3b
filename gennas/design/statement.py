"""What a :class:`~gennas.design.designer.Designer` states about architectures: predicted score,
interval and flags (:class:`~gennas.surrogates.calibration.Predictions`), before and after results.

The statement's sources, in order: the loop cross-fitted on verified results (from
:data:`MIN_STATED` verified architectures, or from
:data:`~gennas.surrogates.cross_fitted.MIN_LEARNED` where the task's stored calibration vouches for
them), completed by that stored calibration (:mod:`gennas.design.stored_statement`) or the line
to the measured tables (:mod:`gennas.design.source_line`); before that, the pretrained predictor's
stored calibration; where nothing calibrates a statement, the rank only.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

import numpy as np

from gennas.design.holdout import holds_out_table
from gennas.design.loop import DesignLoop
from gennas.design.one_call import one_call_at_a_time
from gennas.design.saved_records import saved_learned_from, saved_results
from gennas.design.scores import ScoreScale, are_table_accuracies, off_table, scored_by_proxy
from gennas.design.unit_line import source_line_statement, unit_range
from gennas.design.scratch_statement import (unlike_results, unlike_saved, unstated_above_results,
                                             unstated_unlike_results)
from gennas.design.stored_statement import results_agree_with_stored, stored_statement
from gennas.errors import GennasWarning, caller_stacklevel
from gennas.evaluators.base import Result, architectures_to_evaluate
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.calibration import (COVERAGE, MIN_TREND, Calibration, Predictions,
                                          interval_std, learned_reach, pretrained_reach, table_reach)
from gennas.surrogates.cross_fitted import MIN_LEARNED, CrossFitted, learned_calibration
from gennas.surrogates.protocols import AccuracyModel
from gennas.surrogates.stored_calibration import CalibratedPredictor
from gennas.surrogates.task import Task
from gennas.surrogates.ceiling import censored_above
from gennas.threads import with_own_threads

__all__ = ["MIN_STATED", "ScoresOffTable", "Statements"]

#: fewest results a statement is made from where no stored calibration vouches for it: 10. Its
#: interval needs a 90 % split-conformal quantile (9 results: ``ceil(0.9 (n + 1)) <= n``) and, for
#: the top designs, the residual trend that widens it there (fitted from MIN_TREND = 10). Under it
#: only the rank is stated: after 3 random results on a new dataset the top 20's "90 %" intervals
#: covered 52-56 % (development seeds 5-12); at 9, with a constant width, 84 % on cifar100 against
#: 91 % at 10 (seeds 5-19), the width erratic (cifar10: 10.9 points against 2.2)
MIN_STATED = max(next(n for n in range(1, 1000) if math.ceil(COVERAGE * (n + 1)) <= n), MIN_TREND)


#: a from-scratch model whose predictions of its own verified results miss them by more than this
#: many of their stds (median) states the rank only (:attr:`Statements.own_results_miss`)
OWN_MISS = 1.0


class ScoresOffTable(GennasWarning):
    """Scores told for a dataset the space's benchmark measured lie outside its table's range: they
    are learned in their own units, without the table's range or its stored calibration."""


#: loop -> (its state, (calibration, reach)): cross-fitting refits the loop per fold, so once per state
_LEARNED: WeakKeyDictionary = WeakKeyDictionary()


def in_canonical_order(results: Sequence[Result]) -> list[Result]:
    """``results`` sorted by architecture (canonical hash; repeats of one keep their order), so the
    cross-fitted copies' folds are drawn by cell, not by arrival: two processes sharing a study
    stored the same 16 results in different orders, and ``gennas design --study`` stated and ranked
    them differently (an unverified cell ranked 11 by one, 14 by the other)."""
    return sorted(results, key=lambda r: r.arch.canonical_hash())


def too_few_to_calibrate(told: Sequence[Result]) -> bool:
    """Whether verified results ``told`` are too few for a calibration learned from them: fewer than
    :data:`MIN_STATED` distinct architectures (ten results of five cells, two seeds each, stated
    "[93.92, 93.92]"), or one score."""
    return len({r.arch.canonical_hash() for r in told}) < MIN_STATED or len({r.score for r in told}) < 2


class Statements:
    """The statement half of :class:`~gennas.design.designer.Designer` (a mixin): it reads the
    designer's ``space``, ``task``, ``seed``, ``predictor`` (pretrained), ``loop``
    (:class:`~gennas.design.loop.DesignLoop`), ``_task_arg()``, ``_task_error``,
    ``_negated_samples``, ``_saved_scale``, ``_task_name`` and ``storage``."""

    if TYPE_CHECKING:  # the designer's (Designer.__init__ sets them): declared for the type checker only
        space: SearchSpace
        task: Task | None
        seed: int | None
        predictor: AccuracyModel
        loop: DesignLoop
        storage: Any
        _task_error: str | None
        _negated_samples: bool
        _saved_scale: ScoreScale | None
        def _task_arg(self) -> Task | str | None: ...
        @property
        def _task_name(self) -> str | None: ...

    @one_call_at_a_time
    @with_own_threads  # after results it trains the cross-fitted copies: under the designer's threads
    def predictions(self, archs: Sequence[ArchGraph]) -> Predictions:
        """What :meth:`generate` states about ``archs``: a :class:`~gennas.surrogates.calibration.Predictions`
        (``mean`` and, where an interval is stated, its 90 % ``low``/``high``; None where nothing is).

        * Pretrained, on a task the shipped predictor's stored calibration covers (the bundled
          tables' datasets): calibrated means and 90 % intervals, fitted on cells held out from its
          training, within the table's range.
        * After results (``tell``/``search``; under a latency budget those within it): five copies
          of the refitted model, each told all but a fifth of the results, state their mean,
          calibrated on their predictions of the fifth each never saw; within the table's range on
          a bundled dataset, else within the results' range widened by the widest residual. Under
          :data:`MIN_STATED` (10) distinct results, or one score, only the rank, unless the results
          agree with the task's stored calibration, which then states the designs the refitted
          model ranks. On a new dataset of a space with measured tables: the line from the tables
          to the results (:mod:`gennas.design.source_line`).
        * From scratch (an untrained predictor): so too, each copy trained from scratch, but nothing
          above the best result nor for a design unlike every result (:mod:`gennas.design.scratch_statement`).
        * A task nothing was verified or described for, and a minimised task before results: only
          the rank (what transfers).
        * A task described by samples, or another predictor: the raw mean within reach, no interval.

        Under a measured latency budget on a bundled dataset nothing is stated above the best cell
        the table measured within it.
        """
        archs = architectures_to_evaluate(self.space, archs, "predictions()")  # one arch: else a raw TypeError
        return self._below_the_best_within_budget(self._statement(archs))

    def _statement(self, archs: list[ArchGraph]) -> Predictions:
        """:meth:`predictions` before the measured budget's best cell bounds it."""
        loop = self.loop
        told = self._told()
        if loop.refits > 0 and too_few_to_calibrate(told):
            early = self._before_learning(archs, told)
            if early is not None:
                return early
        if loop.refits > 0:
            learned, reach, measured = self._learned_calibration()
            value, spread = loop.predict(archs) if learned is None else learned.predict(archs)
            stated = Predictions.of(value, spread, None if learned is None else learned.calibration, reach,
                                    loop.scale.from_model)
            scratch = not loop.pretrained.is_trained
            if scratch:
                if self.own_results_miss is not None:  # its levels are not the results': a rank only
                    return replace(stated, mean=np.full(len(archs), np.nan), std=None, low=None, high=None,
                                   beyond=None, below=None)
                # from scratch only the cross-fitted copies calibrate (the members' spread is no interval),
                # and nothing is stated above the best result (the learned reach widens it by residuals)
                best = reach[1] if measured else float(loop.scale.to_model(np.array([r.score for r in told])).max())
                stated = unstated_above_results(stated if learned else replace(stated, std=None), (reach[0], best))
            if self._stored is not None:
                return self._with_stored(archs, stated)
            # the line is clipped to what the unit allows, not to the learned reach: that is the best
            # result widened by the results' residuals, and the designs the line states beyond every
            # result lie above it (after 10 random cifar100 results on a new dataset, seeds 32 and
            # 33, their 90 % intervals were clipped to 0.2 points, 1.2-1.4 points below the truth)
            stated = source_line_statement(stated, loop.prior, [r.arch for r in told], np.array([r.score for r in told]),
                                           archs, loop.scale, reach if measured else None,
                                           self._by_proxy(told), flat=learned is not None and learned.calibration.flat,
                                           learned_residuals=None if learned is None else learned.calibration.residuals)
            if not scratch:
                return stated
            # from scratch, the results are all the model knows of the space (scratch_statement)
            learned_from = [r.arch for r in loop.history if not r.failed]
            return unstated_unlike_results(stated, unlike_results(archs, learned_from))
        if self._task_error is not None or self._samples_set_no_scale:
            value, _ = loop.predict(archs)  # the default task's, corrected by the source tables
            return Predictions(value, value)
        if self.states_accuracy_of_minimized:
            value, _ = self.predictor.predict(archs, self._task_arg())
            return Predictions(value, value)  # the highest predicted accuracy first: likely the lowest score
        return self._pretrained_statement(archs)

    @property
    def own_results_miss(self) -> float | None:
        """From scratch: how far the refitted loop's predictions of its own verified results miss
        them (median, in stds of their scores on its scale) where that is more than :data:`OWN_MISS`,
        else None; the designer then states only ranks. Such a model's order can hold while its
        levels do not: 20 darts synflow results refitted in one batch were predicted a median 1.5
        stds low ("1.98e130" stated for designs of 1e66-1e140), where nb201 searches from scratch
        (cifar10, seeds 0-2, 20 and 50 results) missed theirs by 0.13-0.42. The cause, an AdamW
        step after the fit, is gone (0.13 there); this guards what remains."""
        told = [r for r in self.loop.history if not r.failed]
        if self.loop.pretrained.is_trained or self.loop.refits == 0 or len(told) < 2:
            return None
        scores = self.loop.scale.to_model(np.array([r.score for r in told]))
        miss = float(np.median(np.abs(self.loop.predict([r.arch for r in told])[0] - scores))) / max(scores.std(), 1e-12)
        return miss if miss > OWN_MISS else None

    @property
    def states_accuracy_of_minimized(self) -> bool:
        """Whether the pretrained statement would be an accuracy (higher is better) for a designer
        told to minimise its scores (a loss, an error rate): stated, ``Designer("nb201",
        task="cifar10", direction="minimize").generate(5)`` read "93.44 %" beside a minimised score and,
        ordered by it as a loss, the best cell last. Until results state the
        user's units only the rank is stated. Samples (negated into the model) and a predictor a
        minimising search saved state in the task's own units."""
        saved = self._saved_scale
        return (self.loop.scale.direction == "minimize" and not self._negated_samples
                and (saved is None or saved.direction != "minimize"))

    def _below_the_best_within_budget(self, p: Predictions) -> Predictions:
        """``p`` knowing that no design scores above the best accuracy the table measured within a
        measured budget, where the statement is in the table's units (a task it measured, maximised
        accuracies in %, every result within its range): the mean of ``min(truth, that best)`` and
        the interval clipped there (:func:`~gennas.surrogates.ceiling.censored_above`). Under
        pixel3 at 5 ms every design read 91.65-91.86 % where the best cell within it is 91.08 % (the
        stored calibration maps a prediction over all cells; among the fast ones the best predicted
        are over-rated); clipped at that best, the 20 designs of pixel3's 10th percentile read
        90.67-90.83 % for a mean truth of 90.00 (``python experiments/budgets.py --bundled-only
        --quick --designs``; over six devices, development seeds 5-9, top-20 bias +0.47 / +0.45 /
        +0.27 at the 10th / 25th / 50th percentile: ``--seed 5 --seeds 5``).
        Without a budget the statement is already within the table's range (its reach)."""
        best = self._best_within_budget  # None without a measured budget: nothing more is done
        if best is None or p.mean is None or self.loop.scale.direction != "maximize" or self.loop.scale.compress:
            return p
        scale = self.loop.scale  # maximised and uncompressed: to_model is the table's % (fractions times 100)
        scores = scale.to_model(np.array([r.score for r in self.loop.history if not r.failed]))
        table = cast(tuple[float, float], self._table_reach(self.task))  # not None: _best_within_budget checked it
        if not are_table_accuracies(scores, table, "maximize"):
            return p  # results in other units (ScoresOffTable): the table's best says nothing of them
        best = float(scale.from_model(np.array([best]))[0])  # in the scores' unit, as ``p``
        if p.low is None or p.high is None:
            return replace(p, mean=np.minimum(p.mean, best))
        mean, low, high = censored_above(p.mean, p.low, p.high, best)
        return replace(p, mean=mean, low=low, high=high, std=interval_std(low, high))

    @functools.cached_property
    def _best_within_budget(self) -> float | None:
        """The best accuracy the bundled table measured for the designer's task within its measured
        latency budget; None without one (or for a task or device the table did not measure)."""
        budget = self.loop.budget
        if (budget is None or not budget.exact or self.space.benchmark is None or self.task is None
                or self._table_reach(self.task) is None):
            return None
        from gennas.bench import load_benchmark

        bench = load_benchmark(self.space.benchmark)
        if budget.device not in bench.devices:
            return None
        within = bench.latency_of(None, budget.device) <= budget.max_latency_ms
        return float(bench.accuracy_of(None, self.task.name)[within].max()) if within.any() else None

    def _table_reach(self, task: Task | str | None) -> tuple[float, float] | None:
        """The bundled table's range for ``task`` (:func:`table_reach`), None where the predictor was
        held out from that table: named "cifar100" beside ``load_predictor(holdout="cifar100")``,
        the statements' upper ends were clipped at its best cell, 73.51."""
        return None if holds_out_table(self.predictor, task) else table_reach(self.space, task)

    def _by_proxy(self, told: list[Result]) -> bool:
        """Whether the told scores are a zero-cost proxy's (:func:`scored_by_proxy`): never accuracies."""
        return scored_by_proxy([r.kind for r in told], None if self.loop.task is None else self.loop.task.name)

    def _told(self) -> list[Result]:
        """The successful results a statement is learned from: under a latency budget those within
        it. A search's results outside a budget set later (``from_study(..., max_latency_ms=)``)
        are slower, better cells than any design within it, and a calibration fitted on them
        stated those designs 0.9-3.1 points high, covering 33-92 % (``python
        experiments/rebudget_statements.py``: a 20-result search rebuilt under pixel3 budgets)."""
        told = in_canonical_order([r for r in self.loop.history if not r.failed])
        budget = self.loop.budget
        if budget is None or not told:
            return told
        return [r for r, ok in zip(told, budget.within([r.arch for r in told])) if ok]

    def _before_learning(self, archs: list[ArchGraph], told: list[Result]) -> Predictions | None:
        """The statement under :data:`MIN_STATED` verified architectures, or after results of one value; None to
        state the learned one. A task whose stored calibration the results agree with keeps the
        pretrained statement until :data:`MIN_LEARNED` distinct results, then the stored statement
        with the learned ranking (:meth:`_with_stored`). Otherwise only the rank (the
        refitted loop's order) is stated, beside the verified scores: after one cifar10 result
        every design read "94.37 ± 1.78" (the table's best, the members' spread), on a new
        dataset every design read the one score, and after 3 (5) random results on a new
        dataset the "90 %" intervals of the top 20 covered 52-56 % (66-67 %) under means 1.5-3.4
        points low (development seeds 5-12, ``python experiments/calibration.py --seeds 5,6,7,8,9,10,11,12
        --predictors default,holdout --told 3,5 --no-search``)."""
        distinct = len({r.score for r in told})
        every = [r for r in self.loop.history if not r.failed]  # outside a budget too: they show the scale
        if self._stored is not None and every:
            raw = self.predictor.predict([r.arch for r in every], self._task_arg())[0]
            scale = self.loop.scale
            if results_agree_with_stored(scale.to_model(np.array([r.score for r in every])), raw, self._stored,
                                         scale.direction == "maximize", scale.compress):
                return self._pretrained_statement(archs) if len(told) < MIN_LEARNED or distinct < 2 else None
        value, _ = self.loop.predict(archs)
        return Predictions(value, value)

    @functools.cached_property
    def _samples_set_no_scale(self) -> bool:
        """A task described by fewer than :data:`MIN_STATED` distinct sample scores: as with results,
        only the rank is stated (with one sample every design read as its score; with 6, the top
        design read 65.57 % for a true 71.11: the statement stays within the samples' range)."""
        return self.task is not None and self.task.kind == "samples" and \
            len({score for _, score in self.task.samples}) < MIN_STATED

    def _pretrained_statement(self, archs: list[ArchGraph]) -> Predictions:
        """What the pretrained predictor states for the designer's task (see :meth:`predictions`)."""
        value, spread = self.predictor.predict(archs, self._task_arg())
        if self.task is not None and self.task.kind == "images":
            # the image meta-tasks' accuracies are of brief training (docs/results.md, "Performance predictor"),
            # not the user's: digits read 87.91 % for cells that train to 97-99 % here. Their order only
            return Predictions(value, value)
        if self._saved_scale is not None and (self._saved_results or 0) < MIN_STATED:
            # a predictor a search saved after fewer results than a statement needs: as that study
            # rebuilt by from_study, only the rank (darts after 3 synflow results stated 7.5e104
            # for a best verified 2e104)
            return Predictions(value, value)
        # ranked by the calibrated mean (ties by the prediction): the stored calibration was fitted
        # on held-out cells up to the top, so selection does not over-rate the top designs, and the
        # interval's low end preferred narrow bins below the top (development seeds 5-12: the first
        # design 93.15 -> 93.65 % on cifar10, 70.48 -> 70.85 % on cifar100, top-20 bias unchanged)
        saved = self._saved_scale  # else the loop's: the identity before results; fractions of its dataset: / 100
        to_units = np.negative if self._negated_samples else (self.loop.scale if saved is None else saved).from_model
        samples = self.task.samples if self.task is not None and self.task.kind == "samples" else None
        told = None if samples is None else np.array([score for _, score in samples], dtype=np.float64)
        # a task described by samples: within them. Beyond every sample the value is an uncalibrated
        # extrapolation, and the reach widened by their spread let 12 random cifar100 samples (best
        # 69.96) state 74.54 %, above the task's best cell, 73.51; the samples are
        # higher-is-better here, as ``raw``
        reach = (float(told.min()), float(told.max())) if told is not None else pretrained_reach(self.space, self.task)
        stated = Predictions.of(value, spread, self._stored, reach, to_units, conservative=False)
        # no stored calibration (a task described by images or samples, a predictor a search trained
        # from scratch and saved): nothing calibrated the members' spread (zero with one member;
        # digits read "87.91 ± 2.58 %"), so no interval is stated
        if self._stored is not None:
            return stated
        if told is not None:  # flagged where the samples' range bounds the value (notes.samples_reach_note)
            return replace(stated, std=None, beyond=stated.raw > told.max(), below=stated.raw < told.min())
        stated = replace(stated, std=None)
        if self._saved_scale is None:
            return stated
        # saved from scratch, it knows the space through its results only: as their designer, none above or unlike
        ranges, scores, learned = self._saved_learned_from
        if scores is not None:
            mapped = self._saved_scale.to_model(np.array(scores, dtype=np.float64))
            stated = unstated_above_results(stated, (float(mapped.min()), float(mapped.max())))
        learned_archs = None if learned is None else [self.space.from_string(a) for a in learned]  # None: unrecorded
        return unstated_unlike_results(stated, unlike_saved(archs, ranges, learned_archs))

    def _with_stored(self, archs: list[ArchGraph], p: Predictions) -> Predictions:
        """Where a stored calibration of the pretrained predictor has this task and the results agree
        with it, its statement of every design; the learned ranking stays
        (:mod:`gennas.design.stored_statement`)."""
        loop, stored, told = self.loop, self._stored, self._told()
        if p.low is None or stored is None:
            return p
        # the pretrained predictor's values of the told cells and of ``archs``, in one call
        raw = self.predictor.predict([r.arch for r in told] + archs, self._task_arg())[0]
        if not results_agree_with_stored(loop.scale.to_model(np.array([r.score for r in told])), raw[:len(told)],
                                         stored, loop.scale.direction == "maximize", loop.scale.compress):
            return p
        return stored_statement(p, stored, raw[len(told):], loop.scale.from_model)

    @functools.cached_property
    def _saved_learned_from(self) -> tuple[dict[str, list[int]] | None, tuple[float, float] | None, list[str] | None]:
        """What the predictor a search saved records of the results it learned the task from
        (:func:`~gennas.design.saved_records.saved_learned_from`; its manifest, read once)."""
        return saved_learned_from(self.space, self._task_name)

    @functools.cached_property
    def _saved_results(self) -> int | None:
        """How many results of the task the predictor a search saved learned from (its manifest,
        read once: every statement read it)."""
        return saved_results(self.space, self._task_name)

    @property
    def has_stored_calibration(self) -> bool:
        """Whether a shipped calibration states the designer's task (a bundled task of the shipped
        predictor): its statements were checked on held-out cells of the table."""
        return self._stored is not None

    @property
    def states_by_flat_learned_calibration(self) -> bool:
        """Whether :meth:`predictions` states unverified designs by a calibration learned from the
        verified results (no shipped one states the task) that found no order in the predictions:
        checked on the results, each predicted by copies that never saw it. A shared value from the
        shipped calibration's flat top was said to have failed that check with no result at all
        (``gennas design -n 4 --task cifar100``). Reads the cached calibration; no refit."""
        if self.loop.refits == 0 or self._stored is not None or too_few_to_calibrate(self._told()):
            return False  # as in _statement: no learned calibration states (a rank only, or the shipped one)
        learned = self._learned_calibration()[0]
        return learned is not None and learned.calibration.flat

    @functools.cached_property
    def _stored(self) -> Calibration | None:
        """The shipped calibration of the pretrained predictor for the designer's task, if any;
        looked up once (it checks the predictor's fingerprint by predicting a few cells)."""
        return CalibratedPredictor.load(self.predictor, self.space).calibration(self._task_arg())

    def _learned_calibration(self) -> tuple[CrossFitted | None, tuple[float, float], bool]:
        """The loop cross-fitted on its verified results, the reach (the loop's scale), and whether
        that reach is a measured table's range (else it is learned from the results); cached until
        the next result."""
        loop = self.loop
        key = (len(loop.history), loop.refits, loop.scale.compress)
        if loop in _LEARNED and _LEARNED[loop][0] == key:
            return _LEARNED[loop][1]
        told = self._told()
        scores = np.array([r.score for r in told])
        y, table = loop.scale.to_model(scores), self._table_reach(loop.task)
        if table is None or not are_table_accuracies(y, table, loop.scale.direction):  # y: maximised, in %
            if table is not None:
                self._warn_off_table(loop.scale.factor * scores, table)  # as checked: a fraction's example in %
            table = None  # the scores are not that table's accuracies (a proxy, a loss): its range says nothing
        reach = table  # maximised and uncompressed: the loop's scale is the scores' own
        unit = loop.scale.range_to_model(*unit_range(
            scores, loop.scale.direction == "maximize", loop.scale.compress, self._by_proxy(told)))
        learned = learned_calibration([r.arch for r in told], y, lambda keep: self._fold_model(  # from scratch
            [told[i] for i in keep]), reach, seed=self.seed or 0, unit=unit)  # 5 networks: 4-6 s (docs)
        measured = table is not None
        reach = learned.calibration.reach if learned is not None else reach or learned_reach(y, None, unit=unit)
        _LEARNED[loop] = (key, (learned, reach, measured))
        return learned, reach, measured

    def _warn_off_table(self, scores: np.ndarray, table: tuple[float, float]) -> None:
        """Once per designer: :meth:`_off_table`'s warning."""
        warning = self._off_table(scores, table)
        if warning is not None:
            warnings.warn(warning, stacklevel=caller_stacklevel())

    def _off_table(self, scores: np.ndarray, table: tuple[float, float]) -> ScoresOffTable | None:
        """Once per designer (None after): scores told for a bundled dataset that are not its
        table's accuracies. ``tell(arch, 150.0)`` on cifar10 was taken without a word, and its
        designs read "156.25"."""
        if self.__dict__.get("_warned_off_table"):
            return None
        self.__dict__["_warned_off_table"] = True
        outside = off_table(scores, table)
        task = cast(Task, self.loop.task)  # a named task: ``table`` is its bundled table's range (_table_reach)
        example = f"{outside[0]:g} is outside [{table[0]:.2f}, {table[1]:.2f}]" if len(outside) else \
            f"scores to {self.loop.scale.direction}"
        return ScoresOffTable(f"the scores told for {task.name!r} are not its table's accuracies in % "
                              f"({example}): they are learned in their own units, without the table's range or "
                              "calibration; name the task after what they measure (e.g. 'cifar10-600epochs', "
                              "'cifar10-synflow') to say so")

    def _fold_model(self, results: list[Result]) -> Callable[[Sequence[ArchGraph]], tuple[np.ndarray, np.ndarray]]:
        """The loop as it predicts having been told only ``results`` (on the loop's scale)."""
        loop = self.loop
        fold = DesignLoop(self.space, loop.pretrained, loop.generator, loop.guidance, task=loop.task,
                          seed=loop.seed, settings=loop.settings, direction=loop.scale.direction)
        fold.scale = replace(loop.scale)  # the same score map, even if the fold's scores would not set it
        fold.tell(results)
        return fold.predict
