"""Write an architecture out for use elsewhere: its string, a PyTorch program, ONNX.

``export_architecture(arch, folder)`` writes into ``folder``:

* ``arch.txt``: the space's string form (``space.from_string`` reads it back);
* ``weights.pt``: the state dict (``torch.load(..., weights_only=True)``, then
  ``space.build(arch, **build).load_state_dict``): freshly initialised from ``seed`` (0 unless
  given: the same call writes the same weights), or the trained weights passed as ``weights``
  (:func:`export_trained` reads them from a TrainEvaluator checkpoint);
* ``model.pt2``: a ``torch.export`` program with a dynamic batch dimension
  (``torch.export.load(path).module()`` runs it on any batch size, with no gennas installed);
* ``model.onnx``: ONNX with a dynamic batch axis (needs the ``export`` extra: ``onnx``);
* ``build.json``: the space, string, build options, input shape, where the weights came from and
  (freshly initialised) their ``seed``; :func:`record_latency` adds the latency a design was stated
  with and the network it describes (``gennas design --device ... --export``).

Trained weights exist only where the evaluator kept them: ``TrainEvaluator(..., keep_weights=True)``
inside a search keeps each stored result's weights in the file ``Result.metadata["checkpoint"]``
names; :func:`export_result` exports those (and says so when they were not kept).
:func:`study_build` says how a study's evaluator built the networks it trained, so a design it never
verified is exported as the same network (``gennas design --study ... --export``).
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from gennas.atomic_write import torch_save, write_whole
from gennas.checkpoint import json_fallback, load_checkpoint, load_error
from gennas.errors import GennasError, GennasWarning, MissingDependency, caller_stacklevel, install_hint
from gennas.graph import ArchGraph, ArchLike
from gennas.seeds import check_seed
from gennas.seeds import seeded_torch
from gennas.spaces import SearchSpace, resolve_space
from gennas.state_fit import declared_shapes, state_mismatch
from gennas.versions import versions


#: the files an export writes (model.onnx unless onnx=False)
EXPORT_FILES = ("arch.txt", "weights.pt", "model.pt2", "model.onnx", "build.json")


def export_architecture(arch: ArchLike, folder: str | Path, space: SearchSpace | str | None = None,
                        num_classes: int = 10, in_channels: int = 3, input_size: int | None = None,
                        onnx: bool = True, weights: dict[str, torch.Tensor] | None = None,
                        weights_source: str = "fresh initialisation (torch default init)",
                        inputs: dict[str, Any] | None = None, overwrite: bool = False, seed: int | None = 0,
                        **build_options: Any) -> dict[str, Path]:
    """Export one architecture (or a design ``generate`` returned); returns the written paths by
    kind (``arch``, ``weights``, ``program``, ``onnx``, ``build``). ``weights``: a state dict of
    the built network (trained weights) loaded before export; ``weights_source`` says in ``build.json`` where they came from, ``inputs`` how
    the images it was trained on were prepared (:func:`gennas.datasets.input_recipe`). A folder
    that holds an export is refused unless ``overwrite``, which removes its files first (a second
    export over a first rewrote some and left the first's ``model.onnx`` beside the second's
    ``build.json``; ``gennas design --export`` refuses it too).

    ``seed``: the initial weights are drawn from it (a generator of their own; torch's global
    random state is left as it was), so the same call writes the same files; 0 by default, as
    ``gennas design --seed``: a "seed 0" export differed every run (99 of 579 tensors).
    None draws them from torch's global random state (recorded as unseeded)."""
    if num_classes < 2 or in_channels < 1:  # checked before a folder is made (one was left empty)
        raise GennasError(f"num_classes must be at least 2 and in_channels at least 1, got {num_classes}, "
                          f"{in_channels}")
    arch = getattr(arch, "arch", arch)  # a design generate returned (a Candidate): its architecture
    if space is None:
        if not isinstance(arch, ArchGraph):
            raise GennasError(f"pass space= when exporting an architecture string (got {type(arch).__name__})")
        space = arch.space
    sp = resolve_space(space)
    graph = sp.parse(arch)
    side = int(input_size or sp.default_input_size)
    seed = check_seed(seed, "export seed")
    if onnx:
        check_onnx()
    folder = Path(folder)
    # a link counts, dangling ones too (`exists()` is False for them): each file was written through it
    held = [folder / name for name in EXPORT_FILES if os.path.lexists(folder / name)]
    if held and not overwrite:
        raise GennasError(f"{folder} already holds an export ({', '.join(p.name for p in held)}); choose a new or "
                          "empty folder, or pass overwrite=True")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in held:  # nothing of the export before stays beside this one
            path.unlink()
    except OSError as exc:
        raise GennasError(f"cannot create export folder {folder}: {exc}") from None
    try:
        return _write_export(sp, graph, folder, side, num_classes, in_channels, onnx, weights, weights_source, inputs,
                             build_options, seed)
    except OSError as exc:  # a folder that exists but cannot be written (raised FileNotFoundError from deep in)
        raise GennasError(f"cannot write the export to {folder}: {exc.strerror or exc}") from None


