"""Several processes on one study: claims keep every architecture verified once, the budget exact,
and the claims of a dead process are retried. SQLite always; PostgreSQL when
``GENNAS_TEST_POSTGRES_URL`` is set (``scripts/postgres.sh`` starts a server and sets it)."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid

import optuna
import pytest

from gennas.baselines import RandomSearch
from gennas.evaluators import TableEvaluator
from gennas.search import run_search
from gennas.search.claims import CLAIM_ATTR, Claims
from gennas.search.backends import open_storage
from gennas.search.storage import ResultStore

POSTGRES = os.environ.get("GENNAS_TEST_POSTGRES_URL")
postgres = pytest.mark.skipif(not POSTGRES, reason="GENNAS_TEST_POSTGRES_URL not set (run scripts/postgres.sh)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[postgres, pytest.mark.postgres])])
def url(request, tmp_path):
    """A fresh storage URL; on PostgreSQL the study name is made unique instead of the database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return POSTGRES


class _Counting:
    """The table evaluator, reporting every architecture it verifies to a queue (so the test sees
    verifications, not only stored results)."""

    kind = "table"

    def __init__(self, queue) -> None:
        self.table, self.queue = TableEvaluator("nb201", "cifar10"), queue

    def evaluate(self, archs):
        time.sleep(0.01)  # a verification takes a moment, so the processes do interleave
        for a in archs:
            self.queue.put(a.canonical_hash())
        return self.table.evaluate(archs)


def _search(url, study, seed, budget, start, queue, out):
    start.wait()
    result = run_search(RandomSearch("nb201", seed=seed), _Counting(queue), budget, storage=url, study_name=study,
                        progress=False, resume=True, batch_size=2)
    out.put((seed, len(result), result.resumed))


def _together(url, study, seeds, budget):
    """Run one search per seed in forked processes started at the same moment; returns the hashes
    they verified and each process's ``(seed, len(history), resumed)``."""
    ctx = multiprocessing.get_context("fork")  # the parent's imports are reused: seconds saved per process
    start, queue, out = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_search, args=(url, study, s, budget, start, queue, out)) for s in seeds]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    verified = []
    while not queue.empty():
        verified.append(queue.get())
    return verified, sorted(out.get() for _ in seeds)


@pytest.mark.parametrize("seeds", [pytest.param((0, 1), marks=pytest.mark.slow), (3, 3)],
                         ids=["other-seeds", "same-seed"])  # the same seed: both ask the same architectures
def test_two_processes_share_one_study_exactly(url, seeds):
    study = f"two-{uuid.uuid4().hex[:8]}"
    verified, returned = _together(url, study, seeds, budget=16)
    # none verified twice, the budget exact: 16 verifications in all, not 32
    assert len(verified) == 16 and len(set(verified)) == 16
    stored = ResultStore.open("nb201", url, study, resume=True).results()
    assert sorted(r.arch.canonical_hash() for r in stored) == sorted(verified)  # nothing lost
    assert [n for _, n, _ in returned] == [16, 16]  # each process returns the whole study
    study_trials = optuna.load_study(study_name=study, storage=open_storage(url)).get_trials()
    assert not [t for t in study_trials if t.state == optuna.trial.TrialState.RUNNING]  # no claim left behind


def _claim_of(url, study, owner, seed=0):
    """A claim left by ``owner`` (a process that died) on one architecture; returns it."""
    store = ResultStore.open("nb201", url, study, resume=True)
    arch = store.space.sample(seed)
    with Claims(store, 10) as claims:
        assert claims.claim(arch)
        (trial_id,) = claims.mine.values()
        claims.backend.set_trial_user_attr(trial_id, CLAIM_ATTR, owner)
        claims.mine.clear()  # leaving does not release it: as if the process had died
    return arch


def test_a_dead_local_process_claim_is_retried_at_once(url):
    study = f"dead-{uuid.uuid4().hex[:8]}"
    ghost = multiprocessing.get_context("fork").Process(target=os._exit, args=(0,))
    ghost.start()
    ghost.join()  # a pid that existed and is gone
    import socket

    arch = _claim_of(url, study, f"{socket.gethostname()}:{ghost.pid}:dead0000")
    out = run_search(RandomSearch("nb201", seed=1), TableEvaluator("nb201", "cifar10"), 5, storage=url,
                     study_name=study, progress=False, resume=True)
    hashes = [r.arch.canonical_hash() for r in out.history]
    assert hashes[0] == arch.canonical_hash() and len(set(hashes)) == 5  # retried first, verified once
    states = [t.state for t in optuna.load_study(study_name=study, storage=open_storage(url)).get_trials()
              if CLAIM_ATTR in t.user_attrs and t.user_attrs["hash"] == arch.canonical_hash()]
    assert optuna.trial.TrialState.FAIL in states  # the dead claim was failed, then a new one verified it


