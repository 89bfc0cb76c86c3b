"""Result storage: every result is one optuna trial, reloadable, and bad storage fails early."""

from __future__ import annotations

import math
import os

import numpy as np
import optuna
import pytest

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.search.backends import open_storage
from gennas.search.storage import ResultStore


def _results(space, n, seed=0):
    archs = space.sample_many(n, seed)
    out = [Result(a, float(80 + i), "table", "full", 0.5 * i, {"dataset": "cifar10", "np": np.float32(1.5)})
           for i, a in enumerate(archs)]
    out[1] = Result(archs[1], math.nan, "callable", error="ValueError: boom")
    return out


def test_roundtrip_sqlite(tmp_path, nb201):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    store = ResultStore.open(nb201, url, "s1", attrs={"method": "random"})
    written = _results(nb201, 4)
    for r in written:
        store.add(r)
    again = ResultStore.open("nb201", url, "s1", resume=True)
    loaded = again.results()
    assert [r.arch for r in loaded] == [r.arch for r in written]
    assert loaded[0].score == 80.0 and loaded[0].kind == "table" and loaded[0].cost_s == 0.0
    assert loaded[2].metadata == {"dataset": "cifar10", "np": 1.5}  # numpy scalar stored as a float
    assert loaded[1].failed and loaded[1].error == "ValueError: boom"
    trials = again.study.get_trials()
    assert [t.state for t in trials].count(optuna.trial.TrialState.FAIL) == 1
    # the slot choices are the trial's parameters, so optuna-dashboard can plot them
    assert tuple(trials[0].params[f"slot_{i}"] for i in range(6)) == nb201.choices(written[0].arch)
    assert trials[0].user_attrs["arch"] == written[0].arch.to_string()
    assert again.study.user_attrs["method"] == "random"


def test_mbv3_roundtrip_in_memory(mbv3):
    backend = open_storage(None)
    store = ResultStore.open(mbv3, backend, "m")
    arch = mbv3.sample(3)
    store.add(Result(arch, 71.0, "proxy:synflow", "zero-cost"))
    (loaded,) = ResultStore.open(mbv3, backend, "m", resume=True).results()
    assert loaded.arch == arch and loaded.fidelity == "zero-cost"


def test_existing_results_need_resume(tmp_path, nb201):
    path = str(tmp_path / "run.db")  # a bare .db path is taken as SQLite
    store = ResultStore.open(nb201, path, "s")
    store.add(_results(nb201, 2)[0])
    with pytest.raises(GennasError, match="already holds 1 result; "):  # not "1 results"
        ResultStore.open(nb201, path, "s")
    ResultStore.open(nb201, path, "s", resume=True).add(_results(nb201, 2)[1])
    with pytest.raises(GennasError, match="already holds 2 results; "):
        ResultStore.open(nb201, path, "s")
    with pytest.raises(GennasError, match="not mbv3"):
        ResultStore.open("mbv3", path, "s", resume=True)
    ResultStore.open(nb201, path, "other")
    with pytest.raises(GennasError, match="name the one to resume"):
        ResultStore.open(nb201, path, None, resume=True)


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/x/run.db", "nosuchdb://host/x", "not a url", "", 3])
def test_unopenable_storage(url):
    with pytest.raises(GennasError, match="storage"):
        open_storage(url)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(GennasError, match=f"the folder {tmp_path / 'nodir'} does not exist"):
        open_storage(str(tmp_path / "nodir" / "run.db"))


def test_resuming_a_study_the_storage_does_not_hold_warns_naming_those_it_holds(tmp_path, nb201):
    """A mistyped study name with resume started a new study silently (a whole budget spent);
    processes sharing a study may all start it with resume, so it is a warning, not an error."""
    from gennas.search.storage import NewStudyOnResume

    path = str(tmp_path / "run.db")
    ResultStore.open(nb201, path, "c10-run1").add(_results(nb201, 2)[0])
    with pytest.warns(NewStudyOnResume, match="no study 'c10-rnu1' .*it holds 'c10-run1'"):
        ResultStore.open(nb201, path, "c10-rnu1", resume=True)


