"""One checkpoint schema for every model gennas saves, and one manifest writer.

A checkpoint file is a plain dict, loadable with ``torch.load(path, weights_only=True)``::

    {"format": "gennas.checkpoint/1", "kind": "predictor" | "latency" | "diffusion" | ...,
     "config": {...JSON-able hyper-parameters...},
     "state": {...tensors, numbers, strings, lists, dicts...},
     "meta": {"space": "nb201", ...what the model needs besides weights...}}

Beside ``<stem>.pt`` lies ``<stem>.json``, the manifest a person reads: kind, space, config, the
data it was trained on, the command that reproduces it, its metrics, and the file's size.
Models own what goes into ``config``/``state``/``meta``; this module owns the envelope, the
checks on load (no pickled objects, the right kind and space) and the manifest.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from gennas.errors import GennasError

FORMAT = "gennas.checkpoint/1"


@dataclass
class Checkpoint:
    """The contents of one checkpoint file (see the module docstring)."""

    kind: str
    config: dict[str, Any]
    state: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def space(self) -> str | None:
        return self.meta.get("space")


def reproduce_command(script: str | None = None, args: Sequence[str] | None = None) -> str:
    """The shell command that reproduces what this process is doing: ``python <script> <args>``
    (by default this process's own ``sys.argv``), quoted so it can be pasted."""
    argv = [script, *(args or [])] if script is not None else list(sys.argv)
    if argv and argv[0].endswith(".py"):
        # an experiments/ script: name it from the project root, as the README does
        parts = Path(argv[0]).parts
        argv[0] = "/".join(parts[parts.index("experiments"):]) if "experiments" in parts else argv[0]
    return "python " + " ".join(shlex.quote(str(a)) for a in argv)


def config_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as the JSON-able dict stored in ``Checkpoint.config``."""
    return asdict(config)


def config_from_dict(cls: type, values: dict[str, Any], source: str | Path = "checkpoint") -> Any:
    """The dataclass ``cls`` from ``Checkpoint.config`` (keys it lacks are ignored: a field added
    later keeps its default; a field removed later is dropped). A bad value names ``source``."""
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in values.items() if k in names})
    except (TypeError, ValueError) as exc:
        raise GennasError(f"{source}: bad {cls.__name__} in the checkpoint: {exc}") from None


def save_checkpoint(path: str | Path, checkpoint: Checkpoint, data: str | None = None,
                    metrics: dict[str, Any] | None = None, command: str | None = None, **extra: Any) -> Path:
    """Write ``checkpoint`` to ``path`` (``.pt``) atomically: a crash leaves the old file whole.

    With ``data`` (what it was trained on), also write its manifest (see :func:`write_manifest`).
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {"format": FORMAT, "kind": checkpoint.kind, "config": dict(checkpoint.config),
            "state": checkpoint.state, "meta": dict(checkpoint.meta)}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)
    if data is not None:
        write_manifest(path, checkpoint.kind, checkpoint.space or "", checkpoint.config, data, metrics or {},
                       command, **extra)
    return path


def load_checkpoint(path: str | Path, kind: str, space: str | None = None,
                    map_location: Any = "cpu") -> Checkpoint:
    """Read a checkpoint of ``kind`` (and of ``space`` when given) with weights-only loading.

    Raises:
        GennasError: missing file; a file that is not plain weights (a pickle that would run
            code is refused, never executed); another format, kind or space.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise GennasError(f"no {kind} checkpoint at {path}")
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # the weights-only unpickler refuses anything but plain data
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GennasError(f"{path} is not a plain gennas checkpoint (refused: {reason})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise GennasError(f"{path} is not a gennas checkpoint (no {FORMAT!r} header)")
    missing = [k for k in ("kind", "config", "state", "meta") if k not in blob]
    if missing:
        raise GennasError(f"{path} lacks the checkpoint field(s) {missing}")
    if blob["kind"] != kind:
        raise GennasError(f"{path} holds a {blob['kind']} checkpoint, not a {kind} one")
    meta = blob["meta"] if isinstance(blob["meta"], dict) else {}
    if space is not None and meta.get("space") != space:
        raise GennasError(f"{path} is a {kind} checkpoint for space {meta.get('space')!r}, not {space!r}")
    if not isinstance(blob["config"], dict) or not isinstance(blob["state"], dict):
        raise GennasError(f"{path}: 'config' and 'state' must be dicts")
    return Checkpoint(blob["kind"], blob["config"], blob["state"], meta)


def write_manifest(path: str | Path, kind: str, space: str, config: dict[str, Any], data: str,
                   metrics: dict[str, Any], command: str | None = None, **extra: Any) -> Path:
    """Write ``<path without suffix>.json`` beside the checkpoint ``path``; returns the manifest path.

    Args:
        kind / space / config: as in the checkpoint.
        data: what the model was trained on, in words (a person reads this).
        metrics: what was measured on held-out data, with units in the key names.
        command: how to reproduce it (default: this process's command line).
        extra: anything else worth recording (devices, references, ...).
    """
    path = Path(path)
    manifest = {"kind": kind, "space": space, "config": config, "data": data,
                "command": command or reproduce_command(), "metrics": metrics,
                "file": path.name, "bytes": path.stat().st_size if path.is_file() else None, **extra}
    out = path.with_suffix(".json")
    out.write_text(json.dumps(manifest, indent=2, default=_plain) + "\n")
    return out


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest beside checkpoint ``path`` (empty when there is none)."""
    manifest = Path(path).with_suffix(".json")
    if not manifest.is_file():
        return {}
    try:
        return json.loads(manifest.read_text())
    except json.JSONDecodeError as exc:
        raise GennasError(f"{manifest} is not valid JSON: {exc}") from None


def _plain(value: Any) -> Any:
    """JSON fallback: numpy and torch scalars to Python numbers, anything else to its text."""
    return value.item() if hasattr(value, "item") else str(value)
