"""MobileNetV3 latency: the measured table, the shipped estimator, and `gennas latency measure --space mbv3`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from typer.testing import CliRunner

import gennas
from gennas.bench import load_latency_table
from gennas.checkpoint import read_manifest
from gennas.cli import app
from gennas.errors import GennasError
from gennas.resources import checkpoints_dir, data_dir
from gennas.surrogates.latency import load_latency_estimator

runner = CliRunner()
DEVICES = ["cpu_ort_1t", "cpu_torch_1t"]


@pytest.fixture(scope="module")
def table():
    return load_latency_table("mbv3")


def test_table_holds_measured_subnets_with_their_manifest(table):
    assert table.devices == DEVICES and table.datasets == []
    assert len(table) >= 200 and len(set(table.strings)) == len(table)
    archs = table.archs()  # every row parses as an mbv3 subnet
    assert all(a.space == "mbv3" for a in archs[:50])
    for device in DEVICES:
        ms = table.latency_of(None, device)
        assert np.all(np.isfinite(ms)) and ms.min() > 1 and ms.max() < 1000
    # onnxruntime runs these nets faster than eager torch on one thread, and the two agree on order
    ort, torch_ms = table.latency_of(None, "cpu_ort_1t"), table.latency_of(None, "cpu_torch_1t")
    assert np.median(ort / torch_ms) < 1 and spearmanr(ort, torch_ms)[0] > 0.5
    manifest = json.loads((data_dir() / "mbv3_latency.json").read_text())
    assert manifest["rows"] == len(table) and manifest["space"] == "mbv3"
    assert "measure_mbv3.py" in manifest["command"] and manifest["hardware"]["Model name"]
    assert {"torch", "onnxruntime", "onnx"} <= set(manifest["hardware"])
    assert table.latency(table.strings[0], "cpu_torch_1t") == table.latency_of(None, "cpu_torch_1t")[0]
    with pytest.raises(GennasError, match="unknown latency table"):
        load_latency_table("darts-does-not-ship-one")


def test_shipped_estimator_reproduces_its_manifest(table):
    est = load_latency_estimator("mbv3", with_registered=False)
    assert est.bundled == DEVICES and len(est.reference_archs()) == 10
    manifest = read_manifest(checkpoints_dir() / "latency_mbv3.pt")
    archs = table.archs()[:manifest["rows"]]  # the rows it was trained on (a rerun of the measurement appends)
    for row in manifest["metrics"]["per_device"]:
        pred = est.predict(archs, row["device"])
        truth = table.latency_of(archs, row["device"])
        assert spearmanr(pred, truth)[0] == pytest.approx(row["fitted rho"], abs=1e-4)
    assert manifest["table_build_options"] == {"num_classes": 1000}


def test_new_device_adapts_from_the_ten_references(table):
    """A machine 3x slower than the torch back-end in every subnet is that back-end, scaled:
    adapted from its 10 references, it predicts 3x the torch predictions."""
    est = load_latency_estimator("mbv3", with_registered=False)
    refs = est.reference_archs()
    ms = table.latency_of(refs, "cpu_torch_1t")
    est.adapt("slow", list(zip(refs, 3 * ms)))
    est.adapt("same", list(zip(refs, ms)))
    some = table.archs()[:40]
    np.testing.assert_allclose(est.predict(some, "slow"), 3 * est.predict(some, "same"), rtol=1e-4)
    assert est.upper_bound(some, "slow").min() > 0


@pytest.mark.slow  # builds, times and counts the FLOPs of 10 networks at 224 px: ~10 s, more when busy
def test_cli_measures_and_registers_an_mbv3_device(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    result = runner.invoke(app, ["latency", "measure", "--space", "mbv3", "--name", "mydev", "--repeats", "2",
                                 "--max-repeats", "2", "--warmup", "1", "--clock", "cpu", "--accept-noisy", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out["samples"]) == 10 and all(s["ms"] > 0 and s["passes"] == 2 for s in out["samples"])
    record = json.loads((tmp_path / "devices" / "mbv3" / "mydev.json").read_text())
    assert record["space"] == "mbv3" and record["build"] == {"num_classes": 1000} and record["clock"] == "cpu"
    arch = "k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3"
    big = "k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6|k7e6-k7e6-k7e6-k7e6"
    predicted = runner.invoke(app, ["latency", "predict", "--space", "mbv3", "--device", "mydev", arch, big, "--json"])
    assert predicted.exit_code == 0, predicted.output
    small_ms, big_ms = (r["predicted_ms"] for r in json.loads(predicted.stdout))
    assert 0 < small_ms < big_ms
    assert "mydev" in gennas.load_latency_estimator("mbv3").devices


def test_flops_are_an_exact_sum_over_slots():
    from gennas.surrogates.cost_bound import flops_of

    space = gennas.load_space("mbv3")
    archs = space.sample_many(3, np.random.default_rng(11))  # not among the subnets the table was fitted on
    counted = np.array([space.count_flops(a, num_classes=1000) for a in archs])
    assert np.allclose(flops_of(space, archs), counted, rtol=1e-9)


def test_budgets_are_judged_by_the_larger_of_the_estimator_and_the_flops_bound(table, tmp_path, monkeypatch):
    from gennas.design.budget import LatencyBudget
    from gennas.surrogates.cost_bound import cost_line, flops_of

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    space = gennas.load_space("mbv3")
    estimator = load_latency_estimator("mbv3")
    budget = LatencyBudget.for_device(space, estimator, "cpu_ort_1t", 12.0)
    # the table's own subnets are judged by their measurement; every other by the larger bound
    assert np.allclose(budget.judged_ms(table.archs()[:40]), table.latency_of(table.archs()[:40], "cpu_ort_1t"))
    listed = set(table.strings)
    archs = [a for a in space.sample_many(60, 12345) if a.to_string() not in listed][:40]
    judged = budget.judged_ms(archs)
    assert budget.cost is not None and not budget.exact
    assert np.all(judged >= estimator.upper_bound(archs, "cpu_ort_1t", confidence=0.95) - 1e-9)
    assert np.all(judged >= budget.cost(archs) - 1e-9)
    # the differentiable bound generation is steered by equals the bound on one-hot slot distributions
    one_hot = torch.tensor(space.encode(archs)).reshape(len(archs), space.num_slots, -1).requires_grad_(True)
    soft = budget.cost_soft(one_hot)
    assert np.allclose(soft.detach().numpy(), budget.cost(archs), rtol=1e-4)
    soft.sum().backward()
    assert one_hot.grad is not None and torch.isfinite(one_hot.grad).all()
    steer = budget.steering(lambda p: torch.zeros(len(p)))
    assert torch.allclose(steer(one_hot), soft)
    # on the measured subnets the 95 % FLOPs bound holds for about 95 % of them
    assert np.mean(table.latency_of(None, "cpu_ort_1t") <= budget.cost(table.archs())) > 0.9
    # a device known only by references gets a line through them (mean slope, pooled residuals)
    refs = [(a, float(ms)) for a, ms in zip(table.strings[:10], table.latency_of(None, "cpu_torch_1t")[:10] * 3)]
    line = cost_line(space, "phone", refs)
    flops = flops_of(space, table.archs()[:10])
    ratio = np.median(line.upper_ms(flops, 0.5) / cost_line(space, "cpu_torch_1t").upper_ms(flops, 0.5))
    assert 2 < ratio < 4.5  # a device 3x slower than cpu_torch_1t on its references
    assert cost_line(space, "phone") is None and cost_line(gennas.load_space("nb201"), "pixel3") is None


def test_a_search_shows_a_measured_subnet_under_measured_ms_and_the_others_under_their_bound(table):
    """The search's table showed a table subnet's timing in its bound column."""
    from gennas.cli.output import latency_columns
    from gennas.design.budget import LatencyBudget

    space, estimator = gennas.load_space("mbv3"), load_latency_estimator("mbv3")
    budget = LatencyBudget.for_device(space, estimator, "cpu_ort_1t", 12.0)
    listed = set(table.strings)
    other = next(a for a in space.sample_many(20, 7) if a.to_string() not in listed)
    measured, bounded = latency_columns(budget, 0.95, [table.archs()[0], other])
    assert measured == {"measured_ms": pytest.approx(table.latency_of(table.archs()[:1], "cpu_ort_1t")[0]),
                        "bound_ms": None, "bound_confidence": 0.95}
    assert bounded["measured_ms"] is None and bounded["bound_ms"] == pytest.approx(budget.judged_ms([other])[0])
    assert latency_columns(budget, 0.95, [other]) == [{"bound_ms": bounded["bound_ms"], "bound_confidence": 0.95}]
