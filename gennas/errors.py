"""Error types: every user-facing failure is a :class:`GennasError` with a message that names the problem."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from pathlib import Path
from types import FrameType

#: the installed package's folder: frames from files under it are gennas's own
PACKAGE = Path(__file__).resolve().parent


#: True while a ``gennas`` command runs (:func:`gennas.cli.output.friendly` sets it): an error's
#: advice then names commands to paste, not Python calls (``estimator=...`` meant nothing there)
ON_COMMAND_LINE: ContextVar[bool] = ContextVar("gennas_on_command_line", default=False)


class GennasError(Exception):
    """Base class of every error gennas raises on purpose."""


class GennasWarning(UserWarning):
    """Base class of every warning gennas issues: ``warnings.filterwarnings("error",
    category=gennas.GennasWarning)`` turns them all into errors (a filter on ``module="gennas"``
    never matches, as each warning points at the caller's line)."""


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


class CannotWrite(GennasError, OSError):
    """A file gennas writes could not be written (a full disk, say). An OSError, so a search whose
    home cannot be written goes on (``PredictorNotRemembered``); one line on the command line.
    Built as ``CannotWrite(errno, reason, filename)``."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}" if self.filename else str(self.strerror)


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


def unknown(kind: str, name: object, known: Sequence[str]) -> str:
    """Message for an unknown name: what was asked and what exists."""
    return f"unknown {kind} {name!r}; known: {', '.join(sorted(map(str, known))) or 'none'}"


#: how alike a name must be to a known one to be asked about: "new-cifar100" (0.80 alike) names a
#: new dataset on purpose
CLOSE_CUTOFF = 0.85


def folded(name: str) -> str:
    """``name`` as slips are compared: lower case, '_' as '-' ("CIFAR_10" and "cifar-10" alike)."""
    return name.lower().replace("_", "-")


def close_name(name: str, names: Iterable[str], cutoff: float = CLOSE_CUTOFF) -> str | None:
    """The one of ``names`` that ``name`` looks like a slip for (difflib on :func:`folded` names, at
    least ``cutoff`` alike; a task's, a device's: "pixel_3", "Walk23CPU"), or None."""
    known = {folded(n): n for n in names}
    close = difflib.get_close_matches(folded(name), list(known), n=1, cutoff=cutoff)
    return known[close[0]] if close else None


def unknown_device(device: str, known: Sequence[str], advice: str) -> str:
    """The error for an unknown ``device`` among ``known``, ``advice`` after it (how to register
    one). A close name comes first, "did you mean 'pixel3'?", and the advice is for a new device
    of that name: "pixel_3" was answered with how to time this machine as 'pixel_3'."""
    close = close_name(device, known)
    if close is None:
        return unknown("device", device, known) + advice
    new = f" (only for a new device named {device!r}: {advice[2:]}" if advice.startswith(" (") else advice
    return f"unknown device {device!r}; did you mean {close!r}? Known: {', '.join(sorted(known))}{new}"


def caller_stacklevel() -> int:
    """``warnings.warn``'s ``stacklevel`` for the first frame outside gennas, from the caller of this
    function: a warning raised deep in a designer (``generate`` -> ``_rank`` -> ``predictions``)
    then points at the user's line, whatever the path to it."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message, without the C++ source line torch puts
    first (``[enforce fail at alloc_cpu.cpp:127] .``), or its type's name where it has none
    (``torch.load`` of an empty file raises an ``EOFError()`` with no text: indexing its lines
    turned a clear error into an ``IndexError`` traceback)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return re.sub(r"^\[enforce fail at [^\]]*\][ .]*", "", lines[0]) or lines[0]


#: the password of a URL's user (``postgresql://user:secret@host/db``)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")


def hide_passwords(text: str) -> str:
    """``text`` with every URL's password written ``***``: a ``--storage`` URL was printed whole in
    error lines, pasted commands, ``--json`` and report titles, which CI logs keep for anyone to read."""
    return _URL_PASSWORD.sub(r"\1***@", text)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the work was, as Ctrl-C's KeyboardInterrupt is: a command exits 143
    (``gennas.cli.output.friendly``), a Python search stops as interrupted and the process then
    ends by the signal (``gennas.search.interrupted.stops_on_sigterm``)."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler raising :class:`Terminated`."""
    raise Terminated()
