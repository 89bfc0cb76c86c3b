"""Findings of user walk 28 in an optuna storage shared with other tools (#19): a study another tool made
is not resumed by a gennas search; ``gennas report`` skips a study it cannot read, with one note, and
names the storage by its URL."""

from __future__ import annotations

import json

import optuna
import pytest
from typer.testing import CliRunner

from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.search.storage import ResultStore
from gennas.search.study_record import SPACE_ATTR


def _foreign(url: str, name: str, space_attr: str | None = None) -> None:
    """A study another tool made: three trials of its own and an attribute (and ``space_attr`` as gennas's)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=url, study_name=name)
    study.set_user_attr("owner", "other-tool")
    if space_attr is not None:
        study.set_user_attr(SPACE_ATTR, space_attr)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)


def _search(url: str, study: str, *more: str):
    return CliRunner().invoke(app, ["search", "--storage", url, "--study", study, "--method", "random",
                                    "--budget", "2", "--quiet", "--json", *more])


def test_a_search_refuses_to_resume_another_tools_study(tmp_path, monkeypatch):
    """It added its trials to the study, and `gennas report` then failed for every study."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 's.db'}"
    _foreign(url, "foreign2")
    for more in (["--resume"], []):
        ran = _search(url, "foreign2", *more)
        assert ran.exit_code == 2, ran.output
        assert ran.stderr.strip() == (f"error: study 'foreign2' in {url} is not a gennas study: it holds 3 trials and "
                                      "user attributes owner but none of gennas's (gennas_space, gennas_space_spec, "
                                      "method, seed); gennas stores results only in its own studies: choose another "
                                      "study name")
    study = optuna.load_study(study_name="foreign2", storage=url)
    assert len(study.trials) == 3 and SPACE_ATTR not in study.user_attrs
    with pytest.raises(GennasError, match="'foreign2' in .* is not a gennas study: it holds 3 trials"):
        ResultStore.open("nb201", url, "foreign2", resume=True)


def test_an_empty_study_without_attributes_is_still_taken(tmp_path, monkeypatch):
    """Another gennas process starting the same study may just have created it (cooperating searches),
    with the search's direction (one made to minimize is refused since walk 41: taken over, optuna's
    best_trial named the worst result, tests/test_interop.py)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 's.db'}"
    optuna.create_study(storage=url, study_name="fresh", direction="maximize")
    ran = _search(url, "fresh", "--resume")
    assert ran.exit_code == 0, ran.output
    assert optuna.load_study(study_name="fresh", storage=url).user_attrs[SPACE_ATTR] == "nb201"


def test_report_reads_a_study_with_another_writer_s_trials_skipping_them_with_one_note(tmp_path, monkeypatch):
    """Such a study was refused whole with a bare KeyError 'arch' (by design and from_study too), while
    a resumed search skipped the trials silently: since walk 41 every reader skips them and says so."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 's.db'}"
    _foreign(url, "mixed", space_attr="nb201")  # as a resume before this fix left it: gennas's attribute, others' trials
    _foreign(url, "plain")
    assert _search(url, "ours").exit_code == 0
    shown = CliRunner().invoke(app, ["report", "--storage", url, "--out", str(tmp_path / "rep"), "--json"])
    assert shown.exit_code == 0, shown.output
    out = json.loads(shown.stdout)
    assert [s["study"] for s in out["studies"]] == ["mixed", "ours"]
    assert ("study 'mixed' holds 3 finished trials not written by gennas (plain optuna code's: no 'arch' and 'hash' "
            "attributes): skipped, as every command skips them") in out["notes"]


def test_report_names_the_storage_by_its_url(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _foreign(url, "plain")
    shown = CliRunner().invoke(app, ["report", "--storage", url, "--out", str(tmp_path / "rep")])
    assert shown.exit_code == 2, shown.output
    assert shown.stderr.strip() == f"error: storage {url} holds no gennas study"


def test_search_help_says_a_sqlite_file_has_a_work_folder():
    """Archiving only the .db lost the trained weights and the predictor a designer began from (walk 28 #17)."""
    shown = CliRunner().invoke(app, ["search", "--help"], terminal_width=200)
    text = " ".join(shown.output.replace("\u2502", " ").split())
    assert ("a file run.db keeps run.db.work/ beside it (trained weights, the predictor a designer began from; a "
            "server's is under $GENNAS_HOME/work): archive both") in text
