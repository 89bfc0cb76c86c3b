"""Progress of long work: reported from inside an evaluation, shown by the search harness, and
kept on disk (per-study work folders for resumable training).

An evaluator that takes long calls :func:`report` (``stage``, ``done``, ``total``) as it goes:
the epochs and steps of a training, the batches of a supernet pass. Outside a search nobody
listens and the call costs a context-variable lookup. Inside :func:`~gennas.search.run_search`
:class:`SearchProgress` listens:

* on a terminal, a rich bar of verifications whose description shows the best score and the
  stage in progress (``train epoch 2/5 130/400``);
* off a terminal (a pipe, a log file, CI), plain lines on stderr and never bar frames: one when
  the search starts, one for its first verification, its last, and each that finds a new best,
  others at most one per ``interval_s`` (10 s; a 200-verification table search wrote 202 lines
  in 3 s, a 10,000-verification one would fill a CI log), the same for reported stages inside
  an evaluation, and a heartbeat after ``heartbeat_s`` (60 s) of silence from an evaluator that
  reports nothing, so a long run never leaves an empty log.

:func:`work_dir` names the folder where a study's resumable work lives (beside a SQLite file,
else under ``$GENNAS_HOME/work``); :func:`attach_work_dir` hands it to an evaluator that keeps
checkpoints and :func:`release_work` tells it when results are safely stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

from gennas.display import is_terminal

#: a listener: ``(stage, done, total)``; ``total`` None when unknown
Sink = Callable[[str, int, "int | None"], None]

_SINK: ContextVar[Sink | None] = ContextVar("gennas_progress_sink", default=None)

#: seconds between plain progress lines from inside one evaluation
PLAIN_INTERVAL_S = 10.0
#: seconds of silence after which a plain log says the search is still working
HEARTBEAT_S = 60.0


def report(stage: str, done: int, total: int | None = None) -> None:
    """Tell whoever listens (a search's progress display) that ``stage`` is at ``done`` of ``total``.

    Cheap when nobody listens. A listener may raise (for example KeyboardInterrupt) to stop the
    work; the evaluator then behaves as if interrupted."""
    sink = _SINK.get()
    if sink is not None:
        sink(stage, int(done), None if total is None else int(total))


def listening() -> bool:
    """Whether :func:`report` reaches anyone (evaluators then skip a display of their own)."""
    return _SINK.get() is not None


@contextlib.contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Route :func:`report` calls to ``sink`` (None: to nobody) for the duration."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _stage_text(stage: str, done: int, total: int | None) -> str:
    return f"{stage} {done}/{total}" if total else f"{stage} {done}"


class SearchProgress:
    """What a search shows on ``stream`` (default stderr): a rich bar on a terminal, plain lines
    otherwise, nothing when disabled. A context manager; while open it listens to :func:`report`.

    Args:
        enabled: show anything at all.
        total: verifications the search will have done at the end (its budget).
        done: verifications already done (resumed).
        result: an object with ``best`` (a Result or None) and ``failures`` (a list), read for
            the description (the harness's SearchResult).
        stream: where to write; its ``isatty()`` chooses bar or plain lines.
        interval_s / heartbeat_s: see the module docstring (default :data:`PLAIN_INTERVAL_S`,
            :data:`HEARTBEAT_S`).
    """

    def __init__(self, enabled: bool, total: int, done: int, result: Any, stream: TextIO | None = None,
                 interval_s: float | None = None, heartbeat_s: float | None = None) -> None:
        self.enabled, self.total, self.done, self.result = enabled, int(total), int(done), result
        self.stream = stream if stream is not None else sys.stderr
        # the module constants are read now, not at import, so a caller may change them
        self.interval_s = float(PLAIN_INTERVAL_S if interval_s is None else interval_s)
        self.heartbeat_s = float(HEARTBEAT_S if heartbeat_s is None else heartbeat_s)
        self.plain = not is_terminal(self.stream)
        self.stage = ""  # the stage in progress inside the current evaluation
        self._said_best: str | None = None  # the best a "verified" line last said (plain lines)
        self._here = 0  # verifications finished since this search started (a resume's stored ones left out)
        self._bar: Any = None
        self._start = self._last_line = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listen: contextlib.AbstractContextManager[None] | None = None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> SearchProgress:
        if not self.enabled:
            return self
        self._start = time.monotonic()
        if self.plain:
            self._line(f"search started: {self.done}/{self.total} verified")
            self._thread = threading.Thread(target=self._heartbeat, name="gennas-progress", daemon=True)
            self._thread.start()
        else:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("left"),
                                 TimeRemainingColumn(), console=Console(file=self.stream))
            self._bar.__enter__()
            self._task = self._bar.add_task(self._describe(), total=self.total, completed=self.done)
        self._listen = reporting(self.inner)
        self._listen.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._listen is not None:
            self._listen.__exit__(*exc)
            self._listen = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None
        elif self.enabled and self.plain:
            how = "stopped" if exc and exc[0] is not None else "finished"
            self._line(f"search {how}: {self.done}/{self.total} verified, {self._describe()}")

    # ------------------------------------------------------------ updates
    def _describe(self) -> str:
        best = getattr(self.result, "best", None)
        failed = len(getattr(self.result, "failures", []) or [])
        text = f"best {best.score:.4g}" if best is not None else "best -"
        return text + (f", failed {failed}" if failed else "")

    def update(self, n: int) -> None:
        """``n`` more verifications are finished (and stored)."""
        first = self._said_best is None
        self.done += int(n)
        self._here += int(n)
        self.stage = ""
        described = self._describe()
        if self._bar is not None:
            self._bar.update(self._task, advance=n, description=described)
        elif self.enabled and self.plain and (first or self.done >= self.total or described != self._said_best
                                              or time.monotonic() - self._last_line >= self.interval_s):
            self._said_best = described
            self._line(f"verified {self.done}/{self.total}, {described}{self._time_left()}")

    def _time_left(self) -> str:
        """``", about 04:10 left"``: the verifications left at this run's mean seconds per verification
        so far ("" before the first, and at the end); a real training's search showed elapsed time
        only, though each cell's training took a steady 15-24 s (user walk 52)."""
        left = self.total - self.done
        if self._here <= 0 or left <= 0:
            return ""
        seconds = (time.monotonic() - self._start) / self._here * left
        return f", about {_clock(seconds)} left"  # as the lines' elapsed time is written

    def replayed(self, done: int, total: int) -> None:
        """``done`` of a resumed study's ``total`` stored results told to the optimizer (a designer
        refits on each round of them: a 1,002-result study replayed silently for 43 s in a user walk;
        README, "Scale and reliability", "A resumed search replays")."""
        self.stage = "" if done >= total else f"replaying stored results {done}/{total}"
        if self._bar is not None:
            self._bar.update(self._task, description=self._describe() + (f" | {self.stage}" if self.stage else ""))
        elif self.enabled and self.plain and self.stage and time.monotonic() - self._last_line >= self.interval_s:
            self._line(self.stage)

    def inner(self, stage: str, done: int, total: int | None) -> None:
        """A :func:`report` from inside the running evaluation."""
        self.stage = _stage_text(stage, done, total)
        if self._bar is not None:
            self._bar.update(self._task, description=f"{self._describe()} | {self.stage}")
        elif self.enabled and self.plain and time.monotonic() - self._last_line >= self.interval_s:
            self._line(f"verifying {self.done + 1}/{self.total}: {self.stage}")

    def _heartbeat(self) -> None:
        """Plain mode: say something after ``heartbeat_s`` of silence (an evaluator that reports nothing)."""
        while not self._stop.wait(min(self.heartbeat_s, 5.0)):
            if time.monotonic() - self._last_line >= self.heartbeat_s:
                doing = f": {self.stage}" if self.stage else ""
                self._line(f"still verifying {self.done + 1}/{self.total}{doing}")

    def _line(self, text: str) -> None:
        """One plain line with the elapsed time, flushed at once (a log read while it runs is current)."""
        with self._lock:
            self._last_line = time.monotonic()
            try:
                self.stream.write(f"[gennas {_clock(self._last_line - self._start)}] {text}\n")
                self.stream.flush()
            except (OSError, ValueError, AttributeError):  # a closed or broken stream (None: `2>&-`) must not end the search
                pass


# ---------------------------------------------------------------- resumable work on disk
def _slug(name: str) -> str:
    """A folder name for ``name``: its safe characters and a short hash (names may hold anything)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:48].strip("_") or "study"
    return f"{safe}-{hashlib.sha1(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def work_dir(storage_url: str | None, study_name: str) -> Path | None:
    """Where study ``study_name``'s resumable work (training checkpoints) lives.

    Beside a SQLite file ``run.db`` as ``run.db.work/<study>/``; for a server storage under
    ``$GENNAS_HOME/work/<hash of the URL>/<study>/``; None for in-memory storage (it cannot be
    resumed, so nothing is kept) and for a server storage without a home (:class:`~gennas.resources.NoHome`)."""
    if not isinstance(storage_url, str) or storage_url in ("sqlite:///:memory:", "sqlite://"):
        return None
    if storage_url.startswith("sqlite:///"):
        return Path(storage_url[len("sqlite:///"):].split("?")[0] + ".work") / _slug(study_name)
    return _home_work_dir(storage_url, study_name)


def _home_work_dir(storage_url: str, study_name: str) -> Path | None:
    from gennas.resources import home_folder

    work = home_folder("work")
    if storage_url.startswith("sqlite:///"):  # the file's absolute path: every job in its own folder passing
        # `--storage run.db` shared one folder here, trained weights of same-named studies included (user walk 48)
        storage_url = "sqlite:///" + os.path.abspath(storage_url[len("sqlite:///"):].split("?")[0])
    # surrogateescape: a path's undecodable bytes (a Latin-1 folder name) made .encode() fail (user walk 46)
    digest = hashlib.sha1(storage_url.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return None if work is None else work / digest / _slug(study_name)


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be created (or written, if it exists): its nearest existing ancestor is writable."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def attach_work_dir(evaluator: Any, storage_url: str | None, study_name: str) -> Path | None:
    """Give an evaluator that keeps checkpoints (a ``checkpoint_dir`` attribute left None) the
    study's work folder, so an interrupted evaluation resumes with the study. Returns the
    folder given, or None (the evaluator keeps none, chose its own, or the storage is in memory);
    the search sets it back to None when it ends (a second study's run with the same evaluator
    trained into the first study's folder)."""
    if not hasattr(evaluator, "checkpoint_dir") or getattr(evaluator, "checkpoint_dir") is not None:
        return None
    folder = writable_work_dir(storage_url, study_name)
    if folder is not None:
        evaluator.checkpoint_dir = folder
        beside = work_dir(storage_url, study_name)
        if beside is not None and folder != beside:  # the weights went elsewhere without a word (user walk 48)
            import warnings

            from gennas.errors import GennasWarning, caller_stacklevel

            warnings.warn(f"the study's work folder {beside} cannot be written: its trained weights and resumable "
                          f"state go to {folder} (keep it with the storage)", GennasWarning,
                          stacklevel=caller_stacklevel())
    return folder


def work_dirs(storage_url: str | None, study_name: str) -> list[Path]:
    """The folders study ``study_name``'s work may live in, in order of preference: its
    :func:`work_dir`, then the one under ``$GENNAS_HOME`` (for a SQLite file in a folder that
    cannot be written); empty for in-memory storage."""
    folder = work_dir(storage_url, study_name)
    home = None if folder is None else _home_work_dir(str(storage_url), study_name)
    return [f for f in dict.fromkeys([folder, home]) if f is not None]


def writable_work_dir(storage_url: str | None, study_name: str) -> Path | None:
    """The first of :func:`work_dirs` that can be written (None: none can, or in-memory storage;
    a failed checkpoint write must not fail a training that succeeded)."""
    return next((folder for folder in work_dirs(storage_url, study_name) if _writable(folder)), None)


def release_work(evaluator: Any, results: Sequence[Any]) -> None:
    """Tell an evaluator that ``results`` are stored: it may drop their resumable state
    (``evaluator.stored(results)`` where it has one)."""
    stored = getattr(evaluator, "stored", None)
    if callable(stored):
        try:
            stored(results)
        except OSError:
            pass  # a checkpoint that cannot be removed is left behind; the results are stored
