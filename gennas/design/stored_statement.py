"""What the stored calibration of the pretrained predictor adds to a statement learned from results.

After results the designer states the loop's cross-fitted predictions, calibrated on the
results alone (:func:`gennas.surrogates.cross_fitted.learned_calibration`). Three things a handful of
results cannot show, a calibration fitted on thousands of held-out cells of the same task can
(where the task has one: the bundled datasets of the shipped predictor):

* under :data:`~gennas.surrogates.calibration.MIN_BIN` results the learned interval is the
  [min, max] of n residuals, nominally short of 90 % ((n - 1) / (n + 1)): the stated interval
  also covers the stored one;
* from :data:`~gennas.surrogates.calibration.MIN_BIN` results on, the learned interval's width
  follows a residual trend fitted on the results, which a few dozen cells set where they happen
  to lie, not where the designs do. The stored calibration knows how its interval's width
  changes with the prediction from every cell of the task: the interval keeps that shape, scaled
  by the factor the results need (conformal on the results' cross-fitted residuals:
  :func:`stored_scaling`), around the learned mean (docs/calibration.md, "From 20 results on a
  bundled task");
* a design predicted above every verified cell (``Predictions.beyond``) is where the learned
  mean is flat and under-states (after 10 random cifar100 results by 1.22 points over the top
  20, ``python experiments/calibration.py --seeds 0,1,2,3,4`` before this rule). The stored calibration's mean and
  interval are fitted on cells up to the space's best prediction, so those designs take its
  statement, and are flagged ``beyond`` only if they are beyond that one too;
* likewise a design predicted below the verified cells (``Predictions.below``), where the
  learned calibration assumes a fall of 0 to 1 points per predicted point: the stored one was
  fitted down to the space's worst cells. After a 20-cell search under pixel3's 10th latency
  percentile the learned fall stated the designs within it 1.89 (cifar100) and 0.45 (cifar10)
  points low; the stored statement +0.01 and -0.10 (``python experiments/rebudget_statements.py
  --seeds 0,1,2,3,4 --searched-under``).

Only where the results read on its scale: scores of the task's table (or what agrees with it as
often as its intervals promise), not those of another evaluator that happen to lie in the same
range. The ranking score is left as learned, so which designs are returned does not change.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.stats import binom

from gennas.surrogates.calibration import COVERAGE, Calibration, Predictions, expected_quantile, interval_std

#: stored residual bounds are floored at this magnitude before dividing by them (score units)
TINY_BOUND = 1e-6


def results_agree_with_stored(told: np.ndarray, told_raw: np.ndarray, stored: Calibration, maximize: bool,
                              compressed: bool) -> bool:
    """Whether verified scores ``told`` ``(n,)`` can be read on the stored calibration's scale: the
    task's accuracies, maximised, uncompressed, within the table's range, and as often inside the
    stored :data:`~gennas.surrogates.calibration.COVERAGE` intervals of the pretrained predictions
    ``told_raw`` ``(n,)`` as chance allows (at least the 1 % binomial quantile: 6 of 10). Scores of
    another evaluator in the same range (a few epochs of training: 40-60 % on cifar10) fail it."""
    if not maximize or compressed or len(told) == 0:
        return False
    if not np.all((told >= stored.reach[0]) & (told <= stored.reach[1])):
        return False
    low, high = stored.interval(told_raw)
    inside = int(np.sum((told >= low) & (told <= high)))
    return inside >= binom.ppf(0.01, len(told), COVERAGE)


def stored_scaling(residuals: np.ndarray, told_raw: np.ndarray, stored: Calibration,
                   coverage: float = COVERAGE) -> float | None:
    """The factor ``c`` by which the stored residual bounds ``[q_lo, q_hi]`` at the pretrained
    predictions ``told_raw`` ``(n,)`` must be scaled to hold the learned calibration's cross-fitted
    ``residuals`` ``(n,)`` at ``coverage``: split-conformal with the conformity score ``max(r / q_hi,
    r / q_lo)`` (the least ``c`` with ``c q_lo <= r <= c q_hi``), its ``(n + 1) coverage``-th
    smallest, interpolated (:func:`~gennas.surrogates.calibration.expected_quantile`). None when
    ``n`` is too small for that order statistic."""
    r = np.asarray(residuals, dtype=np.float64)
    q_lo, q_hi = stored.residual_bounds(told_raw, coverage)
    q_lo, q_hi = np.minimum(q_lo, -TINY_BOUND), np.maximum(q_hi, TINY_BOUND)
    factor = expected_quantile(np.maximum(r / q_hi, r / q_lo), coverage)
    return None if math.isinf(factor) else factor


def with_stored(p: Predictions, stored: Calibration, pretrained_raw: np.ndarray, widen: bool,
                scaling: float | None = None, stored_mean: bool = False) -> Predictions:
    """``p`` (learned from results, with an interval) completed by the stored calibration of the
    pretrained predictor, whose raw predictions of the same architectures are ``pretrained_raw``
    ``(n,)``: designs beyond or below the learned calibration take the stored mean and interval; with
    ``widen`` the others' intervals also cover the stored ones; with ``scaling`` (and not
    ``widen``) the designs within it state the learned mean plus ``scaling`` times the stored
    residual bounds (:func:`stored_scaling`); with ``stored_mean`` every design states the stored
    mean (fewer results than a statement of their own needs). Score and raw are unchanged."""
    if p.low is None or p.high is None or p.mean is None:
        return p
    mean, (low, high) = stored.mean(pretrained_raw), stored.interval(pretrained_raw)
    beyond = np.zeros(len(p.raw), bool) if p.beyond is None else p.beyond
    below = np.zeros(len(p.raw), bool) if p.below is None else p.below
    low_within, high_within = p.low, p.high
    if widen:
        low_within, high_within = np.minimum(p.low, low), np.maximum(p.high, high)
    elif scaling is not None:
        q_lo, q_hi = stored.residual_bounds(pretrained_raw)
        low_within = np.clip(p.mean + scaling * np.minimum(q_lo, 0), *stored.reach)
        high_within = np.clip(p.mean + scaling * np.maximum(q_hi, 0), *stored.reach)
    # beyond or below the results the learned calibration extrapolates; the stored one was fitted on
    # every cell of the task, from the worst to the best
    extrapolated = beyond | below
    new_low, new_high = np.where(extrapolated, low, low_within), np.where(extrapolated, high, high_within)
    changed = extrapolated | widen | (scaling is not None)
    return replace(p, mean=mean if stored_mean else np.where(extrapolated, mean, p.mean), low=new_low,
                   high=new_high, std=np.where(changed, interval_std(new_low, new_high), p.std),
                   beyond=beyond & (pretrained_raw > stored.knots_x[-1]),
                   below=below & (pretrained_raw < stored.low_edge))