def test_a_claim_without_heartbeat_is_failed_by_optuna_and_retried(tmp_path):
    # another host's claim: only its heartbeat can tell it is dead (1 s interval, 3 s grace here).
    # It looks alive only until the grace has passed since it was made: on a loaded machine (a
    # fresh-check beside other tests) opening the store outlasted it and the test failed, so
    # "alive" is asserted only where the first look came well within the grace
    url = f"sqlite:///{tmp_path / 'hb.db'}"
    before = time.monotonic()
    arch = _claim_of(url, "hb", "elsewhere:1:feedbeef")
    claimed = time.monotonic()
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=3)
    store = ResultStore.open("nb201", storage, "hb", resume=True)
    with Claims(store, 10) as claims:
        live = {h for _, h, _ in claims.view().live}
        if time.monotonic() - before < 2.0:
            assert arch.canonical_hash() in live  # alive: beat recently
        time.sleep(max(0.0, claimed + 4.5 - time.monotonic()))  # past the grace since the claim
        view = claims.view()
        assert not view.live and arch.canonical_hash() in view.orphans and view.attempts[arch.canonical_hash()] == 1
    out = run_search(RandomSearch("nb201", seed=1), TableEvaluator("nb201", "cifar10"), 3, storage=storage,
                     study_name="hb", progress=False, resume=True)
    assert out.history[0].arch == arch and not out.history[0].failed


def test_a_stale_claim_of_a_live_process_on_this_host_is_kept(tmp_path):
    """A job stopped for 50 s (SIGSTOP) had its claim failed by a peer on the same host, and its
    architecture was trained twice (user walk 48): a live local owner keeps its claim."""
    import socket

    url = f"sqlite:///{tmp_path / 'paused.db'}"
    arch = _claim_of(url, "paused", f"{socket.gethostname()}:{os.getpid()}:cafe0000")
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=1)
    time.sleep(2.2)  # stale by its own heartbeat
    store = ResultStore.open("nb201", storage, "paused", resume=True)
    with Claims(store, 10) as claims:
        view = claims.view()
        assert arch.canonical_hash() in {h for _, h, _ in view.live} and not view.attempts


@pytest.mark.slow
def test_an_architecture_that_kills_its_verifier_twice_is_stored_failed(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    arch = _claim_of(url, "twice", "elsewhere:1:aaaa0000")
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=1)
    time.sleep(2.2)
    store = ResultStore.open("nb201", storage, "twice", resume=True)
    with Claims(store, 10) as claims:
        claims.view()  # fails the first claim
    _claim_of(url, "twice", "elsewhere:2:bbbb0000")  # the retry dies as well
    time.sleep(2.2)
    out = run_search(RandomSearch("nb201", seed=1), TableEvaluator("nb201", "cifar10"), 3, storage=storage,
                     study_name="twice", progress=False, resume=True)
    (failed,) = out.failures
    assert failed.arch == arch and "died 2 times" in failed.error and len(out) == 3


def test_a_claim_reads_only_what_is_new_in_the_study(tmp_path, monkeypatch):
    """Each claim read every trial of the study: a 1,000-verification random search spent 1.3 s per
    verification at the end (quadratic). A finished trial never changes, so it is read once; a
    later claim reads the trials created since and those unfinished then."""
    url = f"sqlite:///{tmp_path / 'growing.db'}"
    run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 40, storage=url,
               study_name="growing", progress=False)
    store = ResultStore.open("nb201", url, "growing", resume=True)
    with Claims(store, 50) as claims:
        assert len(claims.view().results) == 40  # the first look reads everything once
        reads = []
        backend = claims.backend
        every = backend.get_all_trials  # the running ones only may be listed (dead claims, leaving)
        monkeypatch.setattr(backend, "get_all_trials", lambda *a, **k: every(*a, **k) if k.get("states")
                            else pytest.fail("read every trial"))
        real = backend.get_trial
        monkeypatch.setattr(backend, "get_trial", lambda trial_id: reads.append(trial_id) or real(trial_id))
        arch = next(a for a in (store.space.sample(s) for s in range(100, 200))
                    if a.canonical_hash() not in claims.latest.results)
        assert claims.claim(arch)
        assert len(reads) == 1  # the new claim, nothing else
        view = claims.view()
        assert len(view.results) == 40 and [h for _, h, _ in view.live] == [arch.canonical_hash()]
        monkeypatch.undo()


