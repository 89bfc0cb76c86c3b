"""Exported architectures reload and compute what the built network computes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import gennas
from gennas.export import export_architecture
from gennas.cli.app import app
from typer.testing import CliRunner


def test_export_round_trip(nb201, tmp_path):
    arch = nb201.sample(4)
    paths = export_architecture(arch, tmp_path / "a", num_classes=10)
    assert nb201.from_string(paths["arch"].read_text().strip()) == arch
    meta = json.loads(paths["build"].read_text())
    model = nb201.build(arch, num_classes=meta["num_classes"]).eval()
    model.load_state_dict(torch.load(paths["weights"], weights_only=True))
    x = torch.randn(2, 3, 32, 32)
    program = torch.export.load(paths["program"]).module()
    assert torch.allclose(program(x[:1]), model(x[:1]), atol=1e-5)
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(paths["onnx"]))
    out = session.run(None, {"images": x.numpy()})[0]
    assert np.allclose(out, model(x).detach().numpy(), atol=1e-4)


def test_export_needs_space_for_strings(tmp_path):
    with pytest.raises(gennas.GennasError, match="space="):
        export_architecture("|none~0|", tmp_path)


def test_a_design_generate_returned_exports_as_its_architecture(tmp_path):
    """It was refused as "an architecture string" (walk 31 #9)."""
    design = gennas.Designer("nb201", task="cifar10", seed=0).generate(1)[0]
    paths = export_architecture(design, tmp_path / "d", onnx=False)
    assert paths["arch"].read_text().strip() == design.arch.to_string()


def test_design_cli_json_and_errors():
    runner = CliRunner()
    result = runner.invoke(app, ["design", "--task", "cifar10", "-n", "3", "--json", "--device", "pixel3",
                                 "--max-latency-ms", "30"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert all(r["measured_ms"] <= 30 and r["pred_ms"] is None and 0 < r["table_acc"] <= 100 for r in rows)
    unknown = runner.invoke(app, ["design", "--task", "imagenet-9000", "-n", "3", "--json"])
    assert unknown.exit_code == 0 and "imagenet-9000" in unknown.stderr  # ranked, and said so
    # ranked only: no accuracy made up, its column kept empty (one schema, walk 28 #2)
    assert all(r["pred_acc"] is None and r["relative_score"] is not None for r in json.loads(unknown.stdout))
    bad = runner.invoke(app, ["design", "--task", "cifar10", "--device", "toaster", "-n", "3"])
    assert bad.exit_code == 2 and "toaster" in bad.stderr


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_design_exports_networks_for_the_tasks_classes(tmp_path):
    """``gennas design --export`` builds the head of the task's dataset (cifar100: 100 classes; it
    wrote 10 for every task), ``--num-classes`` chooses another, and a bad one fails before any work."""
    from gennas.datasets import classes_of

    assert [classes_of(t) for t in ("cifar100", "cifar10-synflow", "imagenet16-120", "mytask", None)] == \
        [100, 10, 120, None, None]
    runner = CliRunner()
    for extra, classes in (([], 100), (["--num-classes", "7"], 7)):
        out = runner.invoke(app, ["design", "--task", "cifar100", "-n", "1", "--json", "--export",
                                  str(tmp_path / str(classes)), *extra])
        assert out.exit_code == 0, out.output
        build = json.loads((tmp_path / str(classes) / "rank01" / "build.json").read_text())
        assert build["num_classes"] == classes
    refused = runner.invoke(app, ["design", "--task", "cifar100", "--num-classes", "1", "--export", str(tmp_path)])
    assert refused.exit_code == 2 and "--num-classes must be at least 2" in refused.stderr
    # over an earlier export: refused (it replaced some ranks and left others, mixing spaces)
    again = runner.invoke(app, ["design", "--task", "cifar10", "-n", "1", "--export", str(tmp_path / "7")])
    assert again.exit_code == 2 and "already holds an export" in again.stderr
    # a file for a folder failed after the whole design; --num-classes alone was ignored (a user walk)
    (tmp_path / "afile").write_text("x")
    for args, message in ((["--export", str(tmp_path / "afile")], "is a file"),
                          (["--num-classes", "5"], "goes with --export")):
        bad = runner.invoke(app, ["design", "--task", "cifar10", "-n", "1", *args])
        assert bad.exit_code == 2 and message in bad.stderr, bad.output


def test_a_missing_onnx_is_said_before_anything_is_written(nb201, tmp_path, monkeypatch):
    """Without the export extra, `design --export` wrote rank01's string, weights and program,
    then failed; the retry after installing onnx was refused as a folder holding an export."""
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as if not installed
    with pytest.raises(gennas.GennasError, match=r"pip install -e '\.\[export\]'"):
        export_architecture(nb201.sample(4), tmp_path / "a")
    assert not (tmp_path / "a").exists()
    out = CliRunner().invoke(app, ["design", "--task", "cifar10", "-n", "1", "--export", str(tmp_path / "b")])
    assert out.exit_code == 2 and "ONNX export needs onnx" in out.output and not (tmp_path / "b").exists()
    assert export_architecture(nb201.sample(4), tmp_path / "c", onnx=False)["program"].is_file()  # asked without ONNX


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_darts_export_is_exact_and_says_nothing_about_constant_folding(tmp_path, recwarn):
    """The exporter warned 12 times per darts network that it could not constant-fold a Slice (the
    pads of FactorizedReduce): silenced, and the ONNX model still computes the network's logits."""
    darts = gennas.load_space("darts")
    arch = darts.sample(np.random.default_rng(0))
    paths = export_architecture(arch, tmp_path / "d", num_classes=10)
    assert not [w for w in recwarn if "Constant folding" in str(w.message)]
    ort = pytest.importorskip("onnxruntime")
    meta = json.loads(paths["build"].read_text())
    model = darts.build(arch, num_classes=meta["num_classes"]).eval()
    model.load_state_dict(torch.load(paths["weights"], weights_only=True))
    x = torch.randn(2, 3, 32, 32)
    out = ort.InferenceSession(str(paths["onnx"])).run(None, {"images": x.numpy()})[0]
    assert np.allclose(out, model(x).detach().numpy(), atol=1e-4)


def test_export_is_reachable_from_the_package_alone():
    """``gennas.export.export_architecture`` after a bare ``import gennas`` (a new user's first try
    was an AttributeError: the module was only reachable by importing it by name)."""
    import subprocess
    import sys
    code = "import gennas; print(gennas.export.export_architecture.__name__, 'export' in dir(gennas))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["export_architecture", "True"]
    # so are the modules the README names as gennas.search.run_search, gennas.design.pretrained...
    # (an AttributeError until imported by name; walk 35 #9), and a bare import still loads no torch
    code = ("import sys, gennas; light = 'torch' not in sys.modules; print(light, gennas.search.run_search.__name__, "
            "gennas.design.pretrained.untrained_predictor.__name__, gennas.search.storage.ResultStore.__name__, "
            "gennas.surrogates.predictor.Predictor.__name__, gennas.evaluators.data_key.__name__, "
            "'pretrained' in dir(gennas.design))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "run_search", "untrained_predictor", "ResultStore", "Predictor",
                           "gennas.evaluators.data_key", "True"]


def test_an_export_over_an_export_is_refused_unless_overwritten_and_leaves_nothing_stale(nb201, tmp_path):
    """A second export into a folder rewrote some files and left the first's model.onnx (another
    network, another number of classes) beside the second's build.json (a user walk)."""
    first, second = nb201.sample(4), nb201.sample(5)
    export_architecture(first, tmp_path / "e", num_classes=100)
    with pytest.raises(gennas.GennasError, match="already holds an export .*overwrite=True"):
        export_architecture(second, tmp_path / "e", num_classes=10, onnx=False)
    paths = export_architecture(second, tmp_path / "e", num_classes=10, onnx=False, overwrite=True)
    assert not (tmp_path / "e" / "model.onnx").exists() and "onnx" not in paths
    assert (tmp_path / "e" / "arch.txt").read_text().strip() == second.to_string()


def test_bad_export_arguments_and_folders_are_refused_before_anything_is_left(nb201, tmp_path):
    with pytest.raises(gennas.GennasError, match="num_classes must be at least 2"):
        export_architecture(nb201.sample(4), tmp_path / "none", num_classes=0)
    assert not (tmp_path / "none").exists()  # an empty folder was left behind
    with pytest.raises(gennas.GennasError, match="cannot write the export to /proc/self"):
        export_architecture(nb201.sample(4), "/proc/self", onnx=False)  # exists, cannot be written


@pytest.fixture(scope="module")
def tiny_trained(tmp_path_factory):
    """One tiny nb201 network trained on 64 one-channel 8x8 digits, its weights kept in a checkpoint."""
    from gennas.datasets import image_loaders
    from gennas.evaluators import TrainEvaluator

    nb201 = gennas.load_space("nb201")
    train, val = image_loaders("digits", batch_size=32, channels=1, seed=0, limit=64)
    evaluator = TrainEvaluator(nb201, train, val, epochs=1, checkpoint_dir=tmp_path_factory.mktemp("work"),
                               build_options=nb201.small_build_options, progress=False, keep_weights=True)
    (result,) = evaluator.evaluate([nb201.sample(5)])
    return result


def test_export_result_refuses_what_contradicts_the_trained_weights_and_none(tiny_trained, tmp_path):

    from gennas.export import export_result

    with pytest.raises(gennas.GennasError, match=r"num_classes=3 \(trained: 10\) contradicts them"):
        export_result(tiny_trained, tmp_path / "three", onnx=False, num_classes=3)
    assert not (tmp_path / "three").exists()
    same = export_result(tiny_trained, tmp_path / "ten", onnx=False, num_classes=10, space="nb201")  # repeated: fine
    assert json.loads(same["build"].read_text())["trained"] is True
    # another input side fits the same weights (global pooling): exported at that side, trained
    larger = json.loads(export_result(tiny_trained, tmp_path / "big", onnx=False, input_size=16)["build"].read_text())
    assert larger["trained"] is True and larger["input_shape"][-2:] == [16, 16]
    with pytest.raises(gennas.GennasError, match="needs a verified Result .*got None .*no verification succeeded"):
        export_result(None, tmp_path / "none")


def test_a_missing_weights_file_warns_and_the_fresh_export_is_built_as_trained(tiny_trained, tmp_path):
    import dataclasses

    from gennas.export import MissingWeights, export_result

    gone = str(tmp_path / "moved" / "train_x.pt")
    moved = dataclasses.replace(tiny_trained, metadata={**tiny_trained.metadata, "checkpoint": gone})
    with pytest.warns(MissingWeights, match=f"recorded at {gone}, which is not there"):
        paths = export_result(moved, tmp_path / "fresh", onnx=False)
    build = json.loads(paths["build"].read_text())
    # it was exported for 3x32x32 inputs, 10 classes and the full build: not the network verified
    nb201 = gennas.load_space("nb201")
    assert (build["in_channels"], build["input_shape"], build["num_classes"]) == (1, [1, 1, 8, 8], 10)
    assert build["build_options"] == nb201.small_build_options and not build["trained"]
    assert "are not there" in build["weights"]
    program = torch.export.load(paths["program"]).module()
    assert program(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    # `gennas design --export` finds a verified design's weights this way: it printed "(initial weights)" alone
    from gennas.export import export_candidate

    with pytest.warns(MissingWeights, match=gone):
        export_candidate(moved.arch, tmp_path / "candidate", [moved], onnx=False)


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_an_interrupted_design_export_is_finished_by_the_same_command(tmp_path, monkeypatch):
    """An interrupted `gennas design --export DIR` left rank01 half-written, and the rerun refused DIR
    ("already holds an export"; a user review). Each design is renamed into place once complete,
    and the same command again keeps the finished ones and writes the rest."""
    import gennas.export

    runner = CliRunner()
    out = tmp_path / "exp"
    command = ["design", "--task", "cifar10", "-n", "3", "--export", str(out)]
    real, calls = gennas.export.export_candidate, []

    def stop_at_third(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gennas.export, "export_candidate", stop_at_third)
    stopped = runner.invoke(app, command)
    assert stopped.exit_code == 130 and "2 of 3 designs exported" in stopped.stderr
    assert "run the same command again" in stopped.stderr
    assert sorted(p.name for p in out.iterdir()) == ["rank01", "rank02"]  # nothing half-written in view
    (out / "rank02" / "build.json").unlink()  # as an earlier version's interrupt left it
    monkeypatch.setattr(gennas.export, "export_candidate", real)
    again = runner.invoke(app, command)
    assert again.exit_code == 0, again.output
    assert "exported 1/3: " in again.stderr and "rank01 (kept)" in again.stderr and "exported 3/3" in again.stderr
    assert sorted(p.name for p in out.iterdir()) == ["rank01", "rank02", "rank03"]
    assert all((out / f"rank0{i}" / "build.json").is_file() for i in (1, 2, 3))
    other = runner.invoke(app, ["design", "--task", "cifar100", "-n", "1", "--export", str(out)])
    assert other.exit_code == 2 and "already holds an export of other designs (rank01" in other.stderr


def test_an_export_never_writes_through_a_link_planted_in_its_folder(nb201, tmp_path):
    """Walk 38 #1, #2, #11: a planted `.rank01.partial` link received the whole export outside the
    folder named (and became `rank01`); a kept `rank01` link had its build.json rewritten outside;
    dangling links named like export files were written through."""
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "arch.txt").symlink_to(outside / "victim.txt")  # dangling: exists() is False
    with pytest.raises(gennas.GennasError, match=r"already holds an export \(arch\.txt\)"):
        export_architecture(nb201.sample(0), folder, onnx=False)
    export_architecture(nb201.sample(0), folder, onnx=False, overwrite=True)
    assert not (folder / "arch.txt").is_symlink() and not (outside / "victim.txt").exists()

    export = tmp_path / "exp"
    export.mkdir()
    (export / ".rank01.partial").symlink_to(outside, target_is_directory=True)
    design = ["design", "--task", "cifar10", "-n", "1", "--export", str(export)]
    out = CliRunner().invoke(app, design)
    assert out.exit_code == 0, out.output
    assert list(outside.iterdir()) == [] and not (export / "rank01").is_symlink() and (export / "rank01").is_dir()

    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "rank01").symlink_to(export / "rank01", target_is_directory=True)
    before = (export / "rank01" / "build.json").read_text()
    for extra in ([], ["--overwrite"]):
        refused = CliRunner().invoke(app, ["design", "--task", "cifar10", "-n", "1", "--export", str(linked), *extra])
        assert refused.exit_code == 2 and "rank01 is a symbolic link" in refused.stderr, refused.output
    assert (export / "rank01" / "build.json").read_text() == before


def test_weights_a_study_records_at_a_file_no_training_writes_are_not_read(tiny_trained, tmp_path):
    """Walk 38 #13: a study's result metadata named /etc/passwd as its trained weights: it was read,
    and the refusal advised deleting `/etc/passwd.pt`."""
    import dataclasses

    from gennas.checkpoint_remedy import remedy
    from gennas.export import MissingWeights, export_result

    other = tmp_path / "notes.txt"
    other.write_text("someone's file")
    named = dataclasses.replace(tiny_trained, metadata={**tiny_trained.metadata, "checkpoint": str(other)})
    with pytest.warns(MissingWeights, match=r"not a file a TrainEvaluator writes \(train_\*\.pt\): not read"):
        paths = export_result(named, tmp_path / "fresh", onnx=False)
    assert "fresh" in json.loads(paths["build"].read_text())["weights"] and other.read_text() == "someone's file"
    assert "delete" not in remedy(Path("/etc/passwd")) and "not a file gennas wrote" in remedy(Path("/etc/passwd"))


def test_a_trained_checkpoint_whose_build_declares_other_weights_is_refused_before_it_is_built(tiny_trained, tmp_path):
    """Walk 38 #9: a hand-made "trained" checkpoint with `build_options: {"channels": 60000}` asked
    torch for 130 GB in one allocation before its weights were compared."""
    from gennas.export import export_trained

    blob = torch.load(tiny_trained.metadata["checkpoint"], weights_only=True)
    # 1024 channels doubled twice: within every bound (build options are checked since), gigabytes were it built
    blob["config"]["build_options"] = {**blob["config"]["build_options"], "channels": 1024}
    crafted = tmp_path / "train_crafted.pt"
    torch.save(blob, crafted)
    with pytest.raises(gennas.GennasError, match=r"train_crafted\.pt's config declares another network than its "
                                                 r"weights hold"):
        export_trained(crafted, tmp_path / "out", onnx=False)
    assert not (tmp_path / "out").exists()


def test_weights_of_another_architecture_are_refused_naming_the_mismatch(nb201, tmp_path):
    """Walk 38 #13 aside: the refusal ended at torch's header "Error(s) in loading state_dict for
    CellNetwork:" without the mismatch."""
    other = nb201.build(nb201.sample(7), num_classes=10, in_channels=3).state_dict()
    with pytest.raises(gennas.GennasError, match=r"the weights do not fit .+: (Missing|Unexpected|size mismatch)"):
        export_architecture(nb201.sample(0), tmp_path / "x", onnx=False, weights=other)
