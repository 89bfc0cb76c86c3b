"""Latency budgets in a space without a pretrained latency estimator: a device described by
architectures timed on it, an additive model of their slot choices and a conformal bound."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.errors import GennasError, UnknownDevice
from gennas.surrogates.latency import load_latency_estimator
from gennas.surrogates.measure import register_device, registered_record
from gennas.surrogates.slot_latency import MIN_TIMED, SlotLatencyModel, reference_count

runner = CliRunner()
# this module's own cell space (conftest USER_CELL_SPACE: no shipped estimator)
SPACE_NAME = "slot_latency_test_space"
# the synthetic device's ms per op (an additive truth with multiplicative noise)
OP_MS = {"none": 0.0, "skip": 0.05, "conv3": 1.0, "pool3": 0.3}




def _true_ms(space: gennas.SearchSpace, archs, seed: int) -> np.ndarray:
    base = np.array([0.2 + sum(OP_MS[op] for op in space.choices(a)) for a in archs])
    return base * np.exp(np.random.default_rng(seed).normal(0, 0.05, len(archs)))


def test_a_bundled_device_fitted_from_its_reference_cells_bounds_the_rest(nb201, bench, all_cells):
    """pixel3's table latencies of the model's reference cells alone: the 95 % bound covers about
    95 % of every working cell (the experiment's table, one draw), and the relaxed latency of a
    one-hot architecture is its prediction."""
    model = SlotLatencyModel(nb201)
    refs = model.reference_archs()
    assert len(refs) == reference_count(nb201) == 60 and len({a.to_string() for a in refs}) == 60
    assert not any(nb201.output_is_constant(a) for a in refs)
    model.adapt("pixel3_timed", list(zip(refs, bench.latency_of(refs, "pixel3"))))
    working = [a for a in all_cells if not nb201.output_is_constant(a)]
    truth = bench.latency_of(working, "pixel3")
    predicted, bound = model.predict(working, "pixel3_timed"), model.upper_bound(working, "pixel3_timed")
    assert np.all(predicted > 0) and np.all(bound > predicted)
    assert np.mean(truth <= bound) >= 0.9  # at least 95 % promised over draws of the timed cells
    one_hot = torch.tensor(nb201.encode(working[:5]).reshape(5, nb201.num_slots, -1), requires_grad=True)
    soft = model.predict_soft(one_hot, "pixel3_timed")
    soft.sum().backward()
    assert np.allclose(soft.detach().numpy(), predicted[:5], rtol=1e-4) and one_hot.grad is not None


def test_a_device_needs_enough_timings_and_a_confidence_they_can_promise(nb201, bench):
    model = SlotLatencyModel(nb201)
    refs = model.reference_archs()
    with pytest.raises(GennasError, match=f"at least {MIN_TIMED}"):
        model.adapt("few", list(zip(refs[:10], bench.latency_of(refs[:10], "pixel3"))))
    with pytest.raises(GennasError, match="not a positive number"):
        model.adapt("bad", [(refs[0], -1.0)] + list(zip(refs[1:], bench.latency_of(refs[1:], "pixel3"))))
    # the fewest allowed: one group of 30 at 95 % (three of 10 could not promise it), three at 90 %
    model.adapt("fewest", list(zip(refs[:MIN_TIMED], bench.latency_of(refs[:MIN_TIMED], "pixel3"))))
    assert len(model.fits["fewest"].quantiles(0.95)[1]) == 1 and len(model.fits["fewest"].quantiles(0.9)[1]) == 3
    assert np.all(model.upper_bound(refs, "fewest", confidence=0.95) > model.predict(refs, "fewest"))
    model.adapt("ok", list(zip(refs, bench.latency_of(refs, "pixel3"))))
    with pytest.raises(GennasError, match="needs at least 99 timed architectures; it has 60"):
        model.upper_bound(refs[:2], "ok", confidence=0.99)
    # a command that works pasted: it read `gennas latency measure --cells N --force` (a user walk)
    with pytest.raises(GennasError, match=r"`gennas latency measure --space nb201 --name ok --cells 99 --force`"):
        model.upper_bound(refs[:2], "ok", confidence=0.99)
    with pytest.raises(UnknownDevice, match="gennas latency measure"):
        model.predict(refs[:2], "elsewhere")
    # more timings: a higher confidence, and the first ones are the same cells
    more = model.reference_archs(120)
    assert [a.to_string() for a in more[:60]] == [a.to_string() for a in refs]
    model.adapt("more", list(zip(more, bench.latency_of(more, "pixel3"))))
    assert np.all(model.upper_bound(refs[:3], "more", confidence=0.99) >= model.upper_bound(refs[:3], "more"))


def test_a_registered_device_of_a_users_space_keeps_the_designers_budget(tmp_path, monkeypatch, user_cell_space):
    """A user's space has no shipped estimator: its registered device (timings of the reference
    architectures, as `gennas latency measure` takes them) is loaded as a slot model, and a
    designer's search and designs under a budget there keep its 95 % bound."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    refs = SlotLatencyModel(space).reference_archs()
    register_device("own_box", space, list(zip(refs, _true_ms(space, refs, seed=0))))
    model = load_latency_estimator(space)
    assert isinstance(model, SlotLatencyModel) and model.devices == ["own_box"]
    fresh = [a for a in space.sample_many(400, 7) if not space.output_is_constant(a)]
    truth = _true_ms(space, fresh, seed=1)
    assert np.mean(truth <= model.upper_bound(fresh, "own_box")) >= 0.9
    trained = runner.invoke(app, ["train", "--space", str(tmp_path / "own.yaml"), "--steps", "20", "--quiet"])
    assert trained.exit_code == 0, trained.output
    budget = float(np.percentile(truth, 50))
    designer = gennas.Designer(space, task="cifar10", device="own_box", max_latency_ms=budget, seed=0)
    result = designer.search(lambda a: float(len(set(space.choices(a)))), budget=6)
    verified = [r.arch for r in result.history]
    # a cell timed at registration is judged by its timing, any other by the bound
    timed = designer.budget.timed(verified)
    assert len(verified) == 6 and np.all(designer.budget.judged_ms(verified) <= budget)
    assert np.all(model.upper_bound([a for a, t in zip(verified, timed) if not t], "own_box") <= budget)
    designs = designer.generate(4)
    assert designs and np.all(designer.budget.judged_ms([d.arch for d in designs]) <= budget)


