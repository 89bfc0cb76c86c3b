"""A designer holds to the unit of the scores it was told first (walk 26 #4): a score in another
unit (a fraction after accuracies in %, % after fractions, a proxy's among accuracies) is recorded
as a failed verification with a warning by hand and stops a search; a kind gennas does not know is
refused; a non-finite Result is a failed verification, as ``tell(arch, nan)`` is. Legitimate
scores (a proxy's near 1e49, log-scores, losses, fractions from the start) are not warned of."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gennas
from gennas.design.told_units import OtherUnit
from gennas.errors import GennasError
from gennas.evaluators import CallableEvaluator
from gennas.evaluators.base import Result


@pytest.fixture(scope="module")
def cells(bench):
    """Twelve nb201 cells and their cifar100 accuracies in %."""
    archs = bench.space.sample_many(12, np.random.default_rng(3))
    archs = [a for a in archs if not bench.space.output_is_constant(a)][:10]
    return archs, [float(bench.accuracy(a, "cifar100")) for a in archs]


def designer(**kw) -> gennas.Designer:
    return gennas.Designer("nb201", task=kw.pop("task", "my-task"), seed=0, **kw)


def told(results, *calls) -> tuple[gennas.Designer, list[warnings.WarningMessage]]:
    """A designer told ``results`` (accuracies in %) and then each of ``calls`` (its tell's
    arguments), with the warnings of those calls."""
    d = designer()
    d.tell(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in calls:
            d.tell(*call)
    return d, [w for w in caught if issubclass(w.category, UserWarning)]


def test_fractions_told_after_accuracies_in_percent_are_failed_with_a_warning(cells):
    """Walk 26: tell(arch, 0.7228) after 10 results in % stated 50.64 for a cell verified at 73.17 %."""
    archs, acc = cells
    d, said = told([Result(a, s, "train") for a, s in zip(archs[:6], acc[:6])], (archs[6], acc[6] / 100))
    other = [str(w.message) for w in said if w.category is OtherUnit]
    assert len(other) == 1 and f"{acc[6] / 100:g} (a fraction: {acc[6]:.4g} %)" in other[0]
    assert "other results are accuracies in % (6 results" in other[0] and "fractions times 100" in other[0]
    assert d.history[-1].failed and "read as a fraction" in d.history[-1].error
    assert d.loop.told_unit()[0] == 1.0  # still read in %


def test_percent_and_fractions_mixed_in_one_tell_hold_to_percent_whatever_the_order(cells):
    """Walk 26: % and fractions in one tell of kind "train" stated 73.56 for all 8 designs."""
    archs, acc = cells
    for order in (1, -1):
        results = [Result(archs[0], acc[0] / 100, "train"),
                   *(Result(a, s, "train") for a, s in zip(archs[1:5], acc[1:5]))]
        with pytest.warns(OtherUnit, match=f"{acc[0] / 100:g} .a fraction: {acc[0]:.4g} %.") as said:
            d = designer()
            d.tell(results[::order])
        assert not any("all at most 1" in str(w.message) for w in said)
        assert [r.failed for r in d.history if r.arch is archs[0]] == [True]


def test_percent_after_fractions_and_proxy_scores_beside_accuracies_are_warned_of(cells):
    archs, acc = cells
    fractions = [Result(a, s / 100, "callable") for a, s in zip(archs[:4], acc[:4])]
    d, said = told(fractions, (archs[4], acc[4]))
    assert any(w.category is OtherUnit and "an accuracy in %" in str(w.message)
               and "other results are fractions of 1" in str(w.message) for w in said)
    assert d.history[-1].failed
    # a proxy's score told to a designer of accuracies (walk 26: ranked first, "verified 1234.0")
    d, said = told([Result(a, s, "train") for a, s in zip(archs[:4], acc[:4])],
                   ([Result(archs[5], 1234.0, "proxy:synflow")],))
    assert any("a zero-cost proxy's score, kind 'proxy:synflow'" in str(w.message) for w in said)
    assert all(c.verified_score != 1234.0 for c in d.generate(3))
    # and an accuracy among a proxy's scores
    d = designer()
    d.tell([Result(a, s * 10, "proxy:synflow") for a, s in zip(archs[:4], acc[:4])])
    with pytest.warns(OtherUnit, match="an accuracy, kind 'train'"):
        d.tell([Result(archs[5], acc[5], "train")])


def test_a_kind_gennas_does_not_know_is_refused_naming_the_known_ones(cells):
    archs, acc = cells
    d = designer()
    for kind, hint in (("imagenet", ""), ("trained", r" \(did you mean 'train'\?\)")):
        with pytest.raises(GennasError, match=f"kind '{kind}'{hint}, which gennas does not know: 'table', 'train' "
                                              "or 'supernet' for accuracies in %, 'proxy:<name>'"):
            d.tell([Result(archs[0], 72.0, "train"), Result(archs[1], 72.0, kind)])
    assert d.history == []  # nothing was told
    # failed results carry no score to read, whatever made them; a bare "proxy" reads as a proxy's
    d.tell([Result(archs[2], math.nan, "unknown", error="not verified"), Result(archs[3], 5.0, "proxy")])
    assert len(d.history) == 2


def test_a_non_finite_result_is_a_failed_verification_with_the_warning_of_tell_arch_nan(cells):
    archs, _ = cells
    for value in (math.nan, math.inf, -math.inf):
        d = designer()
        with pytest.warns(UserWarning, match=r"a score that is not finite \(.*\) is recorded as a failed verification"):
            d.tell([Result(archs[0], value, "train")])
        with pytest.warns(UserWarning, match=r"a score that is not finite \(.*\) is recorded as a failed verification"):
            d.tell(archs[1], value)
        assert all(r.failed and r.error == f"score is {value}" for r in d.history)


@pytest.mark.parametrize("scores, direction, kind", [
    ([1e49, 3e48, 7e47, 2e49, 5e46, 0.5], "maximize", "proxy:synflow"),  # a proxy near 1e49, and a small one
    ([112.9, 110.1, 0.7, 105.3, 98.2, 0.9], "maximize", "callable"),  # log-scores
    ([2.3, 1.4, 0.8, 0.45, 0.9, 1.1], "minimize", "callable"),  # a loss
    ([0.06, 0.3, 0.12, 0.08, 0.09, 0.11], "minimize", "callable"),  # error rates
    ([0.71, 0.72, 0.69, 0.73, 0.7, 0.68], "maximize", "callable"),  # fractions from the start
    ([45.0, 50.0, 0.9, 48.0, 30.0, 47.5], "maximize", "callable"),  # a score of 0-100 with a low one
    ([0.9, 0.7, 0.6, 1.1, 0.5, 0.8], "minimize", "callable"),  # a loss that rises above 1
    ([1.5, 1.2, 0.8, 0.6, 1.1, 0.9], "minimize", "callable"),  # error rates in % of an easy task
    ([0.42, 0.55, 0.61, 0.93, 1.8, 45.0], "maximize", "train"),  # declared %, a 1,000-class task's first epochs
])
def test_legitimate_scores_are_not_warned_of(cells, scores, direction, kind):
    archs, _ = cells
    d = designer(direction=direction)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OtherUnit)
        for a, s in zip(archs, scores):
            d.tell([Result(a, s, kind)])
    assert not any(r.failed for r in d.history)


@pytest.fixture()
def percent_study(cells, tmp_path):
    """A stored designer search of 4 results in % (cifar100's table; the 4th a random cell of the
    tables, 60.82 %: gennas.design.prior.PROBE_AT)."""
    bench = gennas.load_benchmark("nb201")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    truth = lambda a: float(bench.accuracy(a, "cifar100"))  # noqa: E731
    designer().search(CallableEvaluator(truth, kind="train"), budget=4, storage=url, study_name="s")
    return url, truth


def test_a_resumed_search_whose_evaluator_changed_unit_stops_and_resumes_when_forced(percent_study):
    """Walk 26: resumed with an evaluator returning fractions, the study held 0.7304 beside 72.2 without
    a word and generate stated 65.5 for a cell verified at 73.16 %."""
    url, truth = percent_study
    fractions = CallableEvaluator(lambda a: truth(a) / 100, kind="train")
    with pytest.raises(GennasError, match=r"stopped at results in another unit: 0\.\d+ \(a fraction: .* %\), for .*"
                                          r"other results are accuracies in % \(4 results.*force=True"):
        designer().search(fractions, budget=6, storage=url, study_name="s", resume=True)
    corrected = CallableEvaluator(truth, kind="train")
    with pytest.raises(GennasError, match="stopped at results in another unit"):  # the study holds it
        designer().search(corrected, budget=6, storage=url, study_name="s", resume=True)
    with pytest.raises(GennasError, match="stopped at results in another unit"):
        gennas.Designer.from_study(url, "s")
    d = designer()
    with pytest.warns(OtherUnit, match="recorded as failed verifications"):
        out = d.search(corrected, budget=6, storage=url, study_name="s", resume=True, force=True)
    # the first fraction was recorded as failed (it may be a training that learned nothing), the second stopped
    assert len(out.history) == 6 and [r.failed for r in d.history].count(True) == 2
    assert all(r.score > 1 for r in d.history if not r.failed)
    with pytest.warns(OtherUnit):
        assert [r.failed for r in gennas.Designer.from_study(url, "s", force=True).history].count(True) == 2


def test_a_lone_score_under_one_among_accuracies_in_percent_is_recorded_as_failed_and_the_search_goes_on(
        bench, tmp_path):
    """A diverged cifar100 training returning 0.8 (%: chance is 1 % on 100 classes) among results of
    68-74 % read as "a fraction: 80 %" and stopped the search with 8 of 20 left (walk 30 #4)."""
    url = f"sqlite:///{tmp_path / 'chance.db'}"
    calls = []

    def diverges_once(arch):
        calls.append(arch)
        return 0.8 if len(calls) == 6 else float(bench.accuracy(arch, "cifar100"))

    d = gennas.Designer("nb201", task="cifar100", seed=0)
    with pytest.warns(OtherUnit, match=r"a score under 1 among accuracies in %: 0.8 .*a training that learned "
                                       r"nothing \(0.8 %.*the search goes on"):
        out = d.search(CallableEvaluator(diverges_once, kind="train"), budget=10, storage=url, study_name="s")
    assert len(calls) == 10 and len(out.history) == 10
    assert [r.failed for r in d.history].count(True) == 1 and "read as a fraction" in d.history[5].error
    with pytest.warns(OtherUnit):  # the study replays alike: no stop, no force
        assert [r.failed for r in gennas.Designer.from_study(url, "s").history].count(True) == 1


def test_a_slip_warned_of_at_its_tell_leaves_the_others_their_unit(cells):
    """Walk 26's own order: 150 and -3 (warned: outside 0-100) told among accuracies in %, then
    fractions: still read as fractions after %, not taken for a unit of their own."""
    archs, acc = cells
    results = [Result(a, s, "train") for a, s in zip(archs[:5], acc[:5])]
    d, said = told([*results, Result(archs[5], 150.0, "train"), Result(archs[6], -3.0, "train")],
                   (archs[7], acc[7] / 100))
    assert any(w.category is OtherUnit and "(7 results" in str(w.message) and "2 outside 0-100" in str(w.message)
               for w in said)
    assert d.history[-1].failed


def test_a_low_fraction_taken_for_a_chance_level_accuracy_leaves_the_unit_in_percent(cells):
    """A random cell's fraction, 0.6082, after results of 72-73 % lies outside their plausible window
    and is taken for an accuracy of a network that learned nothing (0.61 %); it left the unit open,
    and every later fraction passed unread."""
    archs, acc = cells
    results = [Result(a, s, "train") for a, s in zip(archs[:4], [72.2, 73.1, 72.8, 72.5])]
    d, said = told(results, (archs[4], 0.6082), (archs[5], 0.7230), (archs[6], 0.4))
    other = [str(w.message) for w in said if w.category is OtherUnit]
    assert len(other) == 1 and "0.723 (a fraction: 72.3 %)" in other[0]
    assert [r.failed for r in d.history] == [False] * 5 + [True, False]  # 0.4: chance level again
    assert d.loop.told_unit()[0] == 1.0


def test_a_poorer_cell_s_percent_after_fractions_is_read_as_another_unit(cells):
    """User walk 57: 60.84 told after fractions of 0.94 lay outside their plausible window, was kept,
    and became the best verified design; maximised fractions are read as accuracies, so no score
    above 1 is one of them."""
    archs, _ = cells
    d, said = told([Result(a, s, "callable") for a, s in zip(archs[:5], [0.9375, 0.9437, 0.9401, 0.9390, 0.9412])],
                   (archs[5], 60.84))
    other = [str(w.message) for w in said if w.category is OtherUnit]
    assert len(other) == 1 and "60.84 (an accuracy in %: 0.6084 as a fraction)" in other[0]
    assert d.history[-1].failed


def test_minimised_scores_hold_to_their_unit_too(cells):
    """User walk 57: an error rate told as a fraction (0.0637) after errors in % (5.6-6.3) was
    learned silently and named the best result; told in a search, it stops it."""
    archs, _ = cells
    d = designer(direction="minimize")
    d.tell([Result(a, s, "callable") for a, s in zip(archs[:5], [5.63, 6.25, 5.9, 6.05, 5.71])])
    with pytest.warns(OtherUnit, match=r"0.0637 \(a fraction: 6.37 %\).*other results are scores in % \(lower is "
                                       r"better\) \(5 results.*Give scores in %, as before"):
        d.tell(archs[5], 0.0637)
    assert d.history[-1].failed
    errors = iter([5.63, 6.25, 5.9, 0.0591, 0.0602])
    with pytest.raises(GennasError, match=r"stopped at results in another unit: 0.0591 \(a fraction: 5.91 %\)"):
        designer(direction="minimize").search(lambda a: next(errors), budget=5, progress=False)


@pytest.mark.parametrize("before, slip", [([72.2, 73.1, 72.8, 72.5, 71.9], 1234.0),
                                          ([72.2, 73.1, 72.8, 72.5, 71.9], 1e49),
                                          ([0.9375, 0.9437, 0.9401, 0.939, 0.9412], 1234.0)])
def test_a_score_of_another_scale_after_percent_or_fractions_is_read_as_another_unit(cells, before, slip):
    """User walk 57: 1e49 after accuracies in % and 1234 after fractions, told by a plain callable,
    were kept and named the best verified design, without a word on a new task."""
    archs, _ = cells
    d, said = told([Result(a, s, "callable") for a, s in zip(archs[:5], before)], (archs[5], slip))
    assert [w for w in said if w.category is OtherUnit and "a score of another scale" in str(w.message)]
    assert d.history[-1].failed


def test_a_score_below_a_measured_dataset_s_chance_is_read_as_a_fraction(cells):
    """User walk 57: 0.6084 after accuracies in % on cifar10 (whose cells at chance read 10 %) lay
    outside the told window and was kept as an accuracy; on cifar100 (chance 1 %) 0.6 may be one."""
    archs, _ = cells
    results = [Result(a, s, "callable") for a, s in zip(archs[:5], [93.6, 94.1, 93.9, 94.3, 93.8])]
    d = designer(task="cifar10")
    d.tell(results)
    with pytest.warns(OtherUnit, match=r"0.6084 \(a fraction: 60.84 %\)"):
        d.tell(archs[5], 0.6084)
    assert d.history[-1].failed
    kept = designer(task="cifar100")
    kept.tell([Result(a, s - 21, "callable") for a, s in zip(archs[:5], [93.6, 94.1, 93.9, 94.3, 93.8])])
    with warnings.catch_warnings():
        warnings.simplefilter("error", OtherUnit)
        kept.tell(archs[5], 0.6084)
    assert not kept.history[-1].failed


def test_the_majority_of_a_first_tell_sets_the_unit_not_its_first_score(cells):
    """User walk 57: a slipped fraction told first among four accuracies in % recorded the four as failed."""
    archs, _ = cells
    d = designer()
    with pytest.warns(OtherUnit, match=r"0.9437 \(a fraction: 94.37 %\)"):
        d.tell([Result(archs[0], 0.9437, "callable"),
                *(Result(a, s, "callable") for a, s in zip(archs[1:5], [93.965, 93.85, 93.775, 93.7267]))])
    assert [r.failed for r in d.history] == [True, False, False, False, False]


def test_a_chance_level_accuracy_among_accuracies_in_percent_is_learned(cells, bench):
    """1.0 % on cifar100 (a cell that learned nothing: chance on 100 classes; NAS-Bench-201 holds
    such cells) read as a 100 % fraction among results of 51-70 % and was recorded as failed, as
    was 0.99 %; they are accuracies in %."""
    archs, acc = cells
    chance = [a for a in bench.archs()[:3000] if bench.accuracy(a, "cifar100") <= 1.0][:1]
    assert chance, "NAS-Bench-201 has cifar100 cells at chance"
    results = [Result(a, s, "table") for a, s in zip(archs[:9], acc[:9])]
    d, said = told(results, ([Result(chance[0], 1.0, "table")],), ([Result(archs[9], 0.99, "table")],))
    assert not [w for w in said if w.category is OtherUnit]
    assert not any(r.failed for r in d.history)
