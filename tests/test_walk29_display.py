"""Walk 29: how result objects show in a notebook (#1, #14, #8, #9, #2, #10, #13)."""

from __future__ import annotations

import numpy as np
import pytest

import gennas
from gennas.design.candidate import Candidate
from gennas.design.notes import Designs


def designs(n: int = 10) -> Designs:
    space = gennas.load_space("nb201")
    made = [Candidate(space.sample(i), 93.0 - i / 10, 0.5, None, i + 1, interval=(92.0 - i / 10, 94.0 - i / 10))
            for i in range(n)]
    return Designs(made, ["a note about them"])


def test_designs_repr_is_a_few_lines() -> None:
    """10 designs showed as a 4,347-character wall of dataclass reprs (walk 29 #1)."""
    text = repr(designs())
    assert text.startswith("Designs: 10 designs, best first; 1 note in .notes")
    assert len(text.splitlines()) == 5 and len(text) < 800
    assert "#1 " in text and "93.00 %, 90 % in [92.00, 94.00]" in text and "... and 7 more" in text


def test_candidate_repr_is_its_statement() -> None:
    one = designs(1)[0]
    assert repr(one) == f"Candidate({one})" and "predicted_std=" not in repr(one)


def test_designs_html_is_a_table_of_rows_with_notes() -> None:
    page = designs()._repr_html_()
    assert page.startswith("<table><caption>10 designs, best first</caption>")
    assert page.count("<tr>") == 11 and "<th>pred_acc</th>" in page and "note: a note about them" in page


def test_designs_pretty_is_the_repr() -> None:
    shown: list[str] = []

    class Printer:
        def text(self, value: str) -> None:
            shown.append(value)

    made = designs()
    made._repr_pretty_(Printer(), False)
    assert shown == [repr(made)]


def test_a_slice_of_designs_keeps_notes() -> None:
    """``designs[1:3]`` was a plain list without .notes or .rows() (walk 29 #14)."""
    made = designs()
    part = made[1:3]
    assert isinstance(part, Designs) and part.notes == made.notes and [c.rank for c in part] == [2, 3]
    assert part.rows()[0]["rank"] == 2
    assert isinstance(made[0], Candidate) and made[-1].rank == 10


def search_result(n: int = 30):  # type: ignore[no-untyped-def]
    from gennas.evaluators.base import Result
    from gennas.search import SearchResult

    space = gennas.load_space("nb201")
    history = [Result(space.sample(i), 90.0 + i / 10, "table", cost_s=0.01, metadata={"dataset": "cifar10"})
               for i in range(n - 1)]
    history.append(Result(space.sample(n), float("nan"), "table", error="RuntimeError: boom"))
    return SearchResult(history, "s1", notes=["1 of 30 verifications failed"], elapsed_s=12.34,
                        cpu_s=9.87)


def test_search_result_repr_is_short() -> None:
    """A SearchResult printed its whole history: 9k characters at 30 results (walk 29 #8)."""
    text = repr(search_result())
    assert len(text) < 400 and len(text.splitlines()) == 3
    assert text.startswith("SearchResult of study 's1': 30 verified (1 failed), 12.3 s (9.9 s CPU) (maximize)")
    assert "best 92.80 (table) |" in text and "1 note in .notes" in text


def test_search_result_rows_are_flat_one_schema_rows_for_a_data_frame() -> None:
    """No flat rows: pandas.DataFrame(result.history) gave a column of Result objects (walk 29 #9).
    The rows are plain dicts of one set of keys (pandas is not a dependency: checked where installed)."""
    result = search_result()
    rows = result.rows()
    keys = ["arch", "score", "kind", "fidelity", "cost_s", "failed", "error", "dataset"]
    assert all(list(row) == keys for row in rows)
    assert all(isinstance(v, (str, int, float, bool, type(None))) for row in rows for v in row.values())
    assert len(rows) == 30 and sum(row["failed"] for row in rows) == 1
    assert rows[0]["arch"] == result.history[0].arch.to_string()
    assert rows[-1]["error"] == "RuntimeError: boom" and np.isnan(rows[-1]["score"])
    pandas = pytest.importorskip("pandas")
    assert list(pandas.DataFrame(rows).columns) == keys


