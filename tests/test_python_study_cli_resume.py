"""``gennas search --resume`` of a study a Python callable verified under a kind the CLI has (walk 26 #9).

A study made by ``Designer.search(CallableEvaluator(fn, kind="train"), ...)`` on task
'new-cifar100', resumed from the command line without ``--evaluator``, exited 2 with "--evaluator
train needs bundled images: task 'new-cifar100' has none", an option the user never gave.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.cli.resumed_study import python_made
from gennas.evaluators import CallableEvaluator

runner = CliRunner()


@pytest.mark.parametrize("kind", ["train", "table"])
def test_a_python_callable_study_of_a_cli_kind_is_sent_to_python(tmp_path, monkeypatch, bench, kind):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = str(tmp_path / "p.db")
    scores = lambda: CallableEvaluator(lambda a: bench.accuracy(a, "cifar100"), kind=kind)  # noqa: E731
    batch = 2 if kind == "table" else 1  # the line names a batch size other than 1: a resume without it is refused
    gennas.Designer("nb201", task="new-cifar100", seed=0).search(scores(), budget=2, storage=db, study_name="heldout",
                                                                batch_size=batch)
    for given in ([], ["--evaluator", kind] + (["--data", "mnist"] if kind == "train" else [])):
        said = runner.invoke(app, ["search", "--resume", "--study", "heldout", "--storage", db, "-b", "3", *given])
        text = " ".join(said.stderr.split())
        assert said.exit_code == 2, said.output
        assert "needs bundled images" not in text and "table dataset" not in text
        assert f"study 'heldout' was verified by a Python evaluator of kind '{kind}' (a callable such as " \
               f"CallableEvaluator(fn, kind='{kind}')" in text
        assert f"gennas.Designer.from_study({db!r}, 'heldout').search(evaluator, budget=3," in text
        assert "resume=True" in text and ("batch_size=2" in text) == (batch == 2)
    # what it says continues the study, each stored result learned once
    designer = gennas.Designer.from_study(db, "heldout")
    resumed = designer.search(scores(), budget=3, storage=db, study_name="heldout", resume=True, batch_size=batch)
    assert resumed.resumed == 2 and len(resumed.history) == len(designer.history) == 3


def test_what_tells_a_python_callable_study_from_one_the_cli_rebuilds(nb201):
    # a callable records no epochs; the CLI's table refuses a dataset it has not
    assert "no epochs" in python_made({"evaluator": "train", "task": "new-cifar100"}, nb201)
    assert "no epochs" in python_made({"evaluator": "supernet", "task": "mnist"}, nb201)
    assert "no dataset 'new-cifar100'" in python_made({"evaluator": "table", "task": "new-cifar100"}, nb201)
    # the CLI's training (and a Python TrainEvaluator) and supernet record their epochs; a table dataset
    assert python_made({"evaluator": "train", "task": "mnist", "epochs": 1, "limit": 200}, nb201) is None
    assert python_made({"evaluator": "supernet", "task": "mnist", "epochs": 0}, nb201) is None
    assert python_made({"evaluator": "table", "task": "cifar10"}, nb201) is None
    assert python_made({"evaluator": "proxy:synflow", "task": "cifar10-synflow"}, nb201) is None
    assert python_made({}, nb201) is None


def test_a_study_searched_without_a_task_is_designed_from_the_command_line(tmp_path, monkeypatch):
    """``Designer("nb201").search(...)`` records no task: ``gennas design --study`` read the rebuilt
    designer's ``task.name`` and ended in an AttributeError traceback. It designs for the task the
    designs name (the predictor's default)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = str(tmp_path / "u.db")
    gennas.Designer("nb201", seed=0).search(gennas.TableEvaluator("nb201", "cifar10"), budget=2, storage=db,
                                            study_name="untasked")
    said = runner.invoke(app, ["design", "--storage", db, "--study", "untasked", "-n", "2"])
    assert said.exit_code == 0, said.output
    assert "nb201 architectures for cifar10" in " ".join(said.stdout.split())
