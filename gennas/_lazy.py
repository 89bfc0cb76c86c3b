"""Lazy package exports: heavy submodules (torch models, optuna) load on first use of a name."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(package: str, names: dict[str, str], submodules: Iterable[str] | dict[str, str] = ()
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``names`` maps an exported name to the module
    defining it; ``submodules`` are reachable as attributes (a dict maps an attribute to the
    module it stands for). A resolved name is cached in the package's namespace, so each is
    imported once."""
    namespace = sys.modules[package].__dict__
    submodules = (dict(submodules) if isinstance(submodules, dict)
                  else {name: f"{package}.{name}" for name in submodules})

    def module_getattr(name: str) -> Any:
        if name in submodules:
            value = importlib.import_module(submodules[name])
        elif name in names:
            value = getattr(importlib.import_module(names[name]), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted(set(namespace) | set(names) | set(submodules))

    return module_getattr, module_dir


def own_modules(path: Iterable[str]) -> list[str]:
    """The public modules of a package whose ``__path__`` is ``path``, for :func:`lazy_exports`'
    ``submodules``: ``gennas.design.pretrained`` after a bare ``import gennas`` (an AttributeError
    until imported by name, though the README names it so)."""
    return [m.name for m in pkgutil.iter_modules(list(path)) if not m.name.startswith("_")]
