"""Finding 14 of user walk 28: a designer search in a space without a shipped predictor starts from the one
earlier searches saved in ``$GENNAS_HOME``, so one command and seed gave two top-10s; that note was not
in ``search --json``'s notes, and no flag started fresh (``--untrained`` now does)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gennas.cli.app import app


def test_untrained_repeats_a_fresh_home_s_run_and_leaves_the_saved_predictor(tmp_path, monkeypatch, user_cell_space):
    home = tmp_path / "home"
    monkeypatch.setenv("GENNAS_HOME", str(home))
    path = user_cell_space("w28u")  # a user's space: no shipped predictor
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--space", str(path), "--steps", "20", "--quiet"]).exit_code == 0

    def search(db: str, *more: str) -> dict:
        ran = runner.invoke(app, ["search", "--space", str(path), "--evaluator", "proxy:params", "--task", "mnist",
                                  "--budget", "4", "--seed", "5", "--quiet", "--json", "--storage",
                                  str(tmp_path / db), *more])
        assert ran.exit_code == 0, ran.output
        return json.loads(ran.stdout)

    first = search("a.db")  # a fresh home: starts untrained, saves what it learned
    saved = home / "checkpoints" / "predictor_w28u.pt"
    assert saved.is_file() and not any("saved" in note for note in first["notes"])
    second = search("b.db")
    assert second["notes"][0] == ("the designer starts from the predictor earlier searches saved for w28u in "
                                  "$GENNAS_HOME/checkpoints; a fresh GENNAS_HOME, or --untrained, starts untrained "
                                  "(another run)")
    before = saved.read_bytes()
    fresh = search("c.db", "--untrained")
    assert [r["arch"] for r in fresh["top"]] == [r["arch"] for r in first["top"]]
    assert not any("saved" in note for note in fresh["notes"])
    assert saved.read_bytes() == before  # neither read nor replaced

    study = "designer-w28u-mnist-proxy:params-seed5"
    resumed = runner.invoke(app, ["search", "--space", str(path), "--evaluator", "proxy:params", "--task", "mnist",
                                  "--seed", "5", "--storage", str(tmp_path / "b.db"), "--resume", "--untrained"])
    assert resumed.exit_code == 2, resumed.output
    assert resumed.stderr.strip() == (f"error: --untrained: study {study!r} began from the saved predictor, and a "
                                      "resume starts from it again; start another study (--study) for an untrained run")


def test_untrained_goes_with_the_designer(tmp_path):
    ran = CliRunner().invoke(app, ["search", "--method", "random", "--untrained", "--storage", str(tmp_path / "r.db")])
    assert ran.exit_code == 2, ran.output
    assert ran.stderr.strip() == "error: --untrained goes with --method designer (method random learns no saved predictor)"
    assert not (tmp_path / "r.db").exists()


def test_search_help_says_what_a_run_repeats_with():
    shown = CliRunner().invoke(app, ["search", "--help"], terminal_width=200)
    text = " ".join(shown.output.replace("\u2502", " ").split())
    assert "runs are reproducible" not in text
    assert "the same command repeats a run given the same $GENNAS_HOME" in text
    assert "--untrained" in text
