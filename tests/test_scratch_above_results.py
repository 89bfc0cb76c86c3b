"""From scratch nothing calibrates the predictor above its results: designs predicted there state
no value (they read as the best result's), and rank as a typical verified result."""

from __future__ import annotations

import numpy as np
import pytest

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.loop import LoopSettings
from gennas.design.pretrained import untrained_predictor
from gennas.design.verified import in_stated_order
from gennas.evaluators.base import Result
from gennas.surrogates.calibration import Predictions


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_designs_predicted_above_every_result_from_scratch_state_no_value_and_follow_the_better_results(
        monkeypatch, tmp_path, bench):
    """A user walk's synflow study in its own space stated 9 unverified designs at the best
    result, 4.606e8 (the clip to what the results reach), for truths of 3.5e7-1.3e8, ranked above
    verified cells measured at 4.1e8-4.4e8. Here 12 cifar10 accuracies told from scratch."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    d = gennas.Designer("nb201", task="new-cifar10", predictor=untrained_predictor(bench.space, 0), seed=0,
                        loop=LoopSettings(pool=1))
    # in two tells: told in one, the refitted network put its own results a median 1.4 stds low, and
    # nothing is stated from such a model (Statements.own_results_miss)
    archs = bench.archs()[::991][:12]
    for part in (archs[:6], archs[6:]):
        d.tell([Result(a, bench.accuracy(a, "cifar10"), "table") for a in part])
    told = np.array([r.score for r in d.history])
    designs = d.generate(20)
    above = [c for c in designs if c.unstated_above]
    assert above, "the scratch network predicts its guided designs above every result"
    stated = [c.predicted_accuracy for c in designs if c.verified_score is None and c.predicted_accuracy is not None]
    assert all(value < told.max() for value in stated)  # none pinned at the best result
    # the verified above the results' median come before every design stated nothing above them
    first_above = min(c.rank for c in above)
    better = [c for c in designs if c.verified_score is not None and c.verified_score > np.median(told)]
    assert better and all(c.rank < first_above for c in better)
    assert any("predicted above every verified result" in note and "ranked as a typical (the median)" in note
               for note in designs.notes)
    assert all(candidate_row(c)["beyond_calibration"] is True for c in above)  # the JSON row says why (walk 32 #3)


def test_unstated_designs_above_the_results_rank_at_the_median_result(bench):
    """The ranking's rule alone: NaN stated and flagged beyond -> the verified median's place."""
    archs = bench.archs()[:4]
    verified = {archs[0].to_string(): 90.0, archs[1].to_string(): 80.0, archs[2].to_string(): 70.0}
    nan = np.nan
    p = Predictions(raw=np.array([1.0, 0.5, 0.2, 2.0]), score=np.array([1.0, 0.5, 0.2, 2.0]),
                    mean=np.array([90.0, 80.0, 70.0, nan]), beyond=np.array([False, False, False, True]))
    order = in_stated_order([3, 0, 1, 2], p, archs, verified, gennas.Designer("nb201", seed=0).loop.scale)
    assert order == [0, 1, 3, 2]  # at the median, 80: after the cell measured at 80, before 70
