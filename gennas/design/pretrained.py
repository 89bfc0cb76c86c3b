"""The predictor a designer starts from, and where a search leaves what it learned.

A space's predictor is ``predictor_<space>.pt``: the shipped one in ``checkpoints/`` first, else
the one a designer search (or ``tell``) wrote under ``$GENNAS_HOME/checkpoints``, else an
untrained :class:`~gennas.surrogates.predictor.Predictor` that the first verified results train
from scratch. For a space without a shipped predictor the refitted predictor is written back
there after every ``tell`` (:class:`RememberingLoop`; inside a search at most every
:data:`SEARCH_SAVE_EVERY_S` and once at its end), so ``generate`` works in a later session.
"""

from __future__ import annotations

import math
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gennas.atomic_write import replaced_on_exit, writers_lock
from gennas.checkpoint import find_checkpoint, user_checkpoints_dir
from gennas.design.loop import DesignLoop
from gennas.design.scores import ScoreScale, score_unit
from gennas.design.scratch_statement import CountRanges, count_ranges, merged_ranges
from gennas.design.saved_records import (pick_record, predictor_file, records_of, saved_learned_from, saved_records,
                                         saved_score_scale, score_scale_of)
from gennas.errors import CannotWrite, GennasError, GennasWarning, OtherSpec, caller_stacklevel
from gennas.evaluators.base import Result
from gennas.resources import checkpoints_dir
from gennas.seeds import seed_or_drawn
from gennas.spaces import SearchSpace
from gennas.surrogates.protocols import AccuracyModel

if TYPE_CHECKING:  # annotations only: torch loads with the predictor, lazily
    from gennas.surrogates.predictor import Predictor


#: ranking-loss emphasis on the best results of the untrained predictor a designer starts from
#: (``PredictorConfig.top_weight``; a fresh ``Predictor(space)`` keeps 0, all pairs equal). A
#: search verifies the top of the ranking, so that is where its mistakes cost. From scratch on
#: development seeds 100-109 (``experiments/loop_variants.py --guide-members 1 --top-weight W``),
#: median verifications to the optimum for W = 0 / 2 / 4: cifar10 50 / 45 / 36, cifar100
#: 38 / 35 / 38 (mean 42.9 / - / 36.3); on the search table's seeds 0-19 cifar10 40 -> 30,
#: cifar100 24 -> 24 (docs/results.md, "Search")
SCRATCH_TOP_WEIGHT = 4.0
#: ensemble members of that untrained predictor (``PredictorConfig.members``; a fresh
#: ``Predictor(space)`` keeps 3). Every refit from scratch retrains the whole network, so the
#: members are the search's main cost, and their spread (the acquisition's uncertainty bonus)
#: did not help it choose: on development seeds 100-109 (``python experiments/loop_variants.py
#: --guide-members 1 --top-weight 4 --budget 150 --members M``) median (mean) verifications to
#: the optimum, M = 3 / 2 / 1: cifar10 18 (18.6) / 17 (19.7) / 16 (19.0), cifar100 7.5 (13.7) / 7
#: (11.4) / 9 (12.6); CPU per 50-verification run 9.3 / 8.1 / 5.4 s, under pixel3 <= 5 ms 11.7 / - / 7.4 s
SCRATCH_MEMBERS = 1


def untrained_predictor(space: SearchSpace, seed: int = 0) -> Predictor:
    """The predictor a designer searches with when ``space`` has none trained: its first
    verified results train it from scratch, its ranking loss weighing the best ones most, one
    member (:data:`SCRATCH_MEMBERS`), its encoder not the shipped self-supervised one (that led
    the first refits towards big cells, see ``PredictorConfig.pretrained``)."""
    from gennas.surrogates.predictor import Predictor, PredictorConfig

    predictor = Predictor(space, PredictorConfig(top_weight=SCRATCH_TOP_WEIGHT, members=SCRATCH_MEMBERS,
                                                 pretrained=False), seed=seed)
    predictor.origin = "untrained"  # what a designer search records it started from (START_ATTR)
    return predictor