def _write_export(sp: SearchSpace, graph: ArchGraph, folder: Path, side: int, num_classes: int, in_channels: int,
                  onnx: bool, weights: dict[str, torch.Tensor] | None, weights_source: str,
                  inputs: dict[str, Any] | None, build_options: dict[str, Any], seed: int | None) -> dict[str, Path]:
    """Build the network and write :data:`EXPORT_FILES` (as :func:`export_architecture` states)."""
    def build() -> torch.nn.Module:
        return sp.build(graph, num_classes=num_classes, in_channels=in_channels, **build_options).eval()

    if seed is None:  # drawn from torch's global random state, as any network built
        model = build()
    else:
        with seeded_torch(seed):  # the CPU generator, restored after: the process draws as before
            model = build()
    if weights is not None:
        try:
            model.load_state_dict(weights)
        except RuntimeError as exc:  # weights of another architecture or build
            raise GennasError(f"the weights do not fit {graph.to_string()}: {load_error(exc)}") from None
    # batch 2, not 1: torch.export specialises a dimension of size 1 to a constant
    example = torch.zeros(2, in_channels, side, side)
    paths = {"arch": folder / "arch.txt", "weights": folder / "weights.pt",
             "program": folder / "model.pt2", "build": folder / "build.json"}
    paths["arch"].write_text(graph.to_string() + "\n")
    torch_save(model.state_dict(), paths["weights"])
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    with open(paths["program"], "wb") as program_file:  # torch's own file writer takes ASCII names only (user walk 46)
        torch.export.save(program, program_file)
    if onnx:
        paths["onnx"] = folder / "model.onnx"
        _export_onnx(model, example, paths["onnx"])
    paths["build"].write_text(json.dumps({
        "space": sp.name, "arch": graph.to_string(), "num_classes": num_classes, "in_channels": in_channels,
        "input_shape": [1, in_channels, side, side], "dynamic_batch": True, "build_options": build_options,
        "weights": weights_source, "trained": weights is not None,
        **({} if weights is not None else {"seed": seed}),
        "inputs": inputs or "not recorded: the inputs the network was (or is to be) trained on",
        # which gennas and torch wrote it; numpy numbers (num_classes=np.int64(10)) as Python's
        **versions()}, indent=2, default=json_fallback) + "\n")
    return paths


