"""What a gennas study records of its runs, and what resuming it checks.

A study's user attributes name its space and the spec its results were verified on, and the
settings its results mean something under (:data:`SETTINGS`); a run resuming it with other
settings is refused, naming them, unless forced (the change is then recorded in
:data:`CHANGES_ATTR`), and another task is refused even forced.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gennas.checkpoint import json_fallback
from gennas.errors import GennasError
from gennas.evaluators.base import ACCURACY_KINDS
from gennas.search.evaluator_settings import EVALUATOR_SETTINGS, warn_other_threads
from gennas.spaces import SearchSpace
from gennas.spaces.identity import changes_since, describe, spec_record

if TYPE_CHECKING:
    import optuna

__all__ = ["CHANGES_ATTR", "OPTIONS", "ORIGIN_ATTRS", "RUN_ATTR", "SETTINGS", "SPACE_ATTR", "SPACE_FILE_ATTR",
           "SPEC_ATTR", "START_ATTR", "checked_run", "foreign_study", "jsonable", "record_run"]

#: study user attribute naming the search space; a resumed study must match it
SPACE_ATTR = "gennas_space"
#: study user attribute with the absolute path of a space loaded from a user's YAML file
SPACE_FILE_ATTR = "gennas_space_file"
#: study user attribute with the spec its results were verified on (gennas.spaces.identity)
SPEC_ATTR = "gennas_space_spec"
#: study attribute naming what a designer search started from: "shipped", "saved" (a predictor an
#: earlier search saved in $GENNAS_HOME), "untrained", "given" or "own" (gennas.design.designer)
START_ATTR = "predictor_start"
#: study attributes set by its first run only
ORIGIN_ATTRS = (START_ATTR,)
#: study attributes that give its results their meaning: a resumed run must match them (the CLI's
#: ``limit``, and what run_search reads off the evaluator: epochs, lr, build options, input shape, ...;
#: the batch size, which decides what a seeded search verifies: a resume with another went its own way;
#: a designer's generator, likewise: a VAE study resumed with the diffusion changed 6 of 13 picks unsaid)
SETTINGS = ("method", "task", "evaluator", "data", "seed", "device", "max_latency_ms", "latency_confidence",
            "direction", "limit", "batch_size", "generator") + EVALUATOR_SETTINGS
#: the command-line option of a setting, named where a resume with another value is refused
OPTIONS = {"method": "--method", "seed": "--seed", "batch_size": "--batch-size", "epochs": "--epochs",
           "limit": "--limit"}
#: study attribute listing the settings changed by forced resumes (``{"after", "from", "to"}`` each)
CHANGES_ATTR = "gennas_settings_changes"
#: study attribute with the start time of the latest run that verified something
RUN_ATTR = "gennas_last_run"


def foreign_study(study: optuna.Study, direction: str) -> str | None:
    """What makes ``study`` another tool's: trials or user attributes without :data:`SPACE_ATTR`,
    which every gennas study records as it is made, or, for an empty one another tool made,
    several objectives or the other ``direction`` (optuna's ``best_trial`` then named the worst
    result); None for a gennas study, or an empty one (another gennas process may have just made it)."""
    attrs = study.user_attrs
    if len(study.directions) > 1:
        return f"it optimises {len(study.directions)} objectives, and gennas stores one score per architecture"
    trials = 0 if SPACE_ATTR in attrs else len(study.get_trials(deepcopy=False))
    made = study.direction.name.lower()
    if SPACE_ATTR in attrs or not (trials or attrs or made != direction):
        return None
    held = [f"{trials} trial{'s' * (trials != 1)}"] if trials else []
    held += [f"user attributes {', '.join(sorted(attrs))}"] if attrs else []
    if not held:
        return f"it was made to {made} its values"
    return f"it holds {' and '.join(held)} but none of gennas's ({SPACE_ATTR}, {SPEC_ATTR}, method, seed)"


def jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable (numpy scalars to Python, unknown objects to str)."""
    return json.loads(json.dumps(value, default=json_fallback))


