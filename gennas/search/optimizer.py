"""The one protocol every search method implements: ``ask(k)`` and ``tell(results)``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph


@runtime_checkable
class Optimizer(Protocol):
    """Ask/tell optimizer over the architectures of one space.

    ``ask(k)`` proposes up to ``k`` architectures; ``tell(results)`` reports verified results,
    failed ones included (``Result.failed``), possibly of architectures it never asked for
    (a resumed run tells the stored history first).
    """

    def ask(self, k: int) -> list[ArchGraph]: ...

    def tell(self, results: list[Result]) -> None: ...


def check_optimizer(obj: object) -> Optimizer:
    """``obj`` if it has ``ask(k)`` and ``tell(results)``; a GennasError naming what is missing."""
    missing = [m for m in ("ask", "tell") if not callable(getattr(obj, m, None))]
    if missing:
        raise GennasError(f"{type(obj).__name__} is not an optimizer: it needs ask(k) and tell(results) "
                          f"(missing {', '.join(missing)})")
    return obj  # type: ignore[return-value]