def test_search_result_html_shows_the_best_first() -> None:
    page = search_result()._repr_html_()
    assert "29 verified" not in page and "30 verified (1 failed, not shown), best first" in page
    assert page.count("<tr>") == 30 and page.index("92.80") < page.index("92.70")  # 29 shown + header, best first
    assert "note: 1 of 30 verifications failed" in page


def test_run_search_records_its_time() -> None:
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    result = run_search(RandomSearch("nb201", seed=0), gennas.TableEvaluator("nb201", "cifar10"), 3, progress=False)
    assert result.elapsed_s > 0 and f"{result.elapsed_s:.1f} s ({result.cpu_s:.1f} s CPU)" in repr(result)
    assert 0 < result.cpu_s


def test_evaluators_say_what_they_are() -> None:
    """TableEvaluator and the others showed as a bare <... object at 0x...> (walk 29 #2, #10)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    assert repr(gennas.TableEvaluator("nb201", "cifar100")) == "TableEvaluator(benchmark='nb201', dataset='cifar100')"
    assert repr(gennas.ProxyEvaluator("nb201", "synflow")) == "ProxyEvaluator(space='nb201', proxy='synflow', data=None, seed=0)"
    batch = (torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)))
    assert "data=<8 images>" in repr(gennas.ProxyEvaluator("nb201", "jacov", data=batch))

    def my_train(arch: object) -> float:
        return 90.0

    assert repr(gennas.CallableEvaluator(my_train, kind="train")).startswith("CallableEvaluator(")
    assert "my_train, kind='train')" in repr(gennas.CallableEvaluator(my_train, kind="train"))
    space = gennas.load_space("nb201")
    data = TensorDataset(torch.randn(16, 1, 16, 16), torch.randint(0, 2, (16,)))
    train = gennas.TrainEvaluator(space, DataLoader(data, batch_size=8), DataLoader(data, batch_size=8), epochs=2,
                                  build_options=space.small_build_options, torch_device="cpu")
    assert repr(train) == ("TrainEvaluator(space='nb201', epochs=2, lr=0.05, torch_device='cpu'; train_loader: "
                           "16 images shaped [1, 16, 16], 2 classes)")


def test_predictions_repr_is_one_line() -> None:
    """designer.predictions(...) showed its arrays in full (walk 29 #13)."""
    from gennas.surrogates.calibration import Predictions

    mean = np.array([90.0, 91.5, np.nan])
    stated = Predictions(mean.copy(), mean.copy(), mean, np.ones(3), mean - 1, mean + 1,
                         np.array([False, True, False]), np.zeros(3, bool))
    assert repr(stated) == ("Predictions: 3 architectures, 2 stated, mean 90.00 to 91.50, 90 % intervals claimed on 2 "
                            "(.low, .high), 1 beyond the calibration; arrays: .mean .std .low .high .score")
    ranked = Predictions(np.arange(1000.0), np.arange(1000.0))
    assert repr(ranked) == "Predictions: 1000 architectures, a rank only (no value stated; .score ranks them)"


def test_readme_says_rows_and_progress() -> None:
    """A Python user read nowhere of the search's progress (walk 29 #7: off by default then; shown now
    unless the evaluator is a table) or of result.rows() (#9)."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme[readme.index("## Designing architectures"):readme.index("designer = gennas.Designer.from_study(")]
    assert "result.rows()" in block and "pandas.DataFrame" in block
    assert "the search shows its progress on stderr unless its evaluator looks scores up in a table" in block


def test_a_designers_repr_tells_two_of_one_task_apart():
    """Two designers of one task showed the same repr in a notebook: the seed and the results
    learned were missing (walk 29 #13)."""
    import gennas

    first, second = gennas.Designer("nb201", task="cifar10", seed=1), gennas.Designer("nb201", task="cifar10", seed=2)
    assert repr(first) != repr(second) and "seed=1" in repr(first) and "results=0" in repr(first)
    designs = first.generate(2)
    assert "task 'cifar10'" in repr(designs)
