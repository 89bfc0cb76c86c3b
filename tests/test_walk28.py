"""Findings of user walk 28: ``gennas --version``; an unwritable ``$GENNAS_HOME`` said up front (CLI)
and not fatal to a search (Python); the gennas and torch versions recorded with a result;
``design --export --overwrite``."""

from __future__ import annotations

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
