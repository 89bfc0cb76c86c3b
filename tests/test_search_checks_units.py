"""Walk 36 #7: the checks a told result passes (an accuracy in % outside 0-100; scores that are not
the bundled table's accuracies) held for `CallableEvaluator` and `Designer.tell` only; an evaluator
class of one's own reached a search's results unchecked ("verified 300.00 %")."""

from __future__ import annotations

import math
import warnings

import pytest

import gennas
from gennas.design.statement import ScoresOffTable
from gennas.evaluators import TableEvaluator
from gennas.evaluators.base import Result
from gennas.search.executor import evaluate_batch


class Inflated:
    """Results of kind ``kind``: the table's accuracy plus ``add`` points."""

    def __init__(self, add: float, kind: str = "train") -> None:
        self.table, self.add, self.kind = TableEvaluator("nb201", "cifar10"), add, kind

    def evaluate(self, archs):
        return [Result(r.arch, r.score + self.add, self.kind) for r in self.table.evaluate(archs)]


def test_an_accuracy_outside_0_100_fails_whichever_evaluator_wrote_it():
    space = gennas.load_space("nb201")
    batch = [space.sample(i) for i in range(3)]
    over = evaluate_batch(Inflated(250.0), batch)
    assert all(math.isnan(r.score) and "outside 0-100" in r.error and "kind 'train'" in r.error for r in over)
    unitless = evaluate_batch(Inflated(250.0, kind="callable"), batch)  # no unit: any value holds
    assert all(r.error is None and r.score > 250 for r in unitless)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_search_s_scores_off_the_bundled_table_are_said_at_the_search():
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        designer.search(Inflated(4.0, kind="table"), budget=4, progress=False)
    assert [w for w in caught if issubclass(w.category, ScoresOffTable)]


def test_a_run_search_study_records_its_evaluator_s_kind_and_refuses_another_on_resume(tmp_path):
    """Walk 36 #8: a study `run_search` verified with a callable was resumed with synflow without a
    word, both units ranked in one table: the study recorded no evaluator, and a setting missing
    from a study is never a change."""
    from gennas.errors import GennasError
    from gennas.evaluators import ProxyEvaluator
    from gennas.search import run_search
    from gennas.search.registry import make_optimizer

    space = gennas.load_space("nb201")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    run_search(make_optimizer("random", space, seed=0), lambda a: float(len(a.to_string())), budget=3,
               storage=url, study_name="r", progress=False, attrs={"method": "random", "seed": 0})
    # named as a change of unit, which no force allows (walk 48 #2; it was "was run with evaluator='callable'")
    with pytest.raises(GennasError, match=r"study 'r' holds callable scores, the evaluator of this run gives "
                                          r"proxy:synflow scores; force=True / --force never changes the unit"):
        run_search(make_optimizer("random", space, seed=0), ProxyEvaluator(space, "synflow"), budget=5,
                   storage=url, study_name="r", resume=True, progress=False, attrs={"method": "random", "seed": 0})


def test_an_estimator_of_another_space_or_without_the_protocol_is_refused_at_construction():
    """Walk 36 #3: accepted, then a tensor shape error at `generate` naming no space (or an
    AttributeError from the guidance), where predictor= and generator= were refused by name."""
    from gennas.errors import GennasError
    from gennas.surrogates.latency import load_latency_estimator

    with pytest.raises(GennasError, match="estimator= is for space 'mbv3', not 'nb201'"):
        gennas.Designer("nb201", task="cifar10", device="cpu_ort_1t", max_latency_ms=3,
                        estimator=load_latency_estimator("mbv3"), seed=0)
    with pytest.raises(GennasError, match=r"estimator= \(object\) is not a LatencyModel: it lacks devices, predict"):
        gennas.Designer("nb201", task="cifar10", device="pixel3", estimator=object(), seed=0)
