"""`gennas design --export` on a study whose designs were trained (walk 22 #2, #13): a
`--num-classes` that contradicts the trained weights is refused before anything is written, and
`--help` says that trained weights are written."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from gennas.cli.app import app


def test_num_classes_contradicting_trained_weights_is_refused_before_any_write(tmp_path, monkeypatch):
    """It wrote four 10-class trained networks and one 100-class untrained one, without a word."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'tr.db'}"
    searched = runner.invoke(app, ["search", "--evaluator", "train", "--task", "digits", "--budget", "1",
                                   "--epochs", "1", "--limit", "40", "--storage", db, "-q"])
    assert searched.exit_code == 0, searched.output
    out = tmp_path / "exp"
    refused = runner.invoke(app, ["design", "--storage", db, "--study", "designer-nb201-digits-train-seed0", "-n", "2",
                                  "--export", str(out), "--num-classes", "100"])
    assert refused.exit_code == 2, refused.output
    line = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert len(line) == 1 and "--num-classes 100 contradicts the trained weights" in line[0]
    assert "rank01 trained with 10 classes" in line[0] and "leave --num-classes out (or give 10)" in line[0]
    assert not out.exists()  # nothing written


def test_design_help_says_export_writes_trained_weights_with_a_study():
    shown = CliRunner().invoke(app, ["design", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    text = " ".join(re.sub(r"[│\s]+", " ", shown.stdout).split())
    assert "untrained weights initialised from --seed" not in text
    assert "with --study, the trained weights of a design its training evaluator kept" in text
    assert "trained weights keep their own: another is refused" in text
