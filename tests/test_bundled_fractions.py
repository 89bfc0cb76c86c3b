"""Fractions of a dataset the shipped predictor learned in % are learned as that % (user walk 57,
F1): fine-tuned towards 0.94, the network's cifar10 head lost its order, and a 20-cell search
verified cells of 92.5 % on average against 93.6 % for the same scores in % (seeds 5-14)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gennas
from gennas.design.statement import ScoresOffTable
from gennas.evaluators.base import Result


def _searched(to_score, seed: int = 0):
    bench = gennas.load_benchmark("nb201")
    designer = gennas.Designer("nb201", task="cifar10", seed=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        designer.search(gennas.CallableEvaluator(lambda a: to_score(bench.accuracy(a, "cifar10"))), budget=12,
                        batch_size=4, progress=False)
        designs = designer.generate(10)
    return designer, designs, [w for w in caught if issubclass(w.category, ScoresOffTable)]


def test_a_fraction_search_on_cifar10_verifies_and_states_what_the_same_search_in_percent_does():
    percent, percent_designs, _ = _searched(lambda acc: acc)
    fraction, fraction_designs, off_table = _searched(lambda acc: acc / 100)
    assert not off_table  # the table's accuracies, as fractions: not "scores in their own units"
    assert fraction.loop.scale.factor == 100.0 and percent.loop.scale.factor == 1.0
    assert [str(r.arch) for r in fraction.history] == [str(r.arch) for r in percent.history]
    assert [c.arch for c in fraction_designs] == [c.arch for c in percent_designs]
    stated = [c for c in percent_designs if c.predicted_accuracy is not None and c.interval is not None]
    assert stated  # calibrated statements, so their units can be compared
    for f, p in zip(fraction_designs, percent_designs):
        assert 100 * f.predicted_accuracy == pytest.approx(p.predicted_accuracy, abs=1e-6)
        assert 0 < f.predicted_accuracy < 1
        if p.interval is None:  # a verified design: its score, no interval
            assert f.interval is None and 100 * f.verified_score == pytest.approx(p.verified_score)
        else:
            assert [100 * v for v in f.interval] == pytest.approx(list(p.interval), abs=1e-6)


@pytest.fixture(scope="module")
def cells():
    bench = gennas.load_benchmark("nb201")
    archs = bench.space.sample_many(12, np.random.default_rng(3))
    return archs, [bench.accuracy(a, "cifar10") for a in archs]


def test_only_maximised_fractions_of_a_dataset_the_predictor_learned_in_percent_are_scaled(cells, monkeypatch,
                                                                                           tmp_path):
    """A new dataset keeps its fractions (the tables' line reads them, 100 % per unit), and so do
    scores minimised and a proxy's scores of 0-1."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))  # a new task's designer looks for a saved predictor
    archs, acc = cells
    cases = {("cifar10", "maximize", "callable"): 100.0, ("mytask", "maximize", "callable"): 1.0,
             ("cifar10", "minimize", "callable"): 1.0, ("cifar10", "maximize", "proxy:synflow"): 1.0}
    for (task, direction, kind), factor in cases.items():
        designer = gennas.Designer("nb201", task=task, seed=0, direction=direction)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            designer.tell([Result(a, s / 100 if direction == "maximize" else 1 - s / 100, kind)
                           for a, s in zip(archs, acc)])
        assert designer.loop.scale.factor == factor, (task, direction, kind)


def test_declared_accuracies_under_1_then_above_it_are_learned_in_percent_again(cells):
    """Accuracies of kind "train" all under 1 read as fractions (x 100) until one above 1 is told:
    the scale returns to % and every told score is learned again on it."""
    archs, _ = cells
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    designer.tell([Result(a, 0.2 + 0.05 * i, "train") for i, a in enumerate(archs[:6])])
    assert designer.loop.scale.factor == 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        designer.tell(Result(archs[6], 45.0, "train"))
    assert not designer.history[-1].failed and designer.loop.scale.factor == 1.0
    assert designer.loop.told_unit()[0] == 1.0


def test_fractions_off_a_bundled_table_are_named_in_the_percent_the_check_read(cells):
    """A fraction below cifar10's chance cell (0.05: 5 %, the table's lowest reads 10 %) is off the
    table as its %, and the warning's example says so in %, not "0.05 is outside [10.00, 94.37]"."""
    archs, acc = cells
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        told = [Result(a, s / 100, "callable") for a, s in zip(archs[:5], acc[:5])]
        designer.tell([*told, Result(archs[5], 0.05, "callable")])
    said = [str(w.message) for w in caught if issubclass(w.category, ScoresOffTable)]
    assert len(said) == 1 and "(5 is outside [10.00, 94.37])" in said[0]