def test_a_batch_of_claims_does_not_reread_the_process_s_own_live_claims(tmp_path, monkeypatch):
    """Each claim of a batch re-read every claim of the batch still held: B^2 / 2 reads a batch
    (20,800 for 400 verifications at batch 100, 32 s of CPU; walk 35 #5). This process's own live
    claims run until it ends them: each is read once, when it is new."""
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 5, storage=url,
               study_name="batch", progress=False)
    store = ResultStore.open("nb201", url, "batch", resume=True)
    with Claims(store, 100) as claims:
        claims.view()
        reads = []
        real = claims.backend.get_trial
        monkeypatch.setattr(claims.backend, "get_trial", lambda trial_id: reads.append(trial_id) or real(trial_id))
        distinct = {a.canonical_hash(): a for a in (store.space.sample(s) for s in range(100, 160))}
        archs = [a for h, a in distinct.items() if h not in claims.latest.results][:30]
        assert all(claims.claim(a) for a in archs)
        assert len(reads) == 30  # each new claim once (465 re-reading the batch)
        assert [h for _, h, _ in claims.view().live] == [a.canonical_hash() for a in archs]
        for arch in archs[:10]:
            claims.release(arch)
        assert len(claims.view().live) == 20  # released ones are read again and leave
        monkeypatch.undo()


