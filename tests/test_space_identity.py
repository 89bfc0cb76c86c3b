"""A device's timings and a trained checkpoint are used only with the spec of the space they were
made for: a user who edits a space's YAML keeps its name, and its old timings judged budgets
3-12x off (gennas.spaces.identity)."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

import gennas
from gennas.checkpoint import save_checkpoint
from gennas.cli.app import app
from gennas.design.budget import latency_models
from gennas.errors import GennasError, UnknownDevice
from gennas.generators import load_generator, new_generator
from gennas.spaces.identity import changes_since, spec_record, structure_record
from gennas.surrogates.latency import load_latency_estimator
from gennas.surrogates.measure import BrokenDeviceFile, register_device
from gennas.surrogates.slot_latency import SlotLatencyModel

runner = CliRunner()
SPACE_NAME = "identity_test_space"  # this module's own (conftest USER_CELL_SPACE)


def _older(space: gennas.SearchSpace) -> dict:
    """The spec as it was before the user edited it: 64 channels and no pool3 op."""
    old = copy.deepcopy(spec_record(space))
    old["macro"]["channels"] = 64
    del old["cell"]["ops"]["pool3"]
    return old


def test_changes_are_named_by_their_dotted_paths(tmp_path, user_cell_space):
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    assert changes_since(spec_record(space), space) == []
    assert changes_since(None, space) == []  # a file from before records were kept: not checked
    assert changes_since(_older(space), space) == ["cell.ops.pool3 added", "macro.channels: 64 -> 4"]
    assert "description" not in spec_record(space)  # a new description changes nothing measured


def test_a_device_timed_on_another_spec_of_the_space_is_refused_naming_the_change(tmp_path, monkeypatch,
                                                                                  user_cell_space):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    refs = SlotLatencyModel(space).reference_archs()
    path = register_device("box", space, [(a, 1.0 + 0.01 * i) for i, a in enumerate(refs)])
    assert load_latency_estimator(space).devices == ["box"]  # timed on this spec: used
    record = json.loads(path.read_text())
    record["space_spec"] = _older(space)
    path.write_text(json.dumps(record))
    fix = r"cell\.ops\.pool3 added; macro\.channels: 64 -> 4.*gennas latency measure --space \S*own\.yaml --name box"
    with pytest.warns(BrokenDeviceFile, match=rf"timed on another spec of space '{SPACE_NAME}' \({fix}"):
        assert "box" not in load_latency_estimator(space).devices
    with pytest.raises(UnknownDevice, match=r"its file was skipped: .*timed on another spec"):
        latency_models(space, "box", 2.0)


def test_a_refused_measure_s_file_registers_with_its_space_file_and_not_after_an_edit(tmp_path, monkeypatch,
                                                                                     user_cell_space):
    """The file a refused `gennas latency measure` saves names the user's YAML, so the command it
    prints registers it as printed; timings of another spec are refused."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    refs = SlotLatencyModel(space).reference_archs()
    saved = {"name": "box", "space": space.name, "space_file": str(space.source), "model": "slots",
             "space_spec": spec_record(space), "samples": [[space.to_string(a), 1.0 + 0.01 * i]
                                                           for i, a in enumerate(refs)]}
    (tmp_path / "ok.json").write_text(json.dumps(saved))
    (tmp_path / "old.json").write_text(json.dumps({**saved, "space_spec": _older(space)}))
    stale = runner.invoke(app, ["latency", "register", str(tmp_path / "old.json"), "--name", "box"])
    assert stale.exit_code != 0 and "timed on another spec" in stale.output and "Traceback" not in stale.output
    ran = runner.invoke(app, ["latency", "register", str(tmp_path / "ok.json"), "--name", "box"])
    assert ran.exit_code == 0, ran.output
    assert load_latency_estimator(space).devices == ["box"]


