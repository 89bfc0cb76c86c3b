"""Finding and loading search spaces.

``load_space(name_or_path)`` takes a bundled name (``spaces/<name>.yaml``) or the path of a
user's ``.yaml``/``.yml`` file; either is checked against the schema
(:mod:`gennas.spaces.schema`) and built by the class its ``kind`` names. A space loaded from a
file is registered under its name (the spec's ``name:`` or the file's stem), so graphs of it
find their space by name (:func:`gennas.graph.register_space_lookup`) and round-trip through
their strings.

Names read from files that gennas writes (a checkpoint's ``space``) go through
:func:`space_by_name`, which never follows a path: only bundled spaces and spaces already
loaded in this process.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from gennas.errors import ON_COMMAND_LINE, GennasError, UnknownSpace, unknown
from gennas.graph import register_space_lookup
from gennas.resources import home_folder, spaces_dir
from gennas.spaces.base import SearchSpace
from gennas.spaces.blocks import BlockSpace
from gennas.spaces.cell import CellSpace
from gennas.spaces.darts import DartsSpace
from gennas.spaces.schema import NAME, NAME_RULE, Map, SpecError, read_spec

#: the ``kind`` value of a YAML spec -> the class that interprets it
SPACE_CLASSES: dict[str, type[SearchSpace]] = {cls.kind: cls for cls in (CellSpace, BlockSpace, DartsSpace)}

#: what a space name may look like: no '/', '.' or '..' that could leave spaces/
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_SUFFIXES = (".yaml", ".yml")

#: spaces loaded from user files in this process: name -> (resolved file, space)
_REGISTERED: dict[str, tuple[Path, SearchSpace]] = {}


def list_spaces() -> list[str]:
    """Names of the bundled spaces (a spec file in ``spaces/``), sorted."""
    return sorted(p.stem for p in spaces_dir().glob("*.yaml"))


def known_spaces() -> list[str]:
    """Bundled spaces and those loaded from a file in this process, sorted."""
    return sorted({*list_spaces(), *_REGISTERED})


def _schema_of(kind: str) -> Map | None:
    cls = SPACE_CLASSES.get(kind)
    return cls.spec_schema.full() if cls else None


def _build(name: str, path: Path) -> SearchSpace:
    """Read, check and build the spec at ``path`` as space ``name``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GennasError(f"cannot read space spec {path}: {exc}") from None
    spec = read_spec(text, str(path), _schema_of, tuple(SPACE_CLASSES))
    if spec.get("name", name) != name:
        raise SpecError(f"space spec {path}: 'name' is {spec['name']!r} but a bundled spec must be named "
                        f"after its file ({name!r})")
    return SPACE_CLASSES[spec["kind"]](name, spec)


def space_by_name(name: str) -> SearchSpace:
    """A bundled space, or one loaded from a file earlier in this process, by name only.

    Never reads a path: this is the lookup for names that come from files (checkpoints,
    stored studies) and for :class:`~gennas.graph.ArchGraph`.
    """
    if isinstance(name, SearchSpace):
        return name
    # Checked before the cache, which would fail on an unhashable name.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnknownSpace(unknown("search space", name, known_spaces()))
    if name in _REGISTERED:
        return _REGISTERED[name][1]
    return _bundled(name)


@functools.lru_cache(maxsize=None)
def _bundled(name: str) -> SearchSpace:
    if name not in list_spaces():
        raise UnknownSpace(unknown("search space", name, known_spaces()))
    return _build(name, spaces_dir() / f"{name}.yaml")


def _looks_like_path(value: object) -> bool:
    return isinstance(value, os.PathLike) or (isinstance(value, str) and value.endswith(_SUFFIXES))


def load_space(name_or_path: str | os.PathLike | SearchSpace) -> SearchSpace:
    """The search space named ``name_or_path`` (bundled, or loaded from a file before), or
    declared by the YAML file at that path (a ``str`` ending in ``.yaml``/``.yml``, or a
    ``pathlib.Path``); a space, or an object holding one as ``.space`` (a
    :class:`~gennas.bench.Benchmark`), is taken as it is. One object per space: loading again
    returns the same object."""
    if isinstance(name_or_path, SearchSpace):  # let callers pass a space where a name is expected
        return name_or_path
    # an object holding one, a Benchmark: "unknown search space Benchmark(...)"
    if isinstance(held := getattr(name_or_path, "space", None), SearchSpace):
        return held
    if _looks_like_path(name_or_path):
        return load_space_file(Path(name_or_path))
    if isinstance(name_or_path, dict):  # it said "unknown search space {'kind': 'cell', ...}"
        raise UnknownSpace("a space is loaded from its YAML file (or a bundled name), not from a dict: write the "
                           "spec to a .yaml file (yaml.safe_dump(spec, open('my_space.yaml', 'w'))) and load that "
                           "(README, \"Search spaces\")")
    if isinstance(name_or_path, str) and ("/" in name_or_path or os.sep in name_or_path):
        raise UnknownSpace(f"unknown search space {name_or_path!r}: a space file's name must end in .yaml or "
                           f".yml; bundled spaces: {', '.join(list_spaces())}")
    try:
        return space_by_name(name_or_path)
    except UnknownSpace as exc:
        if not (isinstance(name_or_path, str) and _NAME.fullmatch(name_or_path)):
            raise
        raise UnknownSpace(f"{exc}{own_space_hint(name_or_path)}") from None