def test_resume_compares_settings_and_records_forced_changes(tmp_path, nb201):
    path = str(tmp_path / "run.db")
    settings = {"method": "random", "task": "cifar10", "seed": 0, "device": "pixel3", "max_latency_ms": 5, "budget": 4}
    store = ResultStore.open(nb201, path, "s", attrs=settings)
    store.add(_results(nb201, 2)[0])
    # the same settings (5 == 5.0 once stored) and another verification budget: allowed and recorded
    again = ResultStore.open(nb201, path, "s", resume=True, attrs={**settings, "max_latency_ms": 5.0, "budget": 9})
    assert again.study.user_attrs["budget"] == 9
    with pytest.raises(GennasError, match=r"was run with seed=0, device='pixel3', this run has seed=1, device=None"):
        ResultStore.open(nb201, path, "s", resume=True, attrs={**settings, "seed": 1, "device": None})
    forced = ResultStore.open(nb201, path, "s", resume=True, attrs={**settings, "seed": 1}, force=True)
    assert forced.study.user_attrs["seed"] == 1
    assert forced.study.user_attrs["gennas_settings_changes"] == [{"after": 1, "from": {"seed": 0}, "to": {"seed": 1}}]
    # a study that holds nothing yet takes the new settings without question
    ResultStore.open(nb201, path, "empty", attrs=settings)
    fresh = ResultStore.open(nb201, path, "empty", attrs={**settings, "seed": 7})
    assert fresh.study.user_attrs["seed"] == 7


def test_a_forced_resume_never_changes_the_study_task(tmp_path, nb201):
    # a user walk: --resume --force without --task added cifar10 scores to a study of cifar100
    # scores, which the designer then learned as one task
    path = str(tmp_path / "run.db")
    settings = {"method": "random", "task": "new-cifar100", "seed": 0}
    ResultStore.open(nb201, path, "s", attrs=settings).add(_results(nb201, 2)[0])
    for force in (False, True):
        with pytest.raises(GennasError, match=r"holds scores of task 'new-cifar100'.*never changes.*"
                                              r"start a new study for task 'cifar10'"):
            ResultStore.open(nb201, path, "s", resume=True, attrs={**settings, "task": "cifar10"}, force=force)
    assert ResultStore.open(nb201, path, "s", resume=True).study.user_attrs["task"] == "new-cifar100"
    forced = ResultStore.open(nb201, path, "s", resume=True, attrs={**settings, "seed": 1}, force=True)
    assert forced.study.user_attrs["seed"] == 1  # the other settings are still forced


def test_run_search_refuses_other_settings(tmp_path, nb201):
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    path = str(tmp_path / "run.db")
    run_search(RandomSearch(nb201, seed=0), lambda a: 1.0, 2, storage=path, study_name="s", progress=False,
               attrs={"method": "random", "evaluator": "table"})
    # table -> train: another evaluator of the same unit, which force allows (a proxy's scores never join
    # accuracies, forced or not: tests/test_shared_study.py, walk 48 #2)
    with pytest.raises(GennasError, match="evaluator='table'.*evaluator='train'.*--force"):
        run_search(RandomSearch(nb201, seed=0), lambda a: 1.0, 3, storage=path, study_name="s", progress=False,
                   resume=True, attrs={"method": "random", "evaluator": "train"})
    out = run_search(RandomSearch(nb201, seed=0), lambda a: 1.0, 3, storage=path, study_name="s", progress=False,
                     resume=True, attrs={"method": "random", "evaluator": "train"}, force=True)
    assert len(out) == 3 and out.resumed == 2


def _fail_writes_after(monkeypatch, n):
    """optuna refuses every add_trial after the first ``n`` (like a disk that filled up)."""
    real, calls = optuna.study.Study.add_trial, []

    def add_trial(self, trial):
        calls.append(trial)
        if len(calls) > n:
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.")
        return real(self, trial)

    monkeypatch.setattr(optuna.study.Study, "add_trial", add_trial)


