"""A design whose equivalent cell was verified states that measurement; an export never swaps in
the equivalent cell (gennas.design.verified.verified_among, gennas.export.trained_weights_of)."""

from __future__ import annotations

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.verified import verified_among
from gennas.evaluators.base import Result
from gennas.export import trained_weights_of

# one canonical class (the benchmark's rule): FAST runs 6.6 ms on pixel3, SLOW 20.0 ms
FAST = "|none~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
SLOW = "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_an_equivalent_cells_measurement_is_its_class_s_own_first(nb201):
    fast, slow, other = (nb201.from_string(s) for s in (FAST, SLOW, OTHER))
    assert fast.canonical_hash() == slow.canonical_hash() != other.canonical_hash()
    history = [Result(slow, 8.0, "train"), Result(other, 90.0, "train"), Result(other, 92.0, "train"),
               Result(fast, float("nan"), "train", error="diverged")]
    assert verified_among([fast, other], history) == {FAST: 8.0, OTHER: 91.0}
    assert verified_among([slow], [*history, Result(slow, 10.0, "train")]) == {SLOW: 9.0}


def test_under_a_budget_a_design_states_the_measurement_of_its_verified_equivalent(nb201, bench):
    """SLOW is verified but over the budget, so the pool keeps a cell of its class within it (FAST
    or another): the same network by the benchmark's rule, it comes back verified at SLOW's score (it came back unverified, stated
    45.42 [0, 91.91] beside an equivalent verified at 8.0 %)."""
    assert bench.latency(nb201.from_string(FAST), "pixel3") < 10.0 < bench.latency(nb201.from_string(SLOW), "pixel3")
    designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=10.0, seed=0)
    designer.tell([Result(nb201.from_string(SLOW), 99.0, "table")])
    # a rank only (one result): the verified class takes the place the rank gives it (user walk 58)
    same = [c for c in designer.generate(100) if c.arch.canonical_hash() == nb201.from_string(SLOW).canonical_hash()]
    assert len(same) == 1  # a cell of the class within the budget (FAST or another)
    assert same[0].verified_score == 99.0 and same[0].interval is None
    assert bench.latency(same[0].arch, "pixel3") <= 10.0
    # the measurement is another cell's, over the budget: said so (user walk 58)
    assert same[0].verified_by_equivalent and "verified 99.00 % on an equivalent cell" in str(same[0])
    assert candidate_row(same[0])["verified_by_equivalent"] is True  # `gennas design --json` alike


def test_an_export_takes_trained_weights_of_the_same_graph_only(nb201, tmp_path):
    kept = tmp_path / "train_slow.pt"  # a name a TrainEvaluator writes: any other is not read
    kept.write_bytes(b"weights")
    history = [Result(nb201.from_string(SLOW), 8.0, "train", metadata={"checkpoint": str(kept)})]
    assert trained_weights_of(nb201.from_string(SLOW), history) == kept
    assert trained_weights_of(nb201.from_string(FAST), history) is None  # other modules: fresh weights