def own_space_hint(name: str) -> str:
    """How to pass a space of one's own named ``name`` (by its YAML file), and whether files for a
    space of that name are in $GENNAS_HOME: `--space w23space` was refused naming the bundled
    spaces only, while $GENNAS_HOME held its predictor and devices."""
    home = home_folder()
    file = f"path/to/{name}.yaml"
    passed = f"--space {file}" if ON_COMMAND_LINE.get() else repr(file)
    try:
        used = home is not None and (any((home / "checkpoints").glob(f"*_{name}.pt")) or (home / "devices" / name).is_dir())
    except OSError:  # an unreadable home: the hint without it
        used = False
    if used:
        return f"; files for a space {name!r} are in $GENNAS_HOME ({home}): pass its YAML file, {passed}"
    return f"; a space of your own is passed by its YAML file, {passed}"


def load_space_file(path: Path) -> SearchSpace:
    """The space declared by the YAML file ``path``, registered under its name (the spec's
    ``name:`` field, else the file's stem)."""
    path = Path(path)
    try:
        exists, is_file = path.exists(), path.is_file()
    except (OSError, ValueError):  # a name the OS refuses (a NUL byte, too long)
        exists = is_file = False
    if path.suffix not in _SUFFIXES or not is_file:
        why = "not a .yaml/.yml file" if exists else "no such file"
        raise UnknownSpace(f"unknown search space {str(path)!r}: {why}; known: {', '.join(known_spaces())}")
    resolved = path.resolve()
    if resolved == (spaces_dir() / f"{path.stem}.yaml").resolve():  # a bundled spec by its path
        return _bundled(path.stem)
    for file, space in _REGISTERED.values():
        if file == resolved:  # the same file again: the same object, unless it was edited since
            return _check_unchanged(space, resolved)
    text_name, from_field = _peek_name(resolved)
    # the message names where the name came from: "(from the file name) ... add a `name:` field"
    # was said of a spec whose `name:` field held the bad name
    where, fix = ("its `name:` field", "change it") if from_field else ("the file name", "add a `name:` field")
    # a `name:` field is checked by the schema's rule, a file name by this one: the message states
    # the rule that applies (a field's 'walk 12' was told '-' is allowed, then 'walk-12' refused)
    rule, said = (NAME, NAME_RULE) if from_field else (_NAME, "letters, digits, '_' and '-', not starting with '-'")
    if not rule.fullmatch(text_name):
        raise SpecError(f"space spec {path}: the space name {text_name!r} (from {where}) is not a valid name "
                        f"({said}): {fix}")
    if text_name in list_spaces():
        raise SpecError(f"space spec {path}: the name {text_name!r} (from {where}) is a bundled space's; "
                        + ("change it" if from_field else "give the file another name or a `name:` field"))
    if text_name in _REGISTERED:
        twin = _REGISTERED[text_name][1]
        if _build(text_name, resolved).spec == twin.spec:  # a copy of the same spec: the same space
            return twin
        raise SpecError(f"space spec {path}: a different space named {text_name!r} was already loaded "
                        f"from {_REGISTERED[text_name][0]}; give one of them another `name:`")
    space = _build(text_name, resolved)
    space.source = resolved
    _REGISTERED[text_name] = (resolved, space)
    return space


def _peek_name(path: Path) -> tuple[str, bool]:
    """The space name a file declares (``name:``), else its stem, and whether it came from the
    field; the full check comes after."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path.stem, False  # _build reports the problem with its line
    name = data.get("name") if isinstance(data, dict) else None
    return (name, True) if isinstance(name, str) else (path.stem, False)


def _check_unchanged(space: SearchSpace, path: Path) -> SearchSpace:
    fresh = _build(space.name, path)
    if fresh.spec != space.spec:
        raise SpecError(f"space spec {path} changed since space {space.name!r} was loaded from it in this "
                        "process; give it another `name:` or restart")
    return space


def resolve_space(space: SearchSpace | str | os.PathLike) -> SearchSpace:
    """A SearchSpace from a space, its name or its YAML file."""
    return load_space(space)


register_space_lookup(space_by_name)  # graphs find their space by name through this
