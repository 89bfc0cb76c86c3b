"""The verification half of :class:`~gennas.design.designer.Designer` (a mixin): ``ask``, ``tell``,
``search`` and what they hold (``history``, ``pending``, ``release``), all through the designer's
:class:`~gennas.design.loop.DesignLoop`. It reads the designer's ``space``, ``budget``,
``storage``, ``seed``, ``loop``, ``_table_reach`` and ``_off_table``
(:class:`~gennas.design.statement.Statements`).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, SupportsFloat

import numpy as np

from gennas.design.budget import FewerDesigns, LatencyBudget, check_feasible
from gennas.design.one_call import one_call_at_a_time
from gennas.design.scores import (InterruptedTell, ToldTwice, are_table_accuracies, repeated_results, told_once,
                                  told_unit_problems)
from gennas.design.study_replay import UnstoredTell, loop_to_search, unstored_tell
from gennas.design.told_scale import unit_factor
from gennas.design.told_units import as_recorded, searched, told_in_unit, warn_each
from gennas.design.verified import scores_by
from gennas.errors import GennasError, GennasWarning, caller_stacklevel
from gennas.evaluators.base import Evaluator, Result, as_results
from gennas.generators.base import MAX_COUNT, check_count
from gennas.graph import ArchGraph, ArchLike
from gennas.seeds import warn_unseeded
from gennas.surrogates.protocols import AccuracyModel
from gennas.threads import with_own_threads

if TYPE_CHECKING:  # the search package imports the design's modules: the annotation only
    from gennas.search.search_result import SearchResult
    from gennas.spaces import SearchSpace


class Verification:
    """``ask``/``tell`` by hand, or ``search`` with an evaluator; see the module docstring."""

    loop: Any  # the designer's RememberingLoop (set by its constructor)
    if TYPE_CHECKING:  # the designer's (its constructor, Statements): declared for the type checker only
        space: SearchSpace
        budget: LatencyBudget | None
        storage: Any
        seed: int | None
        def _table_reach(self, task: Any) -> tuple[float, float] | None: ...
        def _off_table(self, scores: np.ndarray, table: tuple[float, float]) -> Warning | None: ...

    @property
    def history(self) -> list[Result]:
        """Every result told so far (by :meth:`tell`, every :meth:`search` and ``from_study``), in
        the order told, failed ones included; a copy: telling goes through :meth:`tell`."""
        return list(self.loop.history)

    def _tell_problems(self, results: Sequence[Result]) -> list[str | Warning]:
        """What ``tell`` warns of before it records ``results``: their unit
        (:func:`~gennas.design.scores.told_unit_problems`), architectures told again with another
        score, and scores that are not the bundled table's accuracies (:meth:`_scores_off_table`)."""
        problems = [*told_unit_problems(results, self.loop.direction), *repeated_results(self.loop.history, results),
                    self._scores_off_table(results), self._unstored()]
        return [problem for problem in problems if problem is not None]

    def _scores_off_table(self, results: Sequence[Result] = ()) -> Warning | None:
        """Once per designer: the warning for results (``results`` and those told before) that are
        not the bundled table's accuracies of the task, said at the ``tell`` or the search that
        brought them (``tell(arch, 150.0)``, and a search's scores 4 points above the table, were
        first said at a later ``generate``, from 10 results)."""
        loop = self.loop
        told = [r for r in [*loop.history, *results] if not r.failed]
        scores = np.array([r.score for r in told], dtype=np.float64)
        table = self._table_reach(loop.task)
        # fractions of a dataset the predictor learned in % are learned as them (told_scale)
        percent = unit_factor(loop, told) * scores
        if table is None or len(scores) == 0 or are_table_accuracies(percent, table, loop.scale.direction):
            return None
        return self._off_table(percent, table)  # what the check read: a fraction's example in %

    def _unstored(self) -> UnstoredTell | None:
        """Once per designer with a storage (None after, or without one): told results are not stored."""
        if self.storage is None or self.__dict__.get("_warned_unstored"):
            return None
        self.__dict__["_warned_unstored"] = True
        return unstored_tell(self.storage)

    @property
    def loop_predictor(self) -> AccuracyModel:
        """The predictor refitted on the verified results (the pretrained one before any)."""
        return self.loop.predictor

    @property
    def pending(self) -> list[ArchGraph]:
        """Architectures :meth:`ask` returned whose results were not told yet, in the order asked."""
        return self.loop.pending

    @one_call_at_a_time
    def release(self, archs: ArchGraph | str | Iterable[ArchGraph | str] | None = None) -> list[ArchGraph]:
        """Give pending asks back (``archs``, or all :attr:`pending` by default): the next ask may
        offer them again. For asks whose results will never be told (an interrupted evaluation, an
        ``ask`` cell run again): else they are never proposed again, the best picks among them.
        Returns those released (one told or never asked is left as it is)."""
        if archs is not None:
            archs = [archs] if isinstance(archs, (ArchGraph, str)) else list(archs)
            archs = [self.space.from_string(a) if isinstance(a, str) else a for a in archs]
        return self.loop.release(archs)

    @one_call_at_a_time
    @with_own_threads
    def ask(self, k: int = 1) -> list[ArchGraph]:
        """``k`` architectures to verify next, none verified or asked before, within the budget
        (:meth:`DesignLoop.ask`); fewer only where no more were found, with a :class:`FewerDesigns` warning.

        They are *pending* (:attr:`pending`) until their results are told, and no later ask offers
        them, so that parallel workers may ask before anything is told. Asks whose results will not
        come (an interrupted evaluation, a notebook cell run again) are lost for good unless given
        back: :meth:`release` (all pending ones by default); :meth:`search` releases them itself."""
        if isinstance(k, int) and k > 0:  # the limit as generate's, on k (its pool is ``pool`` times larger)
            check_count(k, MAX_COUNT // self.loop.settings.pool)
        asked = self.loop.ask(k)
        if len(asked) < k:  # it returned 350 of 2,000 without a word
            warnings.warn(f"ask({k}) found {len(asked)} architectures not verified or asked before (among guided "
                          "samples, neighbours of the best and random unseen ones); ask again for others",
                          FewerDesigns, stacklevel=caller_stacklevel())
        return asked

    @one_call_at_a_time
    @with_own_threads
    def tell(self, arch: ArchLike | Sequence[Result], score: SupportsFloat | None = None) -> None:
        """Report verified results: ``tell(arch, score)`` or ``tell(results)``; one refit per call.
        An architecture told again with another score keeps both (a warning says so); a result
        identical to one told before (architecture, score, kind, fidelity) is left out, with a
        :class:`~gennas.design.scores.ToldTwice` warning."""
        results = told_in_unit(self.loop, as_results(self.space, arch, score))  # kinds checked; other units failed
        results, twice = told_once(self.loop.history, results)
        if twice:  # a notebook cell run twice doubled the history
            warnings.warn(f"{twice} result{'s' if twice > 1 else ''} told here repeat{'' if twice > 1 else 's'} one "
                          "told already (same architecture, score, kind and fidelity): not learned twice, the history "
                          "keeps one; a repeated measurement with another score is kept", ToldTwice,
                          stacklevel=caller_stacklevel())
            if not results:
                return
        warn_each(self._tell_problems(results))  # before anything is recorded
        try:
            self.loop.tell(results)
        except BaseException as stop:  # re-telling them after Ctrl-C counted them twice; after an error, refused
            how = "interrupted" if isinstance(stop, KeyboardInterrupt) else f"stopped by {type(stop).__name__}"
            warnings.warn(f"tell was {how} after it recorded these {len(results)} results (designer.history "
                          "ends with them) and before its refit finished: do not tell them again; the next tell "
                          "refits", InterruptedTell, stacklevel=caller_stacklevel())
            raise

    @one_call_at_a_time
    @with_own_threads
    def reverify(self, evaluator: Evaluator | Callable[[ArchGraph], SupportsFloat], budget: int = 3, times: int = 2,
                 storage: Any = None, study_name: str | None = None) -> list[Result]:
        """Verify the best verified architecture again until it has been verified ``times`` times
        and is still the best by the mean of its verifications, at most ``budget`` more
        verifications; the results are told, so a verified design states its mean and ranks by it.

        A search verifies each architecture once, so with a noisy evaluator (a real training) its
        best is the luckiest of many and over-states its architecture, often above the table's best
        cell. A lucky best falls back when verified again, and the next best is
        verified in its turn, as SMAC's intensification confirms an incumbent. ``python
        experiments/noisy_evaluator.py`` (noise std 0.5 / 1.0 on cifar10 / cifar100, 30
        verifications, 8 seeds): ``generate(1)``'s over-statement +0.76 / +1.63 points after a
        search, +0.59 / +0.82 with 3 of the 30 spent here. With ``study_name`` (in ``storage``, default
        the designer's) the results are stored in that study too, so :meth:`from_study` keeps
        them; each counts there as one more verification. Returns every result verified, in order;
        one that repeats an earlier score exactly (an exact evaluator's) confirms the best and is not
        told again nor stored. A :class:`~gennas.TrainEvaluator` trains each repeat with its seed
        plus the verifications so far (with its own seed a training repeated its score exactly, and
        the lucky best read as confirmed: user walk 52); a training of one's own that repeats a score
        exactly is warned of."""
        from gennas.evaluators.base import as_evaluator
        from gennas.search.storage import ResultStore

        for name, value in (("budget", budget), ("times", times)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise GennasError(f"reverify(): {name} must be a positive whole number, got {value!r}")
        storage = storage if storage is not None else self.storage
        if study_name is not None and storage is None:
            raise GennasError(f"reverify(study_name={study_name!r}) stores its results in that study: give the "
                              "storage it is in (storage=..., or Designer(storage=...))")
        store = None if study_name is None else ResultStore.open(self.space, storage, study_name, resume=True,
                                                                 direction=self.loop.scale.direction)
        evaluator = as_evaluator(evaluator)
        out: list[Result] = []
        for _ in range(budget):
            best = best_verified(self.loop.history, self.loop.scale.direction == "maximize")
            if best is None:
                if not out:
                    raise GennasError("reverify() needs a verified architecture: nothing was verified yet")
                break
            arch, verified = best
            if verified >= times:
                break  # the best is confirmed
            results = repeat_of(evaluator, verified).evaluate([arch])
            out += results
            # another score of a verified cell is a new measurement; the same score again (an exact
            # evaluator's) is not learned twice, nor stored, and confirms it
            told, _ = told_once(self.loop.history, told_in_unit(self.loop, results))
            if not told:
                if any(r.kind == "train" for r in results):  # a seeded training of one's own, repeated
                    warnings.warn(f"reverify(): a training of {arch.to_string()} repeated its score exactly, so it "
                                  "confirms nothing: give each repeat another seed (gennas.TrainEvaluator does)",
                                  GennasWarning, stacklevel=caller_stacklevel())
                break
            if store is not None:
                store.add_many(told)
            self.loop.tell(told)
        return out

    @one_call_at_a_time
    @with_own_threads
    def search(self, evaluator: Evaluator | Callable[[ArchGraph], SupportsFloat], budget: int, *, batch_size: int = 1,
               storage: Any = None, study_name: str | None = None, resume: bool = False,
               progress: bool | None = None, force: bool = False, executor: Any = None, workers: int | None = None,
               address: str | None = None, max_seconds: float | None = None) -> SearchResult:
        """Generate, verify with ``evaluator``, refit; until ``budget`` architectures are verified.

        The budget is per call: a second search on this designer verifies ``budget`` more (new
        architectures), keeping all it learned (:attr:`history` has every result). A stored study
        is refused a second run unless ``resume=True``, which counts its stored results in
        ``budget``. Pending asks (:meth:`ask`) are released first: nothing tells them meanwhile.
        Returns a :class:`gennas.search.SearchResult` of this call: ``results`` verified, best
        first; ``notes`` what to know (a constant evaluator, a budget fewer architectures keep).

        Args:
            evaluator: an Evaluator or a callable ``arch -> score``, whose scores have no unit
                (designs state % from results of kind table/train/supernet: ``CallableEvaluator``).
            budget: verifications (failed ones count); with ``resume``, the study's stored ones too.
            batch_size: architectures asked and verified per round; the loop refits once per batch.
            storage: where each result is stored as an optuna trial (URL or ``.db`` path; default:
                the designer's ``storage``; None: in memory).
            study_name: the stored study (default: named after the settings, as the CLI names it).
            resume: continue the stored study run with the same settings (task, device, seed, ...).
            progress: show progress on stderr (a bar on a terminal, plain lines in a log); None (the
                default): shown unless ``evaluator`` looks scores up in a table.
            force: resume a study run with other settings (not another task), recording the
                change; a result in another unit than those before (a fraction after %) is
                recorded as failed instead of stopping the search.
            executor: ``"local"`` (default: ``batch_size`` at a time in this process), ``"ray"``
                (one Ray task per architecture, more asked as workers free up) or an
                :class:`~gennas.search.executor.Executor`.
            workers: Ray tasks in flight (default 2). address: the Ray cluster (None: a local one).
            max_seconds: a time limit (s): no verification starts after it, and the search returns
                with a note; ``resume=True`` goes on (see :func:`~gennas.search.run_search`).

        Raises:
            GennasError: ``resume`` without a storage; bad budget or batch size; an evaluator of another
                space; storage that cannot be opened or written; a stored study that holds results
                without ``resume``, or other settings without ``force``; a result in another unit
                (without ``force``); the first evaluations all failing with one error (the rest:
                :func:`gennas.search.run_search`).
            InfeasibleBudget: no architecture keeps the designer's latency budget (a GennasError).
        """
        from gennas.search.harness import run_search
        from gennas.search.studies import designer_study

        storage = storage if storage is not None else self.storage
        if resume and storage is None:  # it ran a whole new budget in memory, 0 resumed
            raise GennasError("resume=True continues a stored search: pass the storage it was stored in "
                              "(search(..., storage=...) or Designer(storage=...)); a search without one keeps its "
                              "results in memory only, and a second search on this designer continues from them")
        if self.budget is not None:  # a budget no cell keeps fails before a study is created
            check_feasible(self.budget, self.space)
        study_name, attrs = designer_study(self, evaluator, storage, study_name, resume)
        self.loop = loop_to_search(self.loop, storage, study_name, resume)  # rebuilt by from_study: a new one
        warn_unseeded(self.seed, storage, study_name, resume)
        # nothing but this search tells the loop while it runs: asks never told are candidates again
        released = self.loop.release()
        try:
            out = run_search(searched(self.loop, force), evaluator, budget, storage=storage, study_name=study_name,
                             batch_size=batch_size, progress=progress, resume=resume, force=force, attrs=attrs,
                             direction=self.loop.scale.direction, executor=executor, workers=workers, address=address,
                             max_seconds=max_seconds)
        except (KeyboardInterrupt, SystemExit):
            # the cells this search asked and never told are candidates again: ask() skipped the one
            # being trained when it was stopped; a stored study keeps its own claims
            self.loop.release()
            raise
        warn_each(problem for problem in [self._scores_off_table()] if problem is not None)
        recorded = as_recorded(out.history, self.loop.history)
        if any(r is not o for r, o in zip(recorded, out.history)):
            other = sum(r is not o for r, o in zip(recorded, out.history))
            out.history = recorded
            out.notes.append(f"{other} result{'s' if other > 1 else ''} in another unit than the designer's earlier "
                             "ones were recorded as failed verifications, not learned from (OtherUnit)")
        if released:
            out.notes.append(f"{len(released)} architecture{'s' if len(released) > 1 else ''} asked earlier by ask "
                             "and never told were candidates again (released)")
        return out


def best_verified(history: Sequence[Result], maximize: bool = True) -> tuple[ArchGraph, int] | None:
    """The architecture of ``history`` with the best mean of its successful scores (the highest
    where ``maximize``, else the lowest) and how many they are; None where none succeeded."""
    scores = scores_by(history, ArchGraph.canonical_hash)
    if not scores:
        return None
    sign = 1.0 if maximize else -1.0
    key = max(scores, key=lambda k: sign * sum(scores[k]) / len(scores[k]))
    arch = next(r.arch for r in history if not r.failed and r.arch.canonical_hash() == key)
    return arch, len(scores[key])


def repeat_of(evaluator: Evaluator, verified: int) -> Evaluator:
    """``evaluator`` for a repeat of an architecture ``verified`` times so far: one with a
    ``with_seed`` (a training) and an integer ``seed`` trains with ``seed + verified``."""
    with_seed, seed = getattr(evaluator, "with_seed", None), getattr(evaluator, "seed", None)
    if callable(with_seed) and isinstance(seed, int) and not isinstance(seed, bool):
        return with_seed(seed + verified)  # type: ignore[no-any-return]
    return evaluator