def test_the_cli_times_a_users_space_on_this_machine(tmp_path, monkeypatch, user_cell_space):
    """`gennas latency measure --space own.yaml --cells 30` times 30 seeded random architectures here
    and registers the machine."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    ran = runner.invoke(app, ["latency", "measure", "--space", str(tmp_path / "own.yaml"), "--name", "here",
                              "--cells", "30", "--repeats", "3", "--max-repeats", "5", "--warmup", "1",
                              "--clock", "cpu", "--accept-noisy", "--json"])
    assert ran.exit_code == 0, ran.output
    assert len(json.loads(ran.stdout)["samples"]) == 30
    # 20 of them timed a second time: the noise their timings are judged with (test_retiming.py)
    record = registered_record("here", space.name)
    assert [arch for arch, _ in record["retimed"]] == [arch for arch, _ in record["samples"][:20]]
    model = load_latency_estimator(space)
    assert model.devices == ["here"] and np.all(model.predict(space.sample_many(5, 3), "here") > 0)


def test_a_device_is_fitted_on_the_ops_its_networks_compute_where_that_predicts_better(nb201, bench):
    """gennas' cells skip an edge whose source node has no live input (``computed_choices``); the
    NAS-Bench-201 tables were timed with networks that run it. Each device is fitted on the form
    that cross-validates better."""
    arch = nb201.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|")
    assert nb201.computed_choices(arch) == ("none", "nor_conv_3x3", "none", "skip_connect", "none", "avg_pool_3x3")
    model = SlotLatencyModel(nb201)
    refs = model.reference_archs()
    op_ms = {"none": 0.0, "skip_connect": 0.05, "nor_conv_1x1": 0.4, "nor_conv_3x3": 1.0, "avg_pool_3x3": 0.3}
    noise = np.exp(np.random.default_rng(0).normal(0, 0.03, len(refs)))
    for computed in (False, True):
        truth = [0.5 + sum(op_ms[op] for op in (nb201.computed_choices(a) if computed else nb201.choices(a)))
                 for a in refs]
        model.adapt(f"computed={computed}", list(zip(refs, np.array(truth) * noise)))
        assert model.fits[f"computed={computed}"].computed is computed
    model.adapt("pixel3", list(zip(refs, bench.latency_of(refs, "pixel3"))))
    assert not model.fits["pixel3"].computed  # the tables' networks run every op


def test_a_space_too_small_for_a_model_says_so_before_timing(user_cell_space):
    path = user_cell_space("slot_latency_tiny", nodes=2)
    with pytest.raises(GennasError, match="slot_latency_tiny has 3 distinct architectures .* too few for a latency model"):
        SlotLatencyModel(gennas.load_space(str(path))).reference_archs()


def test_a_device_of_a_space_with_an_estimator_can_be_timed_at_random_instead(tmp_path, monkeypatch, bench):
    """nb201 has a pretrained estimator; a device registered from random cells (`gennas latency
    measure --cells`, marked "slots") is fitted by the slot model, the others by the estimator, and
    one loaded model answers for both: predictions, bounds and a designer's budget."""
    from gennas.surrogates.routed_latency import RoutedLatencyModel

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    nb201 = bench.space
    refs = load_latency_estimator("nb201", with_registered=False).reference_archs()
    register_device("lab_box", "nb201", list(zip(refs, bench.latency_of(refs, "silver_4114"))))
    cells = SlotLatencyModel(nb201).reference_archs()
    register_device("odd_box", "nb201", list(zip(cells, bench.latency_of(cells, "pixel3"))), {"model": "slots"})
    model = load_latency_estimator("nb201")
    assert isinstance(model, RoutedLatencyModel) and {"lab_box", "odd_box", "pixel3"} <= set(model.devices)
    assert "odd_box" in model.slots.devices and "odd_box" not in model.estimator.devices
    assert "lab_box" in model.estimator.devices and model.bundled == model.estimator.bundled
    assert copy.deepcopy(model).devices == model.devices  # a designer's copies and pickles hold it too
    sample = [a for a in nb201.sample_many(400, 11) if not nb201.output_is_constant(a)]
    assert np.mean(bench.latency_of(sample, "pixel3") <= model.upper_bound(sample, "odd_box")) >= 0.9
    assert np.allclose(model.predict(sample[:3], "lab_box"), model.estimator.predict(sample[:3], "lab_box"))
    budget = float(np.percentile(bench.latency_of(sample, "pixel3"), 50))
    designer = gennas.Designer("nb201", task="cifar10", device="odd_box", max_latency_ms=budget, seed=0)
    designs = designer.generate(5)
    assert designs and np.all(designer.budget.judged_ms([d.arch for d in designs]) <= budget)
    untimed = [d.arch for d in designs if not designer.budget.timed([d.arch])[0]]  # others: their timing
    assert np.all(model.upper_bound(untimed, "odd_box") <= budget) if untimed else True