def checked_run(study: optuna.Study, space: SearchSpace, new: dict[str, Any], count: int,
                force: bool, running: int = 0) -> tuple[list[str], list[str]]:
    """What a run with settings ``new`` changes in ``study`` (holding ``count`` results and
    ``running`` verifications in progress, another process's claims): the settings it changes
    and the changes of ``space``'s spec since the results were verified. Raises GennasError where
    it may not go on (another spec or settings without ``force``, another task ever). Work in
    progress counts as results: a job with another task, started while the first job's first
    training ran, took the study over and reported the first job's score as its own (user walk 48)."""
    old = study.user_attrs
    held = count + running
    changed = [k for k in SETTINGS if k in new and k in old and new[k] != old[k]]
    respecified = changes_since(old.get(SPEC_ATTR), space) if held else []
    if respecified and not force:  # scores of networks the YAML no longer describes
        raise GennasError(f"study {study.study_name!r} holds results verified on another spec of space "
                          f"{space.name!r} ({describe(respecified)}); restore the spec, choose another study "
                          "name, or force it (force=True / --force) to go on with them")
    holds = "holds scores of task" if count else f"is verifying ({running} now, another process) for task"
    if held and "task" in changed:  # never forced: the designer would learn two datasets' scores as one task
        raise GennasError(f"study {study.study_name!r} {holds} {old['task']!r}, this run has task "
                          f"{new['task']!r}; force=True / --force never changes a study's task (its scores would "
                          f"mix two datasets): start a new study for task {new['task']!r}")
    if held and "evaluator" in changed and score_unit(old["evaluator"]) != score_unit(new["evaluator"]):
        # never forced either: a forced --evaluator proxy:synflow on a study of trainings stored 8.6e44 beside
        # the accuracies, and the study could no longer be designed from (user walk 48)
        raise GennasError(f"study {study.study_name!r} holds {score_unit(old['evaluator'])}, the evaluator of this run "
                          f"gives {score_unit(new['evaluator'])}; force=True / --force never changes the unit of a "
                          "study's scores: start a new study for it")
    if held and changed and not force:
        run_with = "was run with" if count else f"is being run ({running} verifications now, another process) with"
        raise GennasError(f"study {study.study_name!r} {run_with} {_settings(old, changed)}, this run has "
                          f"{_settings(new, changed)}; resume with the same settings{_options(old, changed)}, "
                          "choose another study name, or force it (force=True / --force) to continue with the "
                          "new settings")
    if count:  # not refused: the same settings on another machine's threads
        warn_other_threads(old, new, study.study_name)
    return changed, respecified


def score_unit(evaluator: Any) -> str:
    """What the scores of the evaluator a study records (its ``evaluator`` setting) are."""
    return "accuracies in %" if evaluator in ACCURACY_KINDS else f"{evaluator} scores"


def record_run(study: optuna.Study, space: SearchSpace, new: dict[str, Any], count: int, changed: list[str],
               respecified: list[str]) -> None:
    """Write a run's settings ``new`` into ``study`` (holding ``count`` results), with its space,
    spec and the ``changed`` settings and ``respecified`` spec that :func:`checked_run` let pass."""
    old = study.user_attrs
    if old.get(SPACE_ATTR) is None:
        study.set_user_attr(SPACE_ATTR, space.name)
    source = getattr(space, "source", None)  # a user's YAML file: found again from the study
    if source is not None and old.get(SPACE_FILE_ATTR) != str(source):
        study.set_user_attr(SPACE_FILE_ATTR, str(source))
    if old.get(SPEC_ATTR) is None or respecified:
        study.set_user_attr(SPEC_ATTR, spec_record(space))
    if count and (changed or respecified):
        history = list(old.get(CHANGES_ATTR) or [])
        history.append({"after": count, "from": {k: old[k] for k in changed},
                        "to": {k: new[k] for k in changed}, **({"spec": respecified} if respecified else {})})
        study.set_user_attr(CHANGES_ATTR, history)
    for key, value in new.items():
        if key in ORIGIN_ATTRS and (key in old or count):  # an older gennas's results: origin unknown
            continue  # what the study began from stays recorded; a resumed run adopts it
        if old.get(key, _MISSING) != value:
            study.set_user_attr(key, value)  # the study records the settings of its latest run


_MISSING = object()


def _settings(values: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{k}={values.get(k)!r}" for k in keys)


def _options(values: dict[str, Any], keys: list[str]) -> str:
    """How to pass the study's ``values`` of ``keys`` again (" (--batch-size 2 / batch_size=2)"),
    for those with a command-line option."""
    named = [f"{OPTIONS[k]} {values[k]} / {k}={values[k]!r}" for k in keys if k in OPTIONS]
    return f" ({', '.join(named)})" if named else ""
