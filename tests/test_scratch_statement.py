"""From scratch nothing calibrates a designer's statement: it says so instead of showing a "± 0"."""

from __future__ import annotations

import numpy as np

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.loop import LoopSettings
from gennas.design.pretrained import SCRATCH_MEMBERS, untrained_predictor
from gennas.evaluators.base import Result


def test_a_from_scratch_designer_states_no_interval_and_says_why(bench):
    d = gennas.Designer("nb201", task="new-cifar10", predictor=untrained_predictor(bench.space, 0), seed=0,
                        loop=LoopSettings(pool=1))
    assert SCRATCH_MEMBERS == 1  # one member: its spread is zero, which must not read as certainty
    d.search(lambda a: bench.accuracy(a, "cifar10"), budget=8)
    archs, y = bench.archs(), bench.accuracy_of(None, "cifar10")
    d.tell([Result(archs[i], float(y[i]), "table") for i in np.random.default_rng(1).choice(len(archs), 4)])
    out = d.generate(8)
    # values where they may be stated (the model fits its results since its fit takes no AdamW step after:
    # those it puts above every result state none), never an interval
    assert any(c.predicted_accuracy is not None for c in out)
    assert all(c.interval is None and c.predicted_std is None for c in out)
    assert all("±" not in str(c) for c in out)
    assert all("uncalibrated: no interval" in str(c) for c in out if c.verified_score is None and c.predicted_accuracy)
    assert all(str(c).count("verified") == 1 for c in out if c.verified_score is not None)
    assert all(candidate_row(c).get("pred_std") is None for c in out)  # a design stating nothing has no column
