"""The predictor a designer starts from, and where a search leaves what it learned.

A space's predictor is ``predictor_<space>.pt``: the shipped one in ``checkpoints/`` first, else
the one a designer search (or ``tell``) wrote under ``$GENNAS_HOME/checkpoints``, else an
untrained :class:`~gennas.surrogates.predictor.Predictor` that the first verified results train
from scratch. For a space without a shipped predictor the refitted predictor is written back
there after every ``tell`` (:class:`RememberingLoop`: a search tells its loop too), so
``generate`` works in a later session.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gennas.checkpoint import find_checkpoint, read_manifest, user_checkpoints_dir
from gennas.design.loop import DesignLoop
from gennas.design.scores import ScoreScale, score_unit
from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.resources import checkpoints_dir
from gennas.spaces import SearchSpace
from gennas.surrogates.protocols import AccuracyModel


def predictor_file(space: SearchSpace) -> str:
    return f"predictor_{space.name}.pt"


#: ranking-loss emphasis on the best results of the untrained predictor a designer starts from
#: (``PredictorConfig.top_weight``; a fresh ``Predictor(space)`` keeps 0, all pairs equal). A
#: search verifies the top of the ranking, so that is where its mistakes cost. From scratch on
#: development seeds 100-109 (``experiments/loop_variants.py --guide-members 1 --top-weight W``),
#: median verifications to the optimum for W = 0 / 2 / 4: cifar10 50 / 45 / 36, cifar100
#: 38 / 35 / 38 (mean 42.9 / - / 36.3); on the search table's seeds 0-19 cifar10 40 -> 30,
#: cifar100 24 -> 24 (README, "Search")
SCRATCH_TOP_WEIGHT = 4.0
#: ensemble members of that untrained predictor (``PredictorConfig.members``; a fresh
#: ``Predictor(space)`` keeps 3). Every refit from scratch retrains the whole network, so the
#: members are the search's main cost, and their spread (the acquisition's uncertainty bonus)
#: did not help it choose: on development seeds 100-109 (``python experiments/loop_variants.py
#: --guide-members 1 --top-weight 4 --budget 150 --members M``) median (mean) verifications to
#: the optimum, M = 3 / 2 / 1: cifar10 18 (18.6) / 17 (19.7) / 16 (19.0), cifar100 7.5 (13.7) / 7
#: (11.4) / 9 (12.6); CPU per 50-verification run 9.3 / 8.1 / 5.4 s, under pixel3 <= 5 ms 11.7 / - / 7.4 s
SCRATCH_MEMBERS = 1


def untrained_predictor(space: SearchSpace, seed: int = 0) -> AccuracyModel:
    """The predictor a designer searches with when ``space`` has none trained: its first
    verified results train it from scratch, its ranking loss weighing the best ones most, one
    member (:data:`SCRATCH_MEMBERS`), its encoder not the shipped self-supervised one (that led
    the first refits towards big cells, see ``PredictorConfig.pretrained``)."""
    from gennas.surrogates.predictor import Predictor, PredictorConfig

    predictor = Predictor(space, PredictorConfig(top_weight=SCRATCH_TOP_WEIGHT, members=SCRATCH_MEMBERS,
                                                 pretrained=False), seed=seed)
    predictor.origin = "untrained"  # what a designer search records it started from (START_ATTR)
    return predictor


def pretrained_predictor(space: SearchSpace) -> AccuracyModel:
    """The shipped predictor of ``space``, else the one a search saved, else an untrained one;
    its ``origin`` says which (``"shipped"``, ``"saved"``, ``"untrained"``), what a designer
    search records it started from."""
    from gennas.surrogates.predictor import Predictor

    path = find_checkpoint(predictor_file(space))
    if path is None:
        return untrained_predictor(space)
    predictor = Predictor.load(path, space=space.name)
    predictor.origin = "shipped" if path.parent.resolve() == checkpoints_dir().resolve() else "saved"
    return predictor


def ships_predictor(space: SearchSpace) -> bool:
    """Whether ``space`` has a shipped predictor (which a search never overwrites: what it learned
    stays with its study)."""
    return (checkpoints_dir() / predictor_file(space)).is_file()


def _saved_records(space: SearchSpace) -> dict[str | None, dict[str, Any]]:
    """What the predictor a search saved for ``space`` learned, per task: its manifest's ``tasks``
    (task -> ``verified_results``, ``score_scale``); a manifest from before per-task records gives
    one record for any task (key None). Empty for a shipped predictor or none saved."""
    path = find_checkpoint(predictor_file(space))
    if path is None or path.parent.resolve() == checkpoints_dir().resolve():
        return {}
    metrics = read_manifest(path).get("metrics")
    if not isinstance(metrics, dict):
        return {}
    tasks = metrics.get("tasks")
    if isinstance(tasks, dict):
        return {str(name): record for name, record in tasks.items() if isinstance(record, dict)}
    return {None: metrics}  # one search's record, of whichever task it learned


def _record(space: SearchSpace, task: str | None) -> dict[str, Any] | None:
    """The saved predictor's record of ``task`` (None: the only one it holds)."""
    records = _saved_records(space)
    if task in records:
        return records[task]
    if None in records:
        return records[None]
    return next(iter(records.values())) if task is None and len(records) == 1 else None


