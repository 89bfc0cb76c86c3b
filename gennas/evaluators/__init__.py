"""Evaluators verify architectures: table lookup, zero-cost proxies, supernet, training.

All follow :class:`Evaluator` (``evaluate(archs) -> list[Result]``); a plain callable
``ArchGraph -> float`` becomes one through :func:`as_evaluator`. Heavy modules load on first
use; ``Supernet`` lives in :mod:`gennas.evaluators.supernet`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gennas._lazy import lazy_exports, own_modules
from gennas.evaluators.base import CallableEvaluator, Evaluator, Result, as_evaluator

if TYPE_CHECKING:  # the lazy names' real types for type checkers (tests/test_typing.py keeps it equal to _LAZY)
    from gennas.errors import TrainingDiverged
    from gennas.evaluators.proxy import ProxyCombination, ProxyEvaluator
    from gennas.evaluators.supernet import Supernet
    from gennas.evaluators.table import TableEvaluator
    from gennas.evaluators.train import TrainEvaluator

_LAZY = {
    "TableEvaluator": "gennas.evaluators.table",
    "TrainEvaluator": "gennas.evaluators.train",
    "TrainingDiverged": "gennas.errors",
    "ProxyEvaluator": "gennas.evaluators.proxy",
    "ProxyCombination": "gennas.evaluators.proxy",
    "Supernet": "gennas.evaluators.supernet",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, own_modules(__path__))


del annotations, TYPE_CHECKING

__all__ = ["CallableEvaluator", "Evaluator", "Result", "as_evaluator", "TableEvaluator", "TrainEvaluator",
           "TrainingDiverged", "ProxyEvaluator", "ProxyCombination", "Supernet"]
