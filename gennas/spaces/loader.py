"""Finding and loading search spaces: ``load_space(name)`` reads ``spaces/<name>.yaml`` and
builds the class its ``kind`` names."""

from __future__ import annotations

import functools
import re

import yaml

from gennas.errors import GennasError, UnknownSpace, unknown
from gennas.graph import register_space_lookup
from gennas.resources import spaces_dir
from gennas.spaces.base import SearchSpace
from gennas.spaces.blocks import BlockSpace
from gennas.spaces.cell import CellSpace

#: the ``kind`` value of a YAML spec -> the class that interprets it
SPACE_CLASSES: dict[str, type[SearchSpace]] = {cls.kind: cls for cls in (CellSpace, BlockSpace)}

#: what a space name may look like: no '/', '.' or '..' that could leave spaces/
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def list_spaces() -> list[str]:
    """Names of the spaces with a spec file, sorted."""
    return sorted(p.stem for p in spaces_dir().glob("*.yaml"))


def load_space(name: str) -> SearchSpace:
    """The search space declared by ``spaces/<name>.yaml`` (cached: one object per name)."""
    if isinstance(name, SearchSpace):  # let callers pass a space where a name is expected
        return name
    # Only the bundled names: a name from a file (a checkpoint's 'space') must never reach
    # another folder through '../' or an absolute path. Checked before the cache, which
    # would fail on an unhashable name.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnknownSpace(unknown("search space", name, list_spaces()))
    return _cached_space(name)


@functools.lru_cache(maxsize=None)
def _cached_space(name: str) -> SearchSpace:
    if name not in list_spaces():
        raise UnknownSpace(unknown("search space", name, list_spaces()))
    path = spaces_dir() / f"{name}.yaml"
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise GennasError(f"space spec {path} is not valid YAML: {exc}") from None
    kind = spec.get("kind") if isinstance(spec, dict) else None
    classes = SPACE_CLASSES
    if kind not in classes:
        raise GennasError(f"space spec {path}: 'kind' must be one of {sorted(classes)}, got {kind!r}")
    return classes[kind](name, spec)


def resolve_space(space: SearchSpace | str) -> SearchSpace:
    """A SearchSpace from a space or its name."""
    return space if isinstance(space, SearchSpace) else load_space(space)


register_space_lookup(load_space)  # graphs find their space by name through this