def test_a_checkpoint_made_for_another_spec_of_the_space_is_refused_naming_the_change(tmp_path, monkeypatch,
                                                                                      user_cell_space):
    """A predictor learned scores of the spec as it was: any change refuses it. A generator only
    learned which choices make an architecture: a wider network keeps it, a new op does not."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    predictor = gennas.Predictor(space)
    predictor.save(tmp_path / "now.pt")
    assert gennas.Predictor.load(tmp_path / "now.pt", space).space is space
    old = predictor.to_checkpoint()
    old.meta["space_spec"] = _older(space)
    save_checkpoint(tmp_path / "old.pt", old)
    with pytest.raises(GennasError, match=r"old\.pt was made for another spec of space .*macro\.channels: 64 -> 4\): "
                                          r"it learned scores of the space as it was"):
        gennas.Predictor.load(tmp_path / "old.pt", space)
    generator = new_generator(space, "diffusion")
    wider = generator.save(tmp_path / "wider", "test", {})  # made for 64 channels: the same slots
    new_op = generator.save(tmp_path / "new_op", "test", {})  # made before pool3 was an op
    _rewrite_meta(wider, {"space_spec": {**spec_record(space), "macro": {**spec_record(space)["macro"],
                                                                       "channels": 64}}})
    assert load_generator(space, path=wider).space is space
    structure = structure_record(space)
    _rewrite_meta(new_op, {"space_spec": _older(space),
                           "space_structure": {**structure, "slot_vocab": structure["slot_vocab"][:-1]}})
    with pytest.raises(GennasError, match=r"made for another spec .*cell\.ops\.pool3 added.*gennas train --space"):
        load_generator(space, path=new_op)


def _rewrite_meta(path, meta: dict) -> None:
    """Rewrite a checkpoint with ``meta`` merged in, its manifest's checksum that of the new bytes
    (a file saved for an older spec; without a manifest a file in the home is refused as such)."""
    import torch

    from gennas.checkpoint import file_sha256

    blob = torch.load(path, weights_only=True)
    blob["meta"].update(meta)
    torch.save(blob, path)
    manifest = path.with_suffix(".json")
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "sha256": file_sha256(path)}))


def test_a_study_verified_on_another_spec_of_the_space_is_resumed_only_when_forced(tmp_path, user_cell_space):
    """Its scores are of networks the YAML no longer describes: resuming it, or designing from it
    (Designer.from_study), is refused naming the change; forced, the change is recorded."""
    from gennas.evaluators.base import Result
    from gennas.search.storage import ResultStore
    from gennas.search.study_record import CHANGES_ATTR, SPEC_ATTR

    space = gennas.load_space(str(user_cell_space(SPACE_NAME)))
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = ResultStore.open(space, url, "mine", attrs={"task": "mnist"})
    store.add_many([Result(a, 50.0 + i, "train") for i, a in enumerate(space.sample_many(3, 0))])
    assert store.study.user_attrs[SPEC_ATTR] == spec_record(space)
    assert len(ResultStore.open(space, url, "mine", resume=True).results()) == 3  # the same spec
    store.study.set_user_attr(SPEC_ATTR, _older(space))
    with pytest.raises(GennasError, match=r"'mine' holds results verified on another spec .*macro\.channels: 64 -> 4"):
        ResultStore.open(space, url, "mine", resume=True)
    forced = ResultStore.open(space, url, "mine", resume=True, force=True)
    assert forced.study.user_attrs[SPEC_ATTR] == spec_record(space)
    assert forced.study.user_attrs[CHANGES_ATTR][-1]["spec"] == ["cell.ops.pool3 added", "macro.channels: 64 -> 4"]


def test_force_goes_past_an_edited_spec_for_a_study_begun_from_a_saved_predictor(tmp_path, monkeypatch,
                                                                                 user_cell_space):
    """README: `--force` resumes or designs from a study whose spec was edited; a study begun from a
    saved predictor failed on its copy of it (made for the old spec) without a word of --force."""
    import optuna

    from gennas.design.pretrained import start_copy
    from gennas.search.progress import work_dirs
    from gennas.search.study_record import SPEC_ATTR, START_ATTR

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space("forced_start_space")
    space = gennas.load_space(path)
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--space", str(path), "--steps", "5", "--quiet"]).exit_code == 0
    url = f"sqlite:///{tmp_path / 's.db'}"
    base = ["search", "--space", str(path), "--task", "digits", "--evaluator", "proxy:synflow", "--storage", url,
            "-q", "--json"]
    assert runner.invoke(app, [*base, "--study", "first", "-b", "11"]).exit_code == 0  # saves the predictor
    assert runner.invoke(app, [*base, "--study", "second", "-b", "3"]).exit_code == 0
    study = optuna.load_study(study_name="second", storage=url)
    assert study.user_attrs[START_ATTR] == "saved"
    # the spec edited since (as in a new process): the study, its start copy and the saved predictor
    study.set_user_attr(SPEC_ATTR, _older(space))
    for saved in (start_copy(work_dirs(url, "second")), tmp_path / "home" / "checkpoints" / f"predictor_{space.name}.pt"):
        _rewrite_meta(saved, {"space_spec": _older(space)})
    design = ["design", "--storage", url, "--study", "second", "-n", "2", "--json"]
    refused = runner.invoke(app, design)
    assert refused.exit_code == 2 and "made for another spec" in refused.stderr and "--force" in refused.stderr
    forced = runner.invoke(app, [*design, "--force"])
    assert forced.exit_code == 0 and "the designer starts untrained" in forced.stderr, forced.output
    resumed = runner.invoke(app, [*base, "--study", "second", "-b", "4", "--resume", "--force"])
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["resumed"] == 3, resumed.output


def test_training_for_an_edited_spec_is_refused_unless_forced_and_names_the_old_predictor(tmp_path, monkeypatch,
                                                                                       user_cell_space):
    """`gennas train` for a spec edited under the same name: overwrote the old spec's generator
    without a word (designs for it then failed), and the search it suggests next refused the
    predictor saved for the old spec (a user walk)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space("retrained_space")
    space = gennas.load_space(path)
    runner = CliRunner()
    train = ["train", "--space", str(path), "--steps", "5", "--quiet"]
    assert runner.invoke(app, train).exit_code == 0
    again = runner.invoke(app, train)  # the same spec: replaced only with --force (a user review)
    assert again.exit_code == 2 and "already holds a diffusion generator" in again.stderr
    assert runner.invoke(app, [*train, "--force"]).exit_code == 0
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert runner.invoke(app, ["search", "--space", str(path), "--task", "digits", "--evaluator", "proxy:synflow",
                               "--storage", url, "-b", "11", "-q"]).exit_code == 0  # saves the predictor
    home = tmp_path / "home" / "checkpoints"
    structure = structure_record(space)
    _rewrite_meta(home / "diffusion_retrained_space.pt",
                  {"space_spec": _older(space), "space_structure": {**structure, "slot_vocab": structure["slot_vocab"][:-1]}})
    _rewrite_meta(home / "predictor_retrained_space.pt", {"space_spec": _older(space)})
    refused = runner.invoke(app, train)
    assert refused.exit_code == 2 and "is the diffusion generator of another spec" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.output
    forced = runner.invoke(app, [*train, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "learned the spec as it was" in " ".join(forced.stderr.split())
    assert load_generator(space, "diffusion") is not None  # of this spec now
