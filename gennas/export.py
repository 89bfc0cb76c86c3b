"""Write an architecture out for use elsewhere: its string, a PyTorch program, ONNX.

``export_architecture(arch, folder)`` writes into ``folder``:

* ``arch.txt``: the space's string form (``space.from_string`` reads it back);
* ``weights.pt``: the freshly initialised state dict (``torch.load(..., weights_only=True)``,
  then ``space.build(arch, **build).load_state_dict``);
* ``model.pt2``: a ``torch.export`` program (``torch.export.load(path).module()`` runs it with
  no gennas installed);
* ``model.onnx``: ONNX with a dynamic batch axis (needs the ``export`` extra: ``onnx``);
* ``build.json``: the space, string, build options and input shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from gennas.errors import GennasError, MissingDependency
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space


def export_architecture(arch: ArchGraph | str, folder: str | Path, space: SearchSpace | str | None = None,
                        num_classes: int = 10, in_channels: int = 3, input_size: int | None = None,
                        onnx: bool = True, **build_options: Any) -> dict[str, Path]:
    """Export one architecture; returns the written paths by kind (``arch``, ``weights``, ``program``, ``onnx``, ``build``)."""
    if space is None:
        if not isinstance(arch, ArchGraph):
            raise GennasError("pass space= when exporting an architecture string")
        space = arch.space
    sp = resolve_space(space)
    graph = sp.parse(arch)
    side = int(input_size or sp.default_input_size)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GennasError(f"cannot create export folder {folder}: {exc}") from None
    model = sp.build(graph, num_classes=num_classes, in_channels=in_channels, **build_options).eval()
    example = torch.zeros(1, in_channels, side, side)
    paths = {"arch": folder / "arch.txt", "weights": folder / "weights.pt",
             "program": folder / "model.pt2", "build": folder / "build.json"}
    paths["arch"].write_text(graph.to_string() + "\n")
    torch.save(model.state_dict(), paths["weights"])
    torch.export.save(torch.export.export(model, (example,)), paths["program"])
    if onnx:
        paths["onnx"] = folder / "model.onnx"
        _export_onnx(model, example, paths["onnx"])
    paths["build"].write_text(json.dumps({
        "space": sp.name, "arch": graph.to_string(), "num_classes": num_classes, "in_channels": in_channels,
        "input_shape": [1, in_channels, side, side], "build_options": build_options}, indent=2) + "\n")
    return paths


def _export_onnx(model: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    try:
        import onnx  # noqa: F401 - torch's exporter needs it; fail with an install hint instead
    except ImportError as exc:
        raise MissingDependency("ONNX export needs onnx: pip install 'gennas[export]'") from exc
    # The TorchScript-based exporter handles these static graphs without onnxscript.
    torch.onnx.export(model, example, str(path), dynamo=False, input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
