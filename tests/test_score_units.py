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
    percent = _designs(monkeypatch, tmp_path / "percent", lambda acc: acc, "maximize")
    error = _designs(monkeypatch, tmp_path, lambda acc: 1 - acc / 100, "minimize")
    shifted = _designs(monkeypatch, tmp_path / "shifted", lambda acc: acc - 100, "maximize")  # the spread of %
    assert fraction and all(c.predicted_accuracy is not None for c in fraction)
    assert [c.arch for c in fraction] == [c.arch for c in percent]
    assert [c.arch for c in error] == [c.arch for c in shifted]
    as_percent = lambda c, back: sorted([back(c.predicted_accuracy), *map(back, c.interval)])  # noqa: E731
    # fractions read as accuracies: stated as the same scores in % are
    for f, p in zip(fraction, percent):
        assert as_percent(f, lambda v: 100 * v) == pytest.approx(as_percent(p, lambda v: v), abs=1e-6)
    # a unit nothing ties to accuracy (an error rate minimised: it could be a loss): alike in any of them
    for e, s in zip(error, shifted):
        assert as_percent(e, lambda v: 100 - 100 * v) == pytest.approx(as_percent(s, lambda v: v + 100), abs=1e-6)
    # in the scores' own scale: the designs below the results are a few tenths of a point apart, not 40
    low, high = np.array([[100 * v for v in c.interval] for c in fraction]).T
    assert (high - low).max() < 3.0


def test_which_scores_read_as_accuracies():
    """Accuracies in % and fractions maximised map to % (the measured tables' line and unit range
    apply); scores minimised, shifted, scaled or a proxy's have no unit the designer can read."""
    from gennas.design.scores import percent_per_unit

    acc = np.array([71.2, 88.5, 93.1])
    assert percent_per_unit(acc, maximize=True, compressed=False) == 1.0
    assert percent_per_unit(acc / 100, maximize=True, compressed=False) == 100.0
    assert percent_per_unit(1 - acc / 100, maximize=False, compressed=False) is None  # could be a loss under 1
    assert percent_per_unit(acc - 100, maximize=True, compressed=False) is None
    assert percent_per_unit(acc * 1000, maximize=True, compressed=False) is None
    assert percent_per_unit(acc / 100, maximize=True, compressed=False, proxy=True) is None


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_fractions_are_guided_searched_and_stated_as_percent_is(monkeypatch, tmp_path):
    """Past the results the tables rank a new dataset by (20), the predictor learns the told
    scores' units: its guidance value in fractions pulled the generator 100 times weaker than in
    %, and after this search generate(25) returned other designs (the same verified cells)."""
    bench = gennas.load_benchmark("nb201")
    runs = []
    for unit, to_score in (("percent", lambda acc: acc), ("fraction", lambda acc: acc / 100)):
        monkeypatch.setenv("GENNAS_HOME", str(tmp_path / unit))
        designer = gennas.Designer("nb201", task="mytask", seed=0)
        out = designer.search(gennas.CallableEvaluator(lambda a, f=to_score: f(bench.accuracy(a, "cifar10"))),
                              budget=25, batch_size=5, progress=False)
        assert designer.loop.points_per_unit() == (1.0 if unit == "percent" else 100.0)
        runs.append(([str(r.arch) for r in out.history], [str(c.arch) for c in designer.generate(25)]))
    assert runs[0] == runs[1]


def test_a_unit_of_its_own_is_guided_as_strongly_as_percent(monkeypatch, tmp_path):
    """Error rates (fractions, minimised) were guided 100 times weaker than accuracies in %: after 30
    random cifar100 results told, the top 5 designs were 72.03 % against 72.95 in % (a user walk).
    Once the predictor learned them, one error-rate unit weighs as many points as the tables'
    spread says (about 100); a proxy's scores keep 1."""
    from gennas.evaluators.base import Result

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bench = gennas.load_benchmark("nb201")
    archs = bench.space.sample_many(25, np.random.default_rng(0))
    error = gennas.Designer("nb201", task="mytask", seed=0, direction="minimize")
    assert error.loop.points_per_unit() == 1.0  # nothing learned yet: the tables' % guide
    error.tell([Result(a, 1 - bench.accuracy(a, "cifar100") / 100, "callable") for a in archs])
    assert 30 < error.loop.points_per_unit() < 300
    proxy = gennas.Designer("nb201", task="mytask", seed=0)
    proxy.tell([Result(a, bench.accuracy(a, "cifar100") / 7, "proxy:synflow") for a in archs])
    assert proxy.loop.points_per_unit() == 1.0


def test_a_slip_among_fractions_and_kinds_told_together_are_warned_of(monkeypatch, tmp_path):
    """Walk 21: 14 fractions and one 5 were silently read as a unit of their own (stated 1.5-12
    points off), and "train" results in % told with fractions of another kind stated 31.70 for a
    cell verified at 70.36, without a word."""
    from gennas.evaluators.base import Result

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bench = gennas.load_benchmark("nb201")
    archs = bench.space.sample_many(15, np.random.default_rng(0))
    fractions = [Result(a, bench.accuracy(a, "cifar100") / 100, "callable") for a in archs]
    from gennas.design.told_units import OtherUnit
    slipped = gennas.Designer("nb201", task="mytask", seed=0)
    with pytest.warns(OtherUnit, match=r"5 \(an accuracy in %: 0.05 as a fraction\)"):  # no fraction is above 1
        slipped.tell([*fractions[:-1], Result(archs[-1], 5.0, "callable")])
    assert slipped.history[-1].failed
    with pytest.warns(UserWarning, match="14 of the 15 scores lie within 0-1 and 1 outside it"):
        gennas.Designer("nb201", task="mytask", seed=0).tell([*fractions[:-1], Result(archs[-1], -3.0, "callable")])
    mixed = [Result(a, bench.accuracy(a, "cifar100"), "train") for a in archs[:8]] + fractions[8:]
    with pytest.warns(OtherUnit, match="and 4 more, the first for .* other results are accuracies in %"):
        designer = gennas.Designer("nb201", task="mytask", seed=0)
        designer.tell(mixed)  # walk 26 #4: the fractions are not learned as %, nor the whole as one unit
    assert [r.failed for r in designer.history] == [False] * 8 + [True] * 7
    unitless = [Result(a, bench.accuracy(a, "cifar100"), "callable") for a in archs[8:]]
    with pytest.warns(UserWarning, match="'train' .accuracies in %. and of kind 'callable' are told together"):
        gennas.Designer("nb201", task="mytask", seed=0).tell(mixed[:8] + unitless)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a loss minimised, mostly under 1: no slip to warn of
        losses = [Result(a, 100 / bench.accuracy(a, "cifar100") - 0.9, "callable") for a in archs]
        gennas.Designer("nb201", task="mytask", seed=0, direction="minimize").tell(losses)
