"""What an interrupted search keeps, said as it stops (:class:`InterruptedSearch`).

A user interrupted ``designer.search(...)`` in a notebook: the designer's
history and the stored study kept every result, but a bare KeyboardInterrupt said none of it.
The command line says it in its own words (``gennas search``'s interrupted line), so there the
warning is not issued.
"""

from __future__ import annotations

import warnings
from typing import Any

from gennas.errors import ON_COMMAND_LINE, GennasWarning, caller_stacklevel


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