def pretrained_predictor(space: SearchSpace, seed: int = 0) -> AccuracyModel:
    """The shipped predictor of ``space``, else the one a search saved, else an untrained one
    initialised and trained by ``seed``; its ``origin`` says which (``"shipped"``, ``"saved"``,
    ``"untrained"``), what a designer search records it started from."""
    from gennas.surrogates.predictor import Predictor

    path = find_checkpoint(predictor_file(space))
    if path is None:
        return untrained_predictor(space, seed)
    predictor = Predictor.load(path, space=space.name)
    predictor.origin = "shipped" if path.parent.resolve() == checkpoints_dir().resolve() else "saved"
    return predictor


class PredictorNotRemembered(GennasWarning):
    """The refitted predictor could not be written under ``$GENNAS_HOME`` (unwritable, or not a
    folder): the search goes on, but later designers do not start from what it learned."""


class SavedTasksReplaced(GennasWarning):
    """A save of the refitted predictor drops tasks the file had learned (two searches in one home at
    once for different tasks: the last writer's kept, the other's lost without a word)."""


class OtherDirectionSaved(GennasWarning):
    """The predictor a search saved learned its scores in the other direction: not started from."""


def _direction_of(record: dict[str, Any]) -> str | None:
    """The direction a saved record's scores were learned in (None: saved before it was recorded)."""
    scale = record.get("score_scale")
    return str(scale.get("direction", "maximize")) if isinstance(scale, dict) else None


def designer_start(space: SearchSpace, task: str | None, direction: str,
                   seed: int = 0) -> tuple[AccuracyModel, ScoreScale | None]:
    """The predictor a designer of ``direction`` on ``task`` and ``seed`` starts from
    (:func:`pretrained_predictor`) and the scale a search saved it on (None: shipped, untrained,
    or no record of ``task``). An untrained one takes the designer's ``seed``: before, every
    designer of a space without a shipped predictor started from the same seed-0 network, so
    two seeds differed only in what the generator drew.

    A predictor a search saved for the other direction (its record of ``task``, or for a task it
    has no record of, every record: what transfers) is not started from: a minimising search on
    darts took the maximised parameter count's weights and picked the largest networks
    (3.8e6-4.2e6 parameters, against 2.5e6 from an empty ``$GENNAS_HOME``). It starts untrained,
    with an :class:`OtherDirectionSaved` warning naming the file, and what it learns is not
    written over that file (``keeps_saved``)."""
    predictor = pretrained_predictor(space, seed)
    if getattr(predictor, "origin", None) != "saved":
        return predictor, None
    records = saved_records(space)
    record = pick_record(records, task)
    learned = {_direction_of(r) for r in ([record] if record is not None else records.values())} - {None}
    if not learned or direction in learned:
        return predictor, saved_score_scale(space, task)
    path = find_checkpoint(predictor_file(space))
    which = f"task {task!r}" if record is not None else "its tasks (" + ", ".join(map(str, records)) + ")"
    warnings.warn(f"the predictor a search saved for {space.name} ({path}) learned {which} with scores to "
                  f"{learned.pop()}, and this designer {direction}s them: started from it, the search would "
                  "steer towards the worst architectures. It starts untrained instead, and what it learns is not "
                  "saved over that file; move the file away to keep what it learns, or start from it anyway with "
                  "predictor=gennas.Predictor.load(path)", OtherDirectionSaved, stacklevel=3)
    untrained = untrained_predictor(space, seed)
    untrained.keeps_saved = True  # the saved file holds the other direction's learning: not overwritten
    return untrained, None


def ships_predictor(space: SearchSpace) -> bool:
    """Whether ``space`` has a shipped predictor (which a search never overwrites: what it learned
    stays with its study)."""
    return (checkpoints_dir() / predictor_file(space)).is_file()


#: seconds a save of the remembered predictor waits for another search's (a save takes well under one)
SAVE_LOCK_S = 120.0


