"""A designer rebuilt from its study, and a search that resumes that study.

:meth:`gennas.Designer.from_study` tells its loop every stored result at once (one refit), so that
``generate`` states what they taught. A search resuming that study replays them as the run that
stored them told them (:func:`gennas.search.harness.replay`), which leads a seeded search where
that run went; told to the rebuilt loop, each result was counted twice (a 12-result study resumed
to 14 held 26 results; "from 11 successful results" of 6) and the search verified other cells than
an uninterrupted run from result 15 on. Such a search runs a loop as new as a fresh designer's
(:func:`loop_to_search`), so it verifies what a fresh ``Designer(...).search(..., resume=True)`` does.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gennas.design.pretrained import RememberingLoop
from gennas.design.scores import ScoreScale
from gennas.errors import GennasError, GennasWarning
from gennas.evaluators.base import Result


@dataclass(frozen=True)
class ReplayedStudy:
    """The stored study a rebuilt designer's loop was told at once.

    Attributes:
        storage: the storage's URL (:func:`storage_key`), study_name: the study's name.
        told: results told then; a loop holding more was told others since (kept: not rebuilt).
        scale: the loop's score scale before them (told scores may compress it).
    """

    storage: Any
    study_name: str
    told: int
    scale: ScoreScale


def replay_study(loop: RememberingLoop, results: Sequence[Result], storage: Any, study_name: str) -> None:
    """Tell a stored study's ``results`` to a rebuilt designer's ``loop`` at once, and note it
    (``loop.replayed_from``) for :func:`loop_to_search`. A replay, not new learning: the saved
    predictor stays as it was (rewritten on every ``gennas design --study``, each call refitted
    the last one's refit: 9958 -> 30608 -> ...)."""
    loop.replayed_from = ReplayedStudy(storage_key(storage), study_name, len(results), copy.copy(loop.scale))
    loop.remember = False
    try:
        loop.tell(list(results))
    finally:
        loop.remember = True


def loop_to_search(loop: RememberingLoop, storage: Any, study_name: str | None, resume: bool) -> RememberingLoop:
    """The loop a designer's search runs: a new one where it resumes the study ``loop`` was rebuilt
    from (:func:`replay_study`) and nothing was told since, so the search replays the study as a
    fresh designer's does; else ``loop`` itself."""
    replayed: ReplayedStudy | None = getattr(loop, "replayed_from", None)
    if not resume or replayed is None or study_name != replayed.study_name or len(loop.history) != replayed.told:
        return loop
    key = storage_key(storage)
    return loop if key is None or key != replayed.storage else new_loop(loop, replayed.scale)


def new_loop(loop: RememberingLoop, scale: ScoreScale) -> RememberingLoop:
    """A loop as ``loop`` was before anything was told: its models, guidance, task, budget, seed,
    settings and start, on its score ``scale`` of then (restored into the same object: the
    designer maps a saved predictor's statements through it, as the designer's constructor shares it)."""
    fresh = RememberingLoop(loop.space, loop.pretrained, loop.generator, loop.guidance, task=loop.task,
                            budget=loop.budget, seed=loop.seed, settings=loop.settings, direction=scale.direction)
    fresh.predictor_start = loop.predictor_start
    vars(loop.scale).update(vars(scale))
    fresh.scale = loop.scale
    return fresh


def storage_key(storage: Any) -> Any:
    """What names ``storage`` whichever way it is spelt (``run.db``, ``sqlite:///run.db``): its
    URL, or the storage object itself for one without a URL; None where it cannot be opened
    (the search says why)."""
    from gennas.search.backends import open_storage  # here: gennas.search imports the design package

    if storage is None:
        return None
    try:
        backend = open_storage(storage, existing=True)
    except GennasError:
        return None
    return getattr(backend, "url", None) or backend


class UnstoredTell(GennasWarning):
    """Results told by hand to a designer that has a storage: kept in the designer only."""


def unstored_tell(storage: Any) -> UnstoredTell:
    """The warning of a designer's first ``tell`` where it has a ``storage``: a user's ask/tell loop
    with ``storage=`` stored nothing and said nothing, and the next session's ``from_study`` found
    no study. What stores such a loop: the search running the user's verification."""
    return UnstoredTell(f"tell() keeps results in this designer only: storage={storage!r} is where search() stores "
                        "them, and Designer.from_study rebuilds a designer from a search's study. To keep an "
                        "ask/tell loop's results, let the search run it: designer.search(CallableEvaluator(verify, "
                        "kind='train'), budget=..., storage=...) asks, calls verify(arch) and tells, storing each "
                        "result (kind 'train' for accuracies in %)")
