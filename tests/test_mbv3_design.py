"""Designing MobileNetV3 subnets: the shipped mbv3 generators and proxy-pretrained predictor, the
designer from Python and the CLI, latency errors, and exports with a dynamic batch dimension."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gennas
from gennas.checkpoint import read_manifest, user_checkpoints_dir
from gennas.cli.app import app
from gennas.design.designer import Designer
from gennas.errors import GennasError
from gennas.generators.guidance import InfeasibleBudget
from gennas.export import export_architecture, export_result
from gennas.generators import load_generator
from gennas.resources import checkpoints_dir

PROXY_TASK = "mnist-synflow-log10"  # the one task the shipped mbv3 predictor was trained on


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    # nothing a test does may land in the user's ~/.gennas
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))


def _params_m(space):
    return lambda arch: space.count_params(arch) / 1e6  # a cheap, real evaluator (millions of weights)


def test_shipped_predictor_says_what_it_knows():
    manifest = read_manifest(checkpoints_dir() / "predictor_mbv3.pt")
    assert manifest["tasks"] == [PROXY_TASK]
    assert "NOT accuracy" in manifest["data"] and "NOT ImageNet" in manifest["data"]
    assert manifest["metrics"]["held_out_subnets"] > 0 and "held_out_spearman" in manifest["metrics"]


def test_generate_for_an_unseen_task_ranks_only(mbv3):
    designer = Designer("mbv3", task="imagenet", seed=0)
    found = designer.generate(10)
    assert [c.rank for c in found] == list(range(1, 11))
    assert len({c.arch.canonical_hash() for c in found}) == 10
    assert all(mbv3.is_valid(c.arch) for c in found)
    # nothing is known of imagenet: a rank and a relative score, never a made-up accuracy
    assert all(c.predicted_accuracy is None and c.relative_score is not None for c in found)
    scores = [c.relative_score for c in found]
    assert scores == sorted(scores, reverse=True)


def test_generate_for_the_proxy_task_predicts_it():
    found = Designer("mbv3", task=PROXY_TASK, seed=0).generate(5)
    values = [c.predicted_accuracy for c in found]
    assert all(v is not None and 15 < v < 40 for v in values)  # log10 synflow of mbv3 subnets lies here
    # a proxy's score is not an accuracy: no "%" is printed for it
    assert all(c.unit == "" and "%" not in str(c).split(", 90 %")[0] for c in found)


def test_short_search_refits_from_verified_results(mbv3):
    designer = Designer("mbv3", task="imagenet", seed=0)
    result = designer.search(_params_m(mbv3), budget=3)
    assert len(result.results) == 3 and designer.loop.refits >= 1
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True) and all(np.isfinite(scores))
    designs = designer.generate(3)
    assert len(designs) == 3 and all(c.unit == "" for c in designs)  # a callable's scores: no unit claimed
    # a shipped predictor stays the start of every designer: nothing written to $GENNAS_HOME
    assert not (user_checkpoints_dir() / "predictor_mbv3.pt").exists()


def test_subnets_the_bundled_table_measured_are_judged_by_their_measurement():
    """On cpu_ort_1t the latency bound is about 1.5x the table's measurement, and the bound alone
    admitted no sampled subnet under 8 ms (InfeasibleBudget), while the table has subnets measured
    under it: they are designs now, each stated at its measurement."""
    from gennas.bench import sampled_timings

    measured = sampled_timings("mbv3", "cpu_ort_1t")
    assert sum(ms <= 8 for ms in measured.values()) >= 5
    designs = Designer("mbv3", task=PROXY_TASK, device="cpu_ort_1t", max_latency_ms=8, seed=0).generate(5)
    assert len(designs) == 5
    for c in designs:
        assert c.latency_measured and c.latency_bound_ms is None
        assert c.predicted_latency_ms == pytest.approx(measured[c.arch.to_string()]) and c.predicted_latency_ms <= 8
    # under the fastest measured one, the refusal names it beside the fastest sampled
    fastest, ms = min(measured.items(), key=lambda item: item[1])
    named = f"fastest measured on cpu_ort_1t, {re.escape(fastest)}, runs at {ms:.3g} ms"
    with pytest.raises(InfeasibleBudget, match=named) as refused:
        Designer("mbv3", task=PROXY_TASK, device="cpu_ort_1t", max_latency_ms=ms * 0.8, seed=0).generate(5)
    # the random samples tried after the guided ones are named too (864 guided read as all, a walk)
    assert "none among 2,000 random ones either" in str(refused.value)


def test_a_device_without_latency_model_is_a_clear_error():
    with pytest.raises(GennasError, match="latency|device"):
        Designer("mbv3", task="imagenet", device="no-such-phone", max_latency_ms=20)


def test_design_cli_for_mbv3():
    runner = CliRunner()
    result = runner.invoke(app, ["design", "--space", "mbv3", "--task", "imagenet", "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3] and "imagenet" in result.stderr  # ranked, and said so


@pytest.mark.slow
def test_search_cli_designer_with_synflow(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["search", "--space", "mbv3", "--method", "designer", "--evaluator", "proxy:synflow",
                                 "--budget", "20", "--task", "imagenet", "--storage", str(tmp_path / "s.db"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["verified"] == 20 and out["failed"] == 0 and out["top"][0]["kind"] == "proxy:synflow"


def test_vae_reconstructs_and_both_generators_sample_valid_diverse(mbv3):
    manifest = read_manifest(checkpoints_dir() / "vae_mbv3.pt")
    assert manifest["metrics"]["val_slot_reconstruction"] >= 0.95
    for kind in ("diffusion", "vae"):
        raw = load_generator("mbv3", kind).sample_choices(200, seed=1)
        archs = [mbv3.from_choices([mbv3.slot_vocab[i] for i in row]) for row in raw]  # valid as drawn
        assert len({a.canonical_hash() for a in archs}) >= 195, kind


# ---------------------------------------------------------------- export
def _same_on_two_batch_sizes(paths, model, side):
    model.load_state_dict(torch.load(paths["weights"], weights_only=True))
    program = torch.export.load(paths["program"]).module()
    for batch in (1, 3):
        x = torch.randn(batch, 3, side, side)
        with torch.no_grad():
            assert torch.allclose(program(x), model(x), atol=1e-4)
    assert json.loads(paths["build"].read_text())["dynamic_batch"] is True


def test_pt2_export_has_a_dynamic_batch(nb201, tmp_path):
    arch, small = nb201.sample(3), nb201.small_build_options
    paths = export_architecture(arch, tmp_path / "e", onnx=False, **small)
    _same_on_two_batch_sizes(paths, nb201.build(arch, **small).eval(), 32)


@pytest.mark.slow
def test_pt2_export_of_an_mbv3_subnet(mbv3, tmp_path):
    arch = mbv3.sample(3)
    paths = export_architecture(arch, tmp_path / "e", input_size=64, onnx=False)
    _same_on_two_batch_sizes(paths, mbv3.build(arch).eval(), 64)


@pytest.mark.slow
def test_export_writes_the_trained_weights_an_evaluator_kept(nb201, tmp_path):
    from gennas.datasets import image_loaders
    from gennas.evaluators import TrainEvaluator

    train, val = image_loaders("digits", batch_size=32, size=32, channels=3, limit=64)
    evaluator = TrainEvaluator(nb201, train, val, epochs=1, checkpoint_dir=tmp_path / "work",
                               build_options=nb201.small_build_options, progress=False)
    (result,) = evaluator.evaluate([nb201.sample(5)])
    paths = export_result(result, tmp_path / "trained", onnx=False)
    kept = torch.load(result.metadata["checkpoint"], weights_only=True)["state"]["model"]
    written = torch.load(paths["weights"], weights_only=True)
    assert all(torch.equal(kept[k], written[k]) for k in kept)
    assert "trained by TrainEvaluator" in json.loads(paths["build"].read_text())["weights"]
    model = nb201.build(result.arch, num_classes=result.metadata["num_classes"],
                        **nb201.small_build_options).eval()
    model.load_state_dict(written)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(torch.export.load(paths["program"]).module()(x), model(x), atol=1e-4)
    # a result whose weights were not kept is exported freshly initialised, and says so
    result.metadata["checkpoint"] = None
    fresh = export_result(result, tmp_path / "fresh", space=nb201, onnx=False)
    assert "kept no trained weights" in json.loads(fresh["build"].read_text())["weights"]
