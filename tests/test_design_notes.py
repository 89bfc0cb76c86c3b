"""What `gennas design` says beside its table: why no score is stated under a budget, and why a
design states a score with no interval (user walks, 2026-12-05)."""

from __future__ import annotations

import gennas
from gennas.cli.design import no_interval_note, rank_only_note
from gennas.design.pretrained import untrained_predictor
from gennas.evaluators import Result


def test_under_a_budget_the_rank_only_note_counts_the_results_within_it(bench):
    """24 differing results, none within the budget, read "a statement needs 10 verified
    architectures whose scores differ"; the reason is that none is within the budget."""
    archs = bench.archs()
    slow = [a for a in archs if bench.latency(a, "pixel3") > 12][:12]
    designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=12, seed=0)
    designer.tell([Result(a, float(bench.accuracy(a, "cifar10")), "table") for a in slow])
    note = rank_only_note(designer, "cifar10", None, 10)
    assert "0 of the 12 successful results are within 12 ms on pixel3" in note
    unbudgeted = gennas.Designer("nb201", task="cifar10", seed=0)
    unbudgeted.tell([Result(slow[0], 90.0, "table")])
    assert "from 1 successful results" in rank_only_note(unbudgeted, "cifar10", None, 10)


def test_a_designer_from_scratch_says_why_its_designs_state_no_interval(nb201, bench):
    archs = bench.archs()[::997][:12]
    designer = gennas.Designer(nb201, task="own-accuracy", predictor=untrained_predictor(nb201), seed=0)
    designer.tell([Result(a, float(bench.accuracy(a, "cifar10")), "table") for a in archs])
    designs = designer.generate(15)
    assert any(c.verified_score is None and c.predicted_accuracy is not None for c in designs)
    note = no_interval_note(designer, designs)
    assert note is not None and "from scratch" in note
    pretrained = gennas.Designer(nb201, task="cifar10", seed=0)
    assert no_interval_note(pretrained, pretrained.generate(5)) is None  # calibrated: intervals stated
