"""What the designer's own results measured, in the designs it returns.

After a search a user asks for designs and expects the best cells it verified among them, ranked
by what was measured. Guided samples hold a told cell only by chance (a 20-result cifar10 search
whose best verified cell measured 94.36 % returned a design at 93.76 % first, the told cell not
among the designs), and the conservative ranking score (an interval's low end) ignores a
measurement: a cell measured at 71.11 % came first above one measured at 73.16 %. So the told
cells that keep the budget join the pool, and a verified design is ranked by its measurement
against the unverified designs' stated means; which unverified ones come back does not change.
One architecture per function comes back (:func:`one_per_function`). Those returned are then
ranked by what they state (:func:`in_stated_order`): no design states more than one above it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from gennas.design.budget import LatencyBudget
from gennas.design.scores import ScoreScale
from gennas.design.told_scale import trained_beyond_results
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.spaces.base import SearchSpace
from gennas.surrogates.calibration import Predictions


def scores_by(history: Sequence[Result], key: Callable[[ArchGraph], str]) -> dict[str, list[float]]:
    """``key(arch)`` (its string, its canonical hash) -> the scores of its results that did not
    fail, in the order told, in the task's units."""
    scores: dict[str, list[float]] = {}
    for r in history:
        if not r.failed:
            scores.setdefault(key(r.arch), []).append(float(r.score))
    return scores


def verified_among(archs: Sequence[ArchGraph], history: Sequence[Result]) -> dict[str, float]:
    """Architecture string -> measured score, in the task's units, of each of ``archs`` that was
    verified or whose ``canonical_hash`` class was (an equivalent cell states the measurement of
    its class): a design under a budget came back unverified, stated 45.42 [0, 91.91], beside its
    equivalent verified at 8.0 % that the budget had left out of the pool.
    Its own results come first where it has some."""
    return verified_means(verifications_among(archs, history))


def verified_means(verifications: dict[str, list[float]]) -> dict[str, float]:
    """Architecture string -> the mean of its successful scores (:func:`verifications_among`)."""
    return {key: float(np.mean(scores)) for key, scores in verifications.items()}


def verifications_among(archs: Sequence[ArchGraph], history: Sequence[Result]) -> dict[str, list[float]]:
    """Architecture string -> the successful scores :func:`verified_among` averages for it (its
    own, else its class's): their count is what a verified design's mean is of."""
    own = scores_by(history, ArchGraph.to_string)
    by_class = scores_by(history, ArchGraph.canonical_hash)
    out = {}
    for arch in archs:
        key = arch.to_string()
        scores = own.get(key) or by_class.get(arch.canonical_hash())
        if scores:
            out[key] = scores
    return out


def verified_fields(arch: ArchGraph, verifications: dict[str, list[float]],
                    history: Sequence[Result]) -> dict[str, Any]:
    """A verified design's :class:`~gennas.design.candidate.Candidate` fields: how many verifications
    (:func:`verifications_among`) its score is the mean of, and whether they are of equivalent cells only."""
    own = any(not r.failed and r.arch.to_string() == arch.to_string() for r in history)
    return {"verified_count": len(verifications[arch.to_string()]), "verified_by_equivalent": not own}


def failed_only(history: Sequence[Result]) -> set[str]:
    """Canonical hashes of the architectures whose every result failed (the evaluator raised or
    gave a non-finite score for them or an equivalent cell): a design the user would verify to
    see it fail again, so never returned."""
    failed = {r.arch.canonical_hash() for r in history if r.failed}
    return failed - {r.arch.canonical_hash() for r in history if not r.failed}


def with_verified(pool: Sequence[ArchGraph], history: Sequence[Result], space: SearchSpace,
                  budget: LatencyBudget | None) -> list[ArchGraph]:
    """``pool`` and the verified architectures that keep ``budget`` and whose output can depend on
    the input, one per ``canonical_hash``: a verified one replaces its equivalent in the pool (it
    carries the measurement; equivalent cells were measured apart)."""
    told = {r.arch.to_string(): r.arch for r in history if not r.failed}
    told_archs = [a for a in told.values() if not space.output_is_constant(a)]
    if budget is not None and told_archs:
        told_archs = [a for a, ok in zip(told_archs, budget.within(told_archs)) if ok]
    distinct = {arch.canonical_hash(): arch for arch in pool}
    distinct.update((arch.canonical_hash(), arch) for arch in told_archs)
    return list(distinct.values())


