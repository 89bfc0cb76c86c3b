"""One checkpoint schema for every model gennas saves, and one manifest writer.

A checkpoint file is a plain dict, loadable with ``torch.load(path, weights_only=True)``::

    {"format": "gennas.checkpoint/1", "kind": "predictor" | "latency" | "diffusion" | ...,
     "config": {...JSON-able hyper-parameters...},
     "state": {...tensors, numbers, strings, lists, dicts...},
     "meta": {"space": "nb201", ...what the model needs besides weights...}}

Beside ``<stem>.pt`` lies ``<stem>.json``, the manifest a person reads: kind, space, config, the
data it was trained on, the command that reproduces it, its metrics, and the file's size.
Models own what goes into ``config``/``state``/``meta``; this module owns the envelope, the
checks on load (no pickled objects, the right kind and space, the fields each kind's loader
reads, the manifest's sha256 of the file) and the manifest. Any malformed file raises a
:class:`GennasError` naming the file and what is wrong; a manifest without ``sha256`` (a file a
user wrote by hand) still loads.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from gennas.atomic_write import replaced_on_exit, torch_save, write_whole
from gennas.checkpoint_remedy import remedy, torch_refusal
from gennas.errors import GennasError, OtherSpec
from gennas.plain_load import load_plain

FORMAT = "gennas.checkpoint/1"

#: largest width or count a checkpoint's config may declare: a hand-made file asking for a
#: million-wide layer would otherwise allocate terabytes before anything could be checked
MAX_SIZE = 4096


class _Check:
    """A named predicate on one value of a checkpoint (a schema leaf)."""

    def __init__(self, what: str, ok: Any) -> None:
        self.what, self.ok = what, ok


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


INT = _Check("an integer", _is_int)
SIZE = _Check(f"an integer from 0 to {MAX_SIZE}", lambda v: _is_int(v) and 0 <= v <= MAX_SIZE)
REAL = _Check("a finite number", lambda v: (_is_int(v) or isinstance(v, float)) and math.isfinite(v))
FLAG = _Check("true or false", lambda v: isinstance(v, bool))
TEXT = _Check("a string", lambda v: isinstance(v, str))
def _is_tensor(v: Any) -> bool:
    import torch  # loaded already whenever a checkpoint is checked

    return isinstance(v, torch.Tensor)


TENSOR = _Check("a tensor", _is_tensor)
ANY_TENSOR = _Check("a tensor or none", lambda v: v is None or TENSOR.ok(v))
OPT_TEXT = _Check("a string or none", lambda v: v is None or isinstance(v, str))
ANY_LIST = _Check("a list", lambda v: isinstance(v, list))
ANY_DICT = _Check("a dict", lambda v: isinstance(v, dict))
WEIGHTS = {str: TENSOR}  # a module's state_dict

#: what each kind's loader reads. A dict with ``str`` as its only key maps any name to the spec
#: of its value; other dicts are records whose keys must be present (a key ending in ``?`` may
#: be absent: config fields added later take their defaults); ``[spec]`` is a list of ``spec``,
#: ``[a, b]`` a list of exactly those. Fields not named here are not checked.
SCHEMAS: dict[str, dict[str, Any]] = {
    "predictor": {
        "config": {"hidden?": SIZE, "layers?": SIZE, "dropout?": REAL, "members?": SIZE, "task_dim?": SIZE,
                   "steps?": INT, "lr?": REAL, "weight_decay?": REAL, "batch_size?": INT, "rank_weight?": REAL,
                   "top_weight?": REAL, "update_steps?": INT, "sample_steps?": INT, "augment?": SIZE,
                   "canonical?": FLAG},
        "state": {"members": [WEIGHTS], "desc_mean": TENSOR, "desc_std": TENSOR, "image_scale": ANY_TENSOR},
        "meta": {"seed?": INT, "tasks": [TEXT], "default_task": OPT_TEXT, "scales": {str: [REAL, REAL]}}},
    "latency": {
        "config": {"hidden?": SIZE, "layers?": SIZE, "rank?": SIZE, "k?": SIZE, "ridge?": REAL},
        "state": {"net": WEIGHTS, "devices": {str: {"mu": REAL, "sigma": REAL, "w": TENSOR}}},
        "meta": {"references": [TEXT], "devices": [TEXT]}},
    "diffusion": {"config": {"dim?": SIZE, "layers?": SIZE, "heads?": SIZE, "dropout?": REAL, "steps?": SIZE},
                  "state": WEIGHTS},
    "vae": {"config": {"hidden?": SIZE, "layers?": SIZE, "latent?": SIZE, "beta?": REAL, "direct?": FLAG,
                       "decode_loss?": FLAG},
            "state": WEIGHTS},
    "supernet": {
        "config": {"space": TEXT, "num_classes": SIZE, "in_channels": SIZE, "seed": INT, "build_options": ANY_DICT},
        "state": {"model": WEIGHTS, "epoch": INT, "history": ANY_LIST}},
    "train": {"state": {"model": WEIGHTS, "history": ANY_LIST, "epoch": INT, "optimizer": ANY_DICT,
                        "scheduler": ANY_DICT}},
}


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
    path = Path(path)
    bad = non_finite(checkpoint.state)
    if bad is not None:  # weights a diverged training left: written, they broke every later run
        raise GennasError(f"not writing {path}: {bad} holds NaN or inf (the training that made it diverged)")
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {"format": FORMAT, "kind": checkpoint.kind, "config": dict(checkpoint.config),
            "state": checkpoint.state, "meta": {**_made_for(checkpoint), **checkpoint.meta}}
    manifest = path.with_suffix(".json")
    with replaced_on_exit(path) as tmp:
        torch_save(blob, tmp, path)
        # An existing manifest's checksum is dropped before the file changes and written after, so
        # a crash in between leaves an unchecked manifest, never one that refuses a good file.
        if manifest.is_file():
            _set_checksum(manifest, None)
    if data is not None:
        write_manifest(path, checkpoint.kind, checkpoint.space or "", checkpoint.config, data, metrics or {},
                       command, **extra)
    elif manifest.is_file():
        _set_checksum(manifest, file_sha256(path))
    return path


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (what a manifest's ``sha256`` records)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _set_checksum(manifest: Path, sha256: str | None) -> None:
    """Set (or, with None, remove) the ``sha256`` of an existing manifest; one it cannot parse is left alone."""
    try:
        record = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(record, dict):
        return
    record.pop("sha256", None)
    if sha256 is not None:
        record["sha256"] = sha256
    _write_json(manifest, record)


def _write_json(out: Path, record: dict[str, Any]) -> None:
    """Write a manifest atomically (a crash leaves the old one whole)."""
    write_whole(out, json.dumps(record, indent=2, default=json_fallback) + "\n")


def load_checkpoint(path: str | Path, kind: str, space: str | None = None,
                    map_location: Any = "cpu") -> Checkpoint:
    """Read a checkpoint of ``kind`` (and of ``space`` when given) with weights-only loading.

    Raises:
        GennasError naming the file: missing or empty file; one under ``$GENNAS_HOME/checkpoints``
        without its manifest; bytes that differ from the sha256 in the manifest beside it; a file
        that is not plain weights (a pickle that would run code is refused, never executed; so is
        an archive inflating past its size, :mod:`gennas.plain_load`); another format, kind or
        space; a space that is not a bundled one; a field the kind's loader reads that is missing
        or of the wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise GennasError(f"no {kind} checkpoint at {path}")
    if path.stat().st_size == 0:
        raise GennasError(f"{path} is empty (an interrupted write?); not a {kind} checkpoint")
    if path.parent.resolve() == _home_checkpoints() and not path.with_suffix(".json").is_file():
        # gennas writes a manifest with every file it saves there: without it the bytes cannot be
        # checked, and a saved predictor's score scale and records are lost, so its values were
        # stated in its internal (compressed) scale as the task's scores, without a word
        raise GennasError(f"{path} has no manifest ({path.with_suffix('.json').name}) beside it: it was copied "
                          "without it or its save was cut short, so its bytes cannot be checked nor its scores read "
                          f"in the task's units; restore the manifest, or {remedy(path)}")
    expected = read_manifest(path).get("sha256")
    corrupt = "" if expected is None or expected == file_sha256(path) else (
        f"does not match the sha256 in {path.with_suffix('.json').name}: the file is corrupt or was changed "
        "after its manifest was written")
    try:
        blob = load_plain(path, map_location)
    except Exception as exc:  # the weights-only unpickler refuses anything but plain data
        also = f"; it {corrupt}" if corrupt else ""
        raise GennasError(f"{path} is not a plain gennas checkpoint (refused: {torch_refusal(exc)}){also}; "
                          f"{remedy(path)}") from None
    if corrupt:  # loadable, but not the bytes the manifest describes
        raise GennasError(f"{path} {corrupt}; {remedy(path)}")
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise GennasError(f"{path} is not a gennas checkpoint (no {FORMAT!r} header)")
    missing = [k for k in ("kind", "config", "state", "meta") if k not in blob]
    if missing:
        raise GennasError(f"{path} lacks the checkpoint field(s) {missing}")
    if blob["kind"] != kind:
        raise GennasError(f"{path} holds a {blob['kind']} checkpoint, not a {kind} one")
    if not all(isinstance(blob[k], dict) for k in ("config", "state", "meta")):
        raise GennasError(f"{path}: 'config', 'state' and 'meta' must be dicts")
    meta = blob["meta"]
    if space is not None and meta.get("space") != space:
        raise GennasError(f"{path} is a {kind} checkpoint for space {meta.get('space')!r}, not {space!r}")
    for where, named in (("meta", meta.get("space")), ("config", blob["config"].get("space"))):
        if named is not None:
            _check_space(path, where, named)
    named = meta.get("space") or blob["config"].get("space")
    if isinstance(named, str):
        _check_made_for(path, kind, meta, named)
    for section, spec in SCHEMAS.get(kind, {}).items():
        problem = _mismatch(blob[section], spec, section)
        if problem:
            raise GennasError(f"{path} is not a valid {kind} checkpoint: {problem}")
    bad = non_finite(blob["state"])
    if bad is not None:
        raise GennasError(f"{path} holds NaN or inf weights ({bad}): the training that wrote it diverged; delete it "
                          f"and {path.with_suffix('.json').name} beside it, and train again")
    return Checkpoint(blob["kind"], blob["config"], blob["state"], meta)


