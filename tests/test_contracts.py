"""The shipped contract suites (gennas.testing) applied to every optimizer, evaluator and generator,
and shown to catch what they are for."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gennas
from gennas.baselines import BASELINES, make_baseline
from gennas.evaluators.base import Result
from gennas.search import make_optimizer
from gennas.testing import check_new_valid
from gennas.testing.evaluators import check_evaluator, check_refuses_foreign, check_results, foreign_arch
from gennas.testing.generators import check_bad_counts, check_generator, check_samples
from gennas.testing.optimizers import check_optimizer, check_seeded

SMALL = {"rounds": 3, "k": 2, "budget": 6}


@pytest.fixture(scope="module")
def table():
    return gennas.TableEvaluator("nb201", "cifar10")


def mbv3_latency(archs):
    """A made-up but deterministic mbv3 latency (ms): kernel area times expansion, summed over blocks."""
    space = gennas.load_space("mbv3")
    cost = {op: (int(op[1]) ** 2 * int(op[3:]) if op != "skip" else 0) for op in space.slot_vocab}
    return np.array([0.5 + sum(cost[o] for o in space.choices(a)) / 100 for a in archs])


# ---------------------------------------------------------------- optimizers
@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_passes_the_optimizer_contract(name, nb201, table):
    check_optimizer(lambda seed: make_baseline(name, nb201, seed), nb201, table, **SMALL)


def test_the_designer_loop_passes_the_optimizer_contract(nb201, table):
    """The designer's loop as the registry builds it, with the pretrained predictor and generator."""
    check_optimizer(lambda seed: make_optimizer("designer", nb201, seed=seed, task="cifar10"), nb201, table, **SMALL)


class Repeater:
    """Broken on purpose: proposes the same architecture every time."""

    def __init__(self, space, seed):
        self.arch = space.sample(seed)

    def ask(self, k):
        return [self.arch]

    def tell(self, results):
        pass


class Unseeded(Repeater):
    """Broken on purpose: ignores its seed (and only that: it never repeats a cell, asked or told,
    which random draws of nb201's large equivalence classes sometimes did, failing the wrong check:
    once one of the three results told before the first ask)."""

    def __init__(self, space, seed):
        self.space, self.rng, self.seen = space, np.random.default_rng(), set()

    def ask(self, k):
        arch = self.space.sample(self.rng)
        while arch.canonical_hash() in self.seen:
            arch = self.space.sample(self.rng)
        self.seen.add(arch.canonical_hash())
        return [arch]

    def tell(self, results):
        self.seen.update(r.arch.canonical_hash() for r in results)


def test_the_optimizer_contract_catches_broken_optimizers(nb201, table):
    with pytest.raises(AssertionError, match="repeats an architecture"):
        check_optimizer(lambda seed: Repeater(nb201, seed), nb201, table, full_batches=False)
    with pytest.raises(AssertionError, match="proposed 3 architectures in 3 asks of 2"):
        check_optimizer(lambda seed: Unseeded(nb201, seed), nb201, table, **SMALL)
    with pytest.raises(AssertionError, match="not reproducible"):
        check_seeded(lambda seed: Unseeded(nb201, seed), nb201, table)
    with pytest.raises(AssertionError, match="not an Optimizer"):
        check_optimizer(lambda seed: object(), nb201, table)


# ---------------------------------------------------------------- evaluators
def test_the_seed_check_catches_an_optimizer_that_ignores_its_seed(nb201, table):
    """check_optimizer accepted an optimizer that always used seed 0 (user walk 50): opt-in, as a
    method may be seed-free by design (transfer-topk)."""
    from gennas.testing.optimizers import check_seed_matters

    check_optimizer(lambda seed: make_optimizer("random", nb201, seed=seed), nb201, table, seed_matters=True)
    with pytest.raises(AssertionError, match="seeds 0 and 1 proposed the same"):
        check_seed_matters(lambda seed: make_optimizer("random", nb201, seed=0), nb201, table)


def test_the_table_evaluator_passes_the_evaluator_contract(nb201, table):
    check_evaluator(table, nb201)


def test_callables_pass_the_evaluator_contract(nb201, bench):
    check_evaluator(lambda a: bench.accuracy(a, "cifar10"), nb201)  # a foreign graph raises: a failed Result
    check_evaluator(lambda a: float(len(a.ops)), nb201, refuses_foreign=False)  # scores any graph

    calls = []

    def flaky(arch):  # in turn: raises, gives NaN, gives a score
        calls.append(arch)
        if len(calls) % 3 == 1:
            raise RuntimeError("out of memory")
        return math.nan if len(calls) % 3 == 2 else 1.0

    check_evaluator(flaky, nb201, n=9, refuses_foreign=False)


