"""What a designer states on a task with a stored calibration of its pretrained predictor, after results.

Where the task has one (the bundled datasets of the shipped predictor), a calibration fitted on
thousands of cells of the task held out from the predictor's training maps the pretrained
prediction ``m`` to ``E[truth | m]`` and a 90 % interval, from the worst cells to the best. After
results that read on its scale (:func:`results_agree_with_stored`) it states every design
(:func:`stored_statement`); the results rank them (the loop refitted on them scores the designs,
so which designs are returned is the learned choice) but no longer set the statement.

Why not the calibration learned from the results (:func:`gennas.surrogates.cross_fitted.learned_calibration`):
it is fitted on the verified cells, and after a search those are the search's picks, not cells like
the ones left. Among the designs a designer returns after a search the learned mean over-stated
the truth (report seeds 0-4, cifar100: +1.29 / +1.30 / +0.97 points after 20 at batch 1 / 30 at
batch 1 / 30 at batch 5, covering 85 / 76 / 87 %), while the stored calibration, conditional on
``m`` alone, is not biased by a selection on ``m``: -0.05 / -0.31 / -0.41, covering 90 / 86 / 87 %
(with picks above the stored intervals no longer counted as disagreeing,
:func:`results_agree_with_stored`; counted, 30 at batch 1 read +1.10, 77 %). It under-states
them a little: the loop that ranks knows more than ``m``. After random results the two agree
(told 10 and 50: top-20 bias within 0.03 points, coverage within 1.6 points, development seeds 5-19).
Earlier rules that patched the learned statement with the stored one (its statement beyond or below the
results, its interval's shape scaled to the results from 20 on) are in docs/calibration.md;
"After results, the stored calibration states every design" there has the measurements.

Only where the results read on its scale: scores of the task's table (or what agrees with it as
often as its intervals promise), not those of another evaluator that happen to lie in the same
range (a few epochs of training: 40-60 % on cifar10), which are learned in their own right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.stats import binom

from gennas.design.scores import TABLE_NOISE
from gennas.surrogates.calibration import COVERAGE, Calibration, Predictions, interval_std


def results_agree_with_stored(told: np.ndarray, told_raw: np.ndarray, stored: Calibration, maximize: bool,
                              compressed: bool) -> bool:
    """Whether verified scores ``told`` ``(n,)`` can be read on the stored calibration's scale: the
    task's accuracies, maximised, uncompressed, within the table's range (down to
    :data:`~gennas.design.scores.TABLE_NOISE` below its lowest cell, chance: two trainings at 0.9 %
    among results of 70-71 % on cifar100, whose lowest cell is 1.0, turned a stored statement of
    +0.2 points into a flat learned one covering 35 % of the top 20 on one seed of three, user walk
    57), and as often at or above
    the low end of the stored :data:`~gennas.surrogates.calibration.COVERAGE` intervals of the
    pretrained predictions ``told_raw`` ``(n,)`` as chance allows (at least the 1 % binomial
    quantile of a 95 % chance each). Scores of another evaluator in the same range (a few epochs
    of training: 40-60 % on cifar10) fall below them and fail it. Scores above the intervals do
    not count against it: a search picks the cells its loop rates best, and they beat ``E[truth |
    m]`` by that selection (counting them, 30 verifications at batch 1 "disagreed" on some seeds
    and the learned statement over-stated the cifar100 top 20 by 1.57 points; development seeds 5-9)."""
    if not maximize or compressed or len(told) == 0:
        return False
    # below, a training's noise (the lowest cell is chance); above, strictly (the noisy-evaluator figures)
    if not np.all((told >= stored.reach[0] - TABLE_NOISE) & (told <= stored.reach[1])):
        return False
    low, _ = stored.interval(told_raw)
    not_below = int(np.sum(told >= low))
    return not_below >= binom.ppf(0.01, len(told), 1 - (1 - COVERAGE) / 2)


def stored_statement(p: Predictions, stored: Calibration, pretrained_raw: np.ndarray,
                     to_units: Callable[[np.ndarray], np.ndarray] = np.asarray) -> Predictions:
    """``p`` (learned from results) stated by the stored calibration of the pretrained predictor,
    whose raw predictions of the same architectures are ``pretrained_raw`` ``(n,)``: its mean and
    :data:`~gennas.surrogates.calibration.COVERAGE` interval in the scores' unit (``to_units``, an
    increasing map from the table's %: fractions), flagged ``beyond``/``below`` where
    they lie beyond or below the cells it was fitted on. Score and raw, which rank the designs,
    stay the learned ones (module docstring)."""
    if p.mean is None:
        return p
    mean, (low, high) = stored.mean(pretrained_raw), stored.interval(pretrained_raw)
    mean, low, high = to_units(mean), to_units(low), to_units(high)
    return replace(p, mean=mean, low=low, high=high, std=interval_std(low, high),
                   beyond=pretrained_raw > stored.knots_x[-1], below=pretrained_raw < stored.low_edge, top=None)
