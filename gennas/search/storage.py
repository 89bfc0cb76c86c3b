"""Result storage: every verified architecture is one optuna trial.

A search writes each :class:`~gennas.evaluators.base.Result` the moment it is verified, as a
trial of an optuna study: a COMPLETE trial with the score as its value, or a FAIL trial with
the error. The slot choices are the trial's categorical parameters (so ``optuna-dashboard``
can plot them); the architecture string, space, canonical hash, kind, fidelity, cost and
metadata are user attributes. One ``add_trial`` is one database transaction, so a crash or
Ctrl-C between two verifications loses nothing and leaves no half-written trial.

Storage is an optuna storage URL (``sqlite:///run.db``, ``postgresql://...``), a bare path
ending in ``.db`` (taken as SQLite), an optuna storage object, or ``None`` (in memory).

A study records the settings its results mean something under (:mod:`gennas.search.study_record`: method, task,
evaluator, seed, device, latency budget, ...); resuming with other settings is refused, naming
the difference, unless forced (the change is then recorded); another task is refused even forced.
A verified result that cannot be written (the database became read-only, the disk is full) is
not lost: it goes to a journal file (``<db>.journal.jsonl`` beside a SQLite file, else
``$GENNAS_HOME/journals/``) and is stored when the study is next opened.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gennas.atomic_write import write_whole, writers_lock
from gennas.errors import GennasError, GennasWarning, caller_stacklevel, hide_passwords
from gennas.evaluators.base import Result
from gennas.resources import home_folder
from gennas.search.backends import (failure_reason, local_owner, open_storage, process_alive, quiet_optuna,
                                    storage_errors)
from gennas.search.optuna_module import optuna_module
from gennas.search.progress import work_dir
from gennas.search.stored_trials import trial_result, written_by_gennas
from gennas.search.study_record import RUN_ATTR, SPACE_ATTR, checked_run, foreign_study, jsonable, record_run
from gennas.spaces import SearchSpace, resolve_space

if TYPE_CHECKING:
    import optuna

#: trial attribute of a result stored from the journal (so a replay never stores it twice)
JOURNAL_ID = "journal_id"
#: seconds a journal's writer waits for another's (a replay stores a study's results meanwhile): a
#: replay rewrote the journal from what it had read before storing, and a result another worker
#: appended meanwhile was lost
JOURNAL_LOCK_S = 60.0
#: trial attribute of a claim (:mod:`gennas.search.claims`): a claim is never a result
CLAIM_ATTR = "gennas_claim"
#: study attribute listing the numbers of failed trials set aside: their evaluator failed alike
#: whatever the architecture (:mod:`gennas.search.blind_stop`), so they are not results of their
#: architectures; a resume verifies those again and they no longer count against the budget
SET_ASIDE_ATTR = "gennas_set_aside"


class NewStudyOnResume(GennasWarning):
    """``resume`` named a study the storage does not hold: a new one is started (a typo?)."""


class ResultStore:
    """The verified results of one search, kept in one optuna study.

    Attributes:
        study: the optuna study (direction as the search's).
        space: the search space of every stored architecture.
    """

    def __init__(self, study: optuna.Study, space: SearchSpace, backend: Any = None) -> None:
        self.study = study
        self.space = space
        self.backend = backend
        self._set_aside = set(study.user_attrs.get(SET_ASIDE_ATTR) or ())  # written by this process only
        optuna = optuna_module()

        vocab = list(space.slot_vocab)
        # One categorical parameter per slot: the same distributions for every trial.
        self._distributions = {f"slot_{i}": optuna.distributions.CategoricalDistribution(vocab)
                               for i in range(space.num_slots)}

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, space: SearchSpace | str, storage: Any = None, study_name: str | None = None,
             resume: bool = False, attrs: dict[str, Any] | None = None, direction: str = "maximize",
             force: bool = False, read_only: bool = False) -> ResultStore:
        """Open (or create) the study ``study_name`` in ``storage``.

        Results waiting in the storage's journal (verified but not written by an earlier run) are
        stored first.

        Args:
            space: search space of the architectures.
            storage: see the module docstring.
            study_name: None creates a fresh study with a generated name; with ``resume`` and
                exactly one study in the storage, that study is used.
            resume: allow a study that already holds trials (their results are reloaded).
            attrs: study user attributes (method, task, seed, ...), JSON-serialisable; they
                replace the recorded ones (those in :data:`SETTINGS` must match when resuming).
            direction: the study's optimisation direction (``"maximize"`` or ``"minimize"``).
            force: resume even when ``attrs`` changes a setting (never the task), or the space's spec
                changed since the results were verified (the change is recorded).
            read_only: check, but record nothing of this run in the study (a designer rebuilt
                from it: ``gennas design --study`` wrote the space's spec of now into a study an
                older gennas made, as if its results were verified on it).

        Raises:
            GennasError: storage cannot be opened or written; the study has trials but ``resume``
                is off; the study belongs to another space or was run with other settings
                (without ``force``); the study name is ambiguous.
        """
        optuna = optuna_module()

        space = resolve_space(space)
        backend = open_storage(storage)
        with storage_errors(backend, "open a study in"):
            names = [s.study_name for s in backend.get_all_studies()]
            if study_name is None and resume:
                if len(names) > 1:
                    raise GennasError(f"storage holds {len(names)} studies; name the one to resume: {', '.join(names)}")
                study_name = names[0] if names else None
            elif resume and study_name is not None and study_name not in names:
                # processes sharing a study may all start it with resume; a mistyped name must not
                # spend a whole budget unnoticed
                held = f"it holds {', '.join(repr(n) for n in names)}" if names else "it holds no study"
                warnings.warn(f"resume: the storage has no study {study_name!r} ({held}); starting it new",
                              NewStudyOnResume, stacklevel=caller_stacklevel())
            with quiet_optuna():
                if study_name is not None and study_name in names:
                    study = optuna.load_study(study_name=study_name, storage=backend)  # reading needs no write
                else:
                    study = optuna.create_study(storage=backend, study_name=study_name, direction=direction,
                                                load_if_exists=True)
            stored_space = study.user_attrs.get(SPACE_ATTR)
            foreign = foreign_study(study, direction)
        if foreign is not None:  # a shared storage: our trials mixed into it broke `gennas report`
            raise GennasError(f"study {study.study_name!r} in {getattr(backend, 'url', 'the storage')} is not a gennas "
                              f"study: {foreign}; gennas stores results only in its own studies: choose another "
                              "study name")
        if stored_space is not None and stored_space != space.name:
            raise GennasError(f"study {study.study_name!r} holds {stored_space} architectures, not {space.name}")
        store = cls(study, space, backend)
        with storage_errors(backend, "read"):
            store.replay_journal()
            count = len(store)
        if count and not resume:
            raise GennasError(f"study {study.study_name!r} already holds {count} result{'s' * (count != 1)}; "
                              "resume it (resume=True / --resume) or choose another study name")
        new = {key: jsonable(value) for key, value in (attrs or {}).items()}
        changed, respecified = checked_run(study, space, new, count, force, store.claims_in_progress())
        if not read_only:
            with storage_errors(backend, "write to"):
                record_run(study, space, new, count, changed, respecified)
        return store

    def check_writable(self) -> None:
        """Write to the study once (the time of this run, in :data:`RUN_ATTR`), so a storage that
        became read-only fails now, before anything is verified; raises GennasError naming it.
        (Writing an unchanged value would not do: the database is not even asked.)"""
        with storage_errors(self.backend, "write to"):
            self.study.set_user_attr(RUN_ATTR, datetime.now(timezone.utc).isoformat())

    # ------------------------------------------------------------ writing
    def add(self, result: Result) -> None:
        """Store one result now, as a COMPLETE trial (score) or a FAIL trial (error).

        Raises GennasError when the storage refuses it; the result is then kept in the journal."""
        self.add_many([result])

    def add_many(self, results: Sequence[Result]) -> None:
        """Store results one by one (one transaction each). If the storage refuses one, it and
        the rest go to the journal (stored when the study is next opened) and a GennasError says
        where they are: a verified result is never lost."""
        for i, result in enumerate(results):
            trial = self._trial(result)
            try:
                self.study.add_trial(trial)
            except Exception as exc:  # optuna and sqlalchemy raise many types; all mean "not stored"
                kept = self._keep(results[i:])
                n = len(results) - i
                raise GennasError(f"could not store {n} verified result{'s' if n > 1 else ''} in study "
                                  f"{self.study_name!r} ({failure_reason(exc)}); {kept}") from None

    def _trial(self, result: Result, journal_id: str | None = None) -> Any:
        optuna = optuna_module()

        attrs = {"arch": self.space.to_string(result.arch), "space": self.space.name,
                 "hash": result.arch.canonical_hash(), "kind": result.kind, "fidelity": result.fidelity,
                 "cost_s": float(result.cost_s), "metadata": jsonable(result.metadata), "error": result.error}
        if journal_id is not None:
            attrs[JOURNAL_ID] = journal_id
        params = self.params(result.arch)
        if result.failed:
            attrs["error"] = result.error or f"score {result.score}"
            return optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=params,
                                             distributions=self._distributions, user_attrs=attrs)
        return optuna.trial.create_trial(value=float(result.score), params=params,
                                         distributions=self._distributions, user_attrs=attrs)

    def params(self, arch: Any) -> dict[str, str]:
        """The trial parameters of ``arch``: one categorical per slot (see :attr:`distributions`)."""
        return {f"slot_{i}": op for i, op in enumerate(self.space.choices(arch))}

    # ------------------------------------------------------------ journal
    def journal_paths(self) -> list[Path]:
        """Where this storage's unstored results wait, preferred first (none for in-memory storage)."""
        url = getattr(self.backend, "url", None)
        if not isinstance(url, str):
            return []
        journals = home_folder("journals")  # None without a home: only the one beside a SQLite file
        fallback = [] if journals is None else [journals / f"{hashlib.sha1(url.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}.jsonl"]
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return [Path(url[len("sqlite:///"):].split("?")[0] + ".journal.jsonl"), *fallback]
        return fallback

    def _keep(self, results: Sequence[Result]) -> str:
        """Append ``results`` to the journal; says where (or, with nowhere to write, what they were)."""
        lines = "".join(json.dumps(self._record(r)) + "\n" for r in results)
        for path in self.journal_paths():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # O_NOFOLLOW: a link planted at the journal's name had the lines appended to its target
                # (POSIX only: Windows has none, and its AttributeError lost the results, user walk 46)
                with writers_lock(path, JOURNAL_LOCK_S), os.fdopen(os.open(
                        path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644), "a") as fh:
                    fh.write(lines)
                return f"kept in {path}; stored when the study is next opened (--resume)"
            except OSError:  # filelock's Timeout too
                continue
        lost = "; ".join(f"{self.space.to_string(r.arch)} = {r.score}" for r in results)
        return f"no journal could be written either; the results were: {lost}"

    def _record(self, result: Result) -> dict[str, Any]:
        return {"id": uuid.uuid4().hex, "study": self.study_name, "space": self.space.name,
                "arch": self.space.to_string(result.arch), "score": None if result.failed else float(result.score),
                "kind": result.kind, "fidelity": result.fidelity, "cost_s": float(result.cost_s),
                "metadata": jsonable(result.metadata), "error": result.error}

    def replay_journal(self) -> int:
        """Store this study's journaled results (once each) and drop them from the journal.

        Best effort: when the storage still refuses writes, they stay journaled. Returns how
        many were stored."""
        stored = {t.user_attrs.get(JOURNAL_ID) for t in self.study.get_trials(deepcopy=False)} - {None}
        done = 0
        for path in self.journal_paths():
            if not path.is_file():
                continue
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError):
                continue  # unreadable: left for a person to look at
            mine = []
            for line in text.splitlines():
                try:
                    record = json.loads(line)
                    if record["study"] == self.study_name and record["space"] == self.space.name:
                        mine.append((line, record))
                except (ValueError, KeyError, TypeError):
                    pass  # a torn line or another study's: left as it is
            if not mine:
                continue
            dropped = set()  # the lines stored now or before: what leaves the journal
            for line, record in mine:
                if record.get("id") not in stored:
                    try:
                        self.study.add_trial(self._trial(self._from_record(record), record.get("id")))
                    except GennasError:
                        continue  # not a result of this space after all: kept, untouched
                    except Exception:  # still not writable: everything not yet stored stays journaled
                        break
                    stored.add(record.get("id"))
                    done += 1
                dropped.add(line)
            _drop_lines(path, dropped)
        return done

    def _from_record(self, record: dict[str, Any]) -> Result:
        try:
            arch = self.space.from_string(record["arch"])
            score = math.nan if record["score"] is None else float(record["score"])
            return Result(arch, score, str(record["kind"]), fidelity=str(record["fidelity"]),
                          cost_s=float(record["cost_s"]), metadata=dict(record["metadata"] or {}),
                          error=record["error"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GennasError(f"journal record {record.get('id')!r} is not a result: {exc}") from None

    # ------------------------------------------------------------ reading
    def results(self) -> list[Result]:
        """Every stored result in the order it was verified (failed ones included)."""
        return [self.to_result(t) for t in self._stored()]

    def _stored(self) -> list[Any]:
        return [t for t in self.study.get_trials(deepcopy=False, states=_stored_states()) if self.is_result(t)]

    def is_result(self, trial: optuna.trial.FrozenTrial) -> bool:
        """Whether a trial of the study is a result: gennas's (:func:`written_by_gennas`), neither a
        claim nor a failure set aside."""
        return written_by_gennas(trial) and CLAIM_ATTR not in trial.user_attrs and trial.number not in self._set_aside

    @property
    def foreign_count(self) -> int:
        """Finished trials another writer added (plain optuna code): skipped by every reader."""
        return sum(not written_by_gennas(t) for t in self.study.get_trials(deepcopy=False, states=_stored_states()))

    @property
    def set_aside_count(self) -> int:
        """Failures set aside in the study (:meth:`set_aside`)."""
        return len(self._set_aside)

    def set_aside(self, error: str) -> int:
        """Set aside every stored failure with the error text ``error`` (the evaluator's, not the
        architectures': :mod:`gennas.search.blind_stop`); returns how many. Raises GennasError
        when the storage cannot be written."""
        optuna = optuna_module()

        numbers = {t.number for t in self._stored()
                   if t.state == optuna.trial.TrialState.FAIL and t.user_attrs.get("error") == error}
        if numbers:
            with storage_errors(self.backend, "write to"):
                self.study.set_user_attr(SET_ASIDE_ATTR, sorted(self._set_aside | numbers))
            self._set_aside |= numbers
        return len(numbers)

    def to_result(self, trial: optuna.trial.FrozenTrial) -> Result:
        work = work_dir(getattr(self.backend, "url", None), self.study.study_name)
        return trial_result(trial, self.space, self.study.study_name, work)

    def __len__(self) -> int:
        return len(self._stored())

    def claims_in_progress(self) -> int:
        """Verifications other processes are running in the study now (their claims, those of
        dead processes on this host left out: :mod:`gennas.search.claims`)."""
        optuna = optuna_module()

        with storage_errors(self.backend, "read"):
            running = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        owners = [local_owner(t.user_attrs[CLAIM_ATTR]) for t in running if CLAIM_ATTR in t.user_attrs]
        return sum(pid is None or process_alive(pid) for pid in owners)

    @property
    def study_name(self) -> str:
        """The optuna study's name."""
        return self.study.study_name

    def __repr__(self) -> str:
        where = hide_passwords(str(getattr(self.backend, "url", None) or type(self.backend).__name__))
        return f"ResultStore(study {self.study_name!r} in {where}, space {self.space.name})"


def _stored_states() -> tuple[Any, ...]:
    optuna = optuna_module()

    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)


def _drop_lines(path: Path, dropped: set[str]) -> None:
    """Remove ``dropped`` lines from the journal at ``path`` as it is now (lines appended since it
    was read stay), atomically; the file goes when nothing is left."""
    try:
        with writers_lock(path, JOURNAL_LOCK_S):
            lines = [line for line in path.read_text().splitlines() if line not in dropped]
            if lines:
                write_whole(path, "".join(line + "\n" for line in lines))
            else:
                path.unlink()
    except (OSError, UnicodeDecodeError):  # filelock's Timeout too
        pass  # the ids already stored are skipped on the next replay