def remember_predictor(space: SearchSpace, predictor: AccuracyModel, told: int, task: str | None,
                       direction: str, compress: bool = False, unit: str = "%",
                       ranges: CountRanges | None = None,
                       score_range: tuple[float, float] | None = None,
                       architectures: Sequence[str] | None = None) -> Path | None:
    """Write a refitted ``predictor`` (a :class:`Predictor` trained on ``told`` verified results of
    ``task``, learned on the loop's :class:`ScoreScale` ``direction``/``compress`` from scores in
    ``unit``) to ``$GENNAS_HOME/checkpoints`` when ``space`` ships none; the manifest records, per
    task the predictor knows, how many results it learned from and on which scale (a second search
    for another task keeps the first one's record: it had overwritten it, and the first task read
    as learned from the second's six results). Returns the path written, None when nothing was
    (a shipped predictor stays the start of every designer: what one search learned stays with its
    study, see :meth:`Designer.from_study`). ``ranges`` and ``score_range``: the op-count ranges
    (:func:`~gennas.design.scratch_statement.count_ranges`) and the lowest and highest score of
    the results it learned from, and their distinct ``architectures`` (strings), recorded so a
    later designer states nothing of designs unlike them, far from them or predicted above them
    (:func:`~gennas.design.saved_records.saved_learned_from`), as the designer that trained it."""
    from gennas.surrogates.predictor import Predictor

    # gennas's own only: a user's predictor= with a save(path) of its own was called with gennas's
    # arguments (the search died), or wrote its pickle where every later designer failed to load it
    # (user walk 50); what it learned stays with the study and with the user's object
    if not isinstance(predictor, Predictor) or not predictor.is_trained or ships_predictor(space):
        return None
    path = user_checkpoints_dir() / predictor_file(space)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one writer at a time, from reading the records to the manifest's checksum: two searches in one
    # $GENNAS_HOME interleaved, and the manifest's sha256 named the other's file (every later
    # designer refused it as corrupt)
    with writers_lock(path, SAVE_LOCK_S):  # waited on too long: filelock.Timeout, an OSError as a full disk
        return _save_records(predictor, space, task, told, direction, compress, unit, ranges, score_range,
                             architectures, path)


def _save_records(predictor: Predictor, space: SearchSpace, task: str | None, told: int, direction: str,
                  compress: bool, unit: str, ranges: CountRanges | None, score_range: tuple[float, float] | None,
                  architectures: Sequence[str] | None, path: Path) -> Path | None:
    """:func:`remember_predictor`'s write, under the lock of ``path``."""
    known = set(getattr(predictor, "tasks", []))
    saved = saved_records(space)
    dropped = sorted(str(name) for name in saved if name is not None and name not in known and name != task)
    if dropped:  # another search saved them meanwhile (two at once in one home), or predictor= was given
        warnings.warn(f"this save replaces the predictor saved at {path}, which had learned task "
                      f"{', '.join(map(repr, dropped))} (a search that saved it while this one ran, or before one "
                      "given its own predictor=): what it learned of them is no longer in the file; a designer "
                      "rebuilt from that search's study (Designer.from_study, gennas design --study) still has it",
                      SavedTasksReplaced, stacklevel=caller_stacklevel())
    records = {name: record for name, record in saved.items() if name is not None and name in known and name != task}
    records[str(task)] = {"verified_results": told,
                          "score_scale": {"direction": direction, "compress": compress, "unit": unit}}
    if ranges:
        records[str(task)]["op_count_ranges"] = ranges
    if score_range is not None:
        records[str(task)]["score_range"] = [float(score_range[0]), float(score_range[1])]
    if architectures:
        records[str(task)]["architectures"] = list(architectures)
    learned = "; ".join(f"{record['verified_results']} of task {name!r}" for name, record in records.items())
    data = (f"verified results ({learned}; scores mapped to the designer's scale), told to designers for space "
            f"{space.name!r}, which had no shipped predictor")
    try:
        return predictor.save(path, data, {"tasks": records},
                              "a designer search or Designer.tell (gennas search --method designer)",
                              tasks=list(getattr(predictor, "tasks", [])))
    except CannotWrite:  # a full disk: the home cannot be written, said once by the loop (not_remembered)
        raise
    except GennasError as exc:  # NaN weights: the last good file stays (written, they broke every later run)
        warnings.warn(f"the refitted predictor was not saved: {exc}", GennasWarning, stacklevel=3)
        return None


