"""What is learned from results does not depend on the order they arrived in: two processes
sharing a study store the same results in different orders (a user walk: `gennas design --study`
ranked an unverified cell 11th from one study and 14th from the other)."""

from __future__ import annotations

import numpy as np

import gennas
from gennas.design.statement import in_canonical_order
from gennas.evaluators.base import Result


def test_the_same_results_told_in_another_order_give_the_same_designs(monkeypatch, tmp_path):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bench = gennas.load_benchmark("nb201")
    archs = bench.space.sample_many(16, np.random.default_rng(0))
    results = [Result(a, bench.accuracy(a, "cifar100"), "callable") for a in archs]
    designs = []
    for order in (results, results[::-1], [results[i] for i in np.random.default_rng(1).permutation(16)]):
        designer = gennas.Designer("nb201", task="mytask", seed=0)
        designer.tell(order)
        designs.append([(str(c.arch), c.predicted_accuracy, c.interval) for c in designer.generate(20)])
    assert designs[0] == designs[1] == designs[2]


def test_canonical_order_is_by_cell_and_keeps_repeats_in_their_order():
    bench = gennas.load_benchmark("nb201")
    a, b = bench.space.sample_many(2, np.random.default_rng(2))
    first, second, other = Result(a, 90.0, "train"), Result(a, 91.0, "train"), Result(b, 80.0, "train")
    assert in_canonical_order([first, other, second]) == in_canonical_order([other, first, second])
    ordered = in_canonical_order([second, other, first])
    assert ordered.index(second) < ordered.index(first)  # the later told of one cell stays later (it wins)
