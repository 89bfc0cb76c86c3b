"""A registered device's own timings are noisy draws that a budget selects on: they are judged with
the margin that second timings of some of them give (gennas.surrogates.retiming)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.cli.output import latency_columns
from gennas.design.budget import LatencyBudget
from gennas.errors import GennasError
from gennas.surrogates.latency import load_latency_estimator
from gennas.surrogates.measure import register_device
from gennas.surrogates.retiming import RETIMED, recorded_margin, retiming_margin
from gennas.surrogates.slot_latency import SlotLatencyModel

SPACE_NAME = "retiming_test_space"  # this module's own (conftest USER_CELL_SPACE)


def test_the_margin_bounds_a_fresh_timing_at_its_confidence():
    """Log-normal timing noise (sd 0.08): over 400 registrations of 20 paired timings, a fresh
    timing exceeds margin * recorded in at most 5 % of cases on average (about 4 % expected from
    the conservative whole rank), and not far under it."""
    rng = np.random.default_rng(0)
    exceed = []
    for _ in range(400):
        true = rng.uniform(5, 50, RETIMED)
        first, second = (true * np.exp(rng.normal(0, 0.08, RETIMED)) for _ in range(2))
        margin = retiming_margin(first, second, 0.95)
        recorded, fresh = (np.exp(rng.normal(0, 0.08, 200)) for _ in range(2))
        exceed.append(np.mean(fresh > margin * recorded))
    assert 0.02 <= np.mean(exceed) <= 0.05


def test_the_margin_says_when_it_cannot_promise_and_when_nothing_is_known():
    first, second = [10.0, 20.0, 30.0], [11.0, 19.0, 33.0]
    assert math.isinf(retiming_margin(first, second, 0.95))  # 3 pairs cannot promise 95 %
    assert retiming_margin(first, second, 0.5) == 1.0  # a symmetric noise's median needs none
    assert retiming_margin([], [], 0.95) == 1.0  # nothing known: the timings as they are
    assert recorded_margin({"samples": [["a", 1.0]]}, 0.95) == 1.0  # registered before second timings
    with pytest.raises(ValueError, match="shape"):
        retiming_margin([1.0, 2.0], [1.0], 0.9)
    with pytest.raises(GennasError, match="confidence"):
        retiming_margin(first, second, 1.5)


def test_a_timed_architecture_is_judged_at_its_timing_times_the_margin(tmp_path, monkeypatch, user_cell_space):
    """A device registered with second timings: its timed architectures keep a budget only where
    their timing times the margin does; a designer states that as their bound, and an architecture
    whose timing alone is under the budget but not with the margin is not designed."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space(SPACE_NAME)
    space = gennas.load_space(str(path))
    refs = SlotLatencyModel(space).reference_archs()
    rng = np.random.default_rng(0)
    truth = np.array([0.2 + sum({"none": 0, "skip": 0.05, "conv3": 1.0, "pool3": 0.3}[op] for op in space.choices(a))
                      for a in refs])
    first, second = (truth * np.exp(rng.normal(0, 0.1, len(refs))) for _ in range(2))
    labels = [space.to_string(a) for a in refs]
    register_device("noisy_box", space, list(zip(refs, first)),
                    {"model": "slots", "retimed": [[s, float(ms)] for s, ms in zip(labels[:RETIMED], second)]})
    margin = retiming_margin(first[:RETIMED], second[:RETIMED], 0.95)
    assert 1.05 < margin < 1.6
    model = load_latency_estimator(space)
    fastest = int(np.argmin(first))
    # a budget the fastest timed cell keeps by its timing alone, not with the margin
    budget_ms = float(first[fastest]) * (1 + margin) / 2
    budget = LatencyBudget.for_device(space, model, "noisy_box", budget_ms)
    assert budget.own_margin == pytest.approx(margin)
    assert budget.judged_ms([refs[fastest]])[0] == pytest.approx(first[fastest] * margin)
    assert budget.latency_ms([refs[fastest]])[0] == pytest.approx(first[fastest])  # the timing, as measured
    assert labels[fastest] not in {space.to_string(a) for a in budget.timed_within(space)}
    shown = CliRunner().invoke(app, ["latency", "predict", labels[fastest], "--space", str(path), "--device",
                                     "noisy_box", "--json"])
    row = json.loads(shown.stdout)[0]  # the timing, and beside it what judges it
    assert row["table_ms"] == pytest.approx(first[fastest]) and row["bound_ms"] == pytest.approx(
        first[fastest] * margin)
    # a search's table shows the same two (it showed timing x margin as measured_ms)
    assert latency_columns(budget, 0.95, [refs[fastest]]) == [
        {"measured_ms": pytest.approx(first[fastest]), "bound_ms": pytest.approx(first[fastest] * margin),
         "bound_confidence": 0.95}]
    # with a looser budget the designer returns timed cells and states their bound
    loose = float(np.percentile(first, 50)) * margin
    trained = CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "20", "--quiet"])
    assert trained.exit_code == 0, trained.output
    designer = gennas.Designer(space, task="cifar10", device="noisy_box", max_latency_ms=loose, seed=0)
    designer.search(lambda a: float(space.choices(a).count("conv3") + 0.1 * len(set(space.choices(a)))),
                    budget=6)  # a predictor to design with
    designs = designer.generate(5)
    timed = [d for d in designs if d.latency_measured]
    assert timed, "some designs are timed cells"
    for design in timed:
        assert design.latency_bound_ms == pytest.approx(design.predicted_latency_ms * margin)
        assert design.latency_bound_ms <= loose


