"""Graph generators (discrete diffusion, graph VAE) that sample ArchGraphs of a space.

``load_generator(space, kind)`` returns a pretrained generator from ``checkpoints/``
(``<kind>_<space>.pt`` with its ``.json`` manifest), trained by ``experiments/train_generators.py``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import torch

from gennas.errors import GennasError, unknown
from gennas.generators.base import SlotGenerator, config_from
from gennas.generators.diffusion import DiffusionConfig, SlotDiffusion
from gennas.generators.vae import GraphVAE, LatentSearch, VAEConfig
from gennas.resources import checkpoints_dir
from gennas.spaces import SearchSpace, resolve_space

#: kind -> (class, config class)
GENERATORS: dict[str, tuple[type[SlotGenerator], type]] = {
    "diffusion": (SlotDiffusion, DiffusionConfig),
    "vae": (GraphVAE, VAEConfig),
}


def new_generator(space: SearchSpace | str, kind: str = "diffusion", **config: object) -> SlotGenerator:
    """An untrained generator of ``kind`` for ``space``; ``config`` overrides its config fields."""
    if kind not in GENERATORS:
        raise GennasError(unknown("generator kind", kind, list(GENERATORS)))
    cls, config_cls = GENERATORS[kind]
    return cls(resolve_space(space), config_from(config_cls, config))


def load_generator(space: SearchSpace | str = "nb201", kind: str = "diffusion",
                   path: str | Path | None = None) -> SlotGenerator:
    """The pretrained generator of ``kind`` (``"diffusion"`` or ``"vae"``) for ``space``.

    ``path`` (a ``.pt`` file with a ``.json`` manifest beside it) overrides the shipped one.
    Returned in eval mode; ``.sample(n, seed=..., guidance=...)`` gives ArchGraphs.
    """
    space = resolve_space(space)
    if kind not in GENERATORS:
        raise GennasError(unknown("generator kind", kind, list(GENERATORS)))
    pt = Path(path) if path is not None else checkpoints_dir() / f"{kind}_{space.name}.pt"
    stamp = pt.stat().st_mtime_ns if pt.is_file() else 0  # a rewritten file is loaded afresh
    return _load(str(pt), space.name, kind, stamp)


@functools.lru_cache(maxsize=8)
def _load(pt: str, space_name: str, kind: str, stamp: int) -> SlotGenerator:
    path = Path(pt)
    manifest_path = path.with_suffix(".json")
    if not path.is_file() or not manifest_path.is_file():
        raise GennasError(
            f"no {kind} generator checkpoint for space {space_name!r} at {path}: train one with "
            f"`python experiments/train_generators.py --space {space_name} --kind {kind}`")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") != kind or manifest.get("space") != space_name:
        raise GennasError(f"{manifest_path} holds a {manifest.get('kind')} generator for "
                          f"{manifest.get('space')!r}, not a {kind} one for {space_name!r}")
    model = new_generator(space_name, kind, **manifest.get("config", {}))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # a pickle payload, a wrong shape, a truncated file: all refused
        raise GennasError(f"cannot load generator checkpoint {path}: {exc}") from None
    model.manifest = manifest
    return model.eval()


__all__ = ["GENERATORS", "DiffusionConfig", "GraphVAE", "SlotDiffusion", "SlotGenerator", "VAEConfig", "LatentSearch",
           "load_generator", "new_generator"]
