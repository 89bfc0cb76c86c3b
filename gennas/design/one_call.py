"""A designer answers one call at a time.

A :class:`~gennas.Designer` shared by two threads (``ask``/``tell`` from two workers, as the README's
parallel workers may) refitted its predictor in both at once: the interpreter died with a
corrupted heap in 6 of 10 runs under ``-X faulthandler`` (both threads inside the predictor's
Adam step), and runs that lived raised a KeyError from the loop's prediction memo and gave the
same architecture to both workers (user walk 44). Each public call now holds the designer's own
re-entrant lock: calls from several threads take turns, and a call made inside another (a search
asking and telling) goes through.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def new_call_lock() -> threading.RLock:
    """The lock :func:`one_call_at_a_time` holds (kept as ``_call_lock``; not pickled: a copy gets its own)."""
    return threading.RLock()


def one_call_at_a_time(method: F) -> F:
    """Run ``method`` holding its object's ``_call_lock``."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._call_lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
