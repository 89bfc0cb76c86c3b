"""Search methods by name: ``make_optimizer("bananas", space, seed)`` for the CLI and experiments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gennas.errors import GennasError, unknown
from gennas.search.optimizer import Optimizer
from gennas.spaces import SearchSpace, resolve_space

OptimizerFactory = Callable[..., Optimizer]


def _baseline(name: str) -> OptimizerFactory:
    def factory(space: SearchSpace, seed: int | None, task: str | None, device: str | None = None,
                max_latency_ms: float | None = None, latency_confidence: float = 0.95, **_: Any) -> Optimizer:
        from gennas.baselines import make_baseline
        from gennas.search.latency_filter import budget_filter

        # a baseline sees only scores; the transfer ones alone take the task, to leave its labels out of
        # the ranking they transfer
        options = {"task": task} if name.startswith("transfer-") else {}
        optimizer = make_baseline(name, space, seed, **options)
        if max_latency_ms is None:
            return optimizer
        # a budget is kept as the designer keeps it (it was dropped here: 10 of 10 verified over 2 ms)
        return budget_filter(optimizer, space, device, max_latency_ms, latency_confidence)

    factory.__doc__ = f"the {name} baseline"
    return factory


def _designer(space: SearchSpace, seed: int | None, task: str | None, device: str | None = None,
              max_latency_ms: float | None = None, latency_confidence: float = 0.95) -> Optimizer:
    """gennas' designer loop (a :class:`~gennas.design.loop.DesignLoop`) as an ask/tell optimizer."""
    from gennas.design.designer import Designer

    return Designer(space, task=task, device=device, max_latency_ms=max_latency_ms, seed=seed,
                    latency_confidence=latency_confidence).loop


#: method name -> ``factory(space, seed, task, device=None, max_latency_ms=None, latency_confidence=0.95) -> Optimizer``
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "designer": _designer,
    **{name: _baseline(name) for name in ("random", "evolution", "local", "tpe", "bananas", "transfer-topk",
                                                "transfer-local", "proxy-topk")},
}


def make_optimizer(method: str, space: SearchSpace | str, seed: int | None = None, task: str | None = None,
                   device: str | None = None, max_latency_ms: float | None = None,
                   latency_confidence: float = 0.95) -> Optimizer:
    """The optimizer registered as ``method`` in :data:`OPTIMIZERS`."""
    if method not in OPTIMIZERS:
        raise GennasError(unknown("search method", method, list(OPTIMIZERS)))
    return OPTIMIZERS[method](resolve_space(space), seed, task, device=device, max_latency_ms=max_latency_ms,
                              latency_confidence=latency_confidence)