def load_error(exc: BaseException) -> str:
    """The first informative line of an error loading weights: torch's state-dict error opens with
    a header ending in ':' ("Error(s) in loading state_dict for SlotDiffusion:") and names the
    mismatch on the next line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return lines[1]
    return lines[0] if lines else type(exc).__name__


#: checkpoint kinds that learned only which slot choices make an architecture: a spec change that
#: leaves the slots and vocabularies alone (wider channels) leaves them valid
STRUCTURAL_KINDS = ("diffusion", "vae")


def _made_for(checkpoint: Checkpoint) -> dict[str, Any]:
    """The spec records of the checkpoint's space (:mod:`gennas.spaces.identity`), for its meta."""
    from gennas.spaces.identity import made_for

    named = checkpoint.meta.get("space") or checkpoint.config.get("space")
    return made_for(named) if isinstance(named, str) else {}


def _check_made_for(path: Path, kind: str, meta: dict[str, Any], name: str) -> None:
    """Refuse a checkpoint made for another spec of space ``name`` than the one loaded (its YAML
    was edited under the same ``name:``), saying what changed and what to do."""
    from gennas.spaces.identity import space_argument, stale_note
    from gennas.spaces.loader import space_by_name

    changed = stale_note(meta, name, kind in STRUCTURAL_KINDS)
    if changed is None:
        return
    where = space_argument(space_by_name(name))
    if kind in STRUCTURAL_KINDS:
        flag = "" if kind == "diffusion" else f" --kind {kind}"
        fix = f"train it again for the space as it is (gennas train --space {where}{flag})"
    elif kind == "predictor":
        fix = (f"it learned scores of the space as it was: move it and {path.with_suffix('.json').name} away (a "
               f"search then trains one afresh: gennas search --space {where} --method designer ...), or restore "
               "the spec")
    else:
        fix = "make it again for the space as it is, or restore the spec"
    raise OtherSpec(f"{path} was made for another spec of space {name!r} ({changed}): {fix}", changed)


