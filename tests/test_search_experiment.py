"""experiments/search.py: stop-at-target is exact, finished runs are cached and reused."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gennas.evaluators.base import Result

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


def test_a_proxy_run_follows_the_best_scored_architecture(experiment, bench):
    """With a proxy evaluator the curve is the true accuracy of the proxy's favourite so far."""
    archs = bench.archs()[:4]
    history = [Result(a, s, "proxy") for a, s in zip(archs, [1.0, 3.0, 2.0, 1e49])]
    curve = experiment.true_accuracy_of_best(history, bench, "cifar10")
    expected = bench.accuracy_of([archs[0], archs[1], archs[1], archs[3]], "cifar10")
    assert np.allclose(curve, expected)


def recorded(experiment, monkeypatch) -> list[Result]:
    """The results every run_search of ``experiment`` verifies from now on, as they come."""
    verified: list[Result] = []
    real = experiment.run_search

    def recording(*args, **kwargs):
        result = real(*args, **kwargs)
        verified.extend(result.history)
        return result

    monkeypatch.setattr(experiment, "run_search", recording)
    return verified


@pytest.mark.parametrize("method", ["transfer-topk", "transfer-local", "random"])
def test_latency_table_methods_verify_only_cells_within_the_budget(experiment, bench, monkeypatch, method):
    """The latency table's baselines with a source table are kept to the budget as the others are
    (the harness's LatencyFilter by the table's latency): every verified cell within it (walk 27)."""
    verified = recorded(experiment, monkeypatch)
    limit = 3.27  # pixel3's 10th percentile: transfer-topk's first cells are all over it
    curve, _ = experiment.one_run(experiment.METHODS[method], bench, "cifar10", 0, 10, "pixel3", limit)
    assert verified and all(bench.latency(r.arch, "pixel3") <= limit for r in verified)
    assert not any(r.failed for r in verified) and np.nanmax(curve) <= bench.best("cifar10", limit, "pixel3")[1]


def test_no_method_verifies_a_cell_at_chance_without_a_budget_either(experiment, bench, monkeypatch):
    """Random search verified 3.4 cells at chance a run in the main table, which the designer never
    proposes (walk 55): every method is refused them alike, with or without a latency budget."""
    verified = recorded(experiment, monkeypatch)
    experiment.one_run(experiment.METHODS["random"], bench, "cifar10", 0, 300)
    at_chance = [a for a in bench.archs() if bench.space.output_is_constant(a)]
    assert len(verified) == 300 and len(at_chance) > 300  # 341 of 15,625: about 6 in 300 random cells
    assert not any(bench.space.output_is_constant(r.arch) for r in verified)


def test_the_latency_and_synflow_tables_run_the_source_and_proxy_baselines_by_default(experiment):
    """Without --methods the latency table runs every registered method (transfer-topk and
    transfer-local included); the synflow table's default list includes proxy-topk."""
    assert {"transfer-topk", "transfer-local", "proxy-topk"} <= set(experiment.METHODS)
    assert "proxy-topk" in experiment.SYNFLOW_METHODS and set(experiment.SYNFLOW_METHODS) <= set(experiment.METHODS)
