"""Evaluators verify architectures: table lookup, zero-cost proxies, supernet, training."""

from gennas.evaluators.base import Evaluator, Result, as_evaluator

__all__ = ["Evaluator", "Result", "as_evaluator"]