class Sloppy:
    """Broken on purpose: results in reverse order, NaN scores without an error, scores anything."""

    kind = "sloppy"

    def __init__(self, reverse=False):
        self.reverse = reverse

    def evaluate(self, archs):
        out = [Result(a, math.nan if self.reverse else 1.0, self.kind) for a in archs]
        return out[::-1] if self.reverse else out


class Raising:
    """Broken on purpose: raises something other than a GennasError."""

    kind = "raising"

    def evaluate(self, archs):
        raise ZeroDivisionError("division by zero")


def test_the_evaluator_contract_catches_broken_evaluators(nb201):
    archs = nb201.sample_many(3, 0)
    with pytest.raises(AssertionError, match="out of order"):
        check_results(Sloppy(reverse=True), archs)
    with pytest.raises(AssertionError, match="without saying why"):
        check_results(Sloppy(reverse=True), archs[:1])
    foreign = foreign_arch(nb201)
    with pytest.raises(AssertionError, match=f"scored an architecture of space '{foreign.space}'"):
        check_refuses_foreign(Sloppy(), foreign)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        check_refuses_foreign(Raising(), foreign_arch(nb201))


class Declared:
    """An evaluator whose results or declared space a search fails, though each looks well formed."""

    def __init__(self, kind="train", factor=1.0, space=None):
        self.kind, self.factor, self.space = kind, factor, space

    def evaluate(self, archs):
        return [Result(a, 60.0 * self.factor, self.kind) for a in archs]


def test_the_evaluator_contract_applies_the_search_s_own_checks(nb201):
    """check_evaluator accepted evaluators every result of which the search then failed (accuracies
    of 150 %), or that a search refused (declaring another space): user walk 50. A 0-d tensor score
    is a number in both (the search failed it)."""
    import torch

    with pytest.raises(AssertionError, match=r"would fail in a search: the evaluator returned 150 for an accuracy"):
        check_evaluator(Declared(factor=2.5), nb201, refuses_foreign=False)
    with pytest.raises(AssertionError, match="is for space 'darts'"):
        check_evaluator(Declared(space="darts"), nb201, refuses_foreign=False)
    tensor = Declared(kind="callable")
    tensor.evaluate = lambda archs: [Result(a, torch.tensor(60.0), "callable") for a in archs]
    check_evaluator(tensor, nb201, refuses_foreign=False)
    from gennas.search import run_search

    out = run_search(gennas.search.make_optimizer("random", nb201, seed=0), tensor, 2, progress=False)
    assert [r.score for r in out.history] == [60.0, 60.0]


# ---------------------------------------------------------------- generators
@pytest.mark.parametrize("space", ["nb201", "mbv3"])
@pytest.mark.parametrize("kind", ["diffusion", "vae"])
def test_every_generator_passes_the_generator_contract(kind, space, bench):
    if space == "nb201":
        latency = lambda archs: bench.latency_of(archs, "pixel3")  # noqa: E731
    else:
        latency = mbv3_latency
    check_generator(gennas.load_generator(space, kind=kind), n=40, seed=3, latency=latency)


class FixedSamples:
    """Broken on purpose: ignores n and seed, takes any count."""

    kind = "fixed"

    def __init__(self, space):
        self.space = space
        self.archs = space.sample_many(5, 0)

    def sample(self, n, seed=None, guidance=None):
        return list(self.archs)


def test_the_generator_contract_catches_broken_generators(nb201):
    broken = FixedSamples(nb201)
    with pytest.raises(AssertionError, match="returned 5 list, not a list of 20"):
        check_samples(broken)
    with pytest.raises(AssertionError, match="seed 4 gave the very same samples"):
        check_samples(broken, n=5)
    with pytest.raises(AssertionError, match=r"sample\(0\) raised no GennasError"):
        check_bad_counts(broken)
    with pytest.raises(AssertionError, match="repeats an architecture"):
        check_new_valid(broken.archs + broken.archs[:1], nb201, "twice")
    with pytest.raises(AssertionError, match="not a valid nb201 architecture"):
        check_new_valid([foreign_arch(nb201)], nb201, "foreign")
