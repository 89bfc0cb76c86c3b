"""experiments/search.py: stop-at-target is exact, finished runs are cached and reused."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "search.py"


@pytest.fixture()
def experiment(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("search_experiment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(sys, "argv", ["search.py"])
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RUNS", tmp_path / "runs")
    return module


def test_a_run_stops_at_the_optimum_and_keeps_its_curve(experiment, bench):
    curve, _ = experiment.one_run(experiment.METHODS["local"], bench, "cifar10", seed=0, budget=300)
    optimum = bench.best("cifar10")[1]
    reached = int(np.argmax(curve >= optimum - 1e-9))
    assert curve[reached] == pytest.approx(optimum)
    assert (curve[reached:] == curve[reached]).all() and (np.diff(curve[:reached + 1]) >= 0).all()


def test_runs_are_cached_per_seed_and_reused(experiment, bench, capsys):
    argv = ["--methods", "random", "local", "--datasets", "cifar10", "--seeds", "2", "--budget", "5", "--no-latency"]
    experiment.main(argv)
    first = capsys.readouterr().out
    files = sorted(p.name for p in experiment.RUNS.iterdir())
    assert files == ["local_cifar10_b5.json", "random_cifar10_b5.json"]
    cached = json.loads((experiment.RUNS / "local_cifar10_b5.json").read_text())
    assert set(cached) == {"0", "1"} and len(cached["0"]["curve"]) == 5

    def fail(*args, **kwargs):
        raise AssertionError("a cached run was run again")

    experiment.one_run = fail
    experiment.main(argv)
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| local")]
    assert table and table[0] in first
