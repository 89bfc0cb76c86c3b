"""A bundled table held out from the predictor, and task names that disagree with it.

To simulate a new dataset, a bundled table is held out: ``Designer("nb201", task="new-cifar100",
predictor=gennas.load_predictor("nb201", holdout="cifar100"))``. Two slips broke that silently:

* the task named after the held-out table itself ("cifar100"): the statements read its range, and
  their upper ends were clipped at its best cell, 73.51 (73.58 / 73.53 with the table deleted). A
  designer now reads nothing of the table its predictor was held out from
  (:func:`holds_out_table`), whatever the task is named, and says so once;
* ``task="new-cifar100"`` with the shipped predictor, trained on cifar100's table: it ranked that
  table's optimum first (what :class:`~gennas.baselines.transfer.TransferTopK` strips the ``new-``
  prefix for). A warning now gives the line that holds the table out.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from gennas.errors import GennasWarning, folded

if TYPE_CHECKING:  # torch: the command line's `--help` imports this module through its error handling
    from gennas.surrogates.task import Task

#: the origin of a shipped predictor trained without one dataset's labels ("shipped-no-cifar100")
HELD_OUT_ORIGIN = "shipped-no-"
#: a task named so stands for that bundled dataset held out (TransferTopK's convention, and synonyms)
NEW_PREFIXES = ("new-", "heldout-", "held-out-", "holdout-")


class HeldOutNaming(GennasWarning):
    """A task name and the predictor disagree about which bundled table is held out."""


def held_out_dataset(predictor: Any) -> str | None:
    """The bundled dataset whose labels ``predictor`` was trained without (a holdout predictor of
    :func:`gennas.load_predictor`), else None."""
    origin = getattr(predictor, "origin", None)
    held_out = isinstance(origin, str) and origin.startswith(HELD_OUT_ORIGIN)
    return origin.removeprefix(HELD_OUT_ORIGIN) if held_out and isinstance(origin, str) else None


def holds_out_table(predictor: Any, task: Task | str | None) -> bool:
    """Whether ``task`` names the bundled table ``predictor`` was held out from: a designer then
    reads nothing of that table (its range, its best cell within a budget)."""
    from gennas.surrogates.task import Task

    name = task.name if isinstance(task, Task) and task.kind == "named" else task
    return isinstance(name, str) and name == held_out_dataset(predictor)


def stands_for(name: str, measured: set[str]) -> str | None:
    """The bundled dataset ``name`` stands for held out ("new-cifar100" -> "cifar100"), else None."""
    for prefix in NEW_PREFIXES:
        if folded(name).startswith(prefix):
            rest = folded(name).removeprefix(prefix)
            return next((d for d in sorted(measured) if folded(d) == rest), None)
    return None


def holdout_naming_problem(name: str, predictor: Any, space: str, measured: set[str]) -> str | None:
    """What is wrong with task ``name`` for ``predictor`` in ``space`` (whose tables measured
    ``measured``), as a warning's text; None where nothing is."""
    held = held_out_dataset(predictor)
    if held is not None and name == held:
        return (f"task {name!r} names the bundled table the predictor was held out from "
                f"(load_predictor({space!r}, holdout={held!r})): the designer treats it as a new dataset and reads "
                "nothing of that table (its range no longer bounds the statements, nor its best cell a latency "
                f"budget's); name it 'new-{held}' to say so (task=, --task), or design with what {held}'s table "
                f"teaches with the shipped predictor (gennas.load_predictor({space!r}); no --holdout)")
    target = stands_for(name, measured)
    if target is None or target not in getattr(predictor, "tasks", []):
        return None
    return (f"task {name!r} reads as {target} held out (a new dataset), but the predictor was trained on "
            f"{target}'s table (it ranks that table's best cells first, and a search starts from them): to hold "
            f"it out, Designer(..., predictor=gennas.load_predictor({space!r}, holdout={target!r})), or "
            f"`gennas design --holdout {shlex.quote(str(target))}`")
