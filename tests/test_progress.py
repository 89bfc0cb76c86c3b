"""Long work reports and resumes: progress inside an evaluation, plain lines off a terminal,
per-epoch resume of a training evaluation through the study's work folder."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gennas

from gennas.checkpoint import load_checkpoint
from gennas.cli.app import app
from gennas.datasets import image_loaders
from gennas.evaluators import TrainEvaluator
from gennas.search import make_optimizer, run_search
from gennas.search import progress
from gennas.search.progress import SearchProgress, report, reporting, work_dir

TINY = {"channels": 8, "cells_per_stage": 1}
LINE = re.compile(r"^\[gennas \d\d:\d\d(:\d\d)?\] \S")


def test_report_reaches_only_a_listener():
    report("nobody listens", 1, 2)  # no listener: a no-op
    heard = []
    with reporting(lambda *a: heard.append(a)):
        assert progress.listening()
        report("train epoch 1/2 step", 3, 10)
    assert not progress.listening()
    assert heard == [("train epoch 1/2 step", 3, 10)]


def test_cli_search_logs_plain_lines_off_a_terminal(tmp_path, monkeypatch):
    """A train-evaluator search whose stderr is not a terminal writes progress lines, each one
    whole, with the epochs inside the evaluation, and no bar frames or escape codes."""
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_S", 0.0)  # every report becomes a line here
    db = tmp_path / "s.db"
    result = CliRunner().invoke(app, ["search", "--method", "random", "--evaluator", "train", "--task", "digits",
                                      "--budget", "2", "--epochs", "2", "--limit", "40",
                                      "--storage", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("[gennas")]
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr  # no frames, no colours
    assert all(LINE.match(ln) for ln in lines)
    text = "\n".join(lines)
    assert "search started: 0/2 verified" in lines[0]
    assert "verified 1/2" in text and "verified 2/2" in text and "search finished: 2/2" in lines[-1]
    assert re.search(r"verifying 1/2: train epoch 1/2 .*step \d+/\d+", text)
    assert re.search(r"verifying 2/2: train epoch 2/2 ", text)
    # stored: the training state is cut down to the trained weights, kept for `design --export`
    kept = list((tmp_path / "s.db.work").rglob("*.pt"))
    weights_only = {"model", "epoch", "history", "seconds"}  # seconds: a resumed Result's cost_s is the total
    assert len(kept) == 2 and all(load_checkpoint(p, "trained").state.keys() <= weights_only for p in kept)
    # and with them how the images were prepared, for an export to state (it recorded only a shape)
    from gennas.datasets import input_recipe
    from gennas.export import export_trained

    build = __import__("json").loads(export_trained(kept[0], tmp_path / "exp", onnx=False)["build"].read_text())
    assert build["trained"] is True and build["inputs"] == input_recipe("digits", size=32, channels=3)
    # training settings are study settings: resuming with other epochs or images is refused
    other = CliRunner().invoke(app, ["search", "--method", "random", "--evaluator", "train", "--task", "digits",
                                     "--budget", "3", "--epochs", "1", "--limit", "40", "--resume",
                                     "--storage", f"sqlite:///{db}"])
    assert other.exit_code == 2 and "epochs=2" in other.stderr and "epochs=1" in other.stderr


def test_plain_lines_are_rate_limited_and_a_silent_evaluator_gets_a_heartbeat():
    class Result:
        best, failures = None, []

    stream = io.StringIO()  # not a terminal
    with SearchProgress(True, 3, 0, Result(), stream=stream, interval_s=10.0, heartbeat_s=0.2) as bar:
        for step in range(1000):
            report("supernet epoch 1/1 batch", step, 1000)  # a burst of reports: at most one line
        time.sleep(0.5)  # an evaluator that reports nothing for a while
        bar.update(1)
    lines = stream.getvalue().splitlines()
    assert sum("] verifying 1/3: supernet epoch" in ln for ln in lines) <= 1  # at most one per 10 s
    assert any("still verifying 1/3: supernet epoch 1/1 batch 999/1000" in ln for ln in lines)
    assert "verified 1/3, best -" in lines[-2] and "search finished: 1/3" in lines[-1]


def test_terminal_bar_shows_the_stage_in_its_description():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Result:
        best, failures = None, []

    bar = SearchProgress(True, 2, 0, Result(), stream=Tty())
    with bar:
        report("train epoch 2/5 step", 7, 40)
        task = bar._bar.tasks[0]
        assert task.description.endswith("| train epoch 2/5 step 7/40")
        bar.update(1)
        assert bar._bar.tasks[0].completed == 1 and "train" not in bar._bar.tasks[0].description


def test_work_dir_beside_sqlite_else_under_gennas_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    beside = work_dir(f"sqlite:///{tmp_path}/a.db", "my study/../x")
    assert beside.parent == tmp_path / "a.db.work" and "/" not in beside.name and ".." not in beside.name
    server = work_dir("postgresql://u@h/db", "s")
    assert server.is_relative_to(tmp_path / "home" / "work")
    assert work_dir(None, "s") is None and work_dir("sqlite:///:memory:", "s") is None


@pytest.fixture(scope="module")
def digits():
    return image_loaders("digits", batch_size=64, channels=3, seed=0, limit=200)


def _evaluator(space, digits, **kw):
    return TrainEvaluator(space, *digits, **{"epochs": 2, "seed": 0, "build_options": TINY, "progress": False, **kw})


def test_interrupted_search_resumes_the_architecture_from_its_last_epoch(space, digits, tmp_path):
    db = f"sqlite:///{tmp_path}/s.db"

    def stop_in_epoch_2(stage, done, total):
        if stage.startswith("train epoch 2/2"):
            raise KeyboardInterrupt

    with reporting(stop_in_epoch_2), pytest.raises(KeyboardInterrupt):
        run_search(make_optimizer("random", space, 0), _evaluator(space, digits), 2, storage=db,
                   study_name="s", progress=False)
    saved = list((tmp_path / "s.db.work").rglob("train_*.pt"))
    assert len(saved) == 1 and load_checkpoint(saved[0], "trained", "nb201").state["epoch"] == 1

    stages = []
    with reporting(lambda stage, done, total: stages.append(stage)):
        out = run_search(make_optimizer("random", space, 0), _evaluator(space, digits), 2, storage=db,
                         study_name="s", progress=False, resume=True)
    first = out.history[0]
    assert first.metadata["resumed_from_epoch"] == 1 and [h["epoch"] for h in first.metadata["history"]] == [1, 2]
    assert stages[0].startswith("train epoch 2/2")  # epoch 1 was not trained again
    assert out.history[1].metadata["resumed_from_epoch"] == 0
    assert not (tmp_path / "s.db.work").exists()  # both stored: nothing left to resume


def test_keep_weights_keeps_the_trained_weights_only(space, digits, tmp_path):
    from gennas.datasets import input_recipe
    from gennas.export import export_result

    recipe = input_recipe("digits", channels=3)  # as README's Python example passes it
    ev = _evaluator(space, digits, keep_weights=True, epochs=1, inputs=recipe)
    out = run_search(make_optimizer("random", space, 1), ev, 1, storage=f"sqlite:///{tmp_path}/k.db",
                     study_name="k", progress=False)
    path = out.history[0].metadata["checkpoint"]
    state = load_checkpoint(path, "trained", "nb201").state
    assert set(state) == {"model", "epoch", "history", "seconds"} and state["epoch"] == 1
    assert ev.checkpoint_dir is None  # the study's work folder was the evaluator's for that run only
    again = _evaluator(space, digits, epochs=1, checkpoint_dir=Path(path).parent).train(out.history[0].arch)
    assert again.score == out.history[0].score and again.metadata["resumed_from_epoch"] == 1  # not retrained
    build = __import__("json").loads(export_result(out.history[0], tmp_path / "exp", onnx=False)["build"].read_text())
    assert build["trained"] is True and build["inputs"] == recipe  # a Python user's export says its inputs


def test_one_evaluator_in_two_studies_keeps_each_study_s_weights_in_its_own_folder(space, digits, tmp_path):
    """Walk 34 #6: the first study's work folder stayed the evaluator's, and the second study's
    trained weights (and resumable state) were written into it."""
    ev = _evaluator(space, digits, keep_weights=True, epochs=1)
    storage = f"sqlite:///{tmp_path}/run.db"
    first = run_search(make_optimizer("random", space, 1), ev, 1, storage=storage, study_name="A", progress=False)
    second = run_search(make_optimizer("random", space, 2), ev, 1, storage=storage, study_name="B", progress=False)
    folders = [Path(out.history[0].metadata["checkpoint"]).parent.name for out in (first, second)]
    assert folders[0].startswith("A-") and folders[1].startswith("B-") and ev.checkpoint_dir is None


def test_supernet_reports_its_batches(space, digits):
    from gennas.evaluators import Supernet

    heard = []
    sn = Supernet(space, in_channels=3, torch_device="cpu", channels=8, cells_per_stage=1)
    with reporting(lambda stage, done, total: heard.append((stage, done, total))):
        sn.fit(digits[0], epochs=1, val_loader=digits[1])
        sn.evaluate([space.sample(0)], calib_batches=1)
    train = [h for h in heard if h[0] == "supernet epoch 1/1 batch"]
    assert [d for _, d, _ in train] == list(range(1, len(digits[0]) + 1)) and train[-1][2] == len(digits[0])
    assert ("supernet subnet 1/1 batch", len(digits[1]), len(digits[1])) in heard


def test_work_dir_falls_back_to_gennas_home_when_the_db_folder_is_read_only(space, digits, tmp_path, monkeypatch):
    import os

    from gennas.search.progress import attach_work_dir

    if os.geteuid() == 0:  # root writes anywhere: simulate the read-only folder instead
        monkeypatch.setattr(os, "access", lambda path, mode: not str(path).startswith(str(tmp_path / "ro")))
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    ev = _evaluator(space, digits)
    with pytest.warns(gennas.GennasWarning, match=r"work folder .*ro/s.db.work/s-\w+ cannot be written: its trained "
                                                  r"weights and resumable state go to .*home/work"):
        folder = attach_work_dir(ev, f"sqlite:///{tmp_path}/ro/s.db", "s")  # said (it went there silently)
    assert folder == ev.checkpoint_dir and folder.is_relative_to(tmp_path / "home" / "work")
    assert attach_work_dir(ev, f"sqlite:///{tmp_path}/other.db", "s") is None  # one given already: kept
    (tmp_path / "ro").chmod(0o700)
    # a relative file is told apart by its folder: jobs passing `--storage run.db` from two folders shared one
    from gennas.search.progress import work_dirs

    monkeypatch.chdir(tmp_path / "ro")
    here = work_dirs("sqlite:///run.db", "s")[-1]
    monkeypatch.chdir(tmp_path)
    assert work_dirs("sqlite:///run.db", "s")[-1] != here == work_dirs(f"sqlite:///{tmp_path}/ro/run.db", "s")[-1]


def test_a_search_shows_progress_by_default_unless_its_scores_are_table_lookups(capsys):
    """Long work shows progress: a designer's search verifying with anything but a table (a training,
    a proxy, a user's callable) logs its verifications on stderr unless told ``progress=False``."""
    import gennas

    table = gennas.TableEvaluator("nb201", "cifar10")
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    designer.search(table, budget=2)
    assert "[gennas" not in capsys.readouterr().err  # milliseconds a verification: nothing to wait for
    designer.search(lambda arch: table.evaluate(arch).score, budget=2)
    err = capsys.readouterr().err
    assert "search started: 0/2 verified" in err and "verified 2/2" in err
    designer.search(lambda arch: table.evaluate(arch).score, budget=1, progress=False)
    assert "[gennas" not in capsys.readouterr().err
    with pytest.raises(TypeError):  # after the budget every option is named: the two search functions order them differently
        designer.search(table, 2, 1)


