"""How many CPU threads torch uses while gennas works.

gennas's networks are small: two intra-op threads on a shared machine wait on each other (a
search next to a busy core cost twice the CPU with two threads: ``python
experiments/thread_contention.py``, docs/results.md "A busy CPU slows a search by half, not tenfold"), so
the CLI runs with one (``--threads``), and a :class:`~gennas.Designer` and a
:class:`~gennas.Predictor` work with ``threads=1`` unless told otherwise, restoring the caller's
setting afterwards.

The outermost choice holds: a gennas object called by another one (the designer's predictor) or
under the command line's ``--threads`` (:func:`threads_chosen`) leaves the setting as it finds it,
so ``Designer(..., threads=4)`` also fits its predictor with 4.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import torch

from gennas.errors import GennasError

__all__ = ["check_threads", "threads_chosen", "torch_threads", "with_own_threads"]

F = TypeVar("F", bound=Callable[..., Any])

#: True inside a call whose threads an outer gennas call (or the command line) already chose
_CHOSEN: ContextVar[bool] = ContextVar("gennas_threads_chosen", default=False)


def threads_chosen(restore: int | None = None) -> Callable[[], None]:
    """Mark the threads torch uses now as chosen in this context: gennas objects called
    afterwards keep them (the command line's ``--threads``). Returns the call that undoes it and
    sets torch's threads back to ``restore`` (the count before they were chosen; None: left), which
    the command line's context runs on close, so an in-process caller is left as it was: its torch
    kept the command's ``--threads 1`` after ``CliRunner().invoke(app, ...)``."""
    token = _CHOSEN.set(True)

    def undo() -> None:
        _CHOSEN.reset(token)
        if restore is not None:
            torch.set_num_threads(restore)
    return undo


def check_threads(threads: Any) -> int | None:
    """``threads`` as a positive int, or None (leave torch's setting); else a GennasError."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise GennasError(f"threads must be a positive integer or None (torch's own setting), got {threads!r}")
    return int(threads)  # numpy's integers too


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op CPU threads set to ``threads`` inside the block (None: unchanged), restored after."""
    if threads is None or threads == torch.get_num_threads():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def with_own_threads(method: F) -> F:
    """Run a method under its object's ``threads`` setting (see :func:`torch_threads`), unless
    an outer gennas call already chose them (then unchanged)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _CHOSEN.get():
            return method(self, *args, **kwargs)
        token = _CHOSEN.set(True)
        try:
            with torch_threads(getattr(self, "threads", None)):
                return method(self, *args, **kwargs)
        finally:
            _CHOSEN.reset(token)

    return wrapper  # type: ignore[return-value]
