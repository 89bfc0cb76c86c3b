"""Evaluators verify architectures: table lookup, zero-cost proxies, supernet, training.

All follow :class:`Evaluator` (``evaluate(archs) -> list[Result]``); a plain callable
``ArchGraph -> float`` becomes one through :func:`as_evaluator`. Heavy modules load on first
use; ``Supernet`` lives in :mod:`gennas.evaluators.supernet`.
"""

from __future__ import annotations

import importlib
from typing import Any

from gennas.evaluators.base import CallableEvaluator, Evaluator, Result, as_evaluator

_LAZY = {
    "TableEvaluator": "gennas.evaluators.table",
    "TrainEvaluator": "gennas.evaluators.train",
    "TrainingDiverged": "gennas.errors",
    "ProxyEvaluator": "gennas.evaluators.proxies",
    "ProxyCombination": "gennas.evaluators.proxies",
    "Supernet": "gennas.evaluators.supernet",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gennas.evaluators' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["CallableEvaluator", "Evaluator", "Result", "as_evaluator", *_LAZY]
