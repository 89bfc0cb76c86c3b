"""Error types: every user-facing failure is a :class:`GennasError` with a message that names the problem."""

from __future__ import annotations

import sys
from contextvars import ContextVar
from pathlib import Path

#: the installed package's folder: frames from files under it are gennas's own
PACKAGE = Path(__file__).resolve().parent


#: True while a ``gennas`` command runs (:func:`gennas.cli.output.friendly` sets it): an error's
#: advice then names commands to paste, not Python calls (``estimator=...`` meant nothing there)
ON_COMMAND_LINE: ContextVar[bool] = ContextVar("gennas_on_command_line", default=False)


class GennasError(Exception):
    """Base class of every error gennas raises on purpose."""


class InvalidArchitecture(GennasError, ValueError):
    """An architecture string or graph that is not a member of its search space."""


class UnknownSpace(GennasError, ValueError):
    """A search-space name with no spec file in ``spaces/``."""


class UnknownDataset(GennasError, ValueError):
    """A dataset (task) the benchmark table or predictor does not know."""


class UnknownDevice(GennasError, ValueError):
    """A device name with no latency column or estimator embedding."""


class MissingDependency(GennasError, ImportError):
    """An optional extra (such as DGL) is needed but not installed."""


def install_hint(extra: str) -> str:
    """How to install the optional extra ``extra`` (``pyproject.toml``), from a checkout or a wheel."""
    return f"pip install -e '.[{extra}]' in a gennas checkout (pip install 'gennas[{extra}]' elsewhere)"


class DataError(GennasError, ValueError):
    """A DataLoader that yields nothing, or batches of the wrong shape or type."""


class OtherSpec(GennasError, ValueError):
    """A checkpoint made for another spec of its space than the one loaded (its YAML was edited);
    ``changes`` says what changed (``"macro.channels: 8 -> 16"``), where known."""

    def __init__(self, message: str, changes: str = "") -> None:
        super().__init__(message)
        self.changes = changes


class TrainingDiverged(GennasError):
    """The training loss became NaN or infinite."""


def unknown(kind: str, name: object, known: list[str] | tuple[str, ...]) -> str:
    """Message for an unknown name: what was asked and what exists."""
    return f"unknown {kind} {name!r}; known: {', '.join(sorted(map(str, known))) or 'none'}"


def caller_stacklevel() -> int:
    """``warnings.warn``'s ``stacklevel`` for the first frame outside gennas, from the caller of this
    function: a warning raised deep in a designer (``generate`` -> ``_rank`` -> ``predictions``)
    then points at the user's line, whatever the path to it."""
    frame, level = sys._getframe(1), 1
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
