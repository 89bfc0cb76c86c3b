"""Contract suites any optimizer, evaluator, generator or model must pass (as ``optuna.testing``):
import a suite's checks in a test module and call them with your object's factory.

* :mod:`gennas.testing.optimizers`: ``check_optimizer(make, space, evaluator)``, every ask/tell
  optimizer (each baseline and the designer loop).
* :mod:`gennas.testing.evaluators`: ``check_evaluator(evaluator, space)``.
* :mod:`gennas.testing.generators`: ``check_generator(generator)``.
* :mod:`gennas.testing.models`: ``check_accuracy_model(make, space)`` (``predictor=``) and
  ``check_latency_model(model, space, device)`` (``estimator=``).

Each suite's ``check_*`` entry point is also a name of this package (``from gennas.testing import
check_generator``, as the README writes it), its module imported on first use.

The suites are plain functions that raise AssertionError naming the broken property; they do not
import pytest, so the package does not depend on it. They check only what every implementation
promises (no claims about search quality that a random search could fail).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gennas._lazy import lazy_exports
from gennas.errors import InvalidArchitecture
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


def check_new_valid(archs: Sequence[object], space: SearchSpace, what: str, seen: Iterable[str] = ()) -> list[str]:
    """Assert every one of ``archs`` is an architecture of ``space`` (``space.validate``), that no two
    share a canonical hash and that none has a hash in ``seen``; returns their hashes in order."""
    taken = set(seen)
    hashes = []
    for i, arch in enumerate(archs):
        if not isinstance(arch, ArchGraph):
            raise AssertionError(f"{what}: item {i} is a {type(arch).__name__}, not an ArchGraph")
        try:
            space.validate(arch)
        except InvalidArchitecture as exc:
            raise AssertionError(f"{what}: item {i} is not a valid {space.name} architecture ({exc}): {arch}") from exc
        h = arch.canonical_hash()
        if h in taken:
            raise AssertionError(f"{what}: item {i} repeats an architecture seen before: {arch.to_string()}")
        taken.add(h)
        hashes.append(h)
    return hashes


#: each suite's entry point -> its module (loaded on first use: the suites import torch and optuna)
SUITES = {"check_optimizer": "gennas.testing.optimizers", "check_evaluator": "gennas.testing.evaluators",
          "check_generator": "gennas.testing.generators", "check_accuracy_model": "gennas.testing.models",
          "check_latency_model": "gennas.testing.models"}
__getattr__, __dir__ = lazy_exports(__name__, SUITES, ("optimizers", "evaluators", "generators", "models"))
__all__ = ["check_new_valid", *SUITES]
