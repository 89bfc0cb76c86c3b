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


def test_results_within_a_bounded_budget_are_counted_as_judged_and_those_the_bound_leaves_out_are_said(
        tmp_path, monkeypatch, nb201, bench, register_here):
    """"2 of the 20 successful results are within 54 ms on here" was counted by the 95 % bound (8 of
    the 20 ran within it), and the best verified cells, estimated within the budget, were left out
    by the bound without a word, though --time-here would have timed them (walk 25 #6)."""
    import gennas
    from gennas.design.notes import left_out_by_bound_note, rank_only_note
    from gennas.evaluators import Result

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("herebox", nb201, 2.0)
    register_here("farbox", nb201, 2.0, machine="another-machine")
    archs = [a for a in bench.archs()[:1000] if not nb201.output_is_constant(a)]
    probe = gennas.Designer("nb201", task="cifar10", device="herebox", max_latency_ms=1000.0, seed=0).loop.budget
    point, bound = probe.latency_ms(archs), probe.judged_ms(archs)
    budget_ms = float(sorted(point)[3 * len(point) // 4])  # 3/4 of the cells are estimated within it
    between = [a for a, p, b in zip(archs, point, bound) if p <= budget_ms < b][:3]
    bounded_in = [a for a, b in zip(archs, bound) if b <= budget_ms][:2]
    over = [a for a, p in zip(archs, point) if p > budget_ms][:4]
    assert len(between) == 3 and len(bounded_in) == 2 and len(over) == 4
    results = [Result(a, float(bench.accuracy(a, "cifar10")), "table") for a in between + bounded_in + over]
    notes = {}
    for device in ("herebox", "farbox"):
        designer = gennas.Designer("nb201", task="cifar10", device=device, max_latency_ms=budget_ms, seed=0)
        designer.tell(results)
        notes[device] = (rank_only_note(designer, "cifar10", None, 10), left_out_by_bound_note(designer),
                         _on_command_line(left_out_by_bound_note, designer),
                         left_out_by_bound_note(designer, time_here=True))
    counted, python, here, timed = notes["herebox"]
    assert (f"2 of the 9 successful results are judged within {budget_ms:g} ms on herebox by the latency model's "
            "95% upper bound") in counted, counted
    assert (f"3 verified results the latency model estimates within {budget_ms:g} ms on herebox are left out of "
            "the designs by its 95% upper bound (a bound, not a measurement") in here, here
    assert here.endswith("--time-here judges them by timing them on this machine instead"), here
    assert python.endswith("a lower latency_confidence admits them") and "--time-here" not in python, python
    assert timed is None  # under --time-here the estimate judges the pool: nothing to say
    elsewhere = notes["farbox"][2]  # measured on another machine: it cannot be timed here
    assert "--time-here" not in elsewhere and elsewhere.endswith("a lower --latency-confidence admits them"), elsewhere


def _on_command_line(note, *args):
    """``note(*args)`` as a ``gennas`` command sees it (its advice names options)."""
    token = ON_COMMAND_LINE.set(True)
    try:
        return note(*args)
    finally:
        ON_COMMAND_LINE.reset(token)


def test_a_budget_far_above_a_sampled_spaces_slowest_asks_about_its_unit(tmp_path, monkeypatch, mbv3, register_here):
    """darts at 54000 ms and mbv3 at 17000 ms (µs typed as ms) designed as without a budget, without
    a word: the "is it in milliseconds?" note was given only in spaces small enough to list (walk 25 #7)."""
    from gennas.design.budget_notes import loose_budget_note

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("herebox", mbv3, 20.0)
    estimator = load_latency_estimator(mbv3)
    loose = LatencyBudget.for_device(mbv3, estimator, "herebox", 17000.0)
    note = loose_budget_note(loose, mbv3)
    slowest = loose.sampled_slowest_ms(mbv3)
    assert 20.0 * 1.9 <= slowest < 1700, slowest  # the slowest timed reference (29 ms) at least
    assert note == (f"the budget of 17000 ms is {17000 / slowest:,.0f}x the slowest latency judged on herebox among "
                    f"200 random mbv3 architectures and those measured there ({slowest:.3g} ms, by the latency "
                    "model's 95% upper bound or a measurement), so it likely constrains nothing: is it in "
                    "milliseconds?"), note
    assert loose_budget_note(LatencyBudget.for_device(mbv3, estimator, "herebox", 30.0), mbv3) is None
    assert loose_budget_note(None, mbv3) is None


def test_a_budget_tighter_than_the_checked_percentiles_says_its_statements_were_not_checked():
    """User walk 58: at the 2nd percentile of 1080ti_1's latencies the 20 designs read 4.59 points
    high, covering 75 %, without a word; statements are checked down to the 10th percentile."""
    import numpy as np

    import gennas

    bench = gennas.load_benchmark("nb201")
    notes = {}
    for pct in (2, 12):
        ms = float(np.percentile(bench.latency_of(None, "1080ti_1"), pct))
        designer = gennas.Designer("nb201", task="cifar10", device="1080ti_1", max_latency_ms=ms, seed=0)
        notes[pct] = designer.generate(5).notes
    tight = [n for n in notes[2] if "tighter than the 10th percentile" in n]
    assert len(tight) == 1 and "keeps 2.0 % of the nb201 cells on 1080ti_1" in tight[0] and "+4.96" in tight[0]
    assert not any("tighter than" in n for n in notes[12])
