"""Stored searches read back as :class:`StudyRun` objects (a study's name, settings and results), for
``gennas report`` and :meth:`gennas.search.SearchResult.plot` (:mod:`gennas.report` draws them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gennas.errors import GennasError, unknown
from gennas.evaluators.base import Result
from gennas.search.optuna_module import optuna_module
from gennas.spaces import SearchSpace, load_space


@dataclass
class StudyRun:
    """One stored search: its name, settings (study user attributes), results in verification order."""

    name: str
    space: SearchSpace
    attrs: dict[str, Any]
    results: list[Result]
    direction: str = "maximize"
    notes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return str(self.attrs.get("method") or self.name)

    @property
    def budget_ms(self) -> float | None:
        value = self.attrs.get("max_latency_ms")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def device(self) -> str | None:
        value = self.attrs.get("device")
        return str(value) if value else None



def load_runs(storage: Any, studies: Sequence[str] | None = None) -> list[StudyRun]:
    """The gennas studies in ``storage`` (all of them, or those named), read without writing.

    Raises GennasError for a storage that cannot be opened, a study it does not hold, a named
    study that no gennas search wrote or that cannot be read, or no gennas study it can read."""
    from gennas.search.backends import open_storage, storage_errors

    backend = open_storage(storage, existing=True)
    with storage_errors(backend, "read"):  # a database optuna cannot read: one line, not its internals
        return _read_runs(backend, storage, studies)


def _read_runs(backend: Any, storage: Any, studies: Sequence[str] | None) -> list[StudyRun]:
    """:func:`load_runs` of an opened ``backend``. Unless named, a gennas study it cannot read (another
    tool's trials in it, its YAML gone) is skipped, and one note names it: one such study made the
    report fail for every study."""
    optuna = optuna_module()

    from gennas.search.backends import quiet_optuna
    from gennas.search.storage import ResultStore
    from gennas.search.study_record import SPACE_ATTR
    from gennas.search.stored_trials import foreign_notes
    from gennas.search.studies import study_space

    where = storage_url(backend, storage)
    names = [s.study_name for s in backend.get_all_studies()]
    wanted = list(studies) if studies else names
    if not wanted:
        raise GennasError(f"storage {where} holds no studies")
    runs, unread = [], []
    for name in wanted:
        if name not in names:
            raise GennasError(unknown("study", name, names or ["none"]))
        with quiet_optuna():
            study = optuna.load_study(study_name=name, storage=backend)
        attrs = dict(study.user_attrs)
        if attrs.get(SPACE_ATTR) is None:
            if studies:
                raise GennasError(f"study {name!r} was not written by a gennas search (no {SPACE_ATTR} attribute)")
            continue  # a foreign study in a shared storage: not ours to plot
        try:
            space = study_space(attrs, name)
            store = ResultStore(study, space, backend)  # reads only
            results = store.results()
        except GennasError as exc:
            if studies:
                raise
            unread.append(f"{name!r} ({exc})")
            continue
        direction = "minimize" if study.direction == optuna.study.StudyDirection.MINIMIZE else "maximize"
        runs.append(StudyRun(name, space, attrs, results, direction))
        runs[-1].notes += foreign_notes(store.foreign_count, name)
        if store.set_aside_count:
            runs[-1].notes.append(f"{name}: {store.set_aside_count} failures set aside (the evaluator failed alike "
                                  "whatever the architecture): not counted as results of their architectures")
    if not runs:
        cannot = f" it can read; skipped: {'; '.join(unread)}" if unread else ""
        raise GennasError(f"storage {where} holds no gennas study{cannot}")
    if unread:  # said once, with the report's notes
        runs[0].notes.append(f"skipped {len(unread)} stud{'y' if len(unread) == 1 else 'ies'} that cannot be read "
                             f"as gennas results: {'; '.join(unread)}")
    return runs


def storage_url(backend: Any, storage: Any) -> str:
    """How a message names a storage: its URL, else what the user gave as text, else its kind
    (the repr of an optuna storage object said nothing)."""
    url = getattr(backend, "url", None)
    if isinstance(url, str):
        return url
    return storage if isinstance(storage, str) else type(backend).__name__


def run_of(result: Any) -> StudyRun:
    """A :class:`StudyRun` of a finished :class:`~gennas.search.SearchResult` (settings from its study)."""
    store = getattr(result, "store", None)
    attrs = dict(store.study.user_attrs) if store is not None else {}
    history = list(result.history)
    if store is not None:
        space = store.space
    elif history:
        space = load_space(history[0].arch.space)
    else:
        raise GennasError("the search verified nothing: there is nothing to plot")
    return StudyRun(result.study_name or "search", space, attrs, history, result.direction)
