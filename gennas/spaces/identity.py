"""Which spec of a space a stored artefact was made for: a device's timings, a trained checkpoint.

Device files and checkpoints are found by the space's name, and a user who edits a space's YAML
keeps its ``name:``. A device timed on a 3-node cell space of 8 channels went on judging budgets
after ``channels`` became 64: a cell bounded at 0.70 ms took 5.9-6.2 ms;
one with an op added bounded the new op, never timed, at 0.53 ms (0.97-1.31 ms
timed). So each stores the spec it was made for (:func:`spec_record`) and loading compares
(:func:`changes_since`). A generator only learns which slot choices make an architecture, so it
is compared by :func:`structure_record` (a wider network needs no new generator); timings and
predictors by the whole spec but its description.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from gennas.spaces.base import SearchSpace

#: how many differences a message lists
SHOWN = 4


def spec_record(space: SearchSpace) -> dict[str, Any]:
    """The space's spec as stored beside what was made for it: plain JSON values, no description."""
    return json.loads(json.dumps({k: v for k, v in space.spec.items() if k != "description"}, sort_keys=True))


def structure_record(space: SearchSpace) -> dict[str, Any]:
    """What a generator of the space learned to produce: its kind, node and slot vocabularies, slots."""
    return {"kind": space.kind, "node_vocab": list(space.node_vocab), "slot_vocab": list(space.slot_vocab),
            "num_slots": int(space.num_slots)}


def _differences(old: Any, new: Any, where: str) -> list[str]:
    """Dotted paths where two JSON values differ, each with what changed."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in old:
                out.append(f"{path} added")
            elif key not in new:
                out.append(f"{path} removed")
            else:
                out += _differences(old[key], new[key], path)
        return out
    return [] if old == new else [f"{where or 'spec'}: {json.dumps(old)} -> {json.dumps(new)}"]


def changes_since(stored: Any, space: SearchSpace, structure_only: bool = False) -> list[str]:
    """What changed in ``space`` since the ``stored`` record (a :func:`spec_record`, or with
    ``structure_only`` a :func:`structure_record`) was made; empty where nothing did, or nothing
    was stored (a file from before records were kept: it cannot be checked)."""
    if not isinstance(stored, dict):
        return []
    current = structure_record(space) if structure_only else spec_record(space)
    return _differences(stored, current, "")


def describe(changes: list[str]) -> str:
    """The first :data:`SHOWN` changes in one clause."""
    more = f"; {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return "; ".join(changes[:SHOWN]) + more


def space_argument(space: SearchSpace) -> str:
    """How the command line names ``space``: its YAML file (quoted for a shell) when loaded from
    one, else its bundled name: a user space's name alone is unknown to a new process."""
    return shlex.quote(str(space.source)) if space.source is not None else space.name


def made_for(name: str) -> dict[str, Any]:
    """The records of the space named ``name`` as it is now, for a checkpoint's ``meta``
    (``space_spec``, ``space_structure``); empty where no such space is loaded."""
    from gennas.errors import GennasError
    from gennas.spaces.loader import space_by_name

    try:
        space = space_by_name(name)
    except GennasError:
        return {}
    return {"space_spec": spec_record(space), "space_structure": structure_record(space)}


def stale_note(meta: dict[str, Any], name: str, structure_only: bool) -> str | None:
    """Where a checkpoint's ``meta`` records another spec of the space named ``name`` than the one
    loaded now, what changed (``structure_only``: only if the slots or vocabularies did); None
    where it is the same, or the checkpoint recorded none."""
    from gennas.spaces.loader import space_by_name

    space = space_by_name(name)
    if structure_only and not changes_since(meta.get("space_structure"), space, structure_only=True):
        return None
    changes = changes_since(meta.get("space_spec"), space) or changes_since(
        meta.get("space_structure"), space, structure_only=True)
    return describe(changes) if changes else None
