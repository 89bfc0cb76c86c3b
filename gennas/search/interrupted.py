"""What an interrupted search keeps, said as it stops (:class:`InterruptedSearch`).

A user interrupted ``designer.search(...)`` in a notebook: the designer's
history and the stored study kept every result, but a bare KeyboardInterrupt said none of it.
The command line says it in its own words (``gennas search``'s interrupted line), so there the
warning is not issued. A SIGTERM (``timeout``, a scheduler) stops a Python search the same way
where nothing else handles it (:func:`stops_on_sigterm`).
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from gennas.errors import ON_COMMAND_LINE, GennasWarning, Terminated, caller_stacklevel, raise_terminated


class InterruptedSearch(GennasWarning):
    """A search was interrupted (Ctrl-C, a notebook's stop): what it keeps and how to go on."""


def interrupted_text(optimizer: Any, storage: Any, url: str | None, study_name: str, held: int,
                     checkpointed: bool = False) -> str:
    """What an interrupted search over ``optimizer`` keeps: ``held`` results, in the study
    ``study_name`` of ``storage`` (``url`` where it has one; None: in memory) and, for the
    designer's loop, in ``designer.history``; with ``checkpointed`` (an evaluator keeping its
    work in the study's folder), the evaluation under way too; and the call that goes on."""
    results = "1 result" if held == 1 else f"{held} results"
    designer = hasattr(optimizer, "adopt_study")  # the designer's loop (as run_search knows it)
    if storage is None:
        if designer:
            return (f"search interrupted: designer.history holds the {results} told (in memory: no storage); "
                    "search again to go on from what it learned (a new budget), or pass storage= to keep a search")
        named = type(getattr(optimizer, "inner", optimizer)).__name__  # a minimising search's wrapper: its inner
        return (f"search interrupted: its study was in memory (no storage), so its results went with it; "
                f"the optimizer ({named}) was told the {results}; pass storage= to keep them")
    where = repr(url) if url else "the same storage"
    call = "designer.search" if designer else "run_search"
    held_too = " (designer.history holds them too)" if designer else ""
    under_way = (" and the evaluation under way its last saved epoch (a training continues from it)"
                 if checkpointed else "")
    return (f"search interrupted: study {study_name!r} keeps the {results} stored{held_too}{under_way}; "
            f"{call}(..., storage={where}, study_name={study_name!r}, resume=True) continues it")


def warn_interrupted(optimizer: Any, storage: Any, url: str | None, study_name: str, held: int,
                     checkpointed: bool = False) -> None:
    """Issue :func:`interrupted_text` as an :class:`InterruptedSearch` at the user's line (not on
    the command line, which says it itself)."""
    if not ON_COMMAND_LINE.get():
        warnings.warn(interrupted_text(optimizer, storage, url, study_name, held, checkpointed), InterruptedSearch,
                      stacklevel=caller_stacklevel())


_F = TypeVar("_F", bound=Callable[..., Any])


def stops_on_sigterm(fn: _F) -> _F:
    """``fn`` (a search) stopped by SIGTERM as by Ctrl-C, where SIGTERM has its default action
    and ``fn`` runs on the main thread: the search stores what it verified, gives back its
    claims and warns :class:`InterruptedSearch`, then the process ends by SIGTERM as it would
    have. A SIGTERM killed a Python ``designer.search`` at once: no message, a claim left RUNNING
    until the next resume failed it (user walk 52). A handler of the host's (or the command
    line's) is left alone."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
            return fn(*args, **kwargs)
        signal.signal(signal.SIGTERM, raise_terminated)
        try:
            return fn(*args, **kwargs)
        except Terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)  # the default's end (exit 143), now that the search stopped cleanly
            raise  # reached only where the signal is blocked
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return wrapper  # type: ignore[return-value]


def time_limit_note(max_seconds: float, verified: int, budget: int) -> str:
    """What a search stopped by its time limit (``max_seconds``, ``--time-limit``) says: how far it
    got, and that a stored study goes on from there."""
    return (f"stopped at the time limit of {max_seconds:g} s with {verified} of {budget} verified: a stored study "
            "goes on with resume=True (gennas search --resume), the verifications under way were finished")
