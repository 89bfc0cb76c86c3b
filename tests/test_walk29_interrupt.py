"""Walk 29 #6: an interrupted search says what it keeps and how to go on (InterruptedSearch)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import gennas
from gennas.baselines import RandomSearch
from gennas.errors import ON_COMMAND_LINE, GennasWarning
from gennas.graph import ArchGraph
from gennas.search import run_search
from gennas.search.interrupted import InterruptedSearch

TABLE = gennas.TableEvaluator("nb201", "cifar10")


def stopping_at(call: int) -> Any:
    """An evaluator (accuracies in %) that raises KeyboardInterrupt at its ``call``-th architecture."""
    seen = [0]

    def score(arch: ArchGraph) -> float:
        seen[0] += 1
        if seen[0] == call:
            raise KeyboardInterrupt
        return TABLE.evaluate([arch])[0].score

    return gennas.CallableEvaluator(score, kind="table")


def test_in_memory_designer_search_says_history_holds_them() -> None:
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with pytest.warns(InterruptedSearch, match="designer.history holds the 3 results told .*search again to go on"):
        with pytest.raises(KeyboardInterrupt):
            designer.search(stopping_at(4), budget=6)
    assert len(designer.history) == 3 and issubclass(InterruptedSearch, GennasWarning)


def test_stored_search_says_how_to_resume(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'run.db'}"
    with pytest.warns(InterruptedSearch, match=r"study 's' keeps the 2 results stored; run_search\(\.\.\., "
                                                rf"storage='{db}', study_name='s', resume=True\) continues it"):
        with pytest.raises(KeyboardInterrupt):
            run_search(RandomSearch("nb201", seed=0), stopping_at(3), 5, storage=db, study_name="s", progress=False)
    resumed = run_search(RandomSearch("nb201", seed=0), TABLE, 5, storage=db, study_name="s", resume=True,
                         progress=False)
    assert resumed.resumed == 2 and len(resumed) == 5


def test_in_memory_baseline_says_its_results_went() -> None:
    with pytest.warns(InterruptedSearch, match=r"in memory .*the optimizer \(RandomSearch\) was told the 1 result;"):
        with pytest.raises(KeyboardInterrupt):
            run_search(RandomSearch("nb201", seed=0), stopping_at(2), 4, progress=False, direction="maximize")


def test_not_on_the_command_line() -> None:
    """``gennas search`` prints its own interrupted line: no warning twice."""
    token = ON_COMMAND_LINE.set(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InterruptedSearch)
            with pytest.raises(KeyboardInterrupt):
                run_search(RandomSearch("nb201", seed=0), stopping_at(2), 4, progress=False)
    finally:
        ON_COMMAND_LINE.reset(token)


def test_a_search_stopped_by_a_trainers_exit_says_so_and_leaves_nothing_pending() -> None:
    """A training library's SystemExit (walk 30 #14) said nothing, and the cell being trained stayed
    pending: the next ``ask`` skipped it until ``release()``. So too after Ctrl-C."""
    for stop in (SystemExit, KeyboardInterrupt):
        seen = []

        def score(arch: ArchGraph) -> float:
            seen.append(arch)
            if len(seen) == 3:
                raise stop(1)
            return TABLE.evaluate([arch])[0].score

        designer = gennas.Designer("nb201", task="cifar10", seed=0)
        with pytest.warns(InterruptedSearch, match="designer.history holds the 2 results told"):
            with pytest.raises(stop):
                designer.search(gennas.CallableEvaluator(score, kind="table"), budget=6)
        assert designer.pending == [] and seen[2] in designer.ask(8)
