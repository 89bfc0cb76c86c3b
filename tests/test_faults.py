"""Faults, bounded in time: ``gennas search`` killed with -9 (mid-search and while it creates the
study) then resumed, and interrupted with SIGINT. Each run is a forked child running the CLI (the
test's imports are reused: a fresh interpreter costs ~3 s of CPU); the slow test does the same
with a real ``gennas`` subprocess. Read-only and full storage are in test_storage.py/test_cli.py.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from gennas.search.storage import ResultStore

ARGS = ["search", "--method", "random", "--evaluator", "table", "--study", "s", "--quiet"]


def _cli(args: list[str], log: str, die_at_creation: int | None, die_mid_search: int | None) -> None:
    """Child body: ``gennas <args>`` with stdout and stderr in ``log``; ``die_at_creation`` sends
    this process that signal while it writes the new database's schema; ``die_mid_search`` sends
    it that signal inside its third table verification, after two results were stored. The child
    signals itself: a signal from the test process raced the search, which a table answers in
    microseconds (the search sometimes finished first, in fresh-check runs)."""
    # Ctrl-C as at a terminal: a suite started as a background job inherits SIGINT ignored (so
    # does this fork), and a process that ignores it is not interruptible at all; the SIGINT
    # tests then saw the search run to its end (fresh-check, started in the background)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)  # not pytest's capture objects, inherited by the fork
    sys.stderr = os.fdopen(2, "w", buffering=1)
    if die_at_creation is not None:
        from optuna.storages._rdb import storage

        def die(self):
            os.kill(os.getpid(), die_at_creation)
            time.sleep(1)  # SIGINT is raised as KeyboardInterrupt at the next instruction

        storage._VersionManager._init_alembic = die
    if die_mid_search is not None:
        from gennas.evaluators.table import TableEvaluator

        looked_up, calls = TableEvaluator.evaluate, []

        def interrupted(self, archs):
            calls.append(len(archs))
            if len(calls) == 3:  # two verifications are stored by now
                os.kill(os.getpid(), die_mid_search)
                time.sleep(1)
            return looked_up(self, archs)

        TableEvaluator.evaluate = interrupted
    from gennas.cli.app import app

    app(args, prog_name="gennas")


def _start(tmp_path: Path, budget: int, *extra: str, die_at_creation: int | None = None,
           die_mid_search: int | None = None):
    log = tmp_path / f"log{time.monotonic_ns()}.txt"
    args = [*ARGS, "--storage", f"sqlite:///{tmp_path / 'run.db'}", "--budget", str(budget), *extra]
    child = multiprocessing.get_context("fork").Process(target=_cli,
                                                        args=(args, str(log), die_at_creation, die_mid_search))
    child.start()
    return child, log


def _finish(child, timeout: float = 60.0) -> int:
    child.join(timeout)
    assert child.exitcode is not None, "the search did not end"
    return child.exitcode


def _stored(tmp_path: Path) -> int:
    """COMPLETE trials in the database (claims never are), read without writing."""
    db = tmp_path / "run.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


def _results(tmp_path: Path) -> list[tuple[str, float]]:
    store = ResultStore.open("nb201", f"sqlite:///{tmp_path / 'run.db'}", "s", resume=True)
    return [(r.arch.canonical_hash(), r.score) for r in store.results()]


def _running(tmp_path: Path) -> int:
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'run.db'}")
    return sum(t.state == optuna.trial.TrialState.RUNNING for t in study.get_trials())


def test_kill9_mid_search_then_resume_keeps_everything_and_completes_the_budget(tmp_path):
    child, _ = _start(tmp_path, 20, die_mid_search=signal.SIGKILL)
    assert _finish(child) == -signal.SIGKILL
    before = _results(tmp_path)
    assert 2 <= len(before) < 20
    child, log = _start(tmp_path, 20, "--resume")
    assert _finish(child) == 0, log.read_text()
    after = _results(tmp_path)
    assert set(before) <= set(after)  # every verification finished before the kill is kept
    assert len(after) == 20 and len({h for h, _ in after}) == 20  # budget exact, no duplicate
    assert _running(tmp_path) == 0  # the dead process's claim was failed and its architecture retried


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill9", "sigint"])
def test_killed_while_creating_the_study_then_resume(tmp_path, sig):
    child, log = _start(tmp_path, 2, die_at_creation=sig)
    code = _finish(child)
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        text = log.read_text()
        last = text.strip().splitlines()[-1]
        assert code == 130 and "Traceback" not in text and last.startswith("interrupted (a stored search keeps"), text
    assert not (tmp_path / "run.db").exists()  # no half-made database: the schema went to a temporary file
    child, log = _start(tmp_path, 2, "--resume")
    assert _finish(child) == 0, log.read_text()
    assert len(_results(tmp_path)) == 2
    assert not list(tmp_path.glob("run.db.*.tmp"))  # the dead creator's temporary file is cleaned up


@pytest.mark.parametrize("sig, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"])
def test_sigint_mid_search_one_line_consistent_storage_then_resume(tmp_path, sig, exit_code):
    """SIGTERM (timeout, kill, Slurm, docker stop) as Ctrl-C: it printed nothing, exited 143 by the
    signal and left its claims RUNNING until a resume failed them."""
    child, log = _start(tmp_path, 20, die_mid_search=sig)
    code = _finish(child)
    text = log.read_text()
    lines = text.strip().splitlines()
    assert code == exit_code and "Traceback" not in text and len(lines) == 1 and lines[0].startswith("interrupted ("), text
    before = _results(tmp_path)
    assert _running(tmp_path) == 0  # its claims were released, not left to go stale
    child, log = _start(tmp_path, 20, "--resume")
    assert _finish(child) == 0, log.read_text()
    after = _results(tmp_path)
    assert set(before) <= set(after) and len(after) == 20 and len({h for h, _ in after}) == 20


@pytest.mark.slow
def test_kill9_of_a_real_gennas_process_then_resume(tmp_path):
    gennas = Path(sys.executable).with_name("gennas")
    cmd = [str(gennas), *ARGS, "--storage", f"sqlite:///{tmp_path / 'run.db'}", "--budget", "15"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 120
    while _stored(tmp_path) < 3:
        assert proc.poll() is None and time.monotonic() < end
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    before = _results(tmp_path)
    done = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _results(tmp_path)
    assert set(before) <= set(after) and len(after) == 15 and len({h for h, _ in after}) == 15
