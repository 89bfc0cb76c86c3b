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

The outermost call also runs in gennas's own torch modes (:func:`own_torch_modes`): gradients on
and float32 as the default dtype, whatever the caller's code around it set.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from gennas.errors import GennasError

__all__ = ["check_threads", "own_torch_modes", "threads_chosen", "torch_threads", "with_own_threads",
           "with_own_torch_modes"]

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
            import torch

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
    import torch  # here, not at the top: the command line marks its threads chosen without torch

    if threads is None or threads == torch.get_num_threads():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def own_torch_modes() -> Iterator[None]:
    """Gradients on and float32 as torch's default dtype inside the block, the caller's modes after.
    An AutoML host's ``torch.no_grad()`` or ``inference_mode()`` around its code made a ``tell``'s
    refit a raw RuntimeError after the results were recorded, and its
    ``set_default_dtype(torch.float64)`` built gennas's layers in float64 beside float32 inputs
    (user walk 44). The dtype is process-wide while the block runs, as torch's threads are."""
    import torch

    dtype = torch.get_default_dtype()
    if dtype != torch.float32:
        torch.set_default_dtype(torch.float32)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            yield
    finally:
        if dtype != torch.float32:
            torch.set_default_dtype(dtype)


def with_own_torch_modes(fn: F) -> F:
    """Run ``fn`` in :func:`own_torch_modes` (a constructor: its networks are built there, and built
    in the caller's float64 or inference mode they failed at their first use inside gennas)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with own_torch_modes():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def with_own_threads(method: F) -> F:
    """Run a method under its object's ``threads`` setting (see :func:`torch_threads`) and
    gennas's torch modes (:func:`own_torch_modes`), unless an outer gennas call already chose
    them (then unchanged)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _CHOSEN.get():
            return method(self, *args, **kwargs)
        token = _CHOSEN.set(True)
        try:
            with torch_threads(getattr(self, "threads", None)), own_torch_modes():
                return method(self, *args, **kwargs)
        finally:
            _CHOSEN.reset(token)

    return wrapper  # type: ignore[return-value]
