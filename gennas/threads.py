"""How many CPU threads torch uses while gennas works.

gennas's networks are small: two intra-op threads on a shared machine wait on each other (a
search next to a busy core cost twice the CPU with two threads: ``python
experiments/thread_contention.py``, README "A busy CPU slows a search by half, not tenfold"), so
the CLI runs with one (``--threads``) and a :class:`~gennas.Designer` works with ``threads=1``
unless told otherwise, restoring the caller's setting afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from gennas.errors import GennasError

__all__ = ["check_threads", "torch_threads", "with_own_threads"]

F = TypeVar("F", bound=Callable[..., Any])


def check_threads(threads: Any) -> int | None:
    """``threads`` as a positive int, or None (leave torch's setting); else a GennasError."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise GennasError(f"threads must be a positive integer or None (torch's own setting), got {threads!r}")
    return threads


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
    """Run a method under its object's ``threads`` setting (see :func:`torch_threads`)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with torch_threads(getattr(self, "threads", None)):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
