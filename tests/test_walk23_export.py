"""`gennas design --study ... --export` of a study whose networks were trained (walk 23 #3): an
untrained design is built as the study's evaluator built the networks it trained (here 1x16x16
MNIST, the small build), not the space's full 3x32x32 build, and one line says which ranks hold
trained weights and which untrained builds of the same network."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

import gennas
from conftest import small_trained_study
from gennas.cli.app import app

STUDY = "designer-nb201-w23-mnist-train-seed0"


@pytest.fixture(scope="module")
def trained_study(tmp_path_factory):
    """(home, storage URL) of a small trained study (conftest.small_trained_study)."""
    return small_trained_study(tmp_path_factory.mktemp("w23"), "w23-mnist")


def test_an_untrained_design_is_exported_as_the_network_the_study_trained(trained_study, tmp_path, monkeypatch):
    """Rank 12 of 13 was 3x32x32 with the full build beside 1x16x16 trained ones; its model.pt2
    failed on the task's images, and the CLI said only '(initial weights)'."""
    home, storage = trained_study
    monkeypatch.setenv("GENNAS_HOME", str(home))
    out = tmp_path / "exp"
    done = CliRunner().invoke(app, ["design", "--storage", storage, "--study", STUDY, "-n", "3", "--export", str(out)])
    assert done.exit_code == 0, done.output
    records = {int(f.parent.name[4:]): json.loads(f.read_text()) for f in out.glob("rank*/build.json")}
    trained = sorted(r for r, rec in records.items() if rec["trained"])
    fresh = sorted(r for r, rec in records.items() if not rec["trained"])
    # verified and untrained ranks both (how many of each: the few results placed among the source-ranked designs)
    assert trained and fresh
    for rank, record in records.items():
        assert record["in_channels"] == 1 and record["input_shape"] == [1, 1, 16, 16], rank
        assert record["build_options"] == {"channels": 8, "cells_per_stage": 1}, rank
        assert record["inputs"]["dataset"] == "mnist", rank
        program = torch.export.load(out / f"rank{rank:02d}" / "model.pt2").module()
        assert program(torch.zeros(2, 1, 16, 16)).shape == (2, 10)  # the task's images
    line = [ln for ln in done.stderr.splitlines() if ln.startswith(f"note: {out}: ")]
    assert len(line) == 1, done.stderr
    assert f"{'ranks' if len(trained) > 1 else 'rank'} {trained[0]}" in line[0]
    assert "the weights the study trained" in line[0]
    assert "untrained, of the network the study trained (1x16x16 inputs, 10 classes" in line[0]