def test_a_claim_ended_between_a_scan_and_its_read_leaves_its_result_in_the_view(tmp_path, monkeypatch):
    """Two processes on one PostgreSQL study verified 17 architectures of a budget of 16: one read
    the new trial numbers, then another stored a result (a number beyond the scan) and ended its
    claim, then the first read that claim as ended. Neither the claim nor its result was in the
    view, and the first kept a claim beyond the budget. Here the second process acts at that moment."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 1, storage=url,
               study_name="race", progress=False)
    first, second = (ResultStore.open("nb201", url, "race", resume=True) for _ in range(2))
    taken = {r.arch.canonical_hash() for r in first.results()}
    x, y = [a for a in (first.space.sample(s) for s in range(100, 120))
            if a.canonical_hash() not in taken][:2]
    with Claims(first, 2) as a, Claims(second, 2) as b:
        a.view()
        assert b.claim(x)  # 1 result + 1 claim: within the budget of 2
        number_of_x = max(n for n, _, _ in b.latest.live)
        real = a.backend.get_trial

        def meanwhile(trial_id):
            trial = real(trial_id)
            if trial.number == number_of_x and trial.state == optuna.trial.TrialState.RUNNING:
                second.add_many(TableEvaluator("nb201", "cifar10").evaluate([x]))  # stored, then released
                b.release(x)
                return real(trial_id)  # read after it ended
            return trial

        monkeypatch.setattr(a.backend, "get_trial", meanwhile)
        assert not a.claim(y)  # 2 results: the budget is taken
        assert len(a.latest.results) == 2 and not a.latest.live
        monkeypatch.undo()


def test_a_study_whose_trial_numbers_cannot_be_followed_is_read_whole(tmp_path, monkeypatch):
    """Two trials of one number (concurrent creations numbered alike) make the number lookup fail:
    the claim then reads the whole study, as before, and sees every result."""
    url = f"sqlite:///{tmp_path / 'dup.db'}"
    run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 12, storage=url,
               study_name="dup", progress=False)
    store = ResultStore.open("nb201", url, "dup", resume=True)
    with Claims(store, 20) as claims:
        def ambiguous(study_id, number):
            raise RuntimeError("Multiple rows were found when one or none was required")

        monkeypatch.setattr(claims.backend, "get_trial_id_from_study_id_trial_number", ambiguous)
        monkeypatch.setattr(claims, "_reap", lambda: None)
        assert len(claims.view().results) == 12
        monkeypatch.undo()


def test_a_claim_the_storage_cannot_write_is_one_error_naming_it(tmp_path, monkeypatch):
    """Walk 37 #9: a full disk while a search claimed its next architecture ended it with optuna's
    StorageInternalError traceback (a result the storage cannot write was already one line)."""
    import sqlite3

    import optuna

    from gennas.baselines import RandomSearch
    from gennas.errors import GennasError
    from gennas.evaluators import TableEvaluator
    from gennas.search import run_search
    from gennas.search.storage import CLAIM_ATTR

    real = optuna.storages.RDBStorage.create_new_trial

    def full(self, study_id, template_trial=None):
        if template_trial is not None and CLAIM_ATTR in template_trial.user_attrs:
            try:
                raise sqlite3.OperationalError("database or disk is full")
            except sqlite3.OperationalError as cause:
                raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from cause
        return real(self, study_id, template_trial)

    monkeypatch.setattr(optuna.storages.RDBStorage, "create_new_trial", full)
    with pytest.raises(GennasError, match=r"cannot write to storage sqlite:///.+: database or disk is full"):
        run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 3,
                   storage=f"sqlite:///{tmp_path / 'full.db'}", study_name="full", progress=False)


def test_a_storage_failure_at_a_claim_s_heartbeat_is_one_error(tmp_path, monkeypatch):
    """A full disk at the claim's first heartbeat was optuna's traceback and exit 1 (user walk 48)."""
    from gennas.errors import GennasError

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'full.db'}", heartbeat_interval=60)
    store = ResultStore.open("nb201", storage, "full")

    def full(*args):
        raise RuntimeError("disk I/O error")

    with Claims(store, 10) as claims:
        monkeypatch.setattr(claims.backend, "record_heartbeat", full)
        with pytest.raises(GennasError, match=r"cannot write to storage .*disk I/O error"):
            claims.claim(store.space.sample(0))


def test_a_job_with_other_settings_is_refused_while_a_first_job_verifies(tmp_path):
    """A second job with another task, started while the first job's first training ran (no result
    stored yet), took the study over and reported the first job's score as its own (user walk 48)."""
    from gennas.errors import GennasError

    url = f"sqlite:///{tmp_path / 'race.db'}"
    ResultStore.open("nb201", url, "race", attrs={"task": "mnist", "evaluator": "train", "seed": 0})
    _claim_of(url, "race", "elsewhere:1:feedbeef")  # the first job, verifying on another host
    with pytest.raises(GennasError, match=r"is verifying \(1 now, another process\) for task 'mnist', this run "
                                          r"has task 'cifar10'"):
        ResultStore.open("nb201", url, "race", attrs={"task": "cifar10", "evaluator": "table", "seed": 0})
    with pytest.raises(GennasError, match=r"is being run \(1 verifications now, another process\) with seed=0"):
        ResultStore.open("nb201", url, "race", attrs={"task": "mnist", "evaluator": "train", "seed": 1})
    ResultStore.open("nb201", url, "race", attrs={"task": "mnist", "evaluator": "train", "seed": 0})  # joins it
    dead = multiprocessing.get_context("fork").Process(target=os._exit, args=(0,))
    dead.start()
    dead.join()
    import socket

    url2 = f"sqlite:///{tmp_path / 'dead.db'}"
    ResultStore.open("nb201", url2, "gone", attrs={"task": "mnist", "seed": 0})
    _claim_of(url2, "gone", f"{socket.gethostname()}:{dead.pid}:0ff0ff00")  # a killed job's claim
    ResultStore.open("nb201", url2, "gone", attrs={"task": "cifar10", "seed": 0})  # nothing in progress


def test_a_forced_resume_never_changes_the_unit_of_a_study_s_scores(tmp_path):
    """--resume --force with a proxy evaluator on a study of accuracies stored 8.6e44 beside them,
    exit 0, and the study could no longer be designed from (user walk 48); table -> train (both
    accuracies in %) is still a forced change like any other."""
    from gennas.errors import GennasError

    url = f"sqlite:///{tmp_path / 'unit.db'}"
    run_search(RandomSearch("nb201", seed=1), TableEvaluator("nb201", "cifar10"), 2, storage=url,
               study_name="u", progress=False)
    with pytest.raises(GennasError, match=r"holds accuracies in %, the evaluator of this run gives proxy:synflow "
                                          r"scores; force=True / --force never changes the unit"):
        ResultStore.open("nb201", url, "u", resume=True, force=True, attrs={"evaluator": "proxy:synflow"})
    ResultStore.open("nb201", url, "u", resume=True, force=True, attrs={"evaluator": "train"})
