"""Task names and held-out bundled tables (walk 26 #6), samples' statements (#7), near-miss names (#10)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.design.holdout import HeldOutNaming

runner = CliRunner()


def _caught(make):
    """(the value of ``make()``, the warnings it gave)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = make()
    return value, caught


def _holdout():
    return gennas.load_predictor("nb201", holdout="cifar100")


def _looped(task: str, bench, steps: int = 10) -> gennas.Designer:
    """A held-out designer after ``steps`` asks, each told its cifar100 table value (walk 26's loop)."""
    designer = gennas.Designer("nb201", task=task, predictor=_holdout(), seed=2)
    for _ in range(steps):
        arch = designer.ask(1)[0]
        designer.tell([gennas.Result(arch, float(bench.accuracy(arch, "cifar100")), "train")])
    return designer


def test_a_task_named_after_the_held_out_table_reads_nothing_of_it(bench):
    """Named "cifar100" beside the predictor held out from cifar100, the statements' upper ends were
    clipped at that table's best cell, 73.51 (73.58 / 73.53 with the table deleted), with no
    warning: it now states what 'new-cifar100' states, and says once why."""
    named, caught = _caught(lambda: _looped("cifar100", bench))
    said = [str(w.message) for w in caught if issubclass(w.category, HeldOutNaming)]
    assert len(said) == 1 and "held out from" in said[0] and "'new-cifar100'" in said[0], said
    new = _looped("new-cifar100", bench)
    cells = [bench.space.from_string(s) for s in bench.strings[:400]]
    a, b = named.predictions(cells), new.predictions(cells)
    assert a.mean is not None and np.array_equal(a.mean, b.mean, equal_nan=True)
    assert np.array_equal(a.high, b.high, equal_nan=True)
    designs = named.generate(20)
    assert [c.interval for c in designs] == [c.interval for c in new.generate(20)]


def test_a_budget_s_best_cell_is_not_read_from_the_held_out_table():
    """The ceiling under a measured budget (the best cell within it) came from the held-out table too."""
    named, _ = _caught(lambda: gennas.Designer("nb201", task="cifar100", predictor=_holdout(), device="pixel3",
                                               max_latency_ms=5.0, seed=0))
    assert named._best_within_budget is None
    assert gennas.Designer("nb201", task="cifar100", device="pixel3", max_latency_ms=5.0, seed=0)._best_within_budget


def test_a_new_name_with_the_predictor_trained_on_that_table_gives_the_line_that_holds_it_out():
    """`Designer("nb201", task="new-cifar100")` (holdout= forgotten) ranked cifar100's optimum first in silence."""
    _, caught = _caught(lambda: gennas.Designer("nb201", task="new-cifar100", seed=0))
    said = [str(w.message) for w in caught if issubclass(w.category, HeldOutNaming)]
    assert len(said) == 1, said
    assert "trained on cifar100's table" in said[0]
    assert "predictor=gennas.load_predictor('nb201', holdout='cifar100')" in said[0]
    assert "gennas design --holdout cifar100" in said[0]
    for task, predictor in (("new-cifar100", _holdout()), ("cifar10-600epochs", None), ("new-mnist", None)):
        _, caught = _caught(lambda: gennas.Designer("nb201", task=task, predictor=predictor, seed=0))
        assert not [w for w in caught if issubclass(w.category, HeldOutNaming)], task


def test_cli_design_holds_a_dataset_out_and_warns_where_it_is_not():
    """`gennas design --task new-cifar100` ranked the optimum first; --holdout holds the table out."""
    forgot = runner.invoke(app, ["design", "--task", "new-cifar100", "-n", "2", "--json"])
    assert forgot.exit_code == 0, forgot.output
    assert "warning: task 'new-cifar100' reads as cifar100 held out" in forgot.stderr
    held = runner.invoke(app, ["design", "--task", "new-cifar100", "--holdout", "cifar100", "-n", "2", "--json"])
    assert held.exit_code == 0, held.output
    assert "warning" not in held.stderr
    python = gennas.Designer("nb201", task="new-cifar100", predictor=_holdout(), seed=0).generate(2)
    assert [row["arch"] for row in json.loads(held.stdout)] == [c.arch.to_string() for c in python]
    named = runner.invoke(app, ["design", "--task", "cifar100", "--holdout", "cifar100", "-n", "1", "--json"])
    assert "held out from" in named.stderr and "table_acc" not in json.loads(named.stdout)[0]
    study = runner.invoke(app, ["design", "--holdout", "cifar100", "--storage", "x.db", "--study", "s"])
    assert study.exit_code == 2 and "--holdout goes without --study" in study.stderr