def test_a_space_with_many_choices_is_fitted_at_a_cross_validated_penalty():
    """mbv3 (180 free choices) from 200 of its bundled table's subnets: at the fixed penalty the
    fit nearly interpolated and the 50 held-out subnets with the lowest bound (what a budget keeps
    first) were under it 69-75 % of the time; the penalty is now chosen by cross-validation."""
    from gennas.bench import sampled_timings

    space = gennas.load_space("mbv3")
    table = sampled_timings("mbv3", "cpu_ort_1t")
    archs, ms = [space.from_string(a) for a in table], np.array(list(table.values()))
    order = np.random.default_rng(0).permutation(len(archs))
    fitted, held = order[:200], order[200:]
    model = SlotLatencyModel(space).adapt("ort", [(archs[i], ms[i]) for i in fitted])
    assert model.fits["ort"].ridge > 1e-3
    bound = model.upper_bound([archs[i] for i in held], "ort")
    lowest = np.argsort(bound)[:50]
    assert np.mean(ms[held][lowest] <= bound[lowest]) >= 0.9
    assert 0.9 <= np.mean(ms[held] <= bound) <= 0.99


def test_too_few_timings_name_how_many_the_measure_would_take_in_a_small_space(user_cell_space):
    """A 3-node space of 4 ops has 56 architectures whose output depends on the input: the message
    said `gennas latency measure` times 60 (a user walk)."""
    space = gennas.load_space(str(user_cell_space("small_slot_space", nodes=3)))
    model = SlotLatencyModel(space)
    refs = model.reference_archs()
    assert len(refs) < reference_count(space)
    with pytest.raises(GennasError, match=rf"needs at least {MIN_TIMED} \({len(refs)} by `gennas latency measure`\)"):
        model.adapt("few", [(a, 1.0 + i) for i, a in enumerate(refs[:10])])


