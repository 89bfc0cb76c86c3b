"""optuna, imported the first time on a thread of its own.

optuna keeps the ImportError of each optional backend it lacks (redis) to raise it later, with its
traceback; the traceback's frames lead back through every caller of the first ``import optuna``.
Imported inside a search, that pinned the search's designer, evaluator (the 4 MB table), result
and storage, with 5-12 open file descriptors on its SQLite file, until the process exited (user
walk 44: a test suite's tmp_path databases stayed open, deleted or not). A thread's frames lead
back to nothing of the caller's.
"""

from __future__ import annotations

import importlib
import sys
import threading
from contextlib import suppress
from types import ModuleType


def _import_optuna() -> None:
    with suppress(ImportError):  # reported where the caller imports it
        importlib.import_module("optuna")


def optuna_module() -> ModuleType:
    """The ``optuna`` module (its ImportError where it is not installed)."""
    if "optuna" not in sys.modules:
        importer = threading.Thread(target=_import_optuna, name="gennas-import-optuna", daemon=True)
        importer.start()
        importer.join()
    import optuna

    return optuna
