"""One device and one latency budget at a time, said where more are asked (user walk 51): a
repeated one-value option of the command line (click kept the last without a word), a list of
devices in Python, and a user's latency model without an upper bound (its prediction was shown
as a 95 % bound)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.cli.group import repeated_option
from gennas.surrogates.latency import load_latency_estimator


@pytest.mark.parametrize("args, named", [
    (["design", "--device", "pixel3", "--max-latency-ms", "20", "--device", "gold_6240", "--max-latency-ms", "10"],
     "--device was given 2 times (pixel3, gold_6240)"),
    (["--threads", "1", "design", "-n", "1", "-n", "2"], "-n was given 2 times (1, 2)"),
    (["latency", "predict", "-d", "pixel3", "--device", "gold_6240", "x"], "--device was given 2 times"),
    (["search", "--budget", "3", "--seed", "0", "--seed", "1"], "--seed was given 2 times (0, 1)"),
])
def test_a_one_value_option_given_twice_is_refused_before_any_work(args, named, tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert named in " ".join(result.output.split()).replace("│", "").replace("  ", " ")
    assert not (tmp_path / "home").exists()  # refused while parsing: nothing was made


def test_flags_lists_and_values_after_a_double_dash_are_not_repeats():
    command = app_command()
    assert repeated_option(command, ["design", "-n", "1", "--json", "--json"]) is None
    assert repeated_option(command, ["design", "-n", "1", "--", "-n", "2"]) is None
    assert repeated_option(command, ["design", "--device", "pixel3"]) is None
    assert "--device was given 2 times" in repeated_option(command, ["design", "--device=a", "--device", "b"])


def app_command():
    import typer.main

    return typer.main.get_command(app)


def test_a_list_of_devices_or_budgets_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    with pytest.raises(gennas.GennasError, match="one device and one latency budget at a time"):
        gennas.Designer("nb201", task="cifar10", device=["pixel3", "gold_6240"], max_latency_ms=10)
    with pytest.raises(gennas.GennasError, match=r"max_latency_ms=\{'pixel3': 12\}"):
        gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms={"pixel3": 12})


class HalfPhone:
    """A user's latency model of device ``halfphone``: pixel3's estimate halved, and no upper bound."""

    def __init__(self):
        self.inner = load_latency_estimator("nb201")
        self.devices = ["halfphone"]

    def predict(self, archs, device):
        return 0.5 * np.asarray(self.inner.predict(archs, "pixel3"))

    def predict_soft(self, slot_probs, device):
        return 0.5 * self.inner.predict_soft(slot_probs, "pixel3")


def test_a_model_without_an_upper_bound_judges_by_its_prediction_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    with pytest.warns(gennas.UncalibratedBound, match="HalfPhone has no upper_bound"):
        designer = gennas.Designer("nb201", task="cifar10", device="halfphone", max_latency_ms=4.0,
                                   estimator=HalfPhone(), seed=0)
    designs = designer.generate(n=3)
    assert len(designs) == 3
    assert all(c.latency_bound_ms is None for c in designs)  # it read "(bound 97 ms)": the prediction
    assert all(c.predicted_latency_ms <= 4.0 for c in designs)  # the prediction judged the budget


def test_a_study_on_a_device_of_one_s_own_model_is_reported_without_its_latencies(tmp_path, monkeypatch, bench):
    """`gennas report` exited 2 with no figure where one study's device was a user model's, and
    plot() raised UnknownDevice; a front was drawn across two devices' latencies on one axis."""
    from gennas.report import report

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    storage = f"sqlite:///{tmp_path / 'run.db'}"
    table = gennas.TableEvaluator("nb201", "cifar10")
    with pytest.warns(gennas.UncalibratedBound):
        own = gennas.Designer("nb201", task="cifar10", device="halfphone", max_latency_ms=4.0, estimator=HalfPhone(),
                              seed=0)
    own.search(evaluator=table, budget=3, storage=storage, study_name="own", progress=False)
    for device, ms in (("pixel3", 12.0), ("gold_6240", 10.0)):
        gennas.Designer("nb201", task="cifar10", device=device, max_latency_ms=ms, seed=0).search(
            evaluator=table, budget=3, storage=storage, study_name=device, progress=False)
    made = report(storage, out=tmp_path / "figs")
    assert {p.name for p in made.files} >= {"best_so_far.png", "accuracy_latency.png"}
    said = "left out of the accuracy-latency figure: own (device halfphone not known here)"
    assert any(said in note for note in made.notes)


class AllBudgets:
    """The README's virtual device: an architecture's latency is its largest share (%) of its budget
    on any of the devices, each measured by nb201's table (so the bound is the value itself)."""

    def __init__(self, bench, budgets):
        self.bench, self.budgets, self.devices = bench, budgets, ["all"]
        self.estimator = load_latency_estimator("nb201")

    def predict(self, archs, device):
        return np.max([self.bench.latency_of(list(archs), k) / ms * 100 for k, ms in self.budgets.items()], axis=0)

    def predict_soft(self, slot_probs, device):
        import torch

        return torch.stack([self.estimator.predict_soft(slot_probs, k) / ms * 100
                            for k, ms in self.budgets.items()]).max(0).values

    def upper_bound(self, archs, device, confidence=0.95):
        return self.predict(archs, device)


def test_a_virtual_device_keeps_every_device_s_budget(tmp_path, monkeypatch, bench):
    """The README's recipe for several devices (user walk 51: 10 of 10 designs kept all three)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    budgets = {"pixel3": 12.0, "2080ti_1": 8.0, "gold_6240": 12.0}
    designer = gennas.Designer("nb201", task="cifar10", device="all", max_latency_ms=100, seed=0,
                               estimator=AllBudgets(bench, budgets))
    designs = designer.generate(5)
    assert len(designs) == 5
    for device, ms in budgets.items():
        assert max(bench.latency_of([c.arch for c in designs], device)) <= ms, device


def test_a_search_s_pareto_front_on_each_device_is_data(bench):
    """The trade-off was only a picture, one front across every device's latencies (user walk 51)."""
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    result = run_search(RandomSearch("nb201", seed=0), lambda a: bench.accuracy(a, "cifar10"), budget=40,
                        progress=False)
    for device in ("pixel3", "gold_6240"):
        front = result.pareto(lambda archs: bench.latency_of(archs, device))
        ms = [m for _, m in front]
        scores = [r.score for r, _ in front]
        assert ms == sorted(ms) and scores == sorted(scores) and len(front) >= 2  # faster, then better
        for r in result.results:  # every result is matched or beaten by one of the front
            own = float(bench.latency_of([r.arch], device)[0])
            assert any(m <= own and s >= r.score for s, m in zip(scores, ms))
    with pytest.raises(gennas.GennasError, match="one finite ms per architecture"):
        result.pareto(lambda archs: [1.0])
