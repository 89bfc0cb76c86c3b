"""From scratch only the verified results calibrate a designer's statement: the cross-fitted copies'
interval, never the one member's zero spread as a "± 0"."""

from __future__ import annotations

import numpy as np
import pytest

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.loop import LoopSettings
from gennas.design.pretrained import SCRATCH_MEMBERS, untrained_predictor
from gennas.evaluators.base import Result


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_from_scratch_designer_states_the_interval_its_results_calibrate(bench):
    d = gennas.Designer("nb201", task="new-cifar10", predictor=untrained_predictor(bench.space, 0), seed=0,
                        loop=LoopSettings(pool=1))
    assert SCRATCH_MEMBERS == 1  # one member: its spread is zero, which must not read as certainty
    d.search(lambda a: bench.accuracy(a, "cifar10"), budget=8)
    archs, y = bench.archs(), bench.accuracy_of(None, "cifar10")
    d.tell([Result(archs[i], float(y[i]), "table") for i in np.random.default_rng(1).choice(len(archs), 4)])
    out = d.generate(8)
    # each unverified design that states a value states the interval the copies' out-of-fold errors
    # give (each copy trained from scratch on four fifths of the 12 results), never a zero spread
    unverified = [c for c in out if c.verified_score is None and c.predicted_accuracy is not None]
    assert unverified
    for c in unverified:
        low, high = c.interval
        assert low < c.predicted_accuracy < high and high - low > 1.0 and c.predicted_std > 0
        assert "90 % in [" in str(c) and candidate_row(c)["pred_std"] == c.predicted_std
    assert all(c.interval is None for c in out if c.verified_score is not None)  # measured: no interval
    assert all(str(c).count("verified") == 1 for c in out if c.verified_score is not None)


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_from_scratch_study_rebuilt_elsewhere_states_what_the_searching_designer_states(bench, tmp_path,
                                                                                         monkeypatch):
    """`gennas design --study` refits once on every stored result where the search refitted per batch;
    both state the cross-fitted copies, each trained on the same results, so they agree (the loop's own
    network had stated from scratch, and the two had differed)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = f"sqlite:///{tmp_path}/runs.db"
    searched = gennas.Designer("nb201", task="new-cifar10", predictor=untrained_predictor(bench.space, 0), seed=0)
    searched.search(lambda a: bench.accuracy(a, "cifar10"), budget=12, batch_size=4, storage=db, study_name="s",
                    progress=False)
    rebuilt = gennas.Designer.from_study(db, "s")
    archs = bench.archs()[::400]
    ours, theirs = searched.predictions(archs), rebuilt.predictions(archs)
    assert np.isfinite(ours.mean).any() and ours.low is not None
    np.testing.assert_allclose(ours.mean, theirs.mean, equal_nan=True)
    np.testing.assert_allclose(ours.low, theirs.low, equal_nan=True)
