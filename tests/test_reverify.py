"""Designer.reverify: a noisy evaluator's best is the luckiest of many (walk 30 #7); verifying the
best again until it is confirmed states its mean, and a study keeps the re-verifications (#18)."""

from __future__ import annotations

import warnings

import pytest

import gennas
from gennas.design.candidate import candidate_row
from gennas.design.verified import verifications_among
from gennas.errors import GennasError, GennasWarning


def lucky_once(bench, lucky: dict) -> gennas.CallableEvaluator:
    """The table's cifar10 accuracy, plus ``lucky[arch]`` points on an architecture's first verification only."""
    seen: set = set()

    def score(arch) -> float:
        key = arch.canonical_hash()
        bonus = lucky.get(key, 0.0) if key not in seen else 0.0
        seen.add(key)
        return float(bench.accuracy(arch, "cifar10")) + bonus

    return gennas.CallableEvaluator(score, kind="train")


def test_the_lucky_best_falls_back_and_the_next_is_verified_in_its_turn(bench):
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    archs = bench.space.sample_many(30, 0)
    archs = [a for a in archs if not bench.space.output_is_constant(a)][:6]
    top = max(bench.accuracy(a, "cifar10") for a in archs)
    # two lucky first trainings, read above the truly best cell
    lucky = {archs[0].canonical_hash(): top - bench.accuracy(archs[0], "cifar10") + 2.0,
             archs[1].canonical_hash(): top - bench.accuracy(archs[1], "cifar10") + 1.0}
    evaluator = lucky_once(bench, lucky)
    designer.tell(evaluator.evaluate(archs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GennasWarning)  # scores beyond the table's range: learned in their units
        out = designer.reverify(evaluator, budget=5, times=2)
    # archs[0] again (falls back), then archs[1] (falls back), then the truly best: its score again confirms it
    truly_best = max(archs, key=lambda a: bench.accuracy(a, "cifar10"))
    assert [r.arch.canonical_hash() for r in out] == [a.canonical_hash() for a in (archs[0], archs[1], truly_best)]
    assert len(designer.history) == 6 + 2
    # its second, equal score was not told: one verification
    assert len(verifications_among([truly_best], designer.history)[truly_best.to_string()]) == 1
    # a rank only (6 results): the verified take the places the shipped predictor's rank gives them, not
    # first of all (user walk 58), and that rank holds cells truly better than these six random ones
    first = designer.generate(1)[0]
    assert first.verified_score is None
    assert bench.accuracy(first.arch, "cifar10") > bench.accuracy(truly_best, "cifar10")


def test_an_exact_evaluator_confirms_at_once_and_a_study_keeps_the_reverifications(bench, tmp_path):
    url = f"sqlite:///{tmp_path / 'exact.db'}"
    designer = gennas.Designer("nb201", task="cifar10", seed=0, storage=url)
    table = gennas.CallableEvaluator(lambda a: float(bench.accuracy(a, "cifar10")), kind="train")
    designer.search(table, budget=4, study_name="s")
    out = designer.reverify(table, study_name="s")
    assert len(out) == 1 and len(designer.history) == 4  # the same score again: not learned twice
    noisy = iter([0.3, -0.4, 0.2])
    shaky = gennas.CallableEvaluator(lambda a: float(bench.accuracy(a, "cifar10")) + next(noisy), kind="train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GennasWarning)
        more = designer.reverify(shaky, budget=1, study_name="s")
        rebuilt = gennas.Designer.from_study(url, "s")
    assert len(more) == 1 and len(rebuilt.history) == len(designer.history) == 5
    best = designer.generate(1)[0]  # verified twice now: its text and row say the mean is of two (walk 30 #6)
    assert best.verified_count == 2 and ", mean of 2" in str(best)
    assert candidate_row(best)["verified_count"] == 2


def test_reverify_refuses_what_it_cannot_do(bench):
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    table = gennas.TableEvaluator("nb201", "cifar10")
    with pytest.raises(GennasError, match="nothing was verified yet"):
        designer.reverify(table)
    for bad in ({"budget": 0}, {"times": 1.5}, {"budget": True}):
        with pytest.raises(GennasError, match="must be a positive whole number"):
            designer.reverify(table, **bad)
    with pytest.raises(GennasError, match="give the storage it is in"):
        designer.reverify(table, study_name="s")


def test_generate_says_when_verifications_of_one_architecture_differ(bench):
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    archs = [a for a in bench.space.sample_many(12, 1) if not bench.space.output_is_constant(a)][:10]
    designer.tell([gennas.Result(a, float(bench.accuracy(a, "cifar10")), "train") for a in archs])
    assert not any("verifications of one architecture differ" in n for n in designer.generate(3).notes)
    best = max(archs, key=lambda a: bench.accuracy(a, "cifar10"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GennasWarning)  # told again with another score: kept, with a warning
        designer.tell(best, float(bench.accuracy(best, "cifar10")) - 1.0)
    designs = designer.generate(3)
    said = [n for n in designs.notes if "verifications of one architecture differ (std 0.707, from 1 verified more "
            "than once)" in n]
    assert len(said) == 1
    # what intervals are for, only where a design states one (a rank-only call said it, user walk 58)
    assert ("Intervals are for" in said[0]) == any(c.interval is not None for c in designs)


def test_a_training_is_repeated_with_another_seed_and_a_seeded_one_of_one_s_own_is_warned_of(tmp_path, monkeypatch):
    """reverify() retrained the best with the TrainEvaluator's own seed: the same score exactly, read
    as confirmed (user walk 52: 62.0 again; with seed 1 the cell scored 48.7)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    nb201 = gennas.load_space("nb201")
    train, val = gennas.datasets.image_loaders("digits", batch_size=32, channels=1, seed=0, limit=64)
    evaluator = gennas.TrainEvaluator(nb201, train, val, epochs=1, seed=0, build_options=nb201.small_build_options,
                                      progress=False)
    designer = gennas.Designer("nb201", task="digits", seed=0)
    designer.search(evaluator, budget=2, progress=False)
    repeats = designer.reverify(evaluator, budget=1, times=2)
    assert [r.metadata["seed"] for r in repeats] == [1]  # the first verification's seed 0, plus 1
    assert evaluator.seed == 0  # the caller's evaluator is untouched
    best = designer.history[0].arch if designer.history[0].score >= designer.history[1].score else \
        designer.history[1].arch
    assert repeats[0].arch == best

    own = gennas.CallableEvaluator(lambda arch: evaluator.evaluate([arch])[0].score, kind="train")
    again = gennas.Designer("nb201", task="digits", seed=0)
    again.search(own, budget=1, progress=False)
    with pytest.warns(gennas.GennasWarning, match="repeated its score exactly, so it confirms nothing"):
        again.reverify(own, budget=1, times=2)
