"""Whether a checkpoint's weights fit the network its config declares, found before that network is
built: built on torch's ``meta`` device, which allocates nothing.

A weights-only file (no code) whose config was within each field's bound declared a network of
terabytes (a generator of dim 4096 and 4096 layers; a "trained" checkpoint's build of 60,000
channels), which was built, allocating until memory ran out, before its weights were compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch


def declared_shapes(build: Callable[[], torch.nn.Module]) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of the network ``build()`` makes, made on the meta device."""
    with torch.device("meta"), torch.random.fork_rng(devices=[]):
        return {key: tuple(value.shape) for key, value in build().state_dict().items()}


def state_mismatch(declared: Mapping[str, tuple[int, ...]], held: Mapping[str, Any]) -> str | None:
    """What differs between the ``declared`` shapes and the tensors ``held`` (None: they fit)."""
    missing = [key for key in declared if key not in held]
    unexpected = [key for key in held if key not in declared]
    shapes = [f"{key} {tuple(held[key].shape)} where {declared[key]} is declared" for key in declared
              if key in held and isinstance(held[key], torch.Tensor) and tuple(held[key].shape) != declared[key]]
    said = [f"missing {', '.join(missing[:3])}" if missing else "", f"unexpected {', '.join(unexpected[:3])}"
            if unexpected else "", "; ".join(shapes[:2])]
    return "; ".join(part for part in said if part) or None
