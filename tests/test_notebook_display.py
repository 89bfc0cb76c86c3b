"""What a notebook shows of gennas's objects and of an interrupted search: walk 42's findings."""

from __future__ import annotations

import math
import traceback

import pytest

import gennas
from gennas.evaluators.base import Result
from gennas.search.interrupted import InterruptedSearch, interrupted_text
from gennas.search.search_result import HTML_COLUMNS


def test_a_result_shows_its_score_kind_and_architecture_in_one_short_line():
    """The dataclass repr wrote every field: 300 characters a result, 6,000 for a search's 20."""
    arch = gennas.load_space("nb201").sample(0)
    (verified,) = gennas.TableEvaluator("nb201", "cifar10").evaluate([arch])
    assert repr(verified) == f"Result(80.29 (table) {arch.to_string()})"
    failed = Result(arch, math.nan, "train", "epochs=5", error="RuntimeError: boom\nat line 3")
    assert repr(failed) == f"Result(failed: RuntimeError: boom (train, epochs=5) {arch.to_string()})"
    assert repr(gennas.load_space("nb201")) == "CellSpace('nb201', size=15,625)"  # was 1.562e+04


def test_a_search_s_notebook_table_shows_a_few_columns_and_its_figures_show_inline(tmp_path):
    pytest.importorskip("matplotlib")
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    result = designer.search(gennas.TableEvaluator("nb201", "cifar10"), budget=4, progress=False)
    page = result._repr_html_()
    assert page.count("<th>") == len(HTML_COLUMNS) and "benchmark" not in page  # metadata: .rows() only
    assert "(.rows(): every field, in verification order)" in page
    figures = result.plot(tmp_path / "figs")
    assert isinstance(figures, list) and all(p.suffix == ".png" and p.is_file() for p in figures)  # paths still
    assert figures._repr_html_().count('<img src="data:image/png;base64,') == len(figures) >= 1


def test_an_interrupted_search_ends_in_a_short_traceback_after_saying_what_it_keeps(tmp_path):
    """A notebook cell stopped mid-training ended in 231 lines of torch's frames after the warning."""
    told = []

    def stopped_at_the_third(arch) -> float:
        told.append(arch)
        if len(told) == 3:
            raise KeyboardInterrupt
        return 50.0 + len(told)

    designer = gennas.Designer("nb201", task="new-task", seed=0)
    with pytest.warns(InterruptedSearch, match="keeps the 2 results stored .* resume=True"), \
            pytest.raises(KeyboardInterrupt) as stopped:
        designer.search(stopped_at_the_third, budget=5, storage=f"sqlite:///{tmp_path / 'run.db'}",
                        study_name="lesson", progress=False)
    frames = traceback.extract_tb(stopped.value.__traceback__)
    # the cell, the designer's two wrappers (one call at a time, its threads), search, run_search and its
    # SIGTERM wrapper (stops_on_sigterm)
    assert len(frames) <= 6 and not any("stopped_at_the_third" in f.name for f in frames)


def test_the_interrupted_line_says_a_training_under_way_continues_from_its_saved_epoch():
    said = interrupted_text(object(), "sqlite:///run.db", "sqlite:///run.db", "lesson", 0, checkpointed=True)
    assert "keeps the 0 results stored and the evaluation under way its last saved epoch" in said


def test_in_python_an_unknown_task_s_note_gives_the_python_way_first_and_memory_searches_keep_one_name():
    """A notebook was pointed to `gennas search ...` first, and an in-memory search was named
    `no-name-<uuid>`, another name every run of a seeded cell."""
    (note,) = [n for n in gennas.Designer("nb201", task="cifar11", seed=0).generate(3).notes
               if "To learn the task" in n]
    assert note.index("Designer.search with your own evaluator") < note.index("gennas search --method designer")
    names = {gennas.Designer("nb201", task="cifar10", seed=0).search(lambda a: 50.0, budget=1, progress=False).study_name
             for _ in range(2)}
    assert names == {"designer-nb201-cifar10-callable-seed0"}