def non_finite(value: Any, where: str = "state") -> str | None:
    """Where under ``value`` (nested dicts and lists of tensors and numbers) the first NaN or inf
    is, as a path such as ``state/members/0/head.2.bias``; None where every value is finite."""
    import torch

    if isinstance(value, torch.Tensor):
        return where if value.is_floating_point() and not bool(torch.isfinite(value).all()) else None
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    return next((found for key, item in items if (found := non_finite(item, f"{where}/{key}")) is not None), None)


def _check_space(path: Path, where: str, name: Any) -> None:
    """A space named in a file must be a bundled one or one loaded in this process: found by
    name only (``space_by_name``), never a path that ``load_space`` would follow."""
    from gennas.spaces import known_spaces, space_by_name

    try:
        space_by_name(name)
    except GennasError:
        raise GennasError(f"{path}: {where} names space {name!r}, which is not a bundled space nor one loaded "
                          f"from a file in this process ({', '.join(known_spaces())}); load its YAML first "
                          "with gennas.load_space(PATH)") from None


def _mismatch(value: Any, spec: Any, where: str) -> str | None:
    """What in ``value`` does not follow ``spec`` (see :data:`SCHEMAS`), or None."""
    if isinstance(spec, _Check):
        return None if spec.ok(value) else f"{where} must be {spec.what}, got {_brief(value)}"
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} must be a list, got {_brief(value)}"
        if len(spec) > 1 and len(value) != len(spec):
            return f"{where} must be a list of {len(spec)}, got {len(value)} items"
        items = zip(value, spec) if len(spec) > 1 else ((v, spec[0]) for v in value)
        return next((p for i, (v, sp) in enumerate(items) if (p := _mismatch(v, sp, f"{where}[{i}]"))), None)
    if not isinstance(value, dict):
        return f"{where} must be a dict, got {_brief(value)}"
    if set(spec) == {str}:
        return next((p for k, v in value.items() if (p := _mismatch(k, TEXT, f"a key of {where}") or
                                                     _mismatch(v, spec[str], f"{where}[{k!r}]"))), None)
    for key, sub in spec.items():
        name = key.rstrip("?")
        if name not in value:
            if key.endswith("?"):
                continue
            return f"{where} lacks {name!r}"
        problem = _mismatch(value[name], sub, f"{where}[{name!r}]")
        if problem:
            return problem
    return None


