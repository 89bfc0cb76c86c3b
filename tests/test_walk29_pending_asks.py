"""Asks never told (walk 29 #11), results told twice (#5), ``resume`` without a storage (#4) and
what ``Designer.search`` says of itself (#3, #12)."""

from __future__ import annotations

import warnings

import pytest

import gennas
from gennas.design.loop import LoopSettings
from gennas.design.scores import RepeatedArchitecture, ToldTwice
from gennas.evaluators import TableEvaluator


@pytest.fixture(scope="module")
def make():
    predictor = gennas.load_predictor("nb201")
    generator = gennas.load_generator("nb201", kind="diffusion")
    return lambda **kw: gennas.Designer("nb201", task="cifar10", seed=0, predictor=predictor, generator=generator,
                                        loop=LoopSettings(pool=1), **kw)


def _hashes(archs) -> set[str]:
    return {a.canonical_hash() for a in archs}


def test_asks_never_told_are_pending_and_given_back_by_release(make):
    """``a1 = d.ask(4); a2 = d.ask(4)`` lost a1, the best picks, for good: no later ask offered them."""
    designer = make()
    a1, a2 = designer.ask(4), designer.ask(4)
    assert not _hashes(a1) & _hashes(a2)  # parallel workers ask again before telling: never the same
    assert designer.pending == a1 + a2
    assert designer.release([a1[0].to_string(), *a1[1:]]) == a1  # architectures or their strings
    assert designer.pending == a2
    assert _hashes(designer.ask(4)) == _hashes(a1)  # offered again: they were the best then, and are now
    designer.tell([r for r in TableEvaluator("nb201", "cifar10").evaluate(a2)])
    assert _hashes(designer.pending) == _hashes(a1)  # told ones are not pending
    assert designer.release(a2) == [] and len(designer.release()) == 4 and designer.pending == []


def test_a_search_verifies_what_was_asked_and_never_told(make, bench):
    """The README's ``tell(evaluator.evaluate(ask(4)))`` interrupted inside evaluate left 4 asked
    architectures that no later search verified; a synchronous search gives them back first."""
    designer = make()
    asked = designer.ask(4)
    result = designer.search(TableEvaluator(bench, "cifar10"), budget=4, batch_size=4)
    assert _hashes(r.arch for r in result.history) == _hashes(asked)  # its first ask offered them again
    assert designer.pending == []
    assert "4 architectures asked earlier by ask and never told" in " ".join(result.notes)


def test_a_stored_search_with_pending_asks_still_verifies_each_architecture_once(make, bench, tmp_path):
    designer, table, db = make(), TableEvaluator(bench, "cifar10"), str(tmp_path / "s.db")
    designer.ask(2)
    designer.search(table, budget=3, storage=db, study_name="s")
    designer.ask(3)
    again = designer.search(table, budget=6, storage=db, study_name="s", resume=True)
    assert again.resumed == 3 and len(again.history) == 6 and len(_hashes(r.arch for r in again.history)) == 6
    assert len(designer.history) == 6 and designer.pending == []


def test_an_interrupted_search_gives_its_batch_back_and_the_next_search_verifies_it(make, bench, tmp_path):
    calls = []

    def verify(arch):
        calls.append(arch)
        if len(calls) == 4:  # Ctrl-C in the second batch
            raise KeyboardInterrupt
        return bench.accuracy(arch, "cifar10")

    designer, db = make(), str(tmp_path / "s.db")
    with pytest.raises(KeyboardInterrupt):
        designer.search(gennas.CallableEvaluator(verify, kind="table"), budget=6, batch_size=2, storage=db,
                        study_name="s")
    # the interrupted batch is given back at once (walk 30 #14: ask() skipped it after an interrupt)
    left = calls[2:4]
    assert len(designer.history) == 2 and designer.pending == [] and _hashes(left) <= _hashes(designer.ask(6))
    designer.release()
    again = designer.search(gennas.CallableEvaluator(verify, kind="table"), budget=6, batch_size=2, storage=db,
                            study_name="s", resume=True)
    assert len(_hashes(r.arch for r in again.history)) == 6 and _hashes(left) <= _hashes(r.arch for r in again.history)


def test_results_told_twice_are_learned_once(make, bench):
    """Running a ``tell`` cell twice doubled the history without a word."""
    designer = make()
    results = TableEvaluator(bench, "cifar10").evaluate(designer.ask(3))
    designer.tell(results)
    refits = designer.loop.refits
    with pytest.warns(ToldTwice, match="3 results told here repeat one told already"):
        designer.tell(results)
    assert len(designer.history) == 3 and designer.loop.refits == refits  # nothing learned again
    arch, score = results[0].arch, results[0].score
    new = TableEvaluator(bench, "cifar10").evaluate(designer.ask(1))
    with pytest.warns(ToldTwice, match="2 results told here repeat"):  # one told before, one twice in this call
        designer.tell([results[1], *new, *new])
    assert len(designer.history) == 4 and designer.history[-1] is new[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToldTwice)  # a new measurement of it: kept, as before
        with pytest.warns(RepeatedArchitecture):
            designer.tell(arch, score - 1.0)
    assert len(designer.history) == 5


def test_resume_without_a_storage_is_refused(make, bench):
    """``search(..., resume=True)`` in memory verified a whole new budget, ``resumed`` 0, without a word."""
    designer = make()
    with pytest.raises(gennas.GennasError, match="resume=True continues a stored search: pass the storage"):
        designer.search(TableEvaluator(bench, "cifar10"), budget=2, resume=True)
    assert designer.history == []


def test_search_and_history_say_what_a_second_call_does_and_what_they_raise():
    doc = " ".join(gennas.Designer.search.__doc__.split())
    assert "a second search on this designer verifies ``budget`` more" in doc
    assert "unless ``resume=True``" in doc and "Raises:" in doc and "``resume`` without a storage" in doc
    for name in ("batch_size", "storage", "resume", "progress", "force", "executor", "workers", "address"):
        assert f" {name}: " in doc, name
    assert "every :meth:`search`" in " ".join(gennas.Designer.history.__doc__.split())
    assert "release" in gennas.Designer.ask.__doc__
