"""A resumed study's stored results cost what they must, and say so (walk 35 #1).

A resume whose study already held its budget replayed every stored result round by round (a
designer refit each) before saying nothing was left: 43 s of CPU, silent, for a 1,002-result
study. It now tells them at once, as ``from_study`` does; a replay that leads a continuation
shows its progress.
"""

from __future__ import annotations

import gennas
import gennas.search.progress as progress_module
from gennas.design.loop import LoopSettings


def _designer() -> gennas.Designer:
    return gennas.Designer("nb201", task="cifar10", seed=0, loop=LoopSettings(pool=1))


def test_a_study_that_holds_its_budget_is_told_at_once_and_verifies_nothing(bench, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    _designer().search(table, budget=6, storage=url, study_name="s")
    calls = []
    again = _designer()
    out = again.search(lambda a: calls.append(a) or table(a), budget=6, storage=url, study_name="s", resume=True)
    assert calls == [] and len(out.history) == 6
    assert again.loop.refits == 1  # one refit on the six (replayed at batch 1: six)
    assert len(again.generate(3)) == 3  # what the study taught is there to design from


def test_a_replay_that_leads_a_continuation_shows_its_progress(bench, tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    _designer().search(table, budget=5, storage=url, study_name="s")
    monkeypatch.setattr(progress_module, "PLAIN_INTERVAL_S", 0.0)  # every replayed round gets its line
    capsys.readouterr()
    _designer().search(table, budget=7, storage=url, study_name="s", resume=True, progress=True)
    lines = capsys.readouterr().err.splitlines()
    replaying = [line for line in lines if "replaying stored results" in line]
    assert replaying and replaying[0].endswith("replaying stored results 1/5")
    assert lines.index(replaying[0]) > [i for i, line in enumerate(lines) if "search started: 5/7" in line][0]
