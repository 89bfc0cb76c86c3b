"""A designer that resumes a study it already holds learns each stored result once (walk 26 #5).

``Designer.from_study(...)`` then ``search(..., resume=True)`` told every stored result twice
(a 12-result study resumed to 14: history 26) and verified other cells than an uninterrupted run
from result 15 on; a designer continuing its own search's study did the same.
"""

from __future__ import annotations

import math

import pytest

import gennas
from gennas.design.loop import LoopSettings
from gennas.evaluators.base import Result
from gennas.search.optimizer import untold


@pytest.fixture(scope="module")
def make():
    predictor = gennas.load_predictor("nb201")
    generator = gennas.load_generator("nb201", kind="diffusion")

    def designer(**kw):
        return gennas.Designer("nb201", task="cifar10", predictor=predictor, generator=generator,
                               loop=LoopSettings(pool=1), seed=0, **kw)

    designer.options = {"predictor": predictor, "generator": generator, "loop": LoopSettings(pool=1)}
    return designer


def _cells(results: list[Result]) -> list[str]:
    return [r.arch.to_string() for r in results]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_from_study_then_resume_verifies_what_an_uninterrupted_run_does(make, bench, tmp_path, batch_size):
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    full = make().search(table, budget=9, batch_size=batch_size, storage=f"sqlite:///{tmp_path / 'full.db'}",
                         study_name="s")
    path = tmp_path / "stopped.db"
    make().search(table, budget=6, batch_size=batch_size, storage=f"sqlite:///{path}", study_name="s")
    rebuilt = gennas.Designer.from_study(f"sqlite:///{path}", "s", **make.options)
    assert len(rebuilt.history) == 6 and rebuilt.loop.refits == 1  # generate states what the study taught
    # the storage spelt another way (a bare .db path) is the same study
    resumed = rebuilt.search(table, budget=9, batch_size=batch_size, storage=str(path), study_name="s", resume=True)
    assert len(resumed.history) == len(rebuilt.history) == 9  # 6 stored learned once (it held 15), 3 new
    assert len(set(_cells(rebuilt.history))) == 9
    assert _cells(resumed.history) == _cells(full.history)  # the seed led where the run went
    assert rebuilt.loop.refits == 9 // batch_size  # refitted as the run that stored them was, not twice


def test_a_designer_continuing_its_own_study_learns_each_result_once(make, bench, tmp_path):
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    url = f"sqlite:///{tmp_path / 'run.db'}"
    full = make().search(table, budget=8, storage=f"sqlite:///{tmp_path / 'full.db'}", study_name="s")
    designer = make()
    designer.search(table, budget=5, storage=url, study_name="s")
    again = designer.search(table, budget=8, storage=url, study_name="s", resume=True)
    assert again.resumed == 5 and len(designer.history) == 8  # it held 13: the 5 told again
    assert _cells(designer.history) == _cells(full.history)


def test_results_told_by_hand_after_from_study_are_kept(make, bench, tmp_path):
    """A rebuilt designer told more by hand keeps its loop (what it was told is not in the study)
    and is told only the study's results it does not hold."""
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    url = f"sqlite:///{tmp_path / 'run.db'}"
    make().search(table, budget=4, storage=url, study_name="s")
    rebuilt = gennas.Designer.from_study(url, "s", **make.options)
    mine = rebuilt.ask(1)[0]
    rebuilt.tell(mine, table(mine))
    rebuilt.search(table, budget=6, storage=url, study_name="s", resume=True)
    cells = _cells(rebuilt.history)
    assert len(cells) == 7 and len(set(cells)) == 7 and cells[4] == mine.to_string()


def test_untold_leaves_out_what_an_optimizer_holds_once_per_time_held(nb201):
    a, b = nb201.sample(0), nb201.sample(1)

    class Holding:
        history = [Result(a, 70.0, "table"), Result(b, math.nan, "table", error="boom")]

    stored = [Result(a, 70.0, "table"), Result(a, 71.0, "table"), Result(b, math.nan, "table", error="boom"),
              Result(b, math.nan, "table", error="boom")]
    assert [id(r) for r in untold(Holding(), stored)] == [id(stored[1]), id(stored[3])]  # a NaN matches a NaN
    assert [id(r) for r in untold(object(), stored)] == [id(r) for r in stored]  # no history: told them all


def test_a_study_stopped_inside_a_batch_resumes_to_the_uninterrupted_run_s_results(make, bench, tmp_path):
    """Walk 34 #8: stopped at 3 of batch 2, the last round asked ask(1), not the first of the
    uninterrupted run's ask(2), and the study resumed to 8 verified other cells (6 of 8 in common)."""
    table = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    full = make().search(table, budget=8, batch_size=2, storage=f"sqlite:///{tmp_path / 'full.db'}", study_name="s")
    url = f"sqlite:///{tmp_path / 'stopped.db'}"
    stopped = make()
    stopped.search(table, budget=3, batch_size=2, storage=url, study_name="s")
    assert len(stopped.history) == 3 and len(stopped.loop.pending) == 0  # the round's other ask given back
    resumed = make().search(table, budget=8, batch_size=2, storage=url, study_name="s", resume=True)
    assert _cells(resumed.history) == _cells(full.history)
