"""Threads torch uses inside gennas: 1 by default for a plain Predictor too (on a shared CPU a fit
with 2 took 11x the time), the outermost choice holds (a designer's, the command line's), and the
caller's setting comes back afterwards."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from gennas.cli.app import app

import gennas
from gennas.surrogates import predictor as predictor_module
from gennas.threads import threads_chosen, torch_threads, with_own_threads


class _Worker:
    """A gennas-like object whose method records the threads it ran under."""

    def __init__(self, threads: int | None, inner: _Worker | None = None) -> None:
        self.threads, self.inner, self.seen = threads, inner, []

    @with_own_threads
    def work(self) -> None:
        self.seen.append(torch.get_num_threads())
        if self.inner is not None:
            self.inner.work()


def test_the_outermost_choice_holds_and_is_restored():
    inner = _Worker(1)
    outer = _Worker(3, inner)
    with torch_threads(2):
        outer.work()
        assert outer.seen == [3] and inner.seen == [3] and torch.get_num_threads() == 2
        inner.work()  # called alone, its own setting
        assert inner.seen == [3, 1] and torch.get_num_threads() == 2
        undo = threads_chosen()  # the command line's --threads: nothing changes them
        try:
            inner.work()
            assert inner.seen[-1] == 2
        finally:
            undo()
        inner.work()
        assert inner.seen[-1] == 1


def test_a_plain_predictor_trains_and_predicts_with_one_thread(nb201, bench, monkeypatch):
    seen, train = [], predictor_module.train_members
    monkeypatch.setattr(predictor_module, "train_members",
                        lambda *a, **k: seen.append(torch.get_num_threads()) or train(*a, **k))
    archs = bench.archs()[:40]
    scores = bench.accuracy_of(archs, "cifar10")
    with torch_threads(2):
        predictor = gennas.Predictor(nb201).fit(archs, scores, "cifar10", steps=5)
        predictor.update(archs[:5], scores[:5], "cifar10", steps=2)
        predictor.predict(archs[:3], "cifar10")
        assert torch.get_num_threads() == 2
        gennas.Predictor(nb201, threads=None).fit(archs, scores, "cifar10", steps=5)
    assert seen == [1, 1, 2]
    with pytest.raises(gennas.GennasError, match="threads must be a positive integer"):
        gennas.Predictor(nb201, threads=0)


def test_the_command_line_threads_reach_the_designer_and_are_not_left_chosen(monkeypatch):
    """``gennas --threads 2 design`` designed with 1 (the Designer's default overrode the option)."""
    seen, task_scores = [], predictor_module.Predictor._task_scores
    monkeypatch.setattr(predictor_module.Predictor, "_task_scores",  # inside the designer's predictions
                        lambda self, *a, **k: seen.append(torch.get_num_threads()) or task_scores(self, *a, **k))
    with torch_threads(3):
        result = CliRunner().invoke(app, ["--threads", "2", "design", "-n", "2", "--json"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 3  # the caller's count back (walk 34 #11: left at --threads)
    assert seen and set(seen) == {2}
    inner = _Worker(1)
    inner.work()  # nothing chosen is left behind in this process
    assert inner.seen == [1]


def test_a_designer_s_threads_reach_its_constructor_and_predict_soft_is_managed(nb201, monkeypatch):
    """Designer(threads=3) ran its constructor's predictions with 1 thread (the predictor's own), and
    a plain Predictor's predict_soft with torch's setting (a user walk)."""
    seen, task_scores = [], predictor_module.Predictor._task_scores
    monkeypatch.setattr(predictor_module.Predictor, "_task_scores",
                        lambda self, *a, **k: seen.append(torch.get_num_threads()) or task_scores(self, *a, **k))
    with torch_threads(2):
        gennas.Designer("nb201", task="cifar10", seed=0, threads=3)
        assert seen and set(seen) == {3} and torch.get_num_threads() == 2
        seen.clear()
        predictor = gennas.load_predictor("nb201")
        probs = torch.full((2, nb201.num_slots, len(nb201.slot_vocab)), 1.0 / len(nb201.slot_vocab))
        predictor.predict_soft(probs, "cifar10")
        assert seen == [1] and torch.get_num_threads() == 2


class _Counted:
    """A loader that records the threads torch uses each time it is iterated."""

    def __init__(self, batches: list, seen: list) -> None:
        self.batches, self.seen = batches, seen

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        self.seen.append(torch.get_num_threads())
        return iter(self.batches)


def test_supernet_and_proxy_evaluators_run_with_one_thread(nb201, monkeypatch):
    """Like TrainEvaluator (tests/test_train.py) they ran with torch's threads when used alone."""
    from gennas.evaluators import ProxyEvaluator, zero_cost
    from gennas.evaluators.supernet import Supernet

    scored, score_many = [], zero_cost.score_many
    monkeypatch.setattr(zero_cost, "score_many",
                        lambda *a, **k: scored.append(torch.get_num_threads()) or score_many(*a, **k))

    seen: list[int] = []
    g = torch.Generator().manual_seed(0)
    data = _Counted([(torch.randn(8, 1, 8, 8, generator=g), torch.arange(8) % 4)], seen)
    cell = nb201.sample(0)
    with torch_threads(2):
        supernet = Supernet(nb201, num_classes=4, in_channels=1, torch_device="cpu", channels=4, cells_per_stage=1)
        supernet.fit(data, epochs=1)
        assert torch.get_num_threads() == 2 and seen and set(seen) == {1}
        seen.clear()
        supernet.evaluate([cell], data, calib_batches=1)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        seen.clear()
        ProxyEvaluator(nb201, "naswot", data=data, build_options={"channels": 4, "cells_per_stage": 1}).evaluate([cell])
        ProxyEvaluator(nb201, "params", threads=None).evaluate([cell])
        assert torch.get_num_threads() == 2 and scored == [1, 2]
    with pytest.raises(gennas.GennasError, match="threads must be a positive integer"):
        Supernet(nb201, threads=0)
    with pytest.raises(gennas.GennasError, match="threads must be a positive integer"):
        ProxyEvaluator(nb201, "params", threads=-1)


def test_bananas_fits_its_ensemble_with_one_thread_from_python_too(bench, monkeypatch):
    """`make_optimizer("bananas", ...)` from Python fitted on torch's default threads (2 on a
    2-core machine: 4.7 CPU s for 150 asks against 3.0 on one; walk 35 #6)."""
    from gennas.baselines import bananas as bananas_module
    from gennas.evaluators.base import Result
    from gennas.search import make_optimizer

    seen, fit = [], bananas_module.MLPEnsemble.fit
    monkeypatch.setattr(bananas_module.MLPEnsemble, "fit",
                        lambda self, *a, **k: seen.append(torch.get_num_threads()) or fit(self, *a, **k))
    for threads, expected in ((1, 1), (None, 2)):
        optimizer = make_optimizer("bananas", "nb201", 0)
        optimizer.threads = threads
        with torch_threads(2):
            for _ in range(4):  # its first 10 asks are uniform, no fit
                asked = optimizer.ask(4)
                optimizer.tell([Result(a, bench.accuracy(a, "cifar10"), "table") for a in asked])
            assert torch.get_num_threads() == 2
        assert seen and set(seen) == {expected}
        seen.clear()