def test_a_verified_result_the_storage_refuses_is_journaled_then_replayed(tmp_path, nb201, monkeypatch):
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    path = tmp_path / "run.db"
    verified = []

    def score(arch):
        verified.append(arch)
        return float(len(verified))

    with monkeypatch.context() as patch:
        _fail_writes_after(patch, 2)
        with pytest.raises(GennasError, match=r"could not store 2 verified results in study 's' \(An exception "
                                              r"is raised during the commit.\); kept in .*run.db.journal.jsonl"):
            run_search(RandomSearch(nb201, seed=0), score, 6, storage=str(path), study_name="s", progress=False,
                       batch_size=2)
    journal = tmp_path / "run.db.journal.jsonl"
    assert len(journal.read_text().splitlines()) == 2 and len(verified) == 4
    # the next open stores them (once), then the resumed search completes the budget
    out = run_search(RandomSearch(nb201, seed=0), score, 6, storage=str(path), study_name="s", progress=False,
                     resume=True, batch_size=2)  # the study's batch size: another is refused
    assert out.resumed == 4 and len(out) == 6 and not journal.exists()
    assert [r.arch for r in out.history[:4]] == verified[:4] and [r.score for r in out.history[:4]] == [1, 2, 3, 4]
    assert len({r.arch.canonical_hash() for r in out.history}) == 6
    assert len(ResultStore.open(nb201, str(path), "s", resume=True).results()) == 6


def test_journal_replay_is_idempotent_and_leaves_other_studies(tmp_path, nb201, monkeypatch):
    path = tmp_path / "run.db"
    store = ResultStore.open(nb201, str(path), "a")
    other = ResultStore.open(nb201, str(path), "b")
    results = _results(nb201, 3)
    with monkeypatch.context() as patch:
        _fail_writes_after(patch, 0)
        with pytest.raises(GennasError, match="could not store 3 verified results"):
            store.add_many(results)
        with pytest.raises(GennasError, match="could not store 1 verified result in study 'b'"):
            other.add(results[0])
        # still refused: a replay keeps everything journaled
        assert store.replay_journal() == 0
    journal = tmp_path / "run.db.journal.jsonl"
    lines = journal.read_text().splitlines()
    assert len(lines) == 4
    first_of_a = next(line for line in lines if '"study": "a"' in line)
    journal.write_text("\n".join([*lines, first_of_a, '{"torn']) + "\n")  # a duplicate and a torn line
    assert store.replay_journal() == 3
    loaded = ResultStore.open(nb201, str(path), "a", resume=True).results()
    assert [r.arch for r in loaded] == [r.arch for r in results] and loaded[1].failed
    assert loaded[2].metadata == {"dataset": "cifar10", "np": 1.5}
    left = journal.read_text().splitlines()
    assert len(left) == 2 and '"study": "b"' in left[0] and left[1] == '{"torn'  # b's and the unreadable line stay
    assert len(ResultStore.open(nb201, str(path), "b", resume=True)) == 1
    assert journal.read_text() == '{"torn\n'