#: the copy of the saved predictor a stored designer search started from, in its work folder
START_COPY = "predictor_start.pt"


def keep_start_copy(space: SearchSpace, folders: Sequence[Path]) -> Path | None:
    """Copy the predictor a search saved for ``space`` (and its manifest) into the first writable
    of ``folders`` as :data:`START_COPY`, so a resumed study starts from it again though later
    refits rewrite it. Returns the copy (None: no saved predictor or no writable folder; a copy
    that cannot be written only costs the resume's reproducibility, with a warning then)."""
    path = find_checkpoint(predictor_file(space))
    if path is None or path.parent.resolve() == checkpoints_dir().resolve():
        return None
    for folder in folders:
        target = folder / START_COPY
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with writers_lock(path, SAVE_LOCK_S):  # the file and its manifest of one save
                for source, dest in ((path, target), (path.with_suffix(".json"), target.with_suffix(".json"))):
                    if source.is_file():  # written aside, then renamed: workers starting together never read half
                        with replaced_on_exit(dest) as partial:
                            shutil.copyfile(source, partial)
            return target
        except OSError:  # filelock's Timeout too
            continue
    return None


def start_copy(folders: Sequence[Path]) -> Path | None:
    """The :data:`START_COPY` kept in the first of a study's work ``folders`` holding one (None: none)."""
    return next((folder / START_COPY for folder in folders if (folder / START_COPY).is_file()), None)


def load_start_copy(space: SearchSpace, copy: Path) -> AccuracyModel:
    """The predictor a study began from, read from its :data:`START_COPY` ``copy``."""
    from gennas.surrogates.predictor import Predictor

    predictor = Predictor.load(copy, space=space.name)
    predictor.origin = "saved"
    return predictor


def start_or_untrained(space: SearchSpace, copy: Path) -> AccuracyModel | None:
    """The predictor a study began from (its :data:`START_COPY` ``copy``), or None where it was made
    for another spec of the space, with a warning: a resume or design forced past an edited spec
    (``--force``, as the README promises) then starts untrained, from the study's results alone."""
    try:
        return load_start_copy(space, copy)
    except OtherSpec:
        warnings.warn(f"the predictor this study began from ({copy}) was made for another spec of space "
                      f"{space.name!r}: forced past the edit, the designer starts untrained, from the study's "
                      "results alone", GennasWarning, stacklevel=3)
        return None


#: a predictor whose predictions of its own results spread less than this share of theirs is not saved
ONE_VALUE = 1e-3


#: inside a search, the refitted predictor of a space without a shipped one is written at most
#: every this many seconds, and once when the search ends (interrupted too): written after every
#: tell, with a manifest naming every architecture the home's searches learned, four successive
#: 40-verification darts searches in one home wrote 6.0 to 10.3 MB each, spaced 0.3 to 0.5 MB
#: (a user walk's script; README, "Designing for a space without shipped checkpoints")
SEARCH_SAVE_EVERY_S = 30.0