@pytest.mark.parametrize("holdout", ["cifar-100", "ImageNet16-120"])
def test_cli_holdout_of_an_unknown_dataset_is_refused(holdout):
    refused = runner.invoke(app, ["design", "--holdout", holdout, "-n", "1"])
    assert refused.exit_code == 2 and "unknown holdout dataset" in refused.stderr


def _samples(bench, n: int, seed: int = 0, score=lambda acc: acc) -> list:
    """``n`` random cells with ``score`` of their cifar100 accuracy (walk 26's s16_samples.py draws)."""
    archs = bench.archs()
    picked = np.random.default_rng(seed).choice(len(archs), n, replace=False)
    return [(archs[i], float(score(bench.accuracy(archs[i], "cifar100")))) for i in picked]


def test_a_task_described_by_samples_states_nothing_beyond_them(bench):
    """12 random cifar100 samples (best 69.96) stated 74.54 / 74.29 / 74.17 %, above the task's best
    cell (73.51): nothing is stated beyond the samples' range now, and a note says why."""
    samples = _samples(bench, 12)
    designer = gennas.Designer("nb201", task=gennas.Task.from_samples(samples), predictor=_holdout(), seed=0)
    designs = designer.generate(10)
    scores = [score for _, score in samples]
    stated = [c.predicted_accuracy for c in designs]
    assert all(min(scores) <= value <= max(scores) for value in stated), stated
    capped = [c for c in designs if c.beyond_calibration]
    assert capped and all(c.predicted_accuracy == max(scores) for c in capped)
    notes = " ".join(designs.notes)
    assert f"stated at the best sample's score, {max(scores):g} %" in notes
    assert "share the stated value" not in notes  # no calibration to blame: the samples' reach says why


def test_a_minimized_samples_task_states_within_its_samples_too(bench):
    """Error rates to minimise: the best design is stated at the lowest sample, never below it."""
    samples = _samples(bench, 12, score=lambda acc: 100.0 - acc)
    designer = gennas.Designer("nb201", task=gennas.Task.from_samples(samples), predictor=_holdout(), seed=0,
                               direction="minimize")
    stated = [c.predicted_accuracy for c in designer.generate(5)]
    scores = [score for _, score in samples]
    assert all(min(scores) <= value <= max(scores) for value in stated), stated
    assert stated[0] == min(scores)


def _asked(task: str, predictor=None) -> list[str]:
    """The "did you mean" warnings of a designer for ``task``."""
    _, caught = _caught(lambda: gennas.Designer("nb201", task=task, predictor=predictor, seed=0))
    return [str(w.message) for w in caught if "did you mean" in str(w.message)]


@pytest.mark.parametrize("typo", ["cifar1OO", "CIFAR-l00", "cifar"])
def test_a_near_miss_of_a_known_task_is_asked_about(typo):
    """task="cifar1OO" (the letter O) was silently a new dataset, while "CIFAR100" was asked about."""
    asked = _asked(typo)
    meant = "cifar10" if typo == "cifar" else "cifar100"
    assert len(asked) == 1 and f"did you mean {meant!r}?" in asked[0], asked


def test_new_names_are_not_asked_about():
    """Names of new datasets, and known names joined to other words on purpose, stay unasked."""
    for task in ("new-cifar100", "mnist", "my-dataset", "cifar10-600epochs", "heldout-cifar100", "cifar100-new"):
        assert not _asked(task, _holdout()), task
    from gennas.design.task_names import warn_if_misnamed

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_misnamed("mnist-synflow", ["mnist-synflow-log10"], set())  # another score of the same data


def test_cli_design_refuses_a_near_miss():
    said = runner.invoke(app, ["design", "--task", "cifar1OO", "-n", "1", "--json"])
    assert said.exit_code == 2 and "did you mean 'cifar100'?" in said.stderr