def ranks_by_trained_model(loop: Any) -> bool:
    """Whether ``loop`` has results and ranks by a trained predictor: the shipped one, one fine-tuned
    from it, or the measured tables mapped to the told scores while they rank a new dataset. Where
    only ranks are stated its told cells take the places that rank gives them (:func:`ranked`); from
    scratch (or a predictor a search saved from scratch) the rank knows only the few results."""
    return loop.refits > 0 and trained_beyond_results(loop.pretrained)


def ranked(p: Predictions, archs: Sequence[ArchGraph], verified: dict[str, float], scale: ScoreScale,
           n: int, by_model_rank: bool = False) -> list[int]:
    """Indices of the best ``n`` of ``archs``: the unverified in :meth:`Predictions.order`
    (their ranking score: after results the conservative one), each verified one placed
    before the first of them whose stated (calibrated) mean is not above its measurement; the
    verified ones in the order measured (a rank only, no stated mean: the best measured first,
    the other verified in the places the rank gives them). An expected accuracy is compared with a measured one:
    against the stated interval's low end instead, cells measured 1-2 points below the
    unverified designs' means came first: after 10 random results the top design's true
    accuracy was 93.13 against 93.64 % on cifar10, 69.91 against 70.87 % on cifar100 (mean of
    development seeds 5-12). The ranking score itself cannot be compared with a measurement: it
    is the learned calibration's binned low end, far below the stated one with few results.

    ``by_model_rank``: a rank only of a trained model (:func:`ranks_by_trained_model`): the verified
    take the places the rank gives them (by their own values, ``p.raw``), the best measured in the
    first of those places, not first of all. Placed
    first instead, 3 random results on cifar10 held out made the best of them (91.6 %) design #1
    above cells the other table measured at 94.4 %. Placed by their measurements against the
    others' values: on a new dataset the tables' map to the told scores (a shift in %, fitted on
    random cells, :func:`~gennas.design.prior.prior_map`) put their best cells below the best told
    ones (cifar100 held out, 10 random results: cifar10's 94.37 % mapped to 68.30, a cell measured
    at 69.94 came first, truly 73.22 below it, user walk 58): the first design's true accuracy after
    3 / 5 / 10 random results 71.68 / 72.44 / 72.78 -> 73.19 %, cifar10's and after a 10-cell search
    unchanged. Under a budget that keeps too few results to state (30 random ones, held-out
    predictor, fine-tuned on them) the best told within it came first: after 30, 91.88 -> 93.01 %
    (cifar10) and 67.50 -> 69.63 % (cifar100) under pixel3's 25th percentile, 84.18 -> 86.45 and
    55.55 -> 58.12 % under 1080ti_1's 2nd (development seeds 5-14, ``python
    experiments/ranked_after_results.py [--device D --percentile P --told 10,30]``)."""
    measured = _measured(range(len(archs)), archs, verified, scale)
    if p.mean is None:
        # a rank only states nothing to compare a measurement with: the verified keep the places the rank
        # gives them, filled in the order measured (a cell verified at 9.4e43 ranked above one at 2.2e49);
        # from scratch the best measured comes first (the rank had left a study's best, 18.00 among six
        # results, out of `design -n 3`), a trained model's rank is kept (``by_model_rank``)
        order = [int(i) for i in p.order(len(archs))]
        places = [k for k, i in enumerate(order) if i in measured]
        for k, i in zip(places, sorted((order[k] for k in places), key=lambda i: -measured[i])):
            order[k] = i
        if not by_model_rank and places and (len(measured) == 1 or np.ptp(list(measured.values())) > 0):
            # one result, or scores that differ, tell a best; several all the same (a constant
            # evaluator's) tell none: its chance-level cell came first above the designs ranked
            order.insert(0, order.pop(places[0]))
        return order[:n]
    expected = _expected(p, scale, verified)
    return _interleaved([int(i) for i in p.order(len(archs)) if int(i) not in measured], measured, expected)[:n]


