"""A designer study records the generator that proposed its results (user walk 53 #15): a VAE study
resumed with the diffusion changed 6 of its next 13 picks without a word, and `gennas design --study`
designed from it with the diffusion."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.evaluators import TableEvaluator


def test_a_resume_with_another_generator_is_refused_and_from_study_keeps_the_study_s(tmp_path, monkeypatch, bench):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    storage = f"sqlite:///{tmp_path / 's.db'}"
    table = TableEvaluator(bench, "cifar10")
    gennas.Designer("nb201", task="cifar10", seed=0, generator="vae").search(table, budget=3, storage=storage,
                                                                            study_name="s", progress=False)
    assert gennas.search.studies.study_settings(storage, "s")["generator"] == "vae"
    with pytest.raises(gennas.GennasError, match="generator='vae', this run has generator='diffusion'"):
        gennas.Designer("nb201", task="cifar10", seed=0).search(table, budget=5, storage=storage, study_name="s",
                                                                resume=True, progress=False)
    assert gennas.Designer.from_study(storage, "s").generator.kind == "vae"
    assert gennas.Designer.from_study(storage, "s", generator="diffusion").generator.kind == "diffusion"
    same = gennas.Designer("nb201", task="cifar10", seed=0, generator="vae").search(
        table, budget=5, storage=storage, study_name="s", resume=True, progress=False)
    assert len(same.history) == 5
    out = CliRunner().invoke(app, ["design", "--storage", storage, "--study", "s", "-n", "2", "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)) == 2


def test_a_command_line_resume_of_a_vae_study_is_refused_naming_the_generator(tmp_path, monkeypatch, bench):
    """`gennas search --resume` of a study a Python VAE designer began went on with the diffusion, unsaid
    (user walk 53 #15); a command-line designer study records its generator (the diffusion) as well."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    storage = f"sqlite:///{tmp_path / 'c.db'}"
    gennas.Designer("nb201", task="cifar10", seed=0, generator="vae").search(
        TableEvaluator(bench, "cifar10"), budget=2, storage=storage, study_name="v", progress=False)
    runner = CliRunner()
    resumed = runner.invoke(app, ["search", "--storage", storage, "--study", "v", "--resume", "-b", "4",
                                  "--evaluator", "table"])
    assert resumed.exit_code == 2 and "generator='vae'" in resumed.stderr, resumed.output
    fresh = runner.invoke(app, ["search", "--storage", storage, "--study", "d", "-b", "2", "--evaluator", "table"])
    assert fresh.exit_code == 0, fresh.output
    assert gennas.search.studies.study_settings(storage, "d")["generator"] == "diffusion"
