"""Statements follow the units of a user's scores: a fraction, an error rate to minimise, or an
accuracy shifted by a constant state the same designs, each in its own units (a user walk: the
measured tables' fall in % was read as a fall in fractions, 0.57 [0.19, 0.94] for a cell of 0.94)."""

from __future__ import annotations

import numpy as np
import pytest

import gennas


def _designs(monkeypatch, tmp_path, to_score, direction):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / direction))
    bench = gennas.load_benchmark("nb201")
    designer = gennas.Designer("nb201", task="mytask", seed=0, direction=direction)
    designer.search(gennas.CallableEvaluator(lambda a: to_score(bench.accuracy(a, "cifar10"))), budget=15)
    return [c for c in designer.generate(30) if c.verified_score is None]


def test_statements_after_a_search_are_the_same_in_any_units(monkeypatch, tmp_path):
    fraction = _designs(monkeypatch, tmp_path, lambda acc: acc / 100, "maximize")
    error = _designs(monkeypatch, tmp_path, lambda acc: 1 - acc / 100, "minimize")
    shifted = _designs(monkeypatch, tmp_path, lambda acc: acc - 100, "maximize")  # the spread of %, not its range
    assert fraction and all(c.predicted_accuracy is not None for c in fraction)
    assert [c.arch for c in fraction] == [c.arch for c in error] == [c.arch for c in shifted]
    as_percent = lambda c, back: sorted([back(c.predicted_accuracy), *map(back, c.interval)])  # noqa: E731
    for f, e, s in zip(fraction, error, shifted):
        expected = as_percent(f, lambda v: 100 * v)
        assert as_percent(e, lambda v: 100 - 100 * v) == pytest.approx(expected, abs=1e-6)
        assert as_percent(s, lambda v: v + 100) == pytest.approx(expected, abs=1e-6)
    # in the scores' own scale: the designs below the results are a few tenths of a point apart, not 40
    low, high = np.array([[100 * v for v in c.interval] for c in fraction]).T
    assert (high - low).max() < 3.0
