"""``generate(n)`` for n near an enumerable space's size, without a budget (walk 35 #7).

The guided draws repeat one another as n grows: ``generate(5000)`` on nb201 returned 4,247 of
its 5,389 functions, with a warning that "random search found no more", though none ran without
a budget. Where the draws hold fewer than n distinct designs, every cell of the space is ranked,
as under a budget, and the warning says what was done.
"""

from __future__ import annotations

import warnings

import numpy as np

import gennas
from gennas.design.budget import FewerDesigns, fewer_designs
from gennas.design.loop import LoopSettings


def test_draws_that_repeat_are_completed_from_the_whole_space(nb201, monkeypatch):
    designer = gennas.Designer("nb201", task="cifar10", seed=0, loop=LoopSettings(pool=1))
    few = [a for a in nb201.sample_many(40, np.random.default_rng(0)) if not nb201.output_is_constant(a)][:5]
    monkeypatch.setattr(designer.generator, "sample", lambda n, seed=None, guidance=None: few * (n // 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewerDesigns)
        designs = designer.generate(30)  # 5 distinct in the draws: 5 designs and a warning before
    assert len({c.arch.canonical_hash(functional=True) for c in designs}) == 30
    means = [c.predicted_accuracy for c in designs]
    assert means == sorted(means, reverse=True)  # ranked, the whole space's best first


def test_the_warning_names_what_was_searched(nb201):
    whole = fewer_designs(5389, 6000, nb201, None)
    assert "nb201 has 5389 architectures computing different functions" in whole and "random search" not in whole
    darts = gennas.load_space("darts")
    assert "random search" not in fewer_designs(3, 10, darts, None)