def test_journal_falls_back_to_gennas_home(tmp_path, nb201, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "run.db"
    (tmp_path / "run.db.journal.jsonl").mkdir()  # the db's folder takes no journal (read-only, say)
    store = ResultStore.open(nb201, str(path), "s")
    with monkeypatch.context() as patch:
        _fail_writes_after(patch, 0)
        with pytest.raises(GennasError, match=f"kept in {tmp_path / 'home' / 'journals'}"):
            store.add(_results(nb201, 2)[0])
    assert len(ResultStore.open(nb201, str(path), "s", resume=True)) == 1
    assert [p.name for p in (tmp_path / "home" / "journals").iterdir() if p.suffix != ".lock"] == []


def test_a_result_journaled_while_a_replay_stores_others_stays_journaled(tmp_path, nb201, monkeypatch):
    """Walk 34 #4: a replay rewrote the shared journal from what it had read before storing, and a
    result another worker journaled meanwhile was lost."""
    path = tmp_path / "run.db"
    store, other = ResultStore.open(nb201, str(path), "a"), ResultStore.open(nb201, str(path), "b")
    results = _results(nb201, 3)
    with monkeypatch.context() as patch:
        _fail_writes_after(patch, 0)
        with pytest.raises(GennasError, match="could not store 2 verified results"):
            store.add_many(results[:2])
    real, appended = optuna.study.Study.add_trial, []

    def add_trial(self, trial):  # the other worker journals its result while this replay stores
        if not appended:
            appended.append(other._keep([results[2]]))
        return real(self, trial)

    monkeypatch.setattr(optuna.study.Study, "add_trial", add_trial)
    assert store.replay_journal() == 2 and appended
    monkeypatch.setattr(optuna.study.Study, "add_trial", real)
    left = (tmp_path / "run.db.journal.jsonl").read_text().splitlines()
    assert len(left) == 1 and '"study": "b"' in left[0]
    assert len(ResultStore.open(nb201, str(path), "b", resume=True)) == 1  # stored when b is opened


def test_read_only_storage(tmp_path, nb201):
    path = tmp_path / "run.db"
    ResultStore.open(nb201, str(path), "s").add(_results(nb201, 2)[0])
    ro = f"sqlite:///file:{path}?mode=ro&uri=true"  # read-only even for root
    store = ResultStore.open(nb201, ro, "s", resume=True)  # reading needs no write
    assert len(store.results()) == 1
    with pytest.raises(GennasError, match="cannot write to storage .*readonly database"):
        store.check_writable()
    with pytest.raises(GennasError, match="cannot open a study in storage .*readonly database"):
        ResultStore.open(nb201, ro, "new")


def test_a_study_finds_the_yaml_file_of_its_users_space(tmp_path):
    """A study of a space declared by a user's YAML file records the file, so that a later process
    (where the space's name means nothing yet) rebuilds it without being told the path; when the
    file is gone, the error says to pass it."""
    import uuid

    import gennas
    from gennas.search.study_record import SPACE_ATTR, SPACE_FILE_ATTR
    from gennas.search.studies import study_settings, study_space

    name = f"mine_{uuid.uuid4().hex[:8]}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"kind: cell\nname: {name}\ninput_size: 32\ncell:\n  nodes: 3\n  zero_op: none\n"
                    "  identity_op: skip\n  ops:\n    none: {type: zero}\n    skip: {type: identity}\n"
                    "    conv3: {type: relu_conv_bn, kernel: 3}\nmacro: {channels: 8, cells_per_stage: 1, stages: 2}\n")
    space = gennas.load_space(spec)
    url = f"sqlite:///{tmp_path / 's.db'}"
    ResultStore.open(space, url, "mine")
    attrs = study_settings(url, "mine")
    assert attrs[SPACE_ATTR] == name and attrs[SPACE_FILE_ATTR] == str(spec.resolve())
    assert study_space(attrs, "mine") is space and study_space(attrs, "mine", spec) is space
    with pytest.raises(GennasError, match="not nb201"):
        study_space(attrs, "mine", "nb201")
    # a name this process has not loaded: found through the recorded file, or the path is asked for
    unloaded = {SPACE_ATTR: f"{name}_elsewhere", SPACE_FILE_ATTR: str(tmp_path / "moved.yaml")}
    with pytest.raises(GennasError, match=r"which is gone\): pass its path"):
        study_space(unloaded, "mine")
    other = tmp_path / "other.yaml"
    other.write_text(spec.read_text().replace(f"name: {name}", f"name: {name}_elsewhere"))
    assert study_space({**unloaded, SPACE_FILE_ATTR: str(other)}, "mine").name == f"{name}_elsewhere"


def test_reading_a_storage_that_does_not_exist_leaves_no_file(tmp_path):
    """Commands that only read (design --study, report, Designer.from_study) name a missing SQLite
    file instead of creating an empty database there."""
    import gennas
    from gennas.search.runs import load_runs
    from gennas.search.studies import study_settings

    missing = tmp_path / "typo.db"
    for read in (lambda: study_settings(str(missing), "s"), lambda: load_runs(f"sqlite:///{missing}"),
                 lambda: gennas.Designer.from_study(str(missing), "s")):
        with pytest.raises(GennasError, match="no such file"):
            read()
    assert not missing.exists()


