"""Claims: several processes verify one study together, none twice, none lost, budget exact.

Before a process verifies an architecture it *claims* it: one RUNNING optuna trial carrying the
architecture, its canonical hash and its owner (:data:`CLAIM_ATTR`: host, pid, token), created
in one transaction. It then reads the study and keeps the claim only if

- no result and no earlier live claim (lower trial number) has the same hash, and
- the study's results plus the live claims up to and including this one fit in the budget;

otherwise it releases it at once. Every process applies the same rule to the same order of
trial numbers, so two processes never both keep a claim on one architecture, and never keep
more claims than the budget leaves. The result is then stored as its own trial (one
transaction, journaled if refused: :meth:`ResultStore.add_many`) and the claim released
(PRUNED). A claim whose process died is failed: by optuna's heartbeat
(:func:`optuna.storages.fail_stale_trials`, any host) or at once when its owner is a dead
process on this host. Its architecture is then retried by whichever process comes next, at most
:data:`MAX_ATTEMPTS` times; after that it is stored as a failed result (it kills its verifier).

Claims are never results: a trial with :data:`CLAIM_ATTR` is left out of
:meth:`ResultStore.results` whatever its state.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.backends import local_owner, process_alive, storage_errors
from gennas.search.optuna_module import optuna_module
from gennas.search.storage import CLAIM_ATTR, ResultStore

#: claims a dead process may leave on one architecture before it is stored as failed
MAX_ATTEMPTS = 2
#: seconds between two looks for claims of dead processes
REAP_S = 1.0


@dataclass
class StudyView:
    """One read of a study: its results and its claims, in trial-number order.

    Attributes:
        results: hash -> Result of every stored result.
        live: ``(number, hash, owner)`` of every RUNNING claim.
        orphans: hash -> architecture string of claims that ended without a result.
        attempts: hash -> number of claims on it that were failed (their process died).
    """

    results: dict[str, Result] = field(default_factory=dict)
    live: list[tuple[int, str, str]] = field(default_factory=list)
    orphans: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def busy(self) -> set[str]:
        """Hashes that must not be claimed now: verified, or claimed by a live process."""
        return set(self.results) | {h for _, h, _ in self.live}


class Claims:
    """The claims of one process on one study (see the module docstring); a daemon thread keeps
    their heartbeats while the storage has one. Use as a context manager: leaving it releases
    the claims still held, so an interrupted run's architectures are retried at once."""

    def __init__(self, store: ResultStore, budget: int) -> None:
        optuna = optuna_module()

        self.store, self.budget = store, int(budget)
        self.backend = store.backend
        self.study_id = self.backend.get_study_id_from_name(store.study_name)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.mine: dict[str, int] = {}  # hash -> trial id of each claim held
        self._lock = threading.Lock()
        self._reaped = -math.inf
        self.latest = StudyView()
        # what was read of the study: a finished trial never changes, so each is read once (reading
        # every trial at every claim made a 1,000-verification search spend about 1 s per verification at the end)
        self._read_below = 0  # trial numbers below this were read
        self._running: dict[int, tuple[int, Any]] = {}  # number -> (trial id, trial) of trials read unfinished
        self._results: dict[str, Result] = {}  # hash -> first stored result
        self._ended: dict[str, str] = {}  # hash -> arch of ended claims whose architecture has no result
        self._attempts: dict[str, int] = {}  # hash -> claims on it that failed (their process died)
        self._whole = False  # the trial numbers could not be followed: the study is read whole (_read_all)
        self._stop = threading.Event()
        self._states = optuna.trial.TrialState
        interval = getattr(self.backend, "heartbeat_interval", None)
        self._thread: threading.Thread | None = None
        if interval:
            self._thread = threading.Thread(target=self._beat, args=(float(interval),), daemon=True,
                                            name="gennas-claims-heartbeat")
            self._thread.start()

    # ------------------------------------------------------------ reading
    def view(self) -> StudyView:
        """Fail stale claims (dead processes), then read what is new in the study (trials created
        since the last read, and those unfinished then)."""
        self._reap()
        if self._whole or not self._read_new():
            self._whole = True  # duplicate numbers stay: read whole from now on
            self._read_all()
        out = StudyView(self._results, attempts=dict(self._attempts))
        for _, (_, trial) in sorted(self._running.items()):
            attrs = trial.user_attrs
            if "hash" in attrs and CLAIM_ATTR in attrs:
                out.live.append((trial.number, attrs["hash"], attrs[CLAIM_ATTR]))
        live = {h for _, h, _ in out.live}
        out.orphans = {h: a for h, a in self._ended.items() if h not in live}
        self.latest = out
        return out

    def _read_new(self) -> bool:
        """Read the trials read unfinished before, then those numbered from :attr:`_read_below` on;
        False when the numbers cannot be followed (two trials of one number: a database that
        numbered concurrent creations alike; they stay, so the study is read whole from then on).

        In that order, and the new numbers scanned again until a scan finds none: a claim read as
        ended had its result stored before it ended (:func:`gennas.search.harness` stores, then
        releases), so a scan made after the read finds that result. Scanned once, before the reads,
        a result stored after the scan whose claim ended before its read was missing from the view
        with its claim, and a process kept a claim beyond the budget (17 verifications of 16 by two
        processes on one PostgreSQL study)."""
        with self._lock:
            held = set(self.mine.values())
        for number, (trial_id, _) in sorted(self._running.items()):
            if trial_id not in held:  # this process's own live claim runs until it ends it: a batch of B
                self._read(number, trial_id)  # re-read them all at every claim, B^2 / 2 reads (walk 35)
        while True:  # numbers are given in order from 0: the new ones follow the last read (a count read them all)
            new: dict[int, int] = {}
            try:
                while True:
                    new[self._read_below] = self.backend.get_trial_id_from_study_id_trial_number(
                        self.study_id, self._read_below)
                    self._read_below += 1
            except KeyError:
                pass
            except Exception:  # noqa: BLE001 - sqlalchemy's MultipleResultsFound, or a backend's own
                return False
            if not new:
                return True
            for number, trial_id in new.items():
                self._read(number, trial_id)

    def _read(self, number: int, trial_id: int) -> None:
        """Read one trial: kept among the running while unfinished, else taken in (:meth:`_finished`)."""
        trial = self.backend.get_trial(trial_id)
        if not trial.state.is_finished():
            self._running[number] = (trial_id, trial)
            return
        self._running.pop(number, None)
        self._finished(trial)

    def _read_all(self) -> None:
        """Read the study whole, afresh (where its trial numbers cannot be followed, :meth:`_read_new`)."""
        self._running, self._results, self._ended, self._attempts = {}, {}, {}, {}
        for i, trial in enumerate(self.backend.get_all_trials(self.study_id, deepcopy=False)):
            if trial.state.is_finished():
                self._finished(trial)
            else:  # keyed by position: two may share a number; no id: _read_new is not used again
                self._running[i] = (-1, trial)

    def _finished(self, trial: Any) -> None:
        """Take a finished trial into what was read: a result, or an ended claim."""
        attrs = trial.user_attrs
        h = attrs.get("hash")
        if h is None:
            return  # not a gennas trial
        if CLAIM_ATTR not in attrs:
            if not self.store.is_result(trial):  # a failure set aside: as if never verified, nor claimed (a
                self._ended.pop(h, None)  # resume goes as a new study of the same seed would)
                return
            if trial.state in (self._states.COMPLETE, self._states.FAIL) and h not in self._results:
                self._results[h] = self.store.to_result(trial)
                self._ended.pop(h, None)  # verified: no longer left behind
            return
        if trial.state == self._states.FAIL:
            self._attempts[h] = self._attempts.get(h, 0) + 1
        if h not in self._results:
            self._ended[h] = attrs["arch"]

    def stored(self, results: list[Result]) -> StudyView:
        """The latest view with this process's just-stored ``results`` in it and their claims
        gone: what a new read would show of our own work, without the read (others' news waits
        for the next :meth:`view`, which every :meth:`claim` makes)."""
        view = self.latest
        for r in results:
            h = r.arch.canonical_hash()
            view.results.setdefault(h, r)
            self._ended.pop(h, None)
        return view  # their claims left view.live when they were released

    def _reap(self) -> None:
        """Fail claims whose heartbeat is stale, and at once those of dead processes on this host
        (at most every :data:`REAP_S`: a claim lives for a verification, seconds at least). A
        claim of a live process on this host is kept, stale or not: one stopped for 50 s (SIGSTOP,
        a suspended job) had its claim failed, and its architecture was trained twice (user walk 48)."""
        optuna = optuna_module()

        if time.monotonic() - self._reaped < REAP_S:
            return
        self._reaped = time.monotonic()

        beats = getattr(self.backend, "heartbeat_interval", None)
        for trial in self.backend.get_all_trials(self.study_id, deepcopy=False, states=(self._states.RUNNING,)):
            pid = local_owner(trial.user_attrs.get(CLAIM_ATTR, ""))
            if pid is None:
                continue  # another host's: its heartbeat says whether it lives
            trial_id = self.backend.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)
            if not process_alive(pid):
                self._end(trial_id, self._states.FAIL)
            elif beats:
                with storage_errors(self.backend, "write to"):
                    self.backend.record_heartbeat(trial_id)  # alive here: not stale, whatever its own beat
        with warnings.catch_warnings():  # "experimental" since optuna 2.9; the claims rely on it knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self.store.study)

    # ------------------------------------------------------------ claiming
    def claim(self, arch: ArchGraph) -> bool:
        """Claim ``arch`` for this process; False when another process has it, it is verified,
        or the budget is taken (the claim is then released at once)."""
        optuna = optuna_module()

        h = arch.canonical_hash()
        attrs = {"arch": self.store.space.to_string(arch), "space": self.store.space.name, "hash": h,
                 CLAIM_ATTR: self.owner}
        # no parameters: the claim is a marker (its result trial carries them); fewer rows to write
        template = optuna.trial.create_trial(state=self._states.RUNNING, user_attrs=attrs)
        # a full disk here, or at the heartbeat, was optuna's traceback and exit 1 (user walks)
        with storage_errors(self.backend, "write to"):
            trial_id = self.backend.create_new_trial(self.study_id, template_trial=template)
            with self._lock:
                self.mine[h] = trial_id
            if getattr(self.backend, "heartbeat_interval", None):
                self.backend.record_heartbeat(trial_id)  # a claim without a heartbeat would never go stale
        view = self.view()
        rank, found = 0, False
        for _, other, owner in sorted(view.live):  # the same order in every process
            rank += 1
            if other == h and owner == self.owner:
                found = True
                break
            if other == h:
                break  # an earlier live claim on the same architecture wins
        if not found or h in view.results or len(view.results) + rank > self.budget:
            self.release(arch)
            return False
        return True

    def release(self, arch: ArchGraph) -> None:
        """End this process's claim on ``arch`` (its result is stored, or it will not be verified)."""
        h = arch.canonical_hash()
        with self._lock:
            trial_id = self.mine.pop(h, None)
        if trial_id is not None:
            self._end(trial_id, self._states.PRUNED)
            self.latest.live = [c for c in self.latest.live if not (c[1] == h and c[2] == self.owner)]

    def _end(self, trial_id: int, state: Any) -> None:
        optuna = optuna_module()

        with storage_errors(self.backend, "write to"), contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.backend.set_trial_state_values(trial_id, state=state)  # another process ended it first

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                ids = list(self.mine.values())
            for trial_id in ids:
                with contextlib.suppress(Exception):  # a missed beat is retried; the grace period allows it
                    self.backend.record_heartbeat(trial_id)

    # ------------------------------------------------------------ leaving
    def close(self) -> None:
        """Stop the heartbeat and release the claims still held (best effort: a claim left
        behind goes stale and is retried anyway)."""
        self._stop.set()
        with self._lock:
            ids, self.mine = set(self.mine.values()), {}
        with contextlib.suppress(Exception):
            # also claims this process made but never recorded as its own: an interrupt can land
            # between a claim's trial being created and its id being kept (or ended and forgotten)
            running = self.backend.get_all_trials(self.study_id, deepcopy=False, states=(self._states.RUNNING,))
            ids |= {self.backend.get_trial_id_from_study_id_trial_number(self.study_id, t.number)
                    for t in running if t.user_attrs.get(CLAIM_ATTR) == self.owner}
        for trial_id in ids:
            with contextlib.suppress(Exception):
                self._end(trial_id, self._states.PRUNED)

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