def export_trained(checkpoint: str | Path, folder: str | Path, onnx: bool = True, overwrite: bool = False,
                   **options: Any) -> dict[str, Path]:
    """Export the architecture a TrainEvaluator trained, with its trained weights, from its
    ``"trained"`` checkpoint (``Result.metadata["checkpoint"]``): the architecture, classes, input
    shape and build options all come from the checkpoint's config. ``options``
    (``num_classes``, ``in_channels``, ``input_size``, build options, ``inputs``) may only repeat
    them: trained weights fit no other head or build (GennasError naming what differs)."""
    ckpt = load_checkpoint(checkpoint, "trained")
    c = ckpt.config
    try:
        shape, history = list(c["input_shape"]), list(ckpt.state.get("history", []))
        acc = f", validation accuracy {history[-1]['val_acc']:.2f} %" if history else ""
        source = f"trained by TrainEvaluator ({c['epochs']} epoch{'s' * (c['epochs'] != 1)}{acc}), from {Path(checkpoint).name}"
        trained = {"num_classes": int(c["num_classes"]), "in_channels": int(shape[0]), "input_size": int(shape[-1]),
                   **dict(c["build_options"])}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise GennasError(f"{checkpoint} is not a TrainEvaluator checkpoint: missing or bad {exc}") from None
    inputs = options.pop("inputs", None) or ckpt.meta.get("inputs")
    space = options.pop("space", None)  # the trained network's space may be named again
    if space is not None and getattr(space, "name", space) != c["space"]:
        options["space"] = space
    # another input side fits the same weights (the networks pool globally before their head): only
    # what shapes the parameters contradicts them (input_size=64 was refused)
    trained_size = trained.pop("input_size")
    size = options.pop("input_size", trained_size)
    differ = [f"{k}={v!r} (trained: {trained.get(k, 'not given')!r})" for k, v in options.items()
              if k not in trained or trained[k] != v]
    if differ:  # silently ignored, the export had the trained head, not the one asked for
        raise GennasError(f"the trained weights in {checkpoint} fit the network they were trained as; "
                          f"{', '.join(differ)} contradicts them: leave it out to export the trained network, or "
                          "export an untrained one with gennas.export.export_architecture(result.arch, ...)")
    sp = resolve_space(c["space"])  # compared before it is built: 60,000 channels allocated until memory ran out
    builds = {k: v for k, v in trained.items() if k not in ("num_classes", "in_channels")}
    mismatch = state_mismatch(declared_shapes(lambda: sp.build(sp.parse(c["arch"]), num_classes=trained["num_classes"],
                                                               in_channels=trained["in_channels"], **builds)),
                              ckpt.state["model"])
    if mismatch is not None:
        raise GennasError(f"{checkpoint}'s config declares another network than its weights hold ({mismatch})")
    return export_architecture(c["arch"], folder, space=c["space"], onnx=onnx, weights=ckpt.state["model"],
                               weights_source=source, inputs=inputs, overwrite=overwrite, input_size=size, **trained)


class MissingWeights(GennasWarning):
    """A result records a trained-weights file that is not there (its folder moved or was deleted,
    or the evaluator did not keep it): the export is freshly initialised."""


def recorded_checkpoint(result: Any) -> Path | None:
    """The trained-weights file a verified ``Result``'s metadata names, whether or not it is there;
    None where nothing was to be kept: with ``keep_weights`` off, a TrainEvaluator's file is its
    resume state, deleted once a search stored the result (every export of a default stored search
    warned it missing), and used only while it is still there."""
    meta = getattr(result, "metadata", None)
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("checkpoint")
    if not (isinstance(name, str) and name):
        return None
    path = Path(name)
    return None if meta.get("keep_weights") is False and not path.is_file() else path


def trained_checkpoint(result: Any) -> Path | None:
    """The kept trained-weights file of a verified ``Result`` (None: the evaluator kept none).
    A file recorded but not there warns (:class:`MissingWeights`), naming it: the export fell back
    to a fresh network without a word."""
    path = recorded_checkpoint(result)
    if path is not None and not (path.name.startswith("train_") and path.suffix == ".pt"):
        # a study's metadata may name any file (/etc/passwd, another user's weights): only a
        # TrainEvaluator's own file is read
        warnings.warn(f"the trained weights of {getattr(result, 'arch', result)} are recorded at {path}, which is not "
                      "a file a TrainEvaluator writes (train_*.pt): not read; the export is freshly initialised",
                      MissingWeights, stacklevel=caller_stacklevel())
        return None
    if path is None or path.is_file():
        return path
    warnings.warn(f"the trained weights of {getattr(result, 'arch', result)} were recorded at {path}, which is not "
                  "there: its folder moved or was deleted, or the evaluator did not keep them (a TrainEvaluator "
                  "deletes them once stored unless keep_weights=True); the export is freshly initialised. Restore "
                  "the file, or export_trained() it from where it now is", MissingWeights,
                  stacklevel=caller_stacklevel())
    return None


