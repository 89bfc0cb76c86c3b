"""Designer: "give me N architectures for this task, under this latency on this device".

``Designer(space, task=..., device=..., max_latency_ms=...).generate(n)`` samples a pool from a
pretrained generator guided by the pretrained predictor (expected accuracy for the task) and latency
estimator (budget on the device), keeps those within the budget, climbs from its best by one-edit moves
it keeps (:mod:`gennas.design.refine`) and returns the best ``n`` by predicted accuracy, unverified.

``search(evaluator, budget)`` verifies: it runs the designer's :class:`~gennas.design.loop.DesignLoop`
(an ask/tell optimizer) in the search harness; ``ask``/``tell`` reach it by hand (:mod:`gennas.design.verifying`).
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from gennas.checkpoint import train_hint
from gennas.design.budget import FewerDesigns, LatencyBudget, fewer_designs, latency_models
from gennas.design.candidate import Candidate
from gennas.design.loop import LoopSettings
from gennas.design.notes import Designs, design_notes
from gennas.design.one_call import new_call_lock, one_call_at_a_time
from gennas.design.pretrained import RememberingLoop, designer_start
from gennas.design.scores import reads_as_percent, score_unit
from gennas.design.statement import Statements
from gennas.design.study_replay import replay_study
from gennas.design.task_names import warn_of_task_name
from gennas.design.told_units import searched
from gennas.design.refine import refined
from gennas.design.verifying import Verification
from gennas.design.verified import (failed_only, in_stated_order, one_per_function, ranked, ranks_by_trained_model,
                                    verifications_among, verified_fields, verified_means, with_verified)
from gennas.errors import GennasError, GennasWarning, UnknownDataset, caller_stacklevel, hide_passwords
from gennas.generators import load_generator
from gennas.generators.base import MAX_COUNT, check_count
from gennas.generators.guidance import Guidance, HardFn, InfeasibleBudget, predictor_value
from gennas.graph import ArchGraph
from gennas.seeds import check_seed, seed_or_drawn
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.latency_bound import calibration_path, check_confidence, load_calibration
from gennas.surrogates.protocols import AccuracyModel, Generator, LatencyModel, check_prediction, check_stand_in
from gennas.surrogates.task import Task
from gennas.threads import check_threads, with_own_threads, with_own_torch_modes


@dataclass(frozen=True)
class GuidanceSettings:
    """How strongly the generator is steered (see :class:`gennas.Guidance`).

    Attributes:
        scale: weight of the predicted accuracy (0.3: a larger one gave the diffusion the same top-100
            quality in experiments/generators.py but half as many distinct samples; the VAE moves its
            latents by fixed-length steps, so its ``search`` (LatentSearch), not the scale, bounds it).
        latency_scale: accuracy points of penalty per 1 % over the latency the guidance aims at
            (a margin under the budget: :class:`~gennas.generators.guidance.Guidance`).
        num_candidates: continuations compared per step (derivative-free; 1 = off).
        reward: ``archs -> scores`` for derivative-free selection (a proxy, a table).
    """

    scale: float = 0.3
    latency_scale: float = 1.0
    num_candidates: int = 1
    reward: HardFn | None = None


class Designer(Statements, Verification):
    """Guided generation of ranked architectures for a task and a latency budget.

    Args:
        space: a SearchSpace or its name.
        task: task name (``"cifar10"``) or :class:`gennas.Task`; None = the predictor's default
            (the shipped nb201 predictor's: ``"cifar10"``; ``generate``'s designs name it).
        device: latency target for the budget (``"pixel3"``; must be known to the estimator).
        max_latency_ms: latency budget on ``device`` in ms (needs ``device``).
        seed: makes :meth:`generate` and the search reproducible, and initialises the predictor
            a space without a shipped one starts untrained; None (the default) draws afresh each
            time (the command line's ``--seed`` defaults to 0: a command run again repeats itself).
            For a task the predictor does not know, in a space it ranks whole (nb201), the picks are
            the ranking the known tables give: every seed designs the same cells and, verified by a
            deterministic evaluator, searches the same way (restarts differ only through the scores).
        generator: ``"diffusion"``, ``"vae"``, a :class:`~gennas.SlotGenerator` or any
            :class:`~gennas.surrogates.protocols.Generator` (``gennas.testing.check_generator``).
        predictor / estimator: override the pretrained ones (any :class:`AccuracyModel` /
            :class:`LatencyModel`). ``Designer.predictor`` stays the pretrained network, raw and
            uncalibrated (``gennas.load_predictor("nb201").predict`` of the table's best cifar10 cell,
            94.37 %: 99.90); what the designer states is
            :meth:`predictions` and :meth:`generate`'s, refitted on its results and calibrated.
        guidance: how strongly the generator is steered (:class:`GuidanceSettings`).
        loop: acquisition knobs of the search loop and the pool size (:class:`LoopSettings`).
        storage: where :meth:`search` stores verified results (optuna storage URL or ``.db``
            path; :meth:`ask`/:meth:`tell` store nothing and create no file); None: in memory.
        direction: ``"maximize"`` the evaluator's scores (accuracy, a proxy) or ``"minimize"``
            them (a loss). Scores of any scale are learned from (see :mod:`gennas.design.scores`).
        latency_confidence: on a device without bundled measurements (adapted, or registered with
            ``gennas latency measure``), an architecture keeps the budget when the estimator's
            calibrated upper bound at this confidence does (within the space's calibrated range:
            0.5-0.995 on nb201, 0.5-0.98 on mbv3; 0.95: at most ~5 % of kept designs truly over).
            Bundled devices are judged by their measurements.
        threads: torch CPU threads while the designer generates, searches and learns (1: its
            networks are small, and more threads on a shared CPU wait on each other; the
            caller's setting is restored after each call); None leaves torch's setting.

    A task the predictor does not know (a new dataset named only) is *generated* for by rank
    alone (what transfers from the tasks it knows; no accuracy is claimed) and *searched* for:
    :meth:`search` / :meth:`ask` start from the measured tables of the tasks it knows
    (:mod:`gennas.design.prior`) and learn the new task from each verified result.
    """

    _generated_at: tuple[int, int] | None  # the state generate last drew a pool on (refits, results)

    @with_own_torch_modes
    def __init__(self, space: SearchSpace | str, task: Task | str | None = None, device: str | None = None,
                 max_latency_ms: float | None = None, seed: int | None = None, *,
                 generator: str | Generator = "diffusion", predictor: AccuracyModel | None = None,
                 estimator: LatencyModel | None = None, guidance: GuidanceSettings | None = None,
                 loop: LoopSettings | None = None, storage: Any = None, direction: str = "maximize",
                 latency_confidence: float = 0.95, threads: int | None = 1) -> None:
        self._call_lock = new_call_lock()  # one call at a time, from any number of threads
        self.threads = check_threads(threads)
        self.space = resolve_space(space)
        self.task = Task.of(task)  # coerced once, here at the boundary
        # the predictor takes higher as better: a minimised task's samples reach it negated (as told results
        # do), and what it predicts is negated back (Task.from_samples of error rates returned the worst cells)
        self._negated_samples = direction == "minimize" and self.task is not None and self.task.kind == "samples"
        if self._negated_samples and self.task is not None:  # not None: _negated_samples says so
            self.task = Task.from_samples((a, -s) for a, s in self.task.samples)
        self.device = device
        self.max_latency_ms = max_latency_ms
        self.latency_confidence = latency_confidence
        self.seed = check_seed(seed)
        self.storage = storage
        self._calls, self._generated_at = 0, None  # pools drawn on new states; the state last drawn on
        settings = loop or LoopSettings()
        if isinstance(settings.pool, bool) or not isinstance(settings.pool, int) or settings.pool < 1:
            raise GennasError(f"pool must be an integer >= 1, got {settings.pool!r}")
        if generator is None or isinstance(generator, str):
            self.generator: Generator = load_generator(self.space, kind=generator)
        else:  # any Generator (space, kind, sample): one passing gennas.testing's check was refused (user walk 50)
            check_stand_in(generator, Generator, "generator=", self.space.name)
            self.generator = generator
        if self.generator.space.name != self.space.name:
            raise GennasError(f"generator is for space {self.generator.space.name!r}, not {self.space.name!r}")
        # the shipped predictor, else the one a search saved in $GENNAS_HOME, else an untrained one
        # a predictor a search saved learned on that search's score scale: map back through it
        self._saved_scale = None  # a saved predictor of the other direction is not started from (designer_start)
        if predictor is None:
            predictor, self._saved_scale = designer_start(self.space, self._task_name, direction,
                                                          seed_or_drawn(self.seed))
        self.predictor = predictor
        #: what the search starts from: "shipped", "saved" (by an earlier search here), "untrained",
        #: "shipped-no-<dataset>" (a holdout predictor), "given" (another gennas Predictor) or "own" (a
        #: model of the user's class: gennas keeps no copy of it)
        from gennas.surrogates.predictor import Predictor

        self.predictor_start: str = getattr(predictor, "origin", None) or (
            "given" if isinstance(predictor, Predictor) else "own")
        # another space's failed deep inside: "architecture belongs to space 'mbv3', not 'nb201'"
        # (not its protocol: a predictor that only ranks, without fit or update, designs without a search)
        check_stand_in(predictor, None, "predictor=", self.space.name)
        lacking = [name for name in ("is_trained", "predict", "predict_soft") if not hasattr(predictor, name)]
        if lacking:  # generate failed with an AttributeError from the guidance (user walk 50)
            raise GennasError(f"predictor= ({type(predictor).__name__}) lacks {', '.join(lacking)}: the designer ranks "
                              "with predict and guides its generator with predict_soft (see gennas.AccuracyModel)")
        if estimator is not None:
            check_stand_in(estimator, LatencyModel, "estimator=", self.space.name)
        self._task_error = self._check_task()
        self.estimator, self.budget = self._latency_models(estimator)
        self._unbounded: LatencyBudget | None = None  # latencies on the device without a budget (_on_device)
        steer = guidance or GuidanceSettings()
        base = Guidance.for_task(self.space, task=None, device=device, max_latency_ms=max_latency_ms,
                                 estimator=self.estimator, latency_scale=steer.latency_scale,
                                 reward=steer.reward, num_candidates=steer.num_candidates)
        value = predictor_value(predictor, self._task_arg()) if self._task_error is None else None
        self._guidance = replace(base, value=value, scale=steer.scale)
        if self.budget is not None:
            # the generator's final filter is the budget itself (measured latencies where they exist, else
            # calibrated upper bounds), and it is steered by what will judge it
            self._guidance = replace(self._guidance, latency_hard=self.budget.judged_ms,
                                     latency=self.budget.steering(self._guidance.latency))
        self.loop = RememberingLoop(self.space, predictor, self.generator, self._guidance, task=self.task,
                                    budget=self.budget, seed=self.seed, settings=settings, direction=direction)
        self.loop.predictor_start = self.predictor_start  # a stored search records it (RememberingLoop.adopt_study)
        if self._saved_scale is not None and self._saved_scale.direction == direction:
            self.loop.scale = self._saved_scale  # new results are mapped as the saved ones were

    @classmethod
    @with_own_torch_modes
    def from_study(cls, storage: Any, study_name: str, space: SearchSpace | str | None = None,
                   force: bool = False, **options: Any) -> Designer:
        """A designer rebuilt from a stored designer search: the study's space, task, device,
        budget, seed and direction, with the predictor refitted (once) on every stored result.

        Args:
            storage / study_name: where :meth:`search` stored it (optuna storage URL or ``.db``).
            space: when given, the study must be of this space.
            force: design from results verified on an earlier spec of the space (its YAML was
                edited since; the change is recorded in the study).
            options: keyword arguments of :class:`Designer` (generator, predictor, loop, ...);
                ``device``, ``max_latency_ms``, ``latency_confidence`` and ``seed`` replace the
                study's (what was learned of the task holds on any device).

        Raises:
            GennasError: no such study, a study of another space or of another method, or a
                ``task`` or ``direction`` other than the study's (what it learned); a study verified
                on another spec of the space, unless ``force``.
        """
        from gennas.search.storage import ResultStore
        from gennas.search.stored_trials import foreign_notes
        from gennas.search.studies import designer_arguments

        stored_space, arguments = designer_arguments(storage, study_name, space, options, force)
        designer = cls(stored_space, storage=storage, **arguments)
        # read only: designing from a study records nothing in it (it wrote the space's spec of now
        # into a study an older gennas made, as if its results were verified on it: user walk 47)
        store = ResultStore.open(stored_space, storage, study_name, resume=True, force=force, read_only=True)
        for note in foreign_notes(store.foreign_count, study_name):
            warnings.warn(note, GennasWarning, stacklevel=2)
        results = store.results()
        if results:  # a replay, held to one unit; a search resuming it replays anew
            replay_study(searched(designer.loop, force), results, storage, study_name)
        return designer

    @with_own_threads  # in the constructor too: its predictor's forwards ran with 1 thread under threads=3
    def _check_task(self) -> str | None:
        """Why :meth:`generate` cannot run for this task, or None when it can."""
        if not self.predictor.is_trained:
            if self.predictor_start == "own":  # the hint below trains gennas's, not the user's (user walk 50)
                return (f"predictor= ({type(self.predictor).__name__}) is not trained yet: tell it results, or "
                        "search, before generate")
            return f"no trained {self.space.name} predictor yet: {train_hint(self.space, generator=False)}"
        try:
            # an unknown task fails here; a plug-in's wrong return shape failed deep inside the loop (user walk 50)
            check_prediction(self.predictor.predict([self.space.sample(0)], self._task_arg()), 1, self.predictor)
        except UnknownDataset as exc:
            if self.task is None or self.task.kind != "named":
                raise
            from gennas.bench import load_benchmark

            # A new dataset named only: search() can still learn it from verified results.
            measured = set(load_benchmark(self.space.benchmark).datasets) if self.space.benchmark else set()
            warn_of_task_name(self.task.name, self.predictor, self.space.name, measured)
            return (f"{exc}; describe the task by images (gennas.Task.from_images) or samples "
                    f"(gennas.Task.from_samples), or verify candidates with search(evaluator)")
        return None

    def _task_arg(self) -> Task | str | None:
        """The task as the predictor takes it (named tasks by name)."""
        return self.task.name if self.task is not None and self.task.kind == "named" else self.task

    @property
    def _task_name(self) -> str | None:
        """The task's name (what a saved predictor's manifest records it under); None: no task."""
        return None if self.task is None else self.task.name

    @with_own_threads
    def _latency_models(self, estimator: LatencyModel | None) -> tuple[LatencyModel | None, LatencyBudget | None]:
        if self.max_latency_ms is not None and self.device is None:
            raise GennasError("a latency budget (max_latency_ms=, --max-latency-ms) needs a device (device=, --device)")
        budget = self.max_latency_ms
        if any(isinstance(v, (list, tuple, set, dict)) for v in (self.device, budget)):  # README: One device at a time
            raise GennasError(f"one device and one latency budget at a time: device={self.device!r}, max_latency_ms="
                              f"{budget!r}")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, numbers.Real)
                                   or not np.isfinite(budget)):  # a slip, not a budget none keeps
            raise GennasError(f"max_latency_ms must be a positive number of ms, got {budget!r}")
        if budget is not None and budget <= 0:
            raise InfeasibleBudget(f"latency budget must be a positive number of ms, got {budget!r}")
        self.latency_confidence = check_confidence(self.latency_confidence)
        if self.max_latency_ms is not None and calibration_path(self.space.name).is_file():
            # refused outside the calibrated range even where measurements judge the budget (0.999 on
            # pixel3 was taken without a word); the error names the range
            load_calibration(self.space.name).quantile(self.latency_confidence)
        return latency_models(self.space, self.device, self.max_latency_ms, self.latency_confidence, estimator)

    # ------------------------------------------------------------ generation
    @property
    def guidance(self) -> Guidance:
        """The guidance the generator samples with."""
        return self._guidance

    @one_call_at_a_time
    @with_own_threads
    def generate(self, n: int = 10) -> Designs:
        """The ``n`` best of a guided pool, within the budget; ranked 1..n (see :meth:`predictions`); ``.notes``.

        Each comes with a calibrated predicted accuracy and its 90 % interval (``Candidate.interval``)
        where a calibration exists; for a task nothing was verified or described for, only the rank
        and a relative score (no accuracy is claimed). After results, the verified architectures
        that keep the budget join the pool, ranked by their measurement (``Candidate.verified_score``):
        the best one measured comes back unless ``n`` unverified ones have a higher stated mean.
        Under a budget every cell of an enumerable space within it is ranked with the guided
        samples (:meth:`LatencyBudget.admissible`); in a larger space, where the samples hold
        fewer than ``n`` within it, random ones within it are added, so fewer than ``n`` come
        back only when fewer exist (or random search finds fewer in a large space). Raises
        :class:`~gennas.generators.guidance.InfeasibleBudget` if none meets it. With a seed, the same
        call on an unchanged designer returns the same designs; after new results a new pool is drawn.
        """
        n = check_count(n, MAX_COUNT // self.loop.settings.pool)  # the pool drawn is ``pool`` times n
        learned = self.loop.refits > 0  # after search/tell: the refitted predictor and the task it learned
        if self._task_error is not None and not self.predictor.is_trained and (not learned or self.loop.learned_nothing()):
            # results that all scored the same train nothing (an UnknownDataset from deep in the guidance)
            raise GennasError(self._task_error + ("" if not learned else (
                f"; the {len(self.loop.history)} results told so far all scored the same, which teaches it nothing: "
                "tell it results an evaluator tells apart")))
        # a new pool only when the designer learned something since the last call: the same call on the
        # same state returns the same designs (6 of 10 overlapped when every call drew anew)
        state = (self.loop.refits, len(self.loop.history))
        self._calls += self._generated_at is not None and state != self._generated_at
        self._generated_at = state
        seed = None if self.seed is None else self.seed + self._calls
        guidance = self._guidance
        if learned or self._task_error is not None:
            # what was learned; or, for a task nothing is known of, what transfers (ranked only)
            guidance = replace(guidance, value=predictor_value(self.loop.predictor, self.loop.query_task(),
                                                               points_per_unit=self.loop.points_per_unit()))
        size = max(self.loop.settings.pool * n, 200)
        try:
            pool, message = self.generator.sample(size, seed=seed, guidance=guidance), ""
        except InfeasibleBudget as exc:
            if self.budget is None:
                raise
            pool, message = [], str(exc)
        # the best measured among them, and the cells best on a new dataset's source tables (as ask's pool)
        pool = with_verified(pool + self.loop.prior_top(), self.loop.history, self.space, self.budget)
        listed = self.loop.cells_within_budget()  # an enumerable space's, under a budget: listed once
        short = sum(not self.space.output_is_constant(a) for a in pool) < n
        if listed is None and short and self.budget is None and self.space.is_finite_enumerable():
            # n near the space's size: the guided draws repeat one another (generate(5000) on nb201 gave
            # 4,247 of its 5,389 functions), so the space's every cell is ranked, as under a budget
            listed = list(self.space.enumerate())
        if listed is not None or (self.budget is not None and short):
            # under a budget, every cell of a space small enough to list is ranked (the guided
            # samples missed the predictor's best within it: pixel3 at 5 ms, first design 89.56 %
            # where the predictor's top 20 within it are 89.8-91.0; `python experiments/budget_pool.py`);
            # else, where the samples hold too few within a tight budget, those the space has (a
            # budget that 100 nb201 cells keep gave 1 design of 10 on pixel3, or none)
            distinct: dict[str, ArchGraph] = {}
            for arch in pool + (listed if listed is not None else cast(LatencyBudget, self.budget).admissible(
                    self.space, n, seed)):  # not listed: under a budget (the condition above)
                distinct.setdefault(arch.canonical_hash(), arch)
            # a constant-output cell is never designed (pixel3 times some at 0.003 ms: with them
            # counted, an impossible budget returned no design and no error)
            pool = [a for a in distinct.values() if not self.space.output_is_constant(a)]
            if not pool:
                raise InfeasibleBudget(self.budget.infeasible_reason(self.space, message or (
                    f"no sampled {self.space.name} architecture whose output can depend on the input is judged to run "
                    f"under {self.max_latency_ms:g} ms on {self.device}")))
        designs = self._rank(pool if listed is not None else refined(self, pool), n)  # listed: all ranked already
        if len(designs) < n:
            warnings.warn(fewer_designs(len(designs), n, self.space, self.budget), FewerDesigns,
                          stacklevel=caller_stacklevel())
        # no task given: the predictor's default one is what is stated (it was an unnamed "93.60 %")
        task = getattr(self.predictor, "default_task", None) if self.task is None else self.task.name
        return Designs(designs, design_notes(self, designs), task)  # the notes: what the CLI prints under them

    def _rank(self, archs: Sequence[ArchGraph], n: int) -> list[Candidate]:
        """Predict (:meth:`predictions`), keep the top ``n`` by the conservative score (a verified
        one by its measurement against the others' stated means: :mod:`gennas.design.verified`);
        never an architecture whose output cannot depend on its input (at chance on every task),
        nor one whose every verification failed (:func:`~gennas.design.verified.failed_only`)."""
        failed = failed_only(self.loop.history)
        archs = [a for a in archs if not self.space.output_is_constant(a) and a.canonical_hash() not in failed]
        if not archs:
            return []
        p = self.predictions(archs)
        latency = self._latency_ms(archs)
        on_device = self._on_device()
        measured = np.zeros(len(archs), bool) if on_device is None else on_device.timed(archs)
        relative = (p.raw - p.raw.mean()) / (p.raw.std() or 1.0)  # rank-only: standardised over the pool
        task_name = self.task.name if self.task is not None else getattr(self.predictor, "default_task", None)
        unit = score_unit(task_name, [r.kind for r in self.loop.history], self.loop.scale.unit)
        if self.task is not None and self.task.kind == "samples" and not reads_as_percent(
                np.abs([score for _, score in self.task.samples]), True, False):
            unit = ""  # samples given as fractions (or any score): no "%"
        # NaN: a design nothing states (below the results further than they tell, source_line)
        pick = lambda values, i: None if values is None or np.isnan(values[i]) else float(values[i])  # noqa: E731
        verifications = verifications_among(archs, self.loop.history)  # an equivalent cell's measurements too
        verified = verified_means(verifications)
        by_rank = p.mean is None and ranks_by_trained_model(self.loop)  # told cells take the rank's places
        order = one_per_function(ranked(p, archs, verified, self.loop.scale, len(archs), by_rank), archs, verified, n)
        order = in_stated_order(order, p, archs, verified, self.loop.scale)  # never states more than one above it
        # what kept the budget off exact measurements, for the returned designs only: the model's
        # bound, or a registered device's own timing times the margin a second timing may reach
        timing_bounded = self.budget is not None and self.budget.own_margin != 1.0
        bound = None if self.budget is None or self.budget.exact or (measured.all() and not timing_bounded) or not (
            self.budget.bounded or timing_bounded) else self.budget.judged_ms([archs[i] for i in order])
        # on a signed-log scale (synflow's 1e49) a normal-equivalent std in score units means nothing
        # (9.35e48 beside a stated 6.4e44): the interval alone is stated
        std = None if self.loop.scale.compress else p.std
        # a verified design states its measurement: an interval for a score already known promised
        # nothing, and read as a contradiction where it missed it (synflow: "9.738e+42, 90 % in
        # [2.188e+39, 1.207e+46]; verified 2.313e+49"); the model's value stays beside it
        designs = []
        for rank, i in enumerate(order, start=1):
            score = verified.get(archs[i].to_string())
            stated = score is None  # a verified design's interval, std and flags are not stated
            designs.append(Candidate(
                archs[i], pick(p.mean, i), pick(std, i) if stated else None, pick(latency, i), rank, bool(measured[i]),
                (float(p.low[i]), float(p.high[i]))
                if stated and p.low is not None and p.high is not None and pick(p.low, i) is not None else None,
                float(relative[i]) if pick(p.mean, i) is None else None, unit,
                stated and p.beyond is not None and bool(p.beyond[i]), stated and p.below is not None and bool(p.below[i]),
                score, None if measured[i] and not timing_bounded else pick(bound, rank - 1),
                unlike_results=stated and p.unlike is not None and bool(p.unlike[i]),
                **({} if stated else verified_fields(archs[i], verifications, self.history))))
        return designs

    def _on_device(self) -> LatencyBudget | None:
        """What latencies on the designer's device are read from: its budget, else (a device and no
        budget) an unbounded one, so a device the tables measured shows its measurements (it
        showed the estimate: 26.06 ms on pixel3 for a cell measured at 35.84); None without a device."""
        if self.budget is not None or self.device is None:
            return self.budget
        if self._unbounded is None:
            self._unbounded = LatencyBudget.for_device(self.space, self.estimator, self.device, math.inf,
                                                       self.latency_confidence)
        return self._unbounded

    def _latency_ms(self, archs: Sequence[ArchGraph]) -> np.ndarray | None:
        """Latency on the designer's device, ms ``(len(archs),)`` (measured where it can be), else None."""
        on_device = self._on_device()
        return None if on_device is None else on_device.latency_ms(archs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_call_lock", None)  # a lock does not pickle; an unpickled designer gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._call_lock = new_call_lock()

    def __repr__(self) -> str:
        budget = "" if self.max_latency_ms is None else f", max_latency_ms={self.max_latency_ms:g}"
        task = None if self.task is None else self.task.name
        # the seed and what it learned tell two designers of one task apart in a notebook
        learned = sum(not r.failed for r in self.loop.history)
        direction = "" if self.loop.direction == "maximize" else f", direction={self.loop.direction!r}"
        where = self.storage if isinstance(self.storage, (str, os.PathLike)) else type(self.storage).__name__
        stored = "" if self.storage is None else f", storage={hide_passwords(str(where))!r}"
        return (f"Designer({self.space.name}, task={task!r}, device={self.device!r}{budget}, seed={self.seed}, "
                f"generator={self.generator.kind}{direction}{stored}, results={learned})")

