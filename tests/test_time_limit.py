"""A search runs for as long as the machine allows (user walk 52: only `timeout` and a guessed
budget stopped one): after ``max_seconds`` / ``--time-limit`` no verification starts, the one under
way is finished and stored, and a resume goes on."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from gennas.baselines import RandomSearch
from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.search import run_search


def test_a_search_stops_at_its_time_limit_keeps_what_it_verified_and_resumes(tmp_path, bench):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    calls = []

    def slow(arch):  # 0.3 s a verification: about 4 in 1 s
        calls.append(arch)
        time.sleep(0.3)
        return bench.accuracy(arch, "cifar10")

    began = time.monotonic()
    first = run_search(RandomSearch("nb201", seed=0), slow, budget=20, storage=url, study_name="t", progress=False,
                       max_seconds=1.0)
    assert time.monotonic() - began < 10
    assert 1 <= len(first.history) < 20 and len(first.history) == len(calls)  # the one under way was finished
    assert any(note.startswith("stopped at the time limit of 1 s with") for note in first.notes)
    rest = run_search(RandomSearch("nb201", seed=0), slow, budget=len(first.history) + 2, storage=url, study_name="t",
                      progress=False, resume=True)
    assert len(rest.history) == len(first.history) + 2 and not any("time limit" in n for n in rest.notes)


@pytest.mark.parametrize("limit", [0, -1.0, float("nan"), float("inf"), True, "10"])
def test_a_time_limit_that_is_no_number_of_seconds_is_refused(bench, limit):
    with pytest.raises(GennasError, match="max_seconds must be a positive number of seconds"):
        run_search(RandomSearch("nb201", seed=0), lambda a: 1.0, budget=2, progress=False, max_seconds=limit)


def test_the_command_line_s_time_limit(tmp_path):
    db = str(tmp_path / "run.db")
    refused = CliRunner().invoke(app, ["search", "-b", "3", "--storage", db, "--time-limit", "0"])
    assert refused.exit_code == 2 and not (tmp_path / "run.db").exists()
    done = CliRunner().invoke(app, ["search", "--method", "random", "-b", "3", "--storage", db, "--time-limit", "60",
                                    "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["verified"] == 3  # a table's milliseconds: done long before the limit