def in_stated_order(chosen: Sequence[int], p: Predictions, archs: Sequence[ArchGraph], verified: dict[str, float],
                    scale: ScoreScale) -> list[int]:
    """``chosen`` (indices into ``archs``, as :func:`ranked` and :func:`one_per_function` return
    them) ranked by what the designs state: the unverified by their stated mean, ties in the order
    given (the conservative score's), a design nothing states last; each verified one before the
    first of them whose stated mean is not above its measurement. Which designs come back stays
    the conservative score's choice; only their order follows the statements, so a design never
    states more than one ranked above it. A design read 71.05 [70.33, 71.79]
    ranked above 71.40 [70.70, 72.14]: the conservative score is the learned calibration's binned
    low end, while the statement may be the trend-scaled interval, a source line's or the stored
    calibration's. Ranking the returned designs by the stated mean costs little: Kendall tau with
    the truth 0.342 -> 0.329 and the first five's true mean equal or higher (default predictor,
    10 or 50 random results on cifar10 / cifar100, development seeds 5 and 6:
    ``python experiments/stated_order.py``)."""
    if p.mean is None:  # a rank only: nothing stated to order by
        return list(chosen)
    expected = _expected(p, scale, verified)
    measured = _measured(chosen, archs, verified, scale)
    unverified = sorted((i for i in chosen if i not in measured), key=lambda i: -expected[i])  # stable: ties stay
    return _interleaved(unverified, measured, expected)


def _measured(indices: Iterable[int], archs: Sequence[ArchGraph], verified: dict[str, float],
              scale: ScoreScale) -> dict[int, float]:
    """Index -> measurement on the model's higher-is-better scale, of those of ``indices`` whose
    architecture ``verified`` holds."""
    keys = {i: archs[i].to_string() for i in indices}
    return {i: float(scale.to_model(np.array([verified[key]]))[0]) for i, key in keys.items() if key in verified}


def _expected(p: Predictions, scale: ScoreScale, verified: dict[str, float]) -> np.ndarray:
    """The stated means ``(n,)`` on the model's higher-is-better scale (a loss's order is mirrored
    by the map); a design nothing states at -inf (below every result, further than they tell), or,
    where it is predicted above every result by a predictor learned from scratch (``beyond``,
    :func:`gennas.design.scratch_statement.unstated_above_results`), at the median of the ``verified``
    scores: ranked as a typical result, so the verified above that come first (else
    cells measured at 4.1e8-4.4e8 ranked below designs that proved 3-31x worse), and the verified
    below it after."""
    expected = scale.to_model(np.asarray(p.mean, dtype=np.float64))
    if p.beyond is not None:
        # without results here (a later session of a predictor a search saved) nothing stated lies
        # above them: they keep the model's lead (ranked last, the designs it rates best came last)
        typical = float(np.median(scale.to_model(np.array(list(verified.values()), dtype=np.float64)))) \
            if verified else np.inf
        expected = np.where(np.isnan(expected) & p.beyond, typical, expected)
    return np.where(np.isnan(expected), -np.inf, expected)


def _interleaved(unverified: Sequence[int], measured: dict[int, float], expected: np.ndarray) -> list[int]:
    """``unverified`` in their order, each verified index (``measured``: its measurement on the
    model's scale) placed before the first of them whose ``expected`` is not above it, the best
    measured first; a design nothing states follows every verified one."""
    waiting = sorted(measured, key=lambda i: -measured[i])
    order: list[int] = []
    for i in unverified:
        while waiting and measured[waiting[0]] >= expected[i]:
            order.append(waiting.pop(0))
        order.append(i)
    return order + waiting


def one_per_function(order: Sequence[int], archs: Sequence[ArchGraph], verified: dict[str, float],
                     n: int) -> list[int]:
    """The first ``n`` of ``order`` (indices into ``archs``) computing different functions
    (``canonical_hash(functional=True)``): cells the benchmark's rule tells apart by a zero term
    compute the same network (``|nor_conv_3x3~0|+|none~0|skip_connect~1|+...`` three ways),
    and ``generate`` returned it up to three times in its 20 designs under a 1080ti budget. A
    verified architecture stands for its class: an unverified equivalent of it is not returned."""
    keys = [a.canonical_hash(functional=True) for a in archs]
    measured = {keys[i] for i, a in enumerate(archs) if a.to_string() in verified}
    taken: set[str] = set()
    out: list[int] = []
    for i in order:
        if keys[i] in taken or (keys[i] in measured and archs[i].to_string() not in verified):
            continue
        taken.add(keys[i])
        out.append(i)
        if len(out) == n:
            break
    return out