class RememberingLoop(DesignLoop):
    """The designer's loop: a :class:`DesignLoop` that, for a space without a shipped predictor,
    writes its refitted predictor to ``$GENNAS_HOME/checkpoints`` after every ``tell`` that changed
    it (about 0.4 MB, a few ms; inside a search spaced by :meth:`saves_spaced`); the copies
    cross-fitting makes are plain loops and write nothing. ``remember`` False: nothing is
    written (a designer rebuilt from a study only replays it)."""

    remember = True
    _warned_one_value = False
    _warned_not_remembered = False
    _save_every_s = 0.0  # a tell by hand is written at once
    _saved_at = -math.inf  # time.monotonic() of the last write
    _save_pending = False  # a refit not written yet (spaced)
    #: what the designer started it from (its predictor's ``origin``, "given" or "own"); a stored search records it
    predictor_start: str | None = None
    #: a study_replay.ReplayedStudy, set by replay_study (annotation only: read with getattr(..., None))
    replayed_from: object

    def adopt_study(self, attrs: dict[str, Any], folders: Sequence[Path] = (), resumed: bool = True) -> None:
        """Before a stored study is replayed into this loop (``resumed``), start from what the
        study started from; when it starts (nothing stored yet), keep a copy of a saved predictor
        it starts from in the first writable of the study's work ``folders``.

        A study begun untrained (a fresh ``$GENNAS_HOME``) was resumed from the predictor its own
        first results had saved, replayed them on top of it and went elsewhere (best 4.10e9
        resumed against 8.60e9 uninterrupted); it restarts untrained, as it began. A study
        begun from a saved predictor did the same, as that file is rewritten after every refit
        (first different result the 15th, best 8.08e12 against 9.04e12): it restarts from
        the copy (:data:`START_COPY`), or says that none was kept."""
        from gennas.search.study_record import START_ATTR

        start = attrs.get(START_ATTR)
        if not resumed:
            if start == "saved" and self.predictor_start == "saved":
                keep_start_copy(self.space, folders)
            return
        if self.history:
            return
        if start is None:  # results of an earlier gennas, which recorded no start (it read as "saved")
            warnings.warn("this study records no predictor it began from (written by an earlier gennas): the resumed "
                          "search goes on from this designer's, and may verify other architectures than an "
                          "uninterrupted run would have", GennasWarning, stacklevel=3)
        elif start == "untrained" and self.pretrained.is_trained:
            self._restart(untrained_predictor(self.space, seed_or_drawn(self.seed)), ScoreScale(self.scale.direction))
        elif start == "saved":
            copy = start_copy(folders)
            if copy is None:
                warnings.warn("this study began from the predictor an earlier search saved, which every refit since "
                              "rewrites, and no copy of it was kept with the study (an older study, or no writable "
                              "work folder): the resumed search may verify other architectures than an "
                              "uninterrupted run would have", GennasWarning, stacklevel=3)
                return
            task = None if self.task is None else self.task.name
            # reached past the store's spec check: a copy of another spec means --force went on
            started = start_or_untrained(self.space, copy)
            scale = None if started is None else score_scale_of(records_of(copy), task)
            self._restart(started or untrained_predictor(self.space, seed_or_drawn(self.seed)),
                          scale if scale is not None and scale.direction == self.scale.direction
                          else ScoreScale(self.scale.direction))

    def _restart(self, predictor: AccuracyModel, scale: ScoreScale) -> None:
        """Start again from ``predictor`` on ``scale``: nothing the loop derived from the other stays."""
        from gennas.design.prior import SourceTablePrior

        self.pretrained = predictor
        self.prior = SourceTablePrior(self.space, self.pretrained, self.task)
        self.scale = scale
        self._memo.clear()
        self._pool, self._pool_at, self._prior_within = [], None, None

    @contextmanager
    def saves_spaced(self, seconds: float | None = None) -> Iterator[None]:
        """Inside the block (a search), write the refitted predictor at most every ``seconds``
        (None: :data:`SEARCH_SAVE_EVERY_S`, read now) and, when the block ends (an interrupt too),
        the last refit not written yet."""
        before, self._save_every_s = self._save_every_s, float(SEARCH_SAVE_EVERY_S if seconds is None else seconds)
        try:
            yield
        finally:
            self._save_every_s = before
            if self._save_pending:
                self._remember()

    def tell(self, results: Sequence[Result]) -> None:
        super().tell(results)
        # a new task's first results rank by the tables or a few-shot task, the network untouched:
        # saving it then recorded the old task's network as learned from the new task's results
        if self.remember and self._refitted is not None and not getattr(self.pretrained, "keeps_saved", False):
            if time.monotonic() - self._saved_at < self._save_every_s:
                self._save_pending = True
                return
            self._remember()

    def _remember(self) -> None:
        """Write the refitted predictor (:func:`remember_predictor`) with what it learned from: the
        results' op-count ranges, score range and architectures (merged with an earlier search's
        where this one started from it)."""
        self._save_pending = False
        # a shipped one is never written: what a save records of the results (their op counts and
        # every architecture) is not computed for nothing: 5.8 ms a tell at 1,000 results, `python -c
        # "import time,gennas;from gennas.design.scratch_statement import count_ranges as c;s=gennas.
        # load_space('nb201');a=[s.sample(i) for i in range(1000)];t=time.process_time();c(a);
        # sorted({x.to_string() for x in a});print(time.process_time()-t)"`
        if ships_predictor(self.space) or self.states_one_value():
            return
        self._saved_at = time.monotonic()
        task = None if self.task is None else self.task.name
        told = [r for r in self.history if not r.failed]
        ranges, scores = count_ranges([r.arch for r in told]), [r.score for r in told]
        # a search that started from the saved predictor: it learned the earlier results too
        earlier, reach, archs = saved_learned_from(self.space, task) if self.pretrained.is_trained else (None,) * 3
        archs = sorted({*(archs or []), *(r.arch.to_string() for r in told)})
        score_range = None if not scores else (min(scores), max(scores)) if reach is None else (
            min(min(scores), reach[0]), max(max(scores), reach[1]))
        try:
            remember_predictor(self.space, self.predictor, len(self.history),
                               task, self.scale.direction, self.scale.compress,
                               score_unit(task, [r.kind for r in self.history]),
                               ranges if earlier is None else merged_ranges(earlier, ranges), score_range, archs)
        except OSError as exc:  # an unwritable home ended a search after its results were stored
            self.not_remembered(exc)

    @property
    def save_failed(self) -> bool:
        """Whether a save of what it learned failed (the home could not be written): the saved file,
        if any, holds an earlier state."""
        return self._warned_not_remembered

    def not_remembered(self, exc: OSError) -> None:
        """Warn once (:class:`PredictorNotRemembered`) that the refitted predictor cannot be written
        under ``$GENNAS_HOME``: the loop goes on, its results stay with it (and the study)."""
        if self._warned_not_remembered:
            return
        self._warned_not_remembered = True
        warnings.warn(f"the refitted predictor is not remembered for later designers and searches of "
                      f"{self.space.name}: {exc.filename or user_checkpoints_dir()} cannot be written "
                      f"({exc.strerror or exc}); the "
                      "search goes on and its results are kept as before; set GENNAS_HOME to a writable folder to "
                      "remember it", PredictorNotRemembered, stacklevel=caller_stacklevel())

    def states_one_value(self) -> bool:
        """Whether the refitted predictor predicts the results it learned from within a thousandth
        of their spread (:data:`ONE_VALUE`), so it is not saved (warned once): saved, a constant
        predictor stated one value for every cell in every later designer and search of
        ``$GENNAS_HOME`` (28.7156 +- 0.0005 against results 11 log-units apart; its two
        causes are fixed, this keeps any other from being saved)."""
        told = [r for r in self.history if not r.failed]
        scores = self.scale.to_model(np.array([r.score for r in told]))
        mean, _ = self.predictor.predict([r.arch for r in told], self.task_key())
        if len(told) < 3 or np.std(mean) >= ONE_VALUE * np.std(scores):
            return False
        if not self._warned_one_value:
            self._warned_one_value = True
            warnings.warn(f"the refitted predictor states one value for every result it learned from (spread "
                          f"{np.std(mean):.2g} against the results' {np.std(scores):.2g} on its scale): it is not "
                          "saved, so later designers and searches do not start from it", GennasWarning,
                          stacklevel=caller_stacklevel())
        return True