def _brief(value: Any) -> str:
    """A short description of a value for an error message."""
    text = repr(value) if isinstance(value, (int, float, str, type(None))) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def write_manifest(path: str | Path, kind: str, space: str, config: dict[str, Any], data: str,
                   metrics: dict[str, Any], command: str | None = None, **extra: Any) -> Path:
    """Write ``<path without suffix>.json`` beside the checkpoint ``path``; returns the manifest path.

    Args:
        kind / space / config: as in the checkpoint.
        data: what the model was trained on, in words (a person reads this).
        metrics: what was measured on held-out data, with units in the key names.
        command: how to reproduce it (default: this process's command line).
        extra: anything else worth recording (devices, references, ...).

    The manifest records the file's size and sha256 (None while there is no file yet); the
    checksum is checked by :func:`load_checkpoint`.
    """
    path = Path(path)
    exists = path.is_file()
    manifest = {"kind": kind, "space": space, "config": config, "data": data,
                "command": command or reproduce_command(), "metrics": metrics,
                "file": path.name, "bytes": path.stat().st_size if exists else None, **extra,
                "sha256": file_sha256(path) if exists else None}  # checked by load_checkpoint
    out = path.with_suffix(".json")
    _write_json(out, manifest)
    return out


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest beside checkpoint ``path`` (empty when there is none)."""
    manifest = Path(path).with_suffix(".json")
    if not manifest.is_file():
        return {}
    try:
        record = json.loads(manifest.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GennasError(f"{manifest} is not valid JSON: {exc}; {remedy(manifest)}") from None
    except OSError as exc:
        raise GennasError(f"cannot read {manifest}: {exc.strerror or exc}") from None
    if not isinstance(record, dict):
        raise GennasError(f"{manifest} is not a manifest (a JSON object), got {type(record).__name__}")
    return record


def user_checkpoints_dir() -> Path:
    """Where ``gennas train`` and designer searches write checkpoints: ``$GENNAS_HOME/checkpoints``."""
    from gennas.resources import gennas_home

    return gennas_home() / "checkpoints"


def _home_checkpoints() -> Path | None:
    """:func:`user_checkpoints_dir` resolved, None without a home (nothing of it to check)."""
    from gennas.resources import home_folder

    folder = home_folder("checkpoints")
    return None if folder is None else folder.resolve()


def find_checkpoint(filename: str) -> Path | None:
    """``filename`` (``vae_mbv3.pt``) among the shipped checkpoints first, then in
    :func:`user_checkpoints_dir`; None where neither has it."""
    from gennas.resources import checkpoints_dir, home_folder

    for folder in (checkpoints_dir(), home_folder("checkpoints")):
        if folder is not None and (folder / filename).is_file():
            return folder / filename
    return None


def train_hint(space: Any, kind: str = "diffusion", generator: bool = True) -> str:
    """The commands that make a space without shipped checkpoints designable; ``space`` is a
    SearchSpace (one loaded from a YAML file is named by its path, which the commands take) or a
    name. ``generator``: False where a generator exists (shipped or trained): the predictor's only."""
    space = getattr(space, "source", None) or getattr(space, "name", space)
    flag = "" if kind == "diffusion" else f" --kind {kind}"
    search = (f"a search, `gennas search --space {space} --method designer --evaluator proxy:synflow` "
              "(or Designer.tell)")
    if not generator:
        return f"train the predictor with {search}; it is saved under $GENNAS_HOME/checkpoints"
    return (f"train the generator with `gennas train --space {space}{flag}` (minutes on CPU) and the predictor "
            f"with {search}; both are saved under $GENNAS_HOME/checkpoints")


def json_fallback(value: Any) -> Any:
    """JSON fallback: numpy and torch scalars to Python numbers, anything else to its text."""
    return value.item() if hasattr(value, "item") else str(value)