def remember_predictor(space: SearchSpace, predictor: AccuracyModel, told: int, task: str | None,
                       direction: str, compress: bool = False, unit: str = "%") -> Path | None:
    """Write a refitted ``predictor`` (a :class:`Predictor` trained on ``told`` verified results of
    ``task``, learned on the loop's :class:`ScoreScale` ``direction``/``compress`` from scores in
    ``unit``) to ``$GENNAS_HOME/checkpoints`` when ``space`` ships none; the manifest records, per
    task the predictor knows, how many results it learned from and on which scale (a second search
    for another task keeps the first one's record: it had overwritten it, and the first task read
    as learned from the second's six results). Returns the path written, None when nothing was
    (a shipped predictor stays the start of every designer: what one search learned stays with its
    study, see :meth:`Designer.from_study`)."""
    save = getattr(predictor, "save", None)
    if save is None or not predictor.is_trained or ships_predictor(space):
        return None
    known = set(getattr(predictor, "tasks", []))
    records = {name: record for name, record in _saved_records(space).items()
               if name is not None and name in known and name != task}
    records[str(task)] = {"verified_results": told,
                          "score_scale": {"direction": direction, "compress": compress, "unit": unit}}
    learned = "; ".join(f"{record['verified_results']} of task {name!r}" for name, record in records.items())
    data = (f"verified results ({learned}; scores mapped to the designer's scale), told to designers for space "
            f"{space.name!r}, which had no shipped predictor")
    try:
        return save(user_checkpoints_dir() / predictor_file(space), data, {"tasks": records},
                    "a designer search or Designer.tell (gennas search --method designer)",
                    tasks=list(getattr(predictor, "tasks", [])))
    except GennasError as exc:  # NaN weights: the last good file stays (written, they broke every later run)
        warnings.warn(f"the refitted predictor was not saved: {exc}", RuntimeWarning, stacklevel=2)
        return None


def saved_score_scale(space: SearchSpace, task: str | None = None) -> ScoreScale | None:
    """The score scale the predictor a search saved learned ``task`` on (scores of huge magnitude
    compressed, a loss negated), so a later session maps its predictions back to the evaluator's
    units; None for a shipped predictor, none saved, or a task it holds no record of."""
    record = _record(space, task)
    scale = None if record is None else record.get("score_scale")
    if not isinstance(scale, dict):
        return None  # saved before the scale was recorded
    unit = scale.get("unit")
    return ScoreScale(str(scale.get("direction", "maximize")), bool(scale.get("compress", False)),
                      unit if isinstance(unit, str) else None)


def saved_results(space: SearchSpace, task: str | None = None) -> int | None:
    """How many verified results of ``task`` the predictor a search saved for ``space`` was
    trained on; None for a shipped predictor, none saved, or none recorded."""
    record = _record(space, task)
    told = None if record is None else record.get("verified_results")
    return told if isinstance(told, int) else None


class RememberingLoop(DesignLoop):
    """The designer's loop: a :class:`DesignLoop` that, for a space without a shipped predictor,
    writes its refitted predictor to ``$GENNAS_HOME/checkpoints`` after every ``tell`` that changed
    it (about 0.4 MB, a few ms); the copies cross-fitting makes are plain loops and write nothing.
    ``remember`` False: nothing is written (a designer rebuilt from a study only replays it)."""

    remember = True
    #: what the designer started it from (its predictor's ``origin``, or "given"); a stored search records it
    predictor_start: str | None = None

    def adopt_study(self, attrs: dict[str, Any]) -> None:
        """Before a stored study is replayed into this loop, start from what the study started from.
        A study begun untrained (a fresh ``$GENNAS_HOME``) was resumed from the predictor its own
        first results had saved, replayed them on top of it and went elsewhere (a user walk: best
        4.10e9 resumed against 8.60e9 uninterrupted); it restarts untrained, as it began."""
        from gennas.search.storage import START_ATTR

        if attrs.get(START_ATTR) != "untrained" or self.history or not self.pretrained.is_trained:
            return
        from gennas.design.prior import SourceTablePrior

        self.pretrained = untrained_predictor(self.space)
        self.prior = SourceTablePrior(self.space, self.pretrained, self.task)
        self.scale = ScoreScale(self.scale.direction)  # not the saved predictor's
        self._memo.clear()
        self._pool, self._pool_at, self._prior_within = [], None, None

    def tell(self, results: Sequence[Result]) -> None:
        super().tell(results)
        # a new task's first results rank by the tables or a few-shot task, the network untouched:
        # saving it then recorded the old task's network as learned from the new task's results
        if self.remember and self._refitted is not None:
            task = None if self.task is None else self.task.name
            remember_predictor(self.space, self.predictor, len(self.history),
                               task, self.scale.direction, self.scale.compress,
                               score_unit(task, [r.kind for r in self.history]))