def test_a_rerun_over_an_export_of_another_build_is_refused(trained_study, tmp_path, monkeypatch):
    """An earlier version's full-build rank was kept by a rerun as 'the same design'."""
    home, storage = trained_study
    monkeypatch.setenv("GENNAS_HOME", str(home))
    out = tmp_path / "exp"
    args = ["design", "--storage", storage, "--study", STUDY, "-n", "3", "--export", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    fresh = next(f for f in out.glob("rank*/build.json") if not json.loads(f.read_text())["trained"])
    record = json.loads(fresh.read_text())
    fresh.write_text(json.dumps({**record, "in_channels": 3, "input_shape": [1, 3, 32, 32], "build_options": {}}))
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2
    assert f"the same designs from another start ({fresh.parent.name}); " in again.stderr
    assert f"({fresh.parent.name}: another build than the study trained)" in again.stderr


def test_a_study_that_trained_without_recording_its_build_says_the_default_is_exported():
    """Where the study's build cannot be known, one line says the space's default build was used."""
    from gennas.cli.export_ranks import export_note
    from gennas.evaluators.base import Result
    from gennas.export import study_build

    arch = gennas.load_space("nb201").sample(0)
    unrecorded = [Result(arch, 50.0, "train", "epochs=1", 1.0, {})]
    assert study_build(unrecorded, {}) is None
    two = [Result(arch, 50.0, "train", "epochs=1", 1.0, {"input_shape": [c, 16, 16], "num_classes": 10,
                                                           "build_options": {}}) for c in (1, 3)]
    assert study_build(two, {}) is None  # two builds: which one is not known
    assert study_build([Result(arch, 50.0, "table", "", 0.0, {})], {}) == {}  # nothing trained: the default
    note = export_note({1: True, 2: False}, None, 10, 0, 32)
    assert note.startswith("rank 1 holds the weights the study trained; rank 2 holds initial weights (seed 0) of "
                           "the space's default build (3x32x32 inputs, 10 classes, the full build)")
    assert "how its evaluator built them is not recorded" in note


def test_design_json_names_the_latency_bound_by_one_key_and_states_its_confidence(tmp_path, monkeypatch,
                                                                                register_here, nb201):
    """Under --latency-confidence 0.5 the key was `bound_ms_50%`: a reader of `bound_ms_95%` got
    nothing, silently (walk 23 #10). The table's header still says the confidence."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    register_here("w23box", nb201, 5.0)
    args = ["design", "--device", "w23box", "--max-latency-ms", "20", "-n", "2", "--latency-confidence", "0.5"]
    shown = CliRunner().invoke(app, [*args, "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert not [k for row in rows for k in row if k.startswith("bound_ms_")]
    assert all(row["bound_confidence"] == 0.5 and 0 < row["bound_ms"] <= 20 for row in rows), rows
    table = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert table.exit_code == 0 and "bound_ms_50%" in table.stdout and "bound_confidence" not in table.stdout


def test_the_train_evaluator_trains_a_task_of_ones_own_on_the_images_data_names(tmp_path, monkeypatch):
    """`--task w23-mnist --evaluator train` was refused, and `--data mnist` with it ("--data
    chooses the images of a proxy evaluator"): a user went to Python for it (walk 23 #6)."""
    import optuna

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = tmp_path / "own.db"
    base = ["search", "--task", "w23-mnist", "--evaluator", "train", "--method", "random", "-b", "1", "--limit", "40",
            "--storage", str(db)]
    refused = CliRunner().invoke(app, base)
    assert refused.exit_code == 2 and not db.exists()
    assert "with --data (e.g. --task w23-mnist --evaluator train --data mnist)" in refused.stderr
    done = CliRunner().invoke(app, [*base, "--data", "mnist", "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert out["verified"] == 1 and out["study"] == "random-nb201-w23-mnist-train-mnist-seed0"
    attrs = optuna.load_study(study_name=out["study"], storage=f"sqlite:///{db}").user_attrs
    assert (attrs["task"], attrs["data"], attrs["inputs"]["dataset"]) == ("w23-mnist", "mnist", "mnist")
    clash = CliRunner().invoke(app, ["search", "--task", "mnist", "--evaluator", "train", "--data", "digits",
                                     "--storage", str(tmp_path / "clash.db")])
    assert clash.exit_code == 2 and "--task mnist trains on its own images, not --data digits's" in clash.stderr
    # the study's images are taken again on --resume
    again = CliRunner().invoke(app, [*base[:-6], "-b", "2", "--limit", "40", "--storage", str(db), "--resume",
                                     "--study", out["study"], "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["verified"] == 2, again.output


def test_every_readme_train_search_names_images_the_train_evaluator_has():
    """The README's "On a cluster" command (`--task cifar10 --evaluator train`) stopped at "--evaluator
    train needs bundled images" (walk 23 #6)."""
    import re
    from pathlib import Path

    from gennas.cli.search import train_data

    text = (Path(__file__).parents[1] / "README.md").read_text().replace("\\\n", " ")
    # each command up to its closing backquote; `gennas search --evaluator train` alone names the option in prose
    commands = [m.group(0) for m in re.finditer(r"gennas search [^`\n]*--evaluator train[^`\n]*", text)
                if m.group(0).strip() != "gennas search --evaluator train"]
    assert any("--executor ray" in c for c in commands), commands  # the cluster example is among them
    for command in commands:
        task = re.search(r"--task (\S+)", command)
        data = re.search(r"--data (\S+)", command)
        train_data(task.group(1) if task else "cifar10", data.group(1) if data else None)  # GennasError if not
