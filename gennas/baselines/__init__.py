"""Baseline optimizers, all ask/tell (:class:`gennas.search.Optimizer`), seeded, any space.

``BASELINES`` maps a method name to its class; ``make_baseline(name, space, seed)`` builds one.
"""

from __future__ import annotations

from typing import Any

from gennas.baselines.bananas import Bananas, MLPEnsemble, path_encode
from gennas.baselines.base import BaseOptimizer
from gennas.baselines.proxy import ProxyTopK, ProxyWarmup
from gennas.baselines.simple import LocalSearch, RandomSearch, RegularizedEvolution
from gennas.baselines.tpe import TPESearch
from gennas.baselines.transfer import TransferLocal, TransferTopK
from gennas.errors import GennasError, unknown
from gennas.spaces import RngLike, SearchSpace

BASELINES: dict[str, type[BaseOptimizer]] = {
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
    "local": LocalSearch,
    "tpe": TPESearch,
    "bananas": Bananas,
    "transfer-topk": TransferTopK,
    "transfer-local": TransferLocal,
    "proxy-topk": ProxyTopK,
}


def make_baseline(name: str, space: SearchSpace | str, seed: RngLike = None, **options: Any) -> BaseOptimizer:
    """The baseline ``name`` (a key of BASELINES) over ``space``, seeded."""
    if name not in BASELINES:
        raise GennasError(unknown("baseline", name, list(BASELINES)))
    return BASELINES[name](space, seed, **options)


__all__ = ["BASELINES", "Bananas", "BaseOptimizer", "LocalSearch", "MLPEnsemble", "ProxyTopK", "ProxyWarmup",
           "RandomSearch", "RegularizedEvolution", "TPESearch", "TransferLocal", "TransferTopK", "make_baseline",
           "path_encode"]
