"""Findings of user walk 28: ``gennas --version``; an unwritable ``$GENNAS_HOME`` said up front (CLI)
and not fatal to a search (Python); the gennas and torch versions recorded with a result;
``design --export --overwrite``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app


def test_version_prints_gennas_version_and_exits_0(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    shown = CliRunner().invoke(app, ["--version"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == f"gennas {gennas.__version__}"
    late = CliRunner().invoke(app, ["spaces", "--version"], prog_name="gennas")
    text = " ".join(late.output.replace("\u2502", " ").split())
    assert late.exit_code == 2 and "gennas --version spaces" in text, late.output  # a flag: no " N"


# ------------------------------------------------ an unwritable $GENNAS_HOME (walk 28 #10)
def _home_is_a_file(tmp_path, monkeypatch):
    """``$GENNAS_HOME`` set to a file: nothing can be written under it, even by root."""
    home = tmp_path / "home-file"
    home.write_text("")
    monkeypatch.setenv("GENNAS_HOME", str(home))
    return home


def test_a_designer_search_refuses_an_unwritable_home_before_verifying(tmp_path, monkeypatch):
    """It verified its results, then died with a 90-line traceback saving its predictor."""
    home = _home_is_a_file(tmp_path, monkeypatch)
    db = tmp_path / "h.db"
    ran = CliRunner().invoke(app, ["search", "--space", "darts", "--budget", "3", "--evaluator", "proxy:synflow",
                                   "--storage", f"sqlite:///{db}", "--study", "h3", "--json"])
    assert ran.exit_code == 2, ran.output
    assert ran.stderr.strip() == (f"error: gennas search cannot save the predictor the designer learns: cannot write "
                                  f"to {home}/checkpoints (Not a directory); set GENNAS_HOME to a writable folder")
    assert not db.exists()  # nothing was begun


def test_latency_register_refuses_an_unwritable_home(tmp_path, monkeypatch):
    from gennas.surrogates.latency import load_latency_estimator

    home = _home_is_a_file(tmp_path, monkeypatch)
    refs = load_latency_estimator("nb201").reference_archs()
    timings = tmp_path / "phone.csv"
    timings.write_text("arch,ms\n" + "".join(f'"{a.to_string()}",{1 + i / 10}\n' for i, a in enumerate(refs)))
    ran = CliRunner().invoke(app, ["latency", "register", str(timings), "--name", "phone"])
    assert ran.exit_code == 2, ran.output
    assert ran.stderr.strip() == (f"error: cannot register devices: cannot write to {home}/devices/nb201 (Not a "
                                  "directory); set GENNAS_HOME to a writable folder")


def test_latency_recheck_refuses_an_unwritable_device_folder_before_timing(tmp_path, monkeypatch, register_here):
    import tempfile

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    register_here("here", gennas.load_space("nb201"), 1.0)
    timed = []
    monkeypatch.setattr("gennas.design.timed_here.registered_timer", lambda *a: timed.append(1) or (lambda arch: 1.0))

    def refused(*args, **kwargs):  # the folder turned read-only (root writes anywhere: a chmod would not do)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    ran = CliRunner().invoke(app, ["latency", "recheck", "--name", "here", "--cells", "2"])
    assert ran.exit_code == 2, ran.output
    assert ran.stderr.startswith("error: gennas latency recheck cannot keep its result: cannot write to ")
    assert "(Permission denied); set GENNAS_HOME to a writable folder" in ran.stderr and timed == []


def test_a_home_that_can_be_created_is_created(tmp_path, monkeypatch):
    from gennas.cli.search import check_home

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "not" / "yet"))
    check_home(gennas.load_space("darts"))
    assert (tmp_path / "not" / "yet" / "checkpoints").is_dir()


def test_a_designer_that_cannot_remember_its_predictor_warns_once_and_goes_on(tmp_path, monkeypatch):
    """In Python: the refitted predictor cannot be written under the home; the search is not lost."""
    import warnings

    from test_design_loop import _own_trained_space

    from gennas.design.pretrained import PredictorNotRemembered

    space = _own_trained_space(tmp_path, monkeypatch, "walk28_unwritable_home")
    designer = gennas.Designer(space, task="mine", seed=0)
    home = _home_is_a_file(tmp_path, monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = designer.search(lambda a: float(a.to_string().count("conv3")) + 0.1 * a.to_string().count("skip"),
                                 budget=8, batch_size=2)
    assert len(result.results) == 8
    said = [w for w in caught if issubclass(w.category, PredictorNotRemembered)]
    assert len(said) == 1, [str(w.message) for w in caught]
    assert f"{home}/checkpoints cannot be written" in str(said[0].message)
    assert "set GENNAS_HOME to a writable folder" in str(said[0].message)


# ------------------------------------------------ which version produced a result (walk 28 #8)
def _versions():
    import torch

    return {"gennas_version": gennas.__version__, "torch_version": str(torch.__version__)}


def test_a_search_records_the_gennas_and_torch_versions_in_its_study_and_json(tmp_path, monkeypatch):
    import json

    import optuna

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = tmp_path / "v.db"
    ran = CliRunner().invoke(app, ["search", "--method", "random", "--budget", "2", "--storage", f"sqlite:///{db}",
                                   "--study", "v", "--json", "--quiet"])
    assert ran.exit_code == 0, ran.output
    shown = json.loads(ran.stdout)
    assert {k: shown[k] for k in _versions()} == _versions()
    attrs = optuna.load_study(study_name="v", storage=f"sqlite:///{db}").user_attrs
    assert {k: attrs[k] for k in _versions()} == _versions()
    assert attrs["method"] == "random"  # beside the settings the study already recorded


def test_an_export_records_the_gennas_and_torch_versions_in_build_json(tmp_path):
    import json

    from gennas.export import export_architecture

    arch = gennas.load_space("nb201").sample_many(1, 0)[0]
    paths = export_architecture(arch, tmp_path / "x", onnx=False)
    record = json.loads(paths["build"].read_text())
    assert {k: record[k] for k in _versions()} == _versions()


# ------------------------------------------------ design --export --overwrite (walk 28 #9)
@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_design_export_overwrite_replaces_an_export_of_other_designs(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    runner, out = CliRunner(), tmp_path / "exp"
    first = runner.invoke(app, ["design", "--task", "cifar10", "-n", "2", "--export", str(out), "--json"])
    assert first.exit_code == 0, first.output
    command = ["design", "--task", "cifar100", "-n", "1", "--export", str(out), "--json"]
    refused = runner.invoke(app, command)
    assert refused.exit_code == 2 and "or add --overwrite to replace it" in refused.stderr, refused.output
    (out / "rank05").mkdir()
    (out / "rank05" / "notes.txt").write_text("mine")  # not an export: never removed
    mine = runner.invoke(app, [*command, "--overwrite"])
    assert mine.exit_code == 2 and "rank05 holds files no export writes" in mine.stderr, mine.output
    (out / "rank05" / "notes.txt").unlink()
    (out / "rank05").rmdir()
    replaced = runner.invoke(app, [*command, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert "removed the earlier export's rank02 (--overwrite)" in replaced.stderr
    assert sorted(p.name for p in out.iterdir()) == ["rank01"]
    row = json.loads(replaced.stdout)[0]
    assert json.loads((out / "rank01" / "build.json").read_text())["arch"] == row["arch"]
    alone = runner.invoke(app, ["design", "-n", "1", "--overwrite"])
    assert alone.exit_code == 2 and "--overwrite replaces an export: it goes with --export DIR" in alone.stderr


def test_design_json_rows_carry_every_prediction_column_whether_stated_or_ranked_only(tmp_path, monkeypatch):
    """`--task cifar10` rows had pred_acc/pred_low/...; a new dataset's (ranks only) had rank, arch,
    relative_score and verified alone, and a pipeline's row["pred_acc"] raised KeyError (walk 28 #2)."""
    from gennas.design.candidate import statement_keys

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    keys = {}
    for task in ("cifar10", "new-cifar10"):
        result = CliRunner().invoke(app, ["design", "--task", task, "-n", "2", "--json"])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert len({tuple(row) for row in rows}) == 1
        keys[task] = [k for k in rows[0] if k in statement_keys("%")]
    assert keys["cifar10"] == keys["new-cifar10"] == list(statement_keys("%"))
    assert rows[0]["pred_acc"] is None and rows[0]["relative_score"] is not None  # ranked only: no value made up
