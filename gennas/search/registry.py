"""Search methods by name: ``make_optimizer("bananas", space, seed)`` for the CLI and experiments.

A method of one's own joins them with :func:`register_method` (in Python), or, for ``gennas search
--method``, through the entry-point group :data:`METHOD_ENTRY_POINTS` of an installed package::

    [project.entry-points."gennas.methods"]
    mine = "my_package.search:make_mine"   # make_mine(space, seed, task) -> an ask/tell Optimizer
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from gennas.errors import GennasError, unknown
from gennas.search.optimizer import MADE_BY, Optimizer, check_optimizer
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
#: the methods gennas ships: never replaced by a registered one
SHIPPED = frozenset(OPTIMIZERS)


#: entry-point group of installed packages' search methods: name -> ``factory(space, seed, task)``
METHOD_ENTRY_POINTS = "gennas.methods"


def register_method(name: str, factory: Callable[..., Optimizer], *, replace: bool = False) -> None:
    """Make ``factory(space, seed, task) -> Optimizer`` the search method ``name`` of
    :func:`make_optimizer` (and so of experiments that take method names). A latency budget is
    kept for it as for the baselines: its proposals over the budget are never verified.

    Raises GennasError: ``name`` is taken (unless ``replace``; the shipped methods never), or
    ``factory`` is not callable."""
    if not isinstance(name, str) or not name.strip():
        raise GennasError(f"a search method's name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise GennasError(f"search method {name!r}: the factory must be callable "
                          f"(space, seed, task) -> Optimizer, got {type(factory).__name__}")
    if name in SHIPPED or (name in OPTIMIZERS and not replace):
        taken = "a shipped method" if name in SHIPPED else "registered already (replace=True replaces it)"
        raise GennasError(f"search method {name!r} is {taken}; choose another name")
    OPTIMIZERS[name] = _own(name, factory)


def method_names() -> list[str]:
    """Every method :func:`make_optimizer` knows: the shipped, the registered and the installed
    packages' (:data:`METHOD_ENTRY_POINTS`, not loaded to name them)."""
    return list(OPTIMIZERS) + sorted(set(_installed()) - set(OPTIMIZERS))


def make_optimizer(method: str, space: SearchSpace | str, seed: int | None = None, task: str | None = None,
                   device: str | None = None, max_latency_ms: float | None = None,
                   latency_confidence: float = 0.95) -> Optimizer:
    """The optimizer of the method named ``method`` (see :func:`method_names`)."""
    if method not in OPTIMIZERS:
        installed = _installed()
        if method not in installed:
            raise GennasError(unknown("search method", method, method_names()))
        OPTIMIZERS[method] = _own(method, _loaded(installed[method]))
    return OPTIMIZERS[method](resolve_space(space), seed, task, device=device, max_latency_ms=max_latency_ms,
                              latency_confidence=latency_confidence)


def _own(name: str, factory: Callable[..., Optimizer]) -> OptimizerFactory:
    """``factory(space, seed, task)`` as an :data:`OPTIMIZERS` entry: its optimizer checked as
    the search checks one, and a latency budget kept by filtering its proposals."""
    def made(space: SearchSpace, seed: int | None, task: str | None, device: str | None = None,
             max_latency_ms: float | None = None, latency_confidence: float = 0.95, **_: Any) -> Optimizer:
        from gennas.search.latency_filter import budget_filter

        try:
            optimizer = factory(space, seed, task)
        except GennasError:
            raise
        except Exception as error:  # the user's code: say whose, keep its traceback chained
            raise GennasError(f"search method {name!r} ({_where(factory)}) failed to make its optimizer: "
                              f"{type(error).__name__}: {error}") from error
        optimizer = check_optimizer(optimizer)
        with contextlib.suppress(TypeError):  # recorded as its method's name, as the CLI records it
            MADE_BY[optimizer] = name
        if max_latency_ms is None:
            return optimizer
        return budget_filter(optimizer, space, device, max_latency_ms, latency_confidence)

    made.__doc__ = f"search method {name!r}: {_where(factory)}"
    return made


def _installed() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=METHOD_ENTRY_POINTS)}


def _loaded(point: EntryPoint) -> Callable[..., Optimizer]:
    try:
        return point.load()  # type: ignore[no-any-return]
    except Exception as error:  # an installed package's import failed: name it, not a traceback from inside
        package = point.dist.name if point.dist is not None else "its package"
        raise GennasError(f"search method {point.name!r} of {package} ({point.value}) failed to load: "
                          f"{type(error).__name__}: {error}") from error


def _where(factory: Callable[..., Any]) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', type(factory).__name__)}"