def test_a_recheck_says_how_far_the_machine_drifted_and_a_budget_warns_beyond_the_margin(tmp_path, monkeypatch,
                                                                                      user_cell_space):
    """`gennas latency recheck` times some of a registered device's architectures again with the
    registration's settings; a machine now 10x as slow (here: its registration divided by 10) is beyond
    any margin, so the command says to register it again and a budget on it warns (at 4x, a
    registration timed while the machine was busy read only 1.9x: flaky on a loaded machine)."""
    from gennas.design.budget import UncalibratedBound, latency_models
    from gennas.surrogates.measure import registered_path, registered_record

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space(SPACE_NAME)
    space = gennas.load_space(str(path))
    runner = CliRunner()
    quick = ["--repeats", "3", "--max-repeats", "5", "--warmup", "1", "--clock", "cpu", "--accept-noisy"]
    ran = runner.invoke(app, ["latency", "measure", "--space", str(path), "--name", "here", "--cells", "30", *quick])
    assert ran.exit_code == 0, ran.output
    record = registered_record("here", space.name)
    record["samples"] = [[arch, ms / 10] for arch, ms in record["samples"]]  # as if it ran 10x as fast then
    record["retimed"] = [[arch, ms / 10] for arch, ms in record["retimed"]]
    registered_path("here", space.name).write_text(json.dumps(record))
    checked = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "here", "--cells", "5", "--json"])
    assert checked.exit_code == 0, checked.output
    said = json.loads(checked.stdout)
    assert said["median_ratio"] > 2.0 and not said["holds"] and len(said["ratios"]) == 5
    assert registered_record("here", space.name)["rechecks"][-1]["median_ratio"] == pytest.approx(said["median_ratio"])
    with pytest.warns(UncalibratedBound, match="rechecked"):
        latency_models(space, "here", 10.0)
    plain = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "here", "--cells", "5"])
    assert plain.exit_code == 0 and "register it again" in plain.output
    # what a recheck cannot time: a device not registered, or one timed elsewhere
    missing = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "nowhere"])
    assert missing.exit_code == 2 and "not registered" in missing.output
    refs = SlotLatencyModel(space).reference_archs()
    register_device("phone", space, [(a, 1.0 + i / 10) for i, a in enumerate(refs)], {"registered_from": "phone.csv"})
    elsewhere = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "phone"])
    assert elsewhere.exit_code == 2 and "taken elsewhere" in elsewhere.output
    # a refused measure's timings, registered from the file it kept, were taken here: rechecked
    kept = {**registered_record("here", space.name), "registered_from": "/tmp/gennas-measured-here.json",
            "rechecks": []}
    registered_path("here", space.name).write_text(json.dumps(kept))
    again = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "here", "--cells", "3"])
    assert again.exit_code == 0, again.output
    # an earlier gennas's registration, without second timings: its margin of 1 is said to be none measured
    older = {k: v for k, v in kept.items() if k != "retimed"}
    registered_path("here", space.name).write_text(json.dumps(older))
    unmeasured = runner.invoke(app, ["latency", "recheck", "--space", str(path), "--name", "here", "--cells", "3"])
    assert unmeasured.exit_code == 0 and "recorded no second timings, so no margin of its own" in unmeasured.output


def test_a_drift_the_recheck_calls_noise_is_not_warned_about_at_a_lower_confidence(tmp_path, monkeypatch,
                                                                                   user_cell_space):
    """At a budget's 50 % the timing margin is 1.0, and a 1 % drift that `recheck` had called within
    its (95 %) margin was warned about as "register it again"; both now judge at 95 %."""
    import warnings

    from gennas.design.budget import latency_models
    from gennas.surrogates.measure import registered_path, registered_record

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    refs = SlotLatencyModel(space).reference_archs()
    rng = np.random.default_rng(1)
    first = np.array([0.5 + 0.01 * i for i in range(len(refs))])
    labels = [space.to_string(a) for a in refs]
    register_device("calm", space, list(zip(refs, first)),
                    {"model": "slots", "retimed": [[s, float(ms * np.exp(rng.normal(0, 0.05)))]
                                                   for s, ms in zip(labels[:RETIMED], first)]})
    record = registered_record("calm", space.name)
    assert recorded_margin(record, 0.95) > 1.04 and recorded_margin(record, 0.5) < 1.03
    registered_path("calm", space.name).write_text(json.dumps({**record, "rechecks": [{"median_ratio": 1.035}]}))
    for confidence in (0.5, 0.95):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            latency_models(space, "calm", 10.0, confidence)
