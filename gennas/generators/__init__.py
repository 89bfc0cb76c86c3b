"""Graph generators (discrete diffusion, graph VAE) that sample ArchGraphs of a space.

``load_generator(space, kind)`` returns a pretrained generator ``<kind>_<space>.pt`` (a
:mod:`gennas.checkpoint` file, with its ``.json`` manifest): the shipped one in ``checkpoints/``
(trained by ``experiments/train_generators.py``) or else one ``gennas train`` wrote under
``$GENNAS_HOME/checkpoints``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from gennas.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    load_error,
    read_manifest,
    train_hint,
    user_checkpoints_dir,
)
from gennas.errors import GennasError, unknown
from gennas.generators.base import SlotGenerator, config_from
from gennas.generators.diffusion import DiffusionConfig, SlotDiffusion
from gennas.generators.vae import GraphVAE, LatentSearch, VAEConfig
from gennas.seeds import seeded_torch
from gennas.spaces import SearchSpace, resolve_space

#: kind -> (class, config class)
GENERATORS: dict[str, tuple[type[SlotGenerator], type]] = {
    "diffusion": (SlotDiffusion, DiffusionConfig),
    "vae": (GraphVAE, VAEConfig),
}


#: (kind, space kind) -> config fields an untrained generator starts from, where the config's defaults
#: fail that kind of space: the shipped mbv3 and darts VAEs' (with the defaults, a GNN pooling a 20-
#: or 28-slot chain, ``gennas train --space mbv3 --kind vae`` reconstructed 32 % of held-out slots,
#: the shipped recipe 97 %: a user walk); the stage rule of a blocks space needs ``decode_loss``
RECIPES: dict[tuple[str, str], dict[str, object]] = {
    ("vae", "blocks"): {"latent": 64, "beta": 0.003, "direct": True, "decode_loss": True},
    ("vae", "darts"): {"latent": 64, "beta": 0.003, "direct": True},
}


def new_generator(space: SearchSpace | str, kind: str = "diffusion", **config: object) -> SlotGenerator:
    """An untrained generator of ``kind`` for ``space``, from :data:`RECIPES`' fields for its kind of
    space where there are some, then ``config``'s (which override them)."""
    if kind not in GENERATORS:
        raise GennasError(unknown("generator kind", kind, list(GENERATORS)))
    cls, config_cls = GENERATORS[kind]
    space = resolve_space(space)
    return cls(space, config_from(config_cls, {**RECIPES.get((kind, space.kind), {}), **config}))


def load_generator(space: SearchSpace | str = "nb201", kind: str = "diffusion",
                   path: str | Path | None = None) -> SlotGenerator:
    """The pretrained generator of ``kind`` (``"diffusion"`` or ``"vae"``) for ``space``: the shipped
    checkpoint first, then the one ``gennas train`` wrote under ``$GENNAS_HOME/checkpoints``.

    ``path`` (a :mod:`gennas.checkpoint` file of this kind and space) overrides the shipped one;
    the manifest beside it, if any, becomes the model's ``manifest``.
    Returned in eval mode; ``.sample(n, seed=..., guidance=...)`` gives ArchGraphs.
    """
    space = resolve_space(space)
    if kind not in GENERATORS:
        raise GennasError(unknown("generator kind", kind, list(GENERATORS)))
    name = f"{kind}_{space.name}.pt"
    pt = Path(path) if path is not None else find_checkpoint(name) or user_checkpoints_dir() / name
    stamp = pt.stat().st_mtime_ns if pt.is_file() else 0  # a rewritten file is loaded afresh
    return _load(str(pt), space, kind, stamp)


@functools.lru_cache(maxsize=8)
def _load(pt: str, space: SearchSpace, kind: str, stamp: int) -> SlotGenerator:
    path, space_name = Path(pt), space.name
    if not path.is_file():
        raise GennasError(f"no {kind} generator for space {space_name!r} (looked for {path.name} in the shipped "
                          f"checkpoints and in {path.parent}); to design in it, {train_hint(space, kind)}")
    ckpt = load_checkpoint(path, kind, space_name)
    from gennas.state_fit import declared_shapes, state_mismatch

    # compared before it is built: a config within each field's bound declared terabytes of weights
    mismatch = state_mismatch(declared_shapes(lambda: new_generator(space, kind, **ckpt.config)), ckpt.state)
    if mismatch is not None:
        raise GennasError(f"{path} does not fit a {kind} generator for {space_name!r} (its config declares other "
                          f"weights than it holds: {mismatch}); {train_hint(space, kind)}")
    # the initial weights, replaced below, are drawn without touching the caller's random stream:
    # a process's first Designer used up draws of the user's seeded torch RNG
    with seeded_torch():
        model = new_generator(space, kind, **ckpt.config)
    try:
        model.load_state_dict(ckpt.state)
    except RuntimeError as exc:  # a wrong shape or a missing tensor
        raise GennasError(f"{path} does not fit a {kind} generator for {space_name!r} ({load_error(exc)}): was the "
                          f"space's spec edited since it was trained? {train_hint(space, kind)}") from None
    model.manifest = read_manifest(path)
    return model.eval()


__all__ = ["GENERATORS", "RECIPES", "DiffusionConfig", "GraphVAE", "SlotDiffusion", "SlotGenerator", "VAEConfig", "LatentSearch",
           "load_generator", "new_generator"]
