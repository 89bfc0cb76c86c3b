"""What a finished optuna trial of a gennas study means: a result of gennas's, or a trial of
another writer's, which every reader skips alike.

Plain optuna code can add trials to a study gennas wrote (``study.optimize``, ``study.tell``):
``search --resume`` skipped them without a word while ``design``, ``report`` and
``Designer.from_study`` refused the whole study with a bare ``'arch'``; and a stored score of an
accuracy kind outside 0-100 (150, written by hand) was read as a verified best, though a search
fails such a score whichever evaluator returns it (walk 41).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gennas.errors import GennasError, InvalidArchitecture
from gennas.evaluators.base import Result, outside_accuracy
from gennas.search.optuna_module import optuna_module
from gennas.spaces import SearchSpace

#: the attributes gennas writes on every result and claim trial
GENNAS_TRIAL_ATTRS = ("arch", "hash")


def written_by_gennas(trial: Any) -> bool:
    """Whether ``trial`` carries what gennas writes on its trials (else: another writer's, skipped)."""
    return all(key in trial.user_attrs for key in GENNAS_TRIAL_ATTRS)


def trial_result(trial: Any, space: SearchSpace, study_name: str, work: Path | None = None) -> Result:
    """The :class:`Result` a finished gennas ``trial`` (COMPLETE or FAIL) holds. A value of an
    accuracy kind outside 0-100 is a failed result, as a search makes it. ``work``: the study's
    work folder where it is now (:func:`~gennas.search.progress.work_dir`; see :func:`anchored`)."""
    optuna = optuna_module()

    attrs = trial.user_attrs
    try:
        arch = space.from_string(attrs["arch"])
    except (KeyError, InvalidArchitecture) as exc:
        raise GennasError(f"trial {trial.number} of study {study_name!r} is not a gennas result of space "
                          f"{space.name}: {exc}") from None
    failed = trial.state == optuna.trial.TrialState.FAIL
    score = math.nan if failed or trial.value is None else float(trial.value)
    kind = attrs.get("kind", "unknown")
    odd = outside_accuracy(score, kind) if math.isfinite(score) else None
    error = attrs.get("error") if failed else (None if odd is None else f"stored score: {odd}")
    return Result(arch, math.nan if odd else score, kind, fidelity=attrs.get("fidelity", "full"),
                  cost_s=float(attrs.get("cost_s", 0.0)), metadata=anchored(dict(attrs.get("metadata") or {}), work),
                  error=error)


def anchored(metadata: dict[str, Any], work: Path | None) -> dict[str, Any]:
    """``metadata`` whose recorded trained-weights file (``checkpoint``), where it is not there, is
    found in the study's ``work`` folder as it is now: the path is recorded as the search named it,
    relative to the folder it ran in, so from any other folder, or with the storage and its
    ``.work`` folder moved or copied together, exports silently took initial weights (walk 41)."""
    name = metadata.get("checkpoint")
    if work is None or not isinstance(name, str) or not name or Path(name).is_file():
        return metadata
    here = work / Path(name).name
    return {**metadata, "checkpoint": str(here)} if here.is_file() else metadata


def foreign_notes(count: int, study_name: str) -> list[str]:
    """What to say of ``count`` trials another writer added to study ``study_name`` (nothing: none)."""
    if not count:
        return []
    return [f"study {study_name!r} holds {count} finished trial{'s' if count > 1 else ''} not written by gennas "
            "(plain optuna code's: no 'arch' and 'hash' attributes): skipped, as every command skips them"]
