"""Statements in the user's units on the line to the measured tables (gennas.design.unit_line):
accuracies in % and fractions on the probit line, other units bracketed by the flat level and a
line straight in the unit."""

from __future__ import annotations

import numpy as np

from gennas.design.source_line import SourceLine, probit
from gennas.design.unit_line import own_unit_bracket
from gennas.surrogates.calibration import Calibration, Predictions


def test_designs_above_the_results_in_an_unknown_unit_lie_between_the_flat_level_and_the_line():
    """Error rates (negated: higher is better) told on a line in the source's probit: the designs
    at the learned top level are stated at the midpoint of that level and the line, in an
    interval holding both; the others and the ranking stay."""
    source_told = np.linspace(70, 90, 12)
    told = -(0.5 - 0.1 * probit(source_told)) + np.tile([-0.002, 0.002], 6)  # negated error rates
    learned = Calibration.fit(np.arange(12.0), np.sort(told))
    p = Predictions.of(np.array([3.0, 30.0]), np.ones(2), learned, (-np.inf, np.inf))
    assert list(p.top) == [False, True]
    designs = {"src": np.array([75.0, 95.0])}
    q = own_unit_bracket(p, told, {"src": source_told}, designs)
    line = SourceLine.fit(source_told, told, percent=False).through_upper_half(source_told, told)
    on_line = line.probit_of(np.array([95.0]))[0]  # straight in the unit: the value itself
    assert on_line > p.mean[1]
    assert np.isclose(q.mean[1], 0.5 * (p.mean[1] + on_line))
    assert q.low[1] <= p.low[1] and q.high[1] >= on_line and q.low[1] < q.mean[1] < q.high[1]
    assert q.mean[0] == p.mean[0] and q.low[0] == p.low[0] and q.high[0] == p.high[0]
    assert np.array_equal(q.score, p.score) and np.array_equal(q.raw, p.raw)
    # a line below the flat level says nothing more: the learned statement stays
    lower = {"src": np.array([75.0, 71.0])}
    assert np.array_equal(own_unit_bracket(p, told, {"src": source_told}, lower).mean, p.mean)


def test_error_rates_after_random_results_state_the_designs_above_them_between_level_and_line(monkeypatch, tmp_path):
    """Error rates minimised, told for 15 random cells of a new dataset (cifar100's accuracies,
    unseen by name): the designs predicted above every result are no longer all stated at the
    results' best level (their truth lies above it: 49 % covered on development seeds); their
    intervals reach past it and hold most of their true error rates."""
    import gennas
    from gennas.evaluators.base import Result

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bench = gennas.load_benchmark("nb201")
    archs = bench.space.sample_many(15, np.random.default_rng(3))
    designer = gennas.Designer("nb201", task="my_new_dataset", seed=3, direction="minimize")
    designer.tell([Result(a, 1 - bench.accuracy(a, "cifar100") / 100, "callable") for a in archs])
    beyond = [c for c in designer.generate(20) if c.beyond_calibration and c.verified_score is None]
    assert len(beyond) >= 5
    stated = np.array([c.predicted_accuracy for c in beyond])
    assert len(np.unique(stated.round(9))) > 1  # not one flat level
    truth = np.array([1 - bench.accuracy(c.arch, "cifar100") / 100 for c in beyond])
    low, high = np.array([sorted(c.interval) for c in beyond]).T
    assert low.min() < min(1 - bench.accuracy(a, "cifar100") / 100 for a in archs)  # past the best result
    assert np.mean((low <= truth) & (truth <= high)) >= 0.8


def test_a_unit_never_told_below_zero_is_not_stated_below_zero(monkeypatch, tmp_path):
    """Regrets (points below cifar10's best cell, minimised: 0 at the best) told for 15 random
    cells: a user walk saw designs stated at negative regrets, down to -1.8 points, a score no
    cell can have. Every statement keeps the sign the told scores kept, and the regret of the
    best cell is covered."""
    import gennas
    from gennas.design.unit_line import sign_range
    from gennas.evaluators.base import Result

    assert sign_range(np.array([0.3, 2.0])) == (0.0, np.inf)
    assert sign_range(np.array([-0.3, -2.0])) == (-np.inf, 0.0)
    assert sign_range(np.array([-0.3, 2.0])) == (-np.inf, np.inf)
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bench = gennas.load_benchmark("nb201")
    best = bench.best("cifar10")[1]
    archs = bench.space.sample_many(15, np.random.default_rng(6))
    designer = gennas.Designer("nb201", task="my-regrets", seed=6, direction="minimize")
    designer.tell([Result(a, best - bench.accuracy(a, "cifar10"), "callable") for a in archs])
    stated = [c for c in designer.generate(40) if c.verified_score is None]
    assert len(stated) >= 30 and all(c.interval is not None for c in stated)
    assert min(min(c.interval) for c in stated) == 0.0  # the best designs reach the best cell's 0
    assert min(c.predicted_accuracy for c in stated) >= 0.0
