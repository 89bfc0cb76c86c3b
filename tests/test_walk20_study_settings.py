"""A study records its batch size (a resume with another is refused) and a training evaluator's
threads (a resume with others is noted), and a search says how many results it verified itself
(user walk 20)."""

from __future__ import annotations

import json
import warnings

import optuna
import pytest
import torch
from typer.testing import CliRunner

from gennas.baselines import RandomSearch
from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.evaluators import TableEvaluator
from gennas.search import run_search
from gennas.search.evaluator_settings import OtherThreads, training_threads
from gennas.search.storage import ResultStore
from gennas.threads import threads_chosen, torch_threads


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))


class Trained(TableEvaluator):
    """Table scores under a training evaluator's kind and ``threads`` (no training: fast)."""

    kind = "train"

    def __init__(self, threads: int | None = 1) -> None:
        super().__init__("nb201", "cifar10")
        self.threads = threads


def _search(url, budget, batch_size=2, evaluator=None, **kwargs):
    return run_search(RandomSearch("nb201", seed=0), evaluator or TableEvaluator("nb201", "cifar10"), budget,
                      storage=url, study_name="s", batch_size=batch_size, progress=False, **kwargs)


def _attrs(url):
    return optuna.load_study(study_name="s", storage=url).user_attrs


def test_a_resume_with_another_batch_size_is_refused_naming_both_and_the_option(tmp_path):
    url = f"sqlite:///{tmp_path / 'bs.db'}"
    _search(url, 4)
    assert _attrs(url)["batch_size"] == 2
    with pytest.raises(GennasError, match=r"run with batch_size=2, this run has batch_size=3; resume with the same "
                                          r"settings \(--batch-size 2 / batch_size=2\)"):
        _search(url, 8, batch_size=3, resume=True)
    assert len(_search(url, 6, resume=True)) == 6  # the same batch size goes on
    forced = _search(url, 8, batch_size=3, resume=True, force=True)  # forced: continued and recorded
    assert len(forced) == 8 and _attrs(url)["gennas_settings_changes"][-1]["to"] == {"batch_size": 3}


def test_a_study_from_before_the_record_resumes_with_any_batch_size(tmp_path, nb201):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = ResultStore.open(nb201, url, "s", attrs={"method": "random", "seed": 0})
    old.add_many(TableEvaluator("nb201", "cifar10").evaluate(RandomSearch("nb201", seed=9).ask(3)))
    assert len(_search(url, 5, batch_size=3, resume=True)) == 5
    assert _attrs(url)["batch_size"] == 3  # recorded from now on


def test_the_cli_refuses_another_batch_size_on_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["search", "--seed", "0", "--storage", url, "--study", "bs", "-q", "--json"]
    first = CliRunner().invoke(app, args + ["-b", "4", "--batch-size", "2"])
    assert first.exit_code == 0, first.output
    refused = CliRunner().invoke(app, args + ["--batch-size", "3", "--resume", "-b", "6"])
    assert refused.exit_code == 2 and "--batch-size 2" in refused.stderr and "batch_size=3" in refused.stderr


def test_the_threads_of_a_training_evaluator_are_recorded_and_another_count_is_noted_on_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 'tr.db'}"
    _search(url, 2, evaluator=Trained(threads=1))
    assert _attrs(url)["threads"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", OtherThreads)  # the same threads: no note
        _search(url, 3, evaluator=Trained(threads=1), resume=True)
    with pytest.warns(OtherThreads, match=r"last verified with 1 torch thread and this run trains with 2.*bit for bit"):
        result = _search(url, 4, evaluator=Trained(threads=2), resume=True)
    assert len(result) == 4 and _attrs(url)["threads"] == 2  # noted, not refused


def test_table_scores_record_no_threads_and_an_older_study_gets_no_note(tmp_path, nb201):
    url = f"sqlite:///{tmp_path / 't.db'}"
    _search(url, 2)
    assert "threads" not in _attrs(url)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OtherThreads)
        # no record before: no note (forced: table scores resumed by a training are another evaluator)
        _search(url, 3, evaluator=Trained(threads=2), resume=True, force=True)


def test_training_threads_are_the_ones_an_outer_call_chose():
    assert training_threads(Trained(threads=2)) == 2
    with torch_threads(3):
        undo = threads_chosen()  # as the command line's --threads
        try:
            assert training_threads(Trained(threads=1)) == 3
        finally:
            undo()


def test_the_cli_notes_a_resume_with_other_training_threads(tmp_path):
    url = f"sqlite:///{tmp_path / 'train.db'}"
    args = ["search", "--task", "mnist", "-e", "train", "--epochs", "1", "--limit", "40", "-b", "1", "--seed", "0",
            "--storage", url, "--study", "tr", "-q", "--resume"]
    before = torch.get_num_threads()
    try:
        first = CliRunner().invoke(app, ["--threads", "1"] + args)
        assert first.exit_code == 0 and "note:" not in first.stderr, first.output
        again = CliRunner().invoke(app, ["--threads", "2"] + args)
    finally:
        torch.set_num_threads(before)
    assert again.exit_code == 0, again.output
    assert "note: study 'tr' was last verified with 1 torch thread and this run trains with 2" in again.stderr


class Sharing(TableEvaluator):
    """Table scores; at its first call another process stores one result in the study."""

    def __init__(self, url, nb201) -> None:
        super().__init__("nb201", "cifar10")
        self.url, self.nb201, self.done = url, nb201, False

    def evaluate(self, archs):
        if not self.done:
            self.done = True
            other = ResultStore.open(self.nb201, self.url, "s", resume=True)
            other.add_many(super().evaluate(RandomSearch("nb201", seed=123).ask(1)))
        return super().evaluate(archs)


def test_a_search_says_how_many_results_it_verified_itself(tmp_path, nb201):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    solo = _search(url, 4)
    assert solo.verified_here == 4
    assert _search(url, 6, resume=True).verified_here == 2
    shared = run_search(RandomSearch("nb201", seed=0), Sharing(url, nb201), 10, storage=url, study_name="s",
                        batch_size=2, progress=False, resume=True)
    assert len(shared) == 10 and shared.resumed == 6 and shared.verified_here == 3


def test_the_cli_summary_says_how_many_this_process_verified(tmp_path):
    url = f"sqlite:///{tmp_path / 'sum.db'}"
    args = ["search", "--seed", "0", "--storage", url, "--study", "x", "-q"]
    assert CliRunner().invoke(app, args + ["-b", "3"]).exit_code == 0
    out = CliRunner().invoke(app, args + ["-b", "5", "--resume", "--json"])
    summary = json.loads(out.stdout)
    assert (summary["verified"], summary["verified_here"], summary["resumed"]) == (5, 2, 3)
    text = CliRunner().invoke(app, args + ["-b", "6", "--resume"])
    assert "6 verified (this process 1;" in text.stdout