def test_off_a_terminal_verified_lines_are_the_first_the_last_and_each_new_best():
    """Walk 39 #9: a 200-verification table search wrote 202 lines in 3 s, one per verification."""
    class Result:
        best, failures = None, []

    class Scored:
        def __init__(self, score: float) -> None:
            self.score = score

    result = Result()
    stream = io.StringIO()  # not a terminal
    with SearchProgress(True, 100, 0, result, stream=stream, interval_s=10.0, heartbeat_s=60.0) as bar:
        for step in range(100):
            if step in (0, 40):
                result.best = Scored(50.0 + step)
            bar.update(1)
    said = [re.sub(r", about .* left$", "", ln.split("] ", 1)[1]) for ln in stream.getvalue().splitlines()]
    assert said == ["search started: 0/100 verified", "verified 1/100, best 50", "verified 41/100, best 90",
                    "verified 100/100, best 90", "search finished: 100/100 verified, best 90"]


def test_off_a_terminal_verified_lines_say_about_how_long_is_left():
    """A real training's search showed elapsed time only, though each cell took a steady 15-24 s
    (user walk 52): the time left at this run's mean seconds per verification."""
    class Result:
        best, failures = None, []

    stream = io.StringIO()  # not a terminal
    with SearchProgress(True, 4, 0, Result(), stream=stream, interval_s=0.0, heartbeat_s=60.0) as bar:
        bar._start -= 120.0  # the first verification took two minutes
        bar.update(1)
        bar.update(3)
    lines = stream.getvalue().splitlines()
    assert "verified 1/4, best -, about 06:00 left" in lines[1]
    assert lines[2].endswith("verified 4/4, best -")  # nothing left: no estimate