def test_resuming_with_a_smaller_budget_than_the_study_holds_says_so(tmp_path):
    """'search finished: 108/100 verified' with no note: the study held more than the budget."""
    from gennas.baselines import RandomSearch
    from gennas.evaluators import TableEvaluator
    from gennas.search import run_search

    url = f"sqlite:///{tmp_path / 'run.db'}"
    run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 6, storage=url, study_name="s",
               progress=False)
    again = run_search(RandomSearch("nb201", seed=0), TableEvaluator("nb201", "cifar10"), 4, storage=url,
                       study_name="s", progress=False, resume=True)
    assert len(again.history) == 6
    assert any("already holds 6 results, more than this run's budget of 4" in note for note in again.notes)


def test_a_designer_rebuilt_from_a_holdout_search_uses_the_holdout_predictor(tmp_path, bench):
    """A search on cifar100 held out (the predictor without its labels) was rebuilt by
    `gennas design --study` with the default predictor, which had seen them; the study records
    what it started from. The CLI names the Python route for a 'new-' dataset."""
    from typer.testing import CliRunner

    import gennas
    from gennas.cli.app import app
    from gennas.search.study_record import START_ATTR

    holdout = gennas.load_predictor("nb201", holdout="cifar100")
    designer = gennas.Designer("nb201", task="new-cifar100", predictor=holdout, seed=0)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    designer.search(lambda a: bench.accuracy(a, "cifar100"), budget=3, storage=url, study_name="h")
    assert ResultStore.open("nb201", url, "h", resume=True).study.user_attrs[START_ATTR] == "shipped-no-cifar100"
    rebuilt = gennas.Designer.from_study(url, "h")
    assert "cifar100" not in rebuilt.loop.pretrained.tasks
    # resumed with the shipped predictor (it has seen cifar100's labels): refused, unless forced
    seen = gennas.Designer("nb201", task="new-cifar100", seed=0)
    with pytest.raises(gennas.GennasError, match=r"began from the 'shipped-no-cifar100' predictor.*'shipped' one"):
        seen.search(lambda a: bench.accuracy(a, "cifar100"), budget=4, storage=url, study_name="h", resume=True)
    again = gennas.Designer("nb201", task="new-cifar100", predictor=gennas.load_predictor("nb201", holdout="cifar100"),
                            seed=0)
    assert len(again.search(lambda a: bench.accuracy(a, "cifar100"), budget=4, storage=url, study_name="h",
                            resume=True).history) == 4
    said = CliRunner().invoke(app, ["search", "--task", "new-cifar100", "--evaluator", "table", "-b", "2"])
    assert said.exit_code == 2 and "holdout=" in said.output


def test_a_sqlite_file_of_another_program_is_named_and_left_as_it_was(tmp_path):
    """design --study, report and search on a SQLite file that is no optuna storage (a user review:
    optuna's StorageInternalError traceback; a search added optuna's tables to it) say so in one
    line and add none of optuna's tables to it."""
    import sqlite3

    from gennas.search.runs import load_runs
    from gennas.search.studies import study_settings

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table studies(x)")
    search = lambda: ResultStore.open("nb201", str(path), "s")  # noqa: E731 - a search added its tables too
    for read in (lambda: study_settings(str(path), "x"), lambda: load_runs(str(path)), search):
        with pytest.raises(GennasError, match=r"other.db is a SQLite database but not an optuna storage "
                                              r"\(it holds studies\)"):
            read()
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["studies"]


def test_a_study_on_read_only_media_is_read_without_writing(tmp_path, nb201, monkeypatch):
    """A study's file (write-ahead-log mode) on read-only media failed to open for design --study
    and report ("unable to open database file": its readers create a -shm side file). A file this
    process cannot write is read through an immutable SQLite URI; writing it fails in one line.
    (Run as root here, so the read-only folder is simulated through os.access.)"""
    import os

    from gennas.search import backends
    from gennas.search.runs import load_runs

    path = tmp_path / "ro" / "run.db"
    path.parent.mkdir()
    store = ResultStore.open(nb201, str(path), "s", attrs={"method": "random"})
    store.add(_results(nb201, 2)[0])
    store.backend.engine.dispose()  # the last connection closed: the log is written back, its side files go
    assert backends.read_only_uri(path) is None  # writable: opened as before
    before = path.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(path.parent)) and
                        mode & os.W_OK else real_access(p, mode, **kw))
    assert backends.read_only_uri(path) == f"{path.resolve().as_uri()}?immutable=1"
    backend = open_storage(str(path), existing=True)
    assert backend.url == f"sqlite:///{path}"  # the file's own URL: its work folders are found by it
    (run,) = load_runs(backend, ["s"])
    assert len(run.results) == 1
    with pytest.raises(GennasError, match="cannot open a study in storage .*readonly database"):
        ResultStore.open(nb201, str(path), "new")
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.db"] and path.read_bytes() == before
    with pytest.raises(GennasError, match=r"cannot create storage .*cannot be written \(read-only"):
        open_storage(str(path.parent / "new.db"))


