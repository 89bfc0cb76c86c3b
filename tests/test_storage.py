"""Result storage: every result is one optuna trial, reloadable, and bad storage fails early."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.search.storage import ResultStore, open_storage


def _results(space, n, seed=0):
    archs = space.sample_many(n, seed)
    out = [Result(a, float(80 + i), "table", "full", 0.5 * i, {"dataset": "cifar10", "np": np.float32(1.5)})
           for i, a in enumerate(archs)]
    out[1] = Result(archs[1], math.nan, "callable", error="ValueError: boom")
    return out


def test_roundtrip_sqlite(tmp_path, nb201):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    store = ResultStore.open(nb201, url, "s1", attrs={"method": "random"})
    written = _results(nb201, 4)
    for r in written:
        store.add(r)
    again = ResultStore.open("nb201", url, "s1", resume=True)
    loaded = again.results()
    assert [r.arch for r in loaded] == [r.arch for r in written]
    assert loaded[0].score == 80.0 and loaded[0].kind == "table" and loaded[0].cost_s == 0.0
    assert loaded[2].metadata == {"dataset": "cifar10", "np": 1.5}  # numpy scalar stored as a float
    assert loaded[1].failed and loaded[1].error == "ValueError: boom"
    trials = again.study.get_trials()
    assert [t.state for t in trials].count(optuna.trial.TrialState.FAIL) == 1
    # the slot choices are the trial's parameters, so optuna-dashboard can plot them
    assert tuple(trials[0].params[f"slot_{i}"] for i in range(6)) == nb201.choices(written[0].arch)
    assert trials[0].user_attrs["arch"] == written[0].arch.to_string()
    assert again.study.user_attrs["method"] == "random"


def test_mbv3_roundtrip_in_memory(mbv3):
    backend = open_storage(None)
    store = ResultStore.open(mbv3, backend, "m")
    arch = mbv3.sample(3)
    store.add(Result(arch, 71.0, "proxy:synflow", "zero-cost"))
    (loaded,) = ResultStore.open(mbv3, backend, "m", resume=True).results()
    assert loaded.arch == arch and loaded.fidelity == "zero-cost"


def test_existing_results_need_resume(tmp_path, nb201):
    path = str(tmp_path / "run.db")  # a bare .db path is taken as SQLite
    store = ResultStore.open(nb201, path, "s")
    store.add(_results(nb201, 2)[0])
    with pytest.raises(GennasError, match="already holds 1 results"):
        ResultStore.open(nb201, path, "s")
    with pytest.raises(GennasError, match="not mbv3"):
        ResultStore.open("mbv3", path, "s", resume=True)
    ResultStore.open(nb201, path, "other")
    with pytest.raises(GennasError, match="name the one to resume"):
        ResultStore.open(nb201, path, None, resume=True)


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/x/run.db", "nosuchdb://host/x", "not a url", "", 3])
def test_unopenable_storage(url):
    with pytest.raises(GennasError, match="storage"):
        open_storage(url)
