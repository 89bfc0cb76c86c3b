"""From scratch only the verified results calibrate a designer's statement: the cross-fitted copies'
interval, never the one member's zero spread as a "± 0"."""

from __future__ import annotations

import numpy as np

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.loop import LoopSettings
from gennas.design.pretrained import SCRATCH_MEMBERS, untrained_predictor
from gennas.evaluators.base import Result


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