def test_storage_strings_that_name_no_database_say_what_a_storage_is(tmp_path):
    """SQLAlchemy's "Could not parse SQLAlchemy URL", "Can't load plugin: sqlalchemy.dialects:postgres",
    "no such file" for a folder and "the folder good.yaml does not exist" for a path under a file
    reached users (a user review)."""
    (tmp_path / "dir.db").mkdir()
    (tmp_path / "good.yaml").write_text("x")
    cases = [(str(tmp_path / "x.txt"), r"is neither a .db file nor an optuna URL: .* sqlite:///.*x.txt for a SQLite"),
             (str(tmp_path), r"is a folder: a storage is a .db file \(made if missing\), e.g. .*run.db"),
             ("postgres://u@nohost/db", "use postgresql://u@nohost/db"),
             (str(tmp_path / "dir.db"), r"dir.db is a folder, not a .db file; name a file in it"),
             (str(tmp_path / "good.yaml" / "x.db"), r"good.yaml is a file, not a folder"),
             (f"sqlite:{tmp_path}/bad.db", f"a SQLite URL is sqlite:/// then the path .*: sqlite:///{tmp_path}/bad.db")]
    for storage, message in cases:
        for existing in (False, True):
            with pytest.raises(GennasError, match=message):
                open_storage(storage, existing=existing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.db", "good.yaml"]


@pytest.mark.parametrize("given", ["we?ird.db", "sqlite:///{folder}/we?ird.db"])
def test_a_question_mark_in_a_storage_file_name_is_refused_naming_the_file_sqlite_would_write(tmp_path, given,
                                                                                            monkeypatch):
    """Walk 37 #11: `--storage "we?ird.db"` stored the study in a file named `we`, without a word."""
    from gennas.search.backends import open_storage

    monkeypatch.chdir(tmp_path)  # the bare name is a file in the working folder

    with pytest.raises(GennasError, match=r"SQLite reads what follows '\?' as the URL's options \('ird\.db' is none\)"):
        open_storage(given.format(folder=tmp_path))
    assert not (tmp_path / "we").exists()


def test_a_journal_name_that_is_a_link_is_not_appended_through(tmp_path, nb201, monkeypatch):
    """Walk 38 #5: `run.db.journal.jsonl -> victim` planted beside a study: the unstored results
    were appended to the victim. The link is not followed; the home's journal takes them."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    victim = tmp_path / "victim.txt"
    victim.write_text("# someone's file\n")
    (tmp_path / "run.db.journal.jsonl").symlink_to(victim)
    store = ResultStore.open(nb201, str(tmp_path / "run.db"), "s")
    with monkeypatch.context() as patch:
        _fail_writes_after(patch, 0)
        with pytest.raises(GennasError, match=f"kept in {tmp_path / 'home' / 'journals'}"):
            store.add(_results(nb201, 2)[0])
    assert victim.read_text() == "# someone's file\n"


def test_a_dead_creator_s_temporary_schema_is_swept_when_the_database_is_opened(tmp_path):
    """A creator killed after linking its schema left `<db>.<pid>.tmp` for good: it was swept only when
    a database of that name was created again (user walk 48)."""
    from gennas.search.backends import open_storage

    db = tmp_path / "k9.db"
    open_storage(f"sqlite:///{db}")
    left = tmp_path / "k9.db.999999999.tmp"  # no such process
    left.write_bytes(b"half a schema")
    alive = tmp_path / f"k9.db.{os.getpid()}.tmp"  # a live creator's is kept
    alive.write_bytes(b"being written")
    open_storage(f"sqlite:///{db}")
    assert not left.exists() and alive.exists()
