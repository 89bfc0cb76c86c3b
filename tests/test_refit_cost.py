"""What makes the loop cheap must not change what it computes: the embedding cache, heads-only
refits, and the loop's choice between them (issue 12, loop cost)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import gennas
from gennas.design.loop import LoopSettings
from gennas.evaluators.base import Result
from gennas.surrogates.predictor_training import head_parameters


def _cells(bench, n, seed=0):
    rng = np.random.default_rng(seed)
    return [bench.space.from_string(bench.strings[i]) for i in rng.choice(len(bench.strings), n, replace=False)]


def test_cached_embeddings_give_the_predictions_of_a_fresh_predictor(bench):
    predictor = gennas.load_predictor("nb201")
    cells = _cells(bench, 300)
    first = {t: predictor.predict(cells, t) for t in predictor.tasks}  # fills the cache on the first task
    assert len(predictor._embeddings) > 0
    fresh = gennas.load_predictor("nb201")
    for task in predictor.tasks:
        for cached, uncached in zip(first[task], fresh.predict(cells, task)):
            np.testing.assert_allclose(cached, uncached, rtol=1e-6, atol=1e-6)


def test_weights_changed_from_outside_are_never_served_stale_embeddings(bench):
    predictor = gennas.load_predictor("nb201")
    cells = _cells(bench, 50)
    before, _ = predictor.predict(cells, "cifar10")
    with torch.no_grad():
        predictor.members[0].encoder.embed.weight.mul_(0.5)  # in place: no optimiser, no clear()
    after, _ = predictor.predict(cells, "cifar10")
    assert not np.allclose(before, after)


def test_a_heads_only_update_keeps_the_encoders_and_their_cached_embeddings(bench):
    predictor = gennas.load_predictor("nb201")
    cells = _cells(bench, 40, seed=1)
    scores = [bench.accuracy(a, "cifar10") for a in cells]
    predictor.predict(cells, "cifar10")
    heads = {id(p) for m in predictor.members for p in head_parameters(m)}
    encoders = [p.detach().clone() for p in predictor.members.parameters() if id(p) not in heads]
    before_heads = [p.detach().clone() for m in predictor.members for p in head_parameters(m)]
    cached = len(predictor._embeddings)
    predictor.update(cells, scores, task="cifar10", steps=5, encoders=False)
    after = [p for p in predictor.members.parameters() if id(p) not in heads]
    assert all(torch.equal(a, b) for a, b in zip(encoders, after))
    assert any(not torch.equal(a, b) for a, b in zip(before_heads, [p for m in predictor.members
                                                                    for p in head_parameters(m)]))
    # still valid: the class embeddings of the predictions stay; the training rows joined them
    assert sum(k.startswith("class ") for k in predictor._embeddings._rows) == cached
    predictor.update(cells, scores, task="cifar10", steps=5)  # a full update retrains the encoders
    uncached = copy.deepcopy(predictor)
    uncached._embeddings.clear()
    np.testing.assert_array_equal(predictor.predict(cells, "cifar10")[0], uncached.predict(cells, "cifar10")[0])


def test_heads_only_updates_embed_only_rows_they_have_not_seen_and_train_as_without_the_cache(bench):
    cells = _cells(bench, 31, seed=2)
    scores = [bench.accuracy(a, "cifar10") for a in cells]
    cached, fresh = gennas.load_predictor("nb201"), gennas.load_predictor("nb201")
    for p in (cached, fresh):
        p.update(cells[:30], scores[:30], task="cifar10", steps=5, encoders=False)
    embedded = []
    for member in cached.members:
        member.encoder.register_forward_hook(lambda module, args, out: embedded.append(args[0].shape[0]))
    cached.update(cells[30:], scores[30:], task="cifar10", steps=5, encoders=False)
    rows = sum(embedded) // len(cached.members)
    assert 0 < rows <= 1 + cached.config.augment  # the new cell and its equivalents, not all 31 cells' rows
    fresh._embeddings.clear()  # every row embedded again, as before the cache
    fresh.update(cells[30:], scores[30:], task="cifar10", steps=5, encoders=False)
    np.testing.assert_allclose(cached.predict(cells, "cifar10")[0], fresh.predict(cells, "cifar10")[0], atol=1e-4)


def _told_updates(predictor, bench, n):
    """The ``encoders`` flag of every update a loop made while told ``n`` results one by one."""
    flags = []
    original = type(predictor).update

    def spy(self, *args, encoders=True, **kw):
        flags.append(encoders)
        return original(self, *args, encoders=encoders, **kw)

    predictor.update = spy.__get__(predictor)
    designer = gennas.Designer("nb201", task="cifar10", predictor=predictor, seed=0, loop=LoopSettings(pool=1))
    for arch in _cells(bench, n, seed=2):
        designer.tell([Result(arch, bench.accuracy(arch, "cifar10"), "table")])
    refitted = designer.loop.predictor
    return flags, refitted


def test_a_pretrained_predictor_retrains_its_encoders_only_as_the_results_grow(bench):
    from gennas.design.loop import FEW_SHOT_RESULTS

    # a new dataset is ranked by the source tables until FEW_SHOT_RESULTS results, then the
    # encoders are retrained when the results have doubled (growth 2): at 20 and 40
    flags, _ = _told_updates(gennas.load_predictor("nb201", holdout="cifar10"), bench, 2 * FEW_SHOT_RESULTS + 1)
    assert flags == [True] + [False] * (FEW_SHOT_RESULTS - 1) + [True, False]
    # a task the predictor was trained on: heads only, from the first result
    flags, _ = _told_updates(copy.deepcopy(gennas.load_predictor("nb201")), bench, 5)
    assert flags == [False] * 5


def test_from_scratch_every_refit_trains_the_encoders(bench):
    flags, refitted = _told_updates(gennas.Predictor("nb201", seed=0), bench, 6)
    assert flags and all(flags)
    assert refitted.is_trained


def test_no_new_generation_while_the_guidance_is_unchanged(bench):
    """A new dataset ranked by the measured tables: its first results leave the predictor as it
    is, so the loop keeps re-ranking one guided pool instead of drawing the same distribution again."""
    predictor = gennas.load_predictor("nb201", holdout="cifar10")
    generator = gennas.load_generator("nb201", kind="diffusion")
    draws = []
    original = type(generator).sample

    def counting(self, *args, **kw):
        draws.append(1)
        return original(self, *args, **kw)

    generator.sample = counting.__get__(generator)
    designer = gennas.Designer("nb201", task="cifar10", predictor=predictor, generator=generator, seed=0,
                               loop=LoopSettings(pool=1, regenerate=2))
    assert designer.loop.prior.active
    for _ in range(8):
        (arch,) = designer.loop.ask(1)
        designer.loop.tell([Result(arch, bench.accuracy(arch, "cifar10"), "table")])
    assert len(draws) == 1


def test_a_pretrained_loop_without_a_budget_generates_half_as_often(bench):
    """Heads-only refits move a pretrained predictor's guidance little: without a budget a new
    guided generation after REGENERATE_PRETRAINED results (from scratch or under a budget
    REGENERATE_SCRATCH); a setting wins."""
    from gennas.design.loop import REGENERATE_PRETRAINED, REGENERATE_SCRATCH

    assert REGENERATE_PRETRAINED > REGENERATE_SCRATCH
    generator = gennas.load_generator("nb201", kind="diffusion")
    draws = []
    original = type(generator).sample

    def counting(self, *args, **kw):
        draws.append(len(loop.history))
        return original(self, *args, **kw)

    generator.sample = counting.__get__(generator)
    designer = gennas.Designer("nb201", task="cifar10", predictor=gennas.load_predictor("nb201"),
                               generator=generator, seed=0, loop=LoopSettings(pool=1))
    loop = designer.loop
    assert loop.regenerate_every() == REGENERATE_PRETRAINED
    for _ in range(2 * REGENERATE_PRETRAINED + 1):
        (arch,) = loop.ask(1)
        loop.tell([Result(arch, bench.accuracy(arch, "cifar10"), "table")])
    assert draws == [0, REGENERATE_PRETRAINED, 2 * REGENERATE_PRETRAINED]
    scratch = gennas.Designer("nb201", task="cifar10", predictor=gennas.Predictor("nb201"), seed=0)
    assert scratch.loop.regenerate_every() == REGENERATE_SCRATCH
    explicit = gennas.Designer("nb201", task="cifar10", seed=0, loop=LoopSettings(regenerate=3))
    assert explicit.loop.regenerate_every() == 3
    # under a latency budget the feasible pool runs out sooner: generating less often saved nothing
    budget = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20.0, seed=0)
    assert budget.loop.regenerate_every() == REGENERATE_SCRATCH


def test_a_known_task_refits_only_the_heads_and_a_new_one_its_encoders_too(bench):
    """The shipped predictor learnt cifar10 from 2,000 cells: a search's few results retrain
    only the heads (the encoders drifted on them); a task it never saw retrains the encoders."""
    import math

    def encoders(predictor):
        return torch.cat([p.detach().flatten() for m in predictor.members for p in m.encoder.parameters()])

    cells = _cells(bench, 10, seed=5)
    known = gennas.Designer("nb201", task="cifar10", predictor=gennas.load_predictor("nb201"), seed=0,
                            loop=LoopSettings(pool=1))
    assert known.loop.encoder_growth() == math.inf
    before = encoders(known.loop.pretrained)
    for arch in cells:
        known.tell([Result(arch, bench.accuracy(arch, "cifar10"), "table")])
    assert known.loop.refits == len(cells) and torch.equal(encoders(known.loop.predictor), before)
    assert not np.allclose(known.loop.predict(cells)[0], known.loop.pretrained.predict(cells, "cifar10")[0])
    new = gennas.Designer("nb201", task="cifar10", predictor=gennas.load_predictor("nb201", holdout="cifar10"),
                          seed=0, loop=LoopSettings(pool=1))
    assert new.loop.encoder_growth() == new.loop.settings.encoder_growth


def test_fine_tuning_after_the_table_ranked_phase_learns_every_earlier_result(bench):
    """A new dataset's first results are ranked by the measured tables, the network untouched;
    when fine-tuning starts it must learn all of them, not only the latest."""
    from gennas.design.loop import FEW_SHOT_RESULTS

    predictor = gennas.load_predictor("nb201", holdout="cifar10")
    designer = gennas.Designer("nb201", task="cifar10", predictor=predictor, seed=0, loop=LoopSettings(pool=1))
    cells = _cells(bench, FEW_SHOT_RESULTS, seed=3)
    for arch in cells:
        designer.tell([Result(arch, bench.accuracy(arch, "cifar10"), "table")])
    refitted = designer.loop.predictor
    assert refitted is not predictor and "cifar10" in refitted.tasks
    assert len(refitted._buffers["cifar10"]) == FEW_SHOT_RESULTS


def test_a_copied_predictor_shares_cached_embeddings_without_tying_the_two(bench):
    original = gennas.load_predictor("nb201")
    cells = _cells(bench, 60, seed=3)
    before, _ = original.predict(cells, "cifar10")
    copied = copy.deepcopy(original)
    assert len(copied._embeddings) == len(original._embeddings) > 0
    np.testing.assert_array_equal(copied.predict(cells, "cifar10")[0], before)
    copied.update(cells[:10], [bench.accuracy(a, "cifar10") for a in cells[:10]], task="cifar10", steps=5)
    assert not np.allclose(copied.predict(cells, "cifar10")[0], before)  # the copy learned...
    np.testing.assert_array_equal(original.predict(cells, "cifar10")[0], before)  # ...the original did not


def test_a_shipped_predictor_s_refit_records_nothing_it_would_not_save(bench, monkeypatch):
    """A space with a shipped predictor never saves a refit: each tell still computed the results'
    op counts and every architecture's string for the manifest (5.6 ms a tell at 1,000 results;
    walk 35 #3)."""
    import gennas.design.pretrained as pretrained

    designer = gennas.Designer("nb201", task="cifar10", seed=0, loop=LoopSettings(pool=1))
    monkeypatch.setattr(pretrained, "count_ranges", lambda archs: pytest.fail("recorded for no save"))
    designer.tell([Result(a, bench.accuracy(a, "cifar10"), "table") for a in _cells(bench, 6)])
    assert designer.loop.refits == 1
