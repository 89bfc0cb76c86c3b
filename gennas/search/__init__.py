"""Search: the ask/tell :class:`Optimizer` protocol, the harness that verifies and stores
(:func:`run_search`), the method registry and the latency filter that wraps any optimizer."""

from gennas._lazy import lazy_exports, own_modules
from gennas.search.harness import MAX_STALE_ASKS, SearchResult, run_search
from gennas.search.latency_filter import MAX_FILTER_PROPOSALS, LatencyFilter
from gennas.search.optimizer import Optimizer, check_optimizer
from gennas.search.registry import OPTIMIZERS, make_optimizer, method_names, register_method

__getattr__, __dir__ = lazy_exports(__name__, {}, own_modules(__path__))  # gennas.search.storage, ...

__all__ = ["MAX_FILTER_PROPOSALS", "MAX_STALE_ASKS", "OPTIMIZERS", "LatencyFilter", "Optimizer", "SearchResult",
           "check_optimizer", "make_optimizer", "method_names", "register_method", "run_search"]
