"""Walk 31: a user who learns gennas from help(), dir() and errors only."""

from __future__ import annotations

import warnings

import pytest

import gennas
from gennas.errors import GennasError, GennasWarning


def test_the_package_names_what_generate_and_search_return_and_raise_and_hides_its_plumbing():
    names = dir(gennas)
    assert "annotations" not in names and "lazy_exports" not in names
    for name in ("Candidate", "Designs", "SearchResult", "InfeasibleBudget", "FewerDesigns", "ToldTwice"):
        assert name in names and getattr(gennas, name).__doc__
    assert "Start here" in gennas.__doc__ and "gennas.Designer(" in gennas.__doc__
    assert "one :class:`Result` per architecture" in gennas.Evaluator.__doc__


def test_an_evaluator_class_for_an_instance_is_refused_before_anything_is_spent():
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with pytest.raises(GennasError, match=r"got the class TableEvaluator: pass an instance, TableEvaluator\(\.\.\.\)"):
        designer.search(gennas.TableEvaluator, 2)
    assert designer.history == []


def test_a_forced_search_names_no_result_in_another_unit_its_best(bench):
    """Its results read 2 verified and the best 0.9436, where the designer held both as failed."""
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    table = gennas.TableEvaluator("nb201", "cifar10")
    designer.search(table, 2)
    fractions = gennas.CallableEvaluator(lambda a: table.evaluate([a])[0].score / 100, kind="table")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GennasWarning)
        out = designer.search(fractions, 2, force=True)
    assert out.best is None and len(out.failures) == 2 and "recorded as failed verifications" in " ".join(out.notes)
    assert "2 verified (all failed)" in repr(out)


def test_predictions_take_designs_strings_or_graphs_and_say_so_for_one():
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    designs = designer.generate(3)
    mean = designer.predictions(designs).mean
    assert mean is not None and list(mean) == list(designer.predictions([str(c.arch) for c in designs]).mean)
    with pytest.raises(GennasError, match=r"predictions\(\) takes a list of architectures, got ArchGraph "
                                          r"\(one architecture: wrap it in a list\)"):
        designer.predictions(designs[0].arch)


def test_designs_without_a_task_name_the_default_task_they_state():
    """An unnamed "93.60 %" (walk 31 #15)."""
    designs = gennas.Designer("nb201", seed=0).generate(2)
    assert designs.task == "cifar10" and "for task 'cifar10'" in repr(designs)