def test_an_unknown_device_of_a_user_space_is_told_the_commands_in_python_too(tmp_path, monkeypatch, user_cell_space):
    """From Python the advice was "adapted ... with .adapt(): pass that estimator, estimator=...",
    which a user space (no pretrained estimator) has no use for; the commands are the way."""
    from gennas.design.budget import latency_models

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    path = user_cell_space("adviceslots")
    with pytest.raises(UnknownDevice, match=f"`gennas latency measure --space {path} --name nobox`") as caught:
        latency_models(gennas.load_space(path), "nobox", 1.0)
    assert ".adapt()" not in str(caught.value)


def test_a_device_timed_at_random_with_the_estimators_references_corrects_the_estimator(bench):
    """`gennas latency measure --space nb201 --cells N` times the estimator's 10 references as well:
    the estimator adapted from them predicts the device, and the slot choices are fitted to what it
    gets wrong. A device like pixel3 except that its 1x1 convolutions are 3x slower: the correction
    is chosen (it cross-validates better than the slot choices alone), predicts the untimed cells
    better than either alone, and its bound covers them; samples without the references are fitted
    as before (experiments/stacked_latency.py measures it on the 19 devices, each held out)."""
    nb201 = bench.space
    estimator = load_latency_estimator("nb201", with_registered=False)
    model = SlotLatencyModel(nb201, base=estimator)
    timed = model.reference_archs(30)
    assert timed[:10] == estimator.reference_archs() and len({nb201.to_string(a) for a in timed}) == 40

    def device_ms(archs) -> np.ndarray:
        slower = np.array([nb201.choices(a).count("nor_conv_1x1") for a in archs])
        return bench.latency_of(archs, "pixel3") * 3.0 ** slower

    model.adapt("odd_box", list(zip(timed, device_ms(timed))))
    fit = model.fits["odd_box"]
    assert fit.stacked and fit.count == 30 and "odd_box" in estimator.devices  # the references adapted it
    seen = {nb201.to_string(a) for a in timed}
    others = [a for a in nb201.sample_many(600, 5) if not nb201.output_is_constant(a) and nb201.to_string(a) not in seen]
    truth = device_ms(others)
    alone = SlotLatencyModel(nb201).adapt("odd_box", list(zip(timed[10:], device_ms(timed[10:]))))

    def rms(predicted: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.log(truth / predicted) ** 2)))

    assert rms(model.predict(others, "odd_box")) < min(rms(alone.predict(others, "odd_box")),
                                                       rms(estimator.predict(others, "odd_box")))
    assert np.mean(truth <= model.upper_bound(others, "odd_box")) >= 0.9
    soft = model.predict_soft(torch.as_tensor(nb201.encode(others[:4]), dtype=torch.float32).reshape(
        4, nb201.num_slots, -1), "odd_box")
    assert torch.all(torch.isfinite(soft)) and torch.all(soft > 0)
    # the same cells without the references: the slot choices alone, as a space without an estimator
    plain = SlotLatencyModel(nb201, base=estimator).adapt("plain_box", list(zip(timed[10:], device_ms(timed[10:]))))
    assert not plain.fits["plain_box"].stacked
    assert np.allclose(plain.predict(others, "plain_box"), alone.predict(others, "odd_box"))