def fresh_build(result: Any) -> dict[str, Any]:
    """The export options a verified ``Result``'s metadata records (a TrainEvaluator's: its classes,
    input channels and side, build options), for a fresh export of the network it verified: one was
    exported for 3x32x32 inputs, 10 classes and the full build."""
    meta = getattr(result, "metadata", None)
    return recorded_build(meta if isinstance(meta, dict) else {})


def recorded_build(record: Mapping[str, Any]) -> dict[str, Any]:
    """The export options a record of a training (a result's metadata, a study's evaluator settings)
    holds: ``in_channels`` and ``input_size`` from ``input_shape`` ``[channels, height, width]``,
    ``num_classes``, and the build options; what it lacks is left out."""
    out: dict[str, Any] = {}
    shape = record.get("input_shape")
    if isinstance(shape, (list, tuple)) and len(shape) == 3 and all(isinstance(n, int) for n in shape):
        out.update(in_channels=shape[0], input_size=shape[-1])
    if isinstance(record.get("num_classes"), int):
        out["num_classes"] = record["num_classes"]
    if isinstance(record.get("build_options"), dict):
        out.update(record["build_options"])
    return out


def export_result(result: Any, folder: str | Path, onnx: bool = True, seed: int | None = 0,
                  **options: Any) -> dict[str, Path]:
    """Export a verified result's architecture with its trained weights where its evaluator kept
    them, else freshly initialised as the result's metadata records it was built (its classes,
    input shape and build options; ``options`` as :func:`export_architecture` add to or replace
    those). ``build.json``'s ``weights`` says which. With trained weights, ``options`` that
    contradict them (another ``num_classes``) are refused, as :func:`export_trained` says: an
    export whose head was not the one asked for, without a word, misleads more than an error.
    ``seed`` draws fresh weights (as :func:`export_architecture`); trained ones need none.

    Raises GennasError for ``result`` None (``SearchResult.best`` when every verification failed)
    or not a Result."""
    if result is None or not hasattr(result, "arch"):
        got = "None (SearchResult.best is None when no verification succeeded)" if result is None else \
            type(result).__name__
        raise GennasError(f"export_result needs a verified Result (e.g. search(...).best), got {got}")
    path = trained_checkpoint(result)
    if path is not None:
        return export_trained(path, folder, onnx=onnx, **options)
    why = ("fresh initialisation: the evaluator kept no trained weights (a TrainEvaluator keeps them "
           "with keep_weights=True inside a stored search, or with a checkpoint_dir)")
    if recorded_checkpoint(result) is not None:
        why = f"fresh initialisation: the trained weights recorded at {recorded_checkpoint(result)} are not there"
    return export_architecture(result.arch, folder, onnx=onnx, weights_source=why, seed=seed,
                               **{**fresh_build(result), **options})


