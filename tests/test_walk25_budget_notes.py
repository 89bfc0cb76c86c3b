"""Latency-budget messages a user walk (25) found misleading: advice already in effect, a count
by the bound read as a fact, a budget in another unit passing silently in a sampled space."""

from __future__ import annotations

from gennas.design.budget import LatencyBudget
from gennas.design.timed_here import generating_to_time
from gennas.errors import ON_COMMAND_LINE
from gennas.surrogates.latency import load_latency_estimator


def _reasons_on_command_line(budget: LatencyBudget, space) -> tuple[str, str]:
    """``budget``'s infeasible reason on the command line: plain, and while --time-here generates."""
    token = ON_COMMAND_LINE.set(True)
    try:
        plain = budget.infeasible_reason(space, "none")
        with generating_to_time():
            timed = budget.infeasible_reason(space, "none")
    finally:
        ON_COMMAND_LINE.reset(token)
    return plain, timed


def test_an_infeasible_budget_under_time_here_does_not_advise_what_is_in_effect(tmp_path, monkeypatch, mbv3,
                                                                                  register_here):
    """darts at 20 ms with --time-here: "a lower --latency-confidence admits more, and --time-here keeps
    designs by their timing", both given already; the designs to time are generated under the
    model's estimate, which no timing can lower (walk 25 #5). The budget below every timed
    architecture is said: the model extrapolates there."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("herebox", mbv3, 20.0)
    budget = LatencyBudget.for_device(mbv3, load_latency_estimator(mbv3), "herebox", 1.0, confidence=0.5)
    plain, timed = _reasons_on_command_line(budget, mbv3)
    assert "--time-here keeps designs by their timing on this machine (it times those the model's estimate puts " \
           "within the budget)" in plain, plain
    assert "a lower --latency-confidence" not in timed and "--time-here keeps" not in timed, timed
    assert "with --time-here, the designs to time are generated under the latency model's estimate (its 50% " \
           "bound): an architecture estimated over the budget is never timed" in timed, timed
    assert "a looser budget admits more, and `gennas latency measure --space mbv3 --name herebox " in timed, timed
    assert "--cells 60 --force` describes it by random architectures timed here)" in timed, timed
    for text in (plain, timed):
        assert "runs at 20 ms" in text and ": the budget lies below every architecture measured on herebox, so the " \
               "latency model extrapolates to it" in text, text
    loose = LatencyBudget.for_device(mbv3, load_latency_estimator(mbv3), "herebox", 1.0, confidence=0.5)
    object.__setattr__(loose, "max_latency_ms", 25.0)  # above the fastest timed: nothing is extrapolated
    assert "lies below every architecture" not in _reasons_on_command_line(loose, mbv3)[0]
