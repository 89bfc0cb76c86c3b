"""What a predictor a designer search saved under ``$GENNAS_HOME/checkpoints`` records of what it
learned, per task: the results' count, score scale, op-count ranges, score range and
architectures (its manifest's ``metrics.tasks``; :func:`gennas.design.pretrained.remember_predictor`
writes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gennas.checkpoint import find_checkpoint, read_manifest
from gennas.design.scores import ScoreScale
from gennas.design.scratch_statement import CountRanges
from gennas.resources import checkpoints_dir
from gennas.spaces import SearchSpace


def predictor_file(space: SearchSpace) -> str:
    """The file name of ``space``'s predictor, shipped or saved."""
    return f"predictor_{space.name}.pt"


def saved_records(space: SearchSpace) -> dict[str | None, dict[str, Any]]:
    """What the predictor a search saved for ``space`` learned, per task: its manifest's ``tasks``
    (task -> ``verified_results``, ``score_scale``); a manifest from before per-task records gives
    one record for any task (key None). Empty for a shipped predictor or none saved."""
    path = find_checkpoint(predictor_file(space))
    if path is None or path.parent.resolve() == checkpoints_dir().resolve():
        return {}
    return records_of(path)


def saved_tasks(space: SearchSpace) -> list[str]:
    """The tasks the predictor a search saved for ``space`` records having learned; empty for a
    shipped predictor or none saved."""
    return [task for task in saved_records(space) if task is not None]


def records_of(path: Path) -> dict[str | None, dict[str, Any]]:
    """Per task, what the saved predictor at ``path`` learned (see :func:`saved_records`)."""
    metrics = read_manifest(path).get("metrics")
    if not isinstance(metrics, dict):
        return {}
    tasks = metrics.get("tasks")
    if isinstance(tasks, dict):
        return {str(name): record for name, record in tasks.items() if isinstance(record, dict)}
    return {None: metrics}  # one search's record, of whichever task it learned


def saved_record(space: SearchSpace, task: str | None) -> dict[str, Any] | None:
    """The saved predictor's record of ``task`` (None: the only one it holds)."""
    return pick_record(saved_records(space), task)


def pick_record(records: dict[str | None, dict[str, Any]], task: str | None) -> dict[str, Any] | None:
    """``records``' entry for ``task``: its own, else one for any task, else the only one (task None)."""
    if task in records:
        return records[task]
    if None in records:
        return records[None]
    return next(iter(records.values())) if task is None and len(records) == 1 else None


def saved_score_scale(space: SearchSpace, task: str | None = None) -> ScoreScale | None:
    """The score scale the predictor a search saved learned ``task`` on (scores of huge magnitude
    compressed, a loss negated), so a later session maps its predictions back to the evaluator's
    units; None for a shipped predictor, none saved, or a task it holds no record of."""
    return score_scale_of(saved_records(space), task)


def score_scale_of(records: dict[str | None, dict[str, Any]], task: str | None) -> ScoreScale | None:
    """The score scale ``records`` (a saved predictor's, per task) hold for ``task`` (None: none)."""
    record = pick_record(records, task)
    scale = None if record is None else record.get("score_scale")
    if not isinstance(scale, dict):
        return None  # saved before the scale was recorded
    unit = scale.get("unit")
    return ScoreScale(str(scale.get("direction", "maximize")), bool(scale.get("compress", False)),
                      unit if isinstance(unit, str) else None)


def saved_learned_from(space: SearchSpace, task: str | None = None
                       ) -> tuple[CountRanges | None, tuple[float, float] | None, list[str] | None]:
    """What the predictor a search saved for ``space`` records of the results it learned ``task``
    from: their op-count ranges, their lowest and highest score (in the task's units) and their
    distinct architectures (strings); each None for a shipped predictor, none saved, or a record
    without it (saved before it was kept)."""
    record = saved_record(space, task) or {}
    ranges, scores, archs = record.get("op_count_ranges"), record.get("score_range"), record.get("architectures")
    counts = None if not isinstance(ranges, dict) else {
        str(label): [int(span[0]), int(span[1])] for label, span in ranges.items()
        if isinstance(span, list) and len(span) == 2}
    reach = (float(scores[0]), float(scores[1])) if isinstance(scores, list) and len(scores) == 2 else None
    return counts, reach, [str(a) for a in archs] if isinstance(archs, list) else None


def saved_results(space: SearchSpace, task: str | None = None) -> int | None:
    """How many verified results of ``task`` the predictor a search saved for ``space`` was
    trained on; None for a shipped predictor, none saved, or none recorded."""
    record = saved_record(space, task)
    told = None if record is None else record.get("verified_results")
    return told if isinstance(told, int) else None