def settings_build(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The export options a study's recorded evaluator settings (:func:`gennas.search.evaluator_settings.
    evaluator_settings`) give, as :func:`fresh_build` reads a result's: {} unless they record the input
    shape ``[channels, height, width]``, without which the network's input is not known."""
    build = recorded_build(settings)
    return build if "in_channels" in build else {}


def recorded_inputs(results: Sequence[Any], settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """How the images of a study's trainings were prepared (:func:`gennas.datasets.input_recipe`):
    the study's recorded ``inputs``, else those a kept trained-weights file of ``results`` records;
    None where neither does."""
    if isinstance(settings.get("inputs"), dict):
        return dict(settings["inputs"])
    for result in results:
        path = recorded_checkpoint(result)
        if path is not None and path.is_file():  # a missing one warns where its weights are exported
            try:
                inputs = load_checkpoint(path, "trained").meta.get("inputs")
            except GennasError:
                continue
            if isinstance(inputs, dict):
                return inputs
    return None


def study_build(results: Sequence[Any], settings: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """How the evaluator of a study built the networks it trained, as :func:`export_architecture`'s
    options (``num_classes``, ``in_channels``, ``input_size``, build options, ``inputs``), so an
    untrained design is exported as the same network as the trained ones beside it: one was
    exported 3x32x32 with the full build beside 1x16x16 small-build ones that took the task's
    images. From the verified ``results``' metadata and the study's ``settings``.
    {} where no result was trained (the space's default build is as good as any); None where
    some were but their build is not known (not recorded, or several differ)."""
    from gennas.search.evaluator_settings import TRAINING_KINDS  # gennas.search imports much: not at load

    trained = [r for r in results if getattr(r, "kind", None) in TRAINING_KINDS]
    if not trained:
        return {}
    builds = [fresh_build(r) for r in trained] + [settings_build(settings or {})]
    known = {json.dumps(b, sort_keys=True): b for b in builds if b}  # the first of each, in its order
    if len(known) != 1:
        return None
    build = next(iter(known.values()))
    inputs = recorded_inputs(trained, settings or {})
    return {**build, **({"inputs": inputs} if inputs is not None else {})}


def trained_weights_of(arch: ArchGraph, results: Sequence[Any]) -> Path | None:
    """The kept trained-weights file of exactly ``arch`` among verified ``results`` (None: none
    kept). Not an equivalent cell's: its graph builds other modules (an op on a dead edge), and
    matched by class the export wrote that other cell, its string and weights, in the design's
    folder."""
    key = arch.to_string()
    return next((path for result in results if result.arch.to_string() == key
                 for path in [trained_checkpoint(result)] if path is not None), None)


def export_candidate(arch: ArchGraph, folder: str | Path, results: Sequence[Any] = (), onnx: bool = True,
                     seed: int | None = 0, **options: Any) -> dict[str, Path]:
    """Export ``arch``; with its trained weights when one of ``results`` verified it and kept them,
    else initialised from ``seed``."""
    trained = trained_weights_of(arch, results)
    if trained is not None:
        return export_trained(trained, folder, onnx=onnx)
    return export_architecture(arch, folder, onnx=onnx, seed=seed, **options)


def record_latency(folder: str | Path, latency: dict[str, Any] | None) -> None:
    """Record in the ``build.json`` of the export in ``folder`` the latency figures a design was
    stated with and the network they describe, as its ``latency`` entry (None: removes one, for an
    export kept by a rerun without a device): under a budget, ``gennas design --export`` wrote the
    study's small build while its table's milliseconds were darts' default build's, and
    ``build.json`` said nothing of latency."""
    path = Path(folder) / "build.json"
    try:
        record = json.loads(path.read_text())
        record.pop("latency", None)
        write_whole(path, json.dumps({**record, **({"latency": latency} if latency else {})}, indent=2) + "\n")
    except (OSError, ValueError) as exc:
        raise GennasError(f"cannot record the latency in {path}: {getattr(exc, 'strerror', None) or exc}") from None


def check_onnx() -> None:
    """Raise MissingDependency (with the install line) unless ONNX export can run: called before
    anything is written, so a missing extra leaves no half-written export behind."""
    try:
        importlib.import_module("onnx")  # torch's exporter needs it; fail with an install hint instead
    except ImportError as exc:
        raise MissingDependency(f"ONNX export needs onnx: {install_hint('export')}") from exc


def _export_onnx(model: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    """ONNX of ``model`` at ``path`` (:func:`check_onnx` was called before anything was written)."""
    # The TorchScript-based exporter handles these static graphs without onnxscript.
    with warnings.catch_warnings():
        # F.pad (DARTS' FactorizedReduce) exports its pads through a Slice of step -1, which the
        # exporter leaves unfolded, warning 12 times per darts network: the model is exact either way
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)
        # args: torch annotates a tuple, and wraps a lone Tensor as one itself
        torch.onnx.export(model, example, str(path), dynamo=False, input_names=["images"],  # type: ignore[arg-type]
                          output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
