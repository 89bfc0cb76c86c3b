"""A designer given a storage keeps results told by hand in itself only, and says so once (walk 26
#8: an ask/tell loop with storage= stored nothing, without a word, and the next session's
from_study found no study); the search that runs the user's verification stores them."""

from __future__ import annotations

import warnings

import gennas
from gennas.design.study_replay import UnstoredTell
from gennas.evaluators import CallableEvaluator


def test_telling_a_designer_with_a_storage_says_once_that_nothing_is_stored(tmp_path, bench):
    db = tmp_path / "loop.db"
    designer = gennas.Designer("nb201", task="cifar10", seed=0, storage=str(db))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            arch = designer.ask(1)[0]
            designer.tell(arch, bench.accuracy(arch, "cifar10"))
    said = [str(w.message) for w in caught if w.category is UnstoredTell]
    assert len(said) == 1 and "designer.search(CallableEvaluator(verify, kind='train')" in said[0]
    assert not db.exists()
    plain = gennas.Designer("nb201", task="cifar10", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnstoredTell)
        arch = plain.ask(1)[0]
        plain.tell(arch, bench.accuracy(arch, "cifar10"))

    # what the warning advises: the search runs the user's verification and stores each result
    verify = CallableEvaluator(lambda a: bench.accuracy(a, "cifar10"), kind="train")
    designer.search(verify, budget=3, storage=str(db), study_name="mine")
    assert len(gennas.Designer.from_study(str(db), "mine").loop.history) == 3
