"""Calibrated predictions: a predicted accuracy and an interval that mean what they say.

A predictor can rank well and still be wrong in value where it is read: choosing the cells it
predicts best finds those it *over*-rates most (the pretrained nb201 predictor: top cifar10 cell
at 101.8 %, true 93.8 %; its top 0.5 % of held-out cells 7 points below their prediction).

A :class:`Calibration` of one model on one task maps a raw prediction ``m`` to

* a calibrated mean ``f(m)``: the isotonic (monotone) regression of the true score on ``m``.
  Monotone keeps the predictor's order; and where the predictor stops telling cells apart (its
  top cells are all about 93.5 % in truth) ``f`` is flat at the level the truth has there, so
  the selection effect is corrected where selection happens. Below the calibration's
  predictions the truth is taken to fall with a slope between 0 and 1 (the interval spans both);
* a split-conformal interval ``f(m) + [q_lo, q_hi]``: quantiles of held-out residuals
  ``y - f(m)`` among cells of the same *bin of predicted value*. Bins are finest at the top
  (the top 0.5 % of predictions is a bin of its own), so the stated coverage holds for the
  top-ranked cells, not only on average over the space;
* the task's reachable range ``reach``: means and intervals are clipped to it.

Residuals are cross-fitted (each from an ``f`` fitted without its cell), stored per bin on a
grid of levels (:data:`LEVELS`); the conformal ranks ``(n + 1) a`` and ``(n + 1)(1 - a)`` of ``n``
residuals are applied when an interval is asked for (:func:`_conformal`). After verified results
the same is fitted on the out-of-fold predictions of cross-fitted models
(:func:`gennas.surrogates.cross_fitted.learned_calibration`); there a result predicted below
every other has a residual that is an extrapolation, and it states only the designs below the
results (:func:`_within_results`).

Calibrations of the shipped predictors are stored with them
(:mod:`gennas.surrogates.stored_calibration`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.stats import norm

from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.residual_scale import ResidualTrend, constant_level, constant_residuals, flat_is_better
from gennas.surrogates.prediction_text import described
from gennas.surrogates.task import Task

if TYPE_CHECKING:  # annotations only
    from numpy.typing import ArrayLike

#: the coverage the designer states its intervals at
COVERAGE = 0.9
#: residual quantile levels stored per bin (0 and 1: the extreme residuals)
LEVELS = np.array([0, .005, .01, .02, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .6, .7, .75, .8, .85, .9,
                   .925, .95, .975, .98, .99, .995, 1])
#: inner bin edges (prediction quantiles) for >= 2,000 cells: 5 % bins, finer at the top where designs are chosen
TABLE_BINS = np.r_[np.arange(.05, .91, .05), [.93, .95, .97, .98, .99, .995]]
#: residuals per bin at least, from few results ([min, max] of n residuals covers (n - 1) / (n + 1): 90 % needs 19)
MIN_BIN = 20
#: results a residual trend is fitted from at least: a Theil-Sen line through 3 log deviations
#: put one 90 % interval at [0, the mean] below its own verified cell, another at [-3.6e8, 28.75]
MIN_TREND = 10
#: cells at or below a prediction for the calibrated mean there to be fitted, not extrapolated: one
#: cell sets no level. After a 20-cell search on cifar10 held out (development seed 7) one verified
#: cell predicted 91.49 scored 93.89, the other 19 were predicted from 93.57 up; the designs predicted
#: 91.5-92.7 were then "within" the results and read 94.13 [93.8, 94.3], truly 92.85-93.84 (top-20
#: coverage 5 %); below the second-lowest prediction they are stated as below the results
SUPPORT = 2
#: knots of the stored calibrated-mean curve (quantile levels of the predictions; finer at both ends, where it bends)
KNOT_LEVELS = np.unique(np.r_[np.geomspace(1e-4, .02, 10), np.linspace(0, .98, 50), 1 - np.geomspace(.02, 1e-4, 12), 1])
#: accuracies in % can reach no further
PERCENT = (0.0, 100.0)
#: a model as cross-fitting sees it: ``archs -> (mean, std)``, float64 ``(n,)`` each
Model = Callable[[Sequence[ArchGraph]], tuple[np.ndarray, np.ndarray]]


def isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Non-decreasing least-squares fit to ``y`` (already ordered by x) with weights ``w``, float64
    ``(n,)`` (pool-adjacent-violators, ``scipy.optimize.isotonic_regression``)."""
    return isotonic_regression(np.asarray(y, dtype=np.float64), weights=np.asarray(w, dtype=np.float64)).x


def interval_std(low: np.ndarray, high: np.ndarray, coverage: float = COVERAGE) -> np.ndarray:
    """The normal std whose central ``coverage`` interval is as wide as ``[low, high]``, ``(n,)``."""
    return (np.asarray(high) - np.asarray(low)) / (2 * norm.ppf(0.5 + coverage / 2))


def _curve(m: np.ndarray, y: np.ndarray, compress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(x, f(x))`` of the isotonic regression of ``y`` on ``m`` (ties in ``m`` averaged);
    ``compress``: evaluated at :data:`KNOT_LEVELS` quantiles of ``m`` (a small stored table)."""
    xs, inverse = np.unique(m, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    fitted = isotonic(np.bincount(inverse, weights=y) / counts, counts)
    if compress and len(xs) > len(KNOT_LEVELS):
        knots = np.unique(np.quantile(m, KNOT_LEVELS))
        return knots, np.interp(knots, xs, fitted)
    return xs, fitted


def _conformal(quantiles: np.ndarray, n: int, coverage: float) -> tuple[float, float]:
    """The split-conformal residual bounds from ``n`` residuals' quantiles at :data:`LEVELS` ``(L,)``:
    the order statistics of (fractional) ranks ``(n + 1) a`` and ``(n + 1)(1 - a)``, ``a = (1 -
    coverage) / 2``, interpolated between neighbours (np.quantile's linear levels), capped at the
    extremes when ``n`` is too small for them (under 19 residuals at 90 %).

    A new exchangeable residual falls between the ``k_lo``-th and ``k_hi``-th smallest with
    probability ``(k_hi - k_lo) / (n + 1)``: the usual whole ranks ``ceil((n + 1)(1 - a))`` and
    ``floor((n + 1) a)`` promise *at least* ``coverage`` and state 90 % intervals that hold
    (49 - 2) / 51 = 92.2 % from 50 results; the fractional ranks hold ``coverage`` in expectation,
    which is what an interval labelled 90 % says (docs/calibration.md "A 90 % interval holds
    90 %")."""
    a = (1 - coverage) / 2
    rank_hi, rank_lo = min(n, (n + 1) * (1 - a)), max(1.0, (n + 1) * a)
    level = (lambda rank: (rank - 1) / (n - 1) if n > 1 else .5)  # noqa: E731
    return float(np.interp(level(rank_lo), LEVELS, quantiles)), float(np.interp(level(rank_hi), LEVELS, quantiles))


def _within_results(m: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Which cells' residuals ``(n,)`` of a leave-one-out fit state designs within the results
    (``m`` the predictions, ``bins`` each cell's bin, ``(n,)`` each): all but a cell predicted
    below every other. Left out, that cell is an extrapolation (the curve is flat below its lowest
    knot): its residual is how far the truth falls below the results, which designs below them are
    stated with (their own 0-1 points per predicted point, :meth:`Calibration._curve`, and every
    residual, :attr:`Calibration.below`), not an error within them (one conformal set per region,
    as in Mondrian conformal prediction). After 10 random cifar10 results on a new dataset with
    one cell at chance (10 %, predicted 26-27; ``experiments/calibration.py`` seeds 66 and 68)
    every design within the results was stated about 70 points wide (``python
    experiments/told_widths.py --seeds 60,...,74``). Kept where the lowest prediction is tied or
    leaving it out would empty its bin."""
    within = np.ones(len(m), bool)
    lowest = int(np.argmin(m))
    if np.sum(m == m[lowest]) == 1:
        within[lowest] = False
    return within if np.all(np.bincount(bins[within], minlength=int(bins.max()) + 1) > 0) else np.ones(len(m), bool)


def _residual_fields(m: np.ndarray, residual: np.ndarray, bins: np.ndarray, n_bins: int,
                    trend: ResidualTrend | None) -> dict[str, Any]:
    """What a :class:`Calibration` states intervals from, by field name, given cells' predictions,
    residuals and bins ``(n,)`` each: ``quantiles`` of the residuals per bin at :data:`LEVELS`
    ``(n_bins, L)``, ``counts`` per bin ``(n_bins,)``, and with a residual ``trend`` the quantiles
    of the residuals divided by its scale, ``normalised`` ``(L,)`` (None without one)."""
    return {"quantiles": np.stack([np.quantile(residual[bins == b], LEVELS) for b in range(n_bins)]),
            "counts": np.bincount(bins, minlength=n_bins), "trend": trend,
            "normalised": None if trend is None else np.quantile(residual / trend.scale(m), LEVELS)}


@dataclass(frozen=True, eq=False)
class Calibration:
    """How one model's raw predictions of one task relate to the truth (see the module doc).

    Attributes:
        knots_x, knots_y: the calibrated-mean curve ``f``, ``(K,)`` each (score units).
        edges: inner edges of the predicted-value bins, ``(B - 1,)`` (score units).
        quantiles: residual quantiles ``y - f(m)`` of each bin at :data:`LEVELS`, ``(B, L)``.
        counts: residuals per bin, ``(B,)``.
        reach: the lowest and highest score the task can reach; everything is clipped to it.
        source: what it was fitted on, in words.
        trend, normalised: from MIN_TREND to 2,000 cells (a few bins), the residual scale's trend
            with the prediction and the quantiles of residuals divided by it at :data:`LEVELS`
            ``(L,)``: the stated interval is ``quantile * trend.scale(m)``
            (:mod:`gennas.surrogates.residual_scale`); the binned quantiles still rank
            (:meth:`interval` with ``binned=True``). None for the stored tables.
        residuals: the cross-fitted residuals ``y - f(m)`` of the cells it was fitted on, ``(n,)``
            in their order (what a learned calibration is checked against); None for the stored tables.
        below: where the residuals stating designs within the results leave out the lowest
            result's (:func:`_within_results`), the same calibration with every residual, which
            states the designs below the :attr:`low_edge`; else None.
    """

    knots_x: np.ndarray
    knots_y: np.ndarray
    edges: np.ndarray
    quantiles: np.ndarray
    counts: np.ndarray
    reach: tuple[float, float] = (-math.inf, math.inf)
    source: str = ""
    trend: ResidualTrend | None = None
    normalised: np.ndarray | None = None
    residuals: np.ndarray | None = None
    below: Calibration | None = None

    @classmethod
    def fit(cls, predicted: ArrayLike, true: ArrayLike, *, reach: tuple[float, float] | None = None,
            bin_levels: Sequence[float] | np.ndarray | None = None, folds: ArrayLike | None = None, seed: int = 0,
            source: str = "") -> Calibration:
        """Fit on held-out cells: ``predicted`` raw predictions and ``true`` scores, ``(n,)`` each.

        Args:
            reach: the task's reachable range (None: unbounded).
            bin_levels: inner bin edges as quantiles of ``predicted``; default :data:`TABLE_BINS`
                from 2,000 cells on, else equal bins of at least :data:`MIN_BIN` residuals.
            folds: fold of each cell for the cross-fitted residuals, ``(n,)`` ints (equal cells
                share one); default 2 seeded random folds from 200 cells on, else leave-one-out.
        """
        m, y = np.asarray(predicted, dtype=np.float64), np.asarray(true, dtype=np.float64)
        if m.shape != y.shape or m.ndim != 1 or len(m) < 3 or not (np.isfinite(m).all() and np.isfinite(y).all()):
            raise GennasError(f"a calibration needs >= 3 finite (prediction, truth) pairs of equal length, got "
                              f"{m.shape} and {y.shape}")
        n = len(m)
        if folds is None:
            folds = (np.random.default_rng(seed).permutation(n) % 2) if n >= 200 else np.arange(n)
        folds = np.asarray(folds)
        residual = np.empty(n)
        for fold in np.unique(folds):
            out = folds == fold
            if out.all():
                raise GennasError("cross-fitting needs at least two folds")
            kx, ky = _curve(m[~out], y[~out], compress=False)
            residual[out] = y[out] - np.interp(m[out], kx, ky)
        # from MIN_TREND results a leave-one-out fit can tell its curve from a constant and its
        # lowest result's extrapolation from the errors within the results
        judged = n >= MIN_TREND and len(np.unique(folds)) == n
        # a curve the results cannot tell from a constant is the constant
        flat = judged and flat_is_better(y, residual)
        if flat:
            residual = constant_residuals(y)
        trend = ResidualTrend.fit(m, residual) if bin_levels is None and MIN_TREND <= n < 2000 else None
        if bin_levels is None:
            bin_levels = TABLE_BINS if n >= 2000 else np.linspace(0, 1, max(1, n // MIN_BIN) + 1)[1:-1]
        edges = np.unique(np.quantile(m, np.asarray(bin_levels, dtype=np.float64))) if len(bin_levels) else np.empty(0)
        edges = edges[edges > m.min()]
        # an empty bin (tied predictions) is merged into the one below
        edges = edges[np.bincount(np.searchsorted(edges, m, side="right"), minlength=len(edges) + 1)[1:] > 0]
        bins = np.searchsorted(edges, m, side="right")
        kx, ky = _curve(m, y, compress=True)
        ky = np.full(len(kx), constant_level(y)) if flat else ky
        fitted = cls(kx, ky, edges, reach=(reach[0], reach[1]) if reach is not None else (-math.inf, math.inf),
                     source=source, residuals=residual,
                     **_residual_fields(m, residual, bins, len(edges) + 1, trend))
        # (under MIN_TREND results every residual states every design: nine or fewer already give a
        # 90 % interval only as their [min, max]; a constant has no lowest extrapolation)
        within = _within_results(m, bins) if judged and not flat else np.ones(n, bool)
        if within.all():
            return fitted
        # the lowest result's residual is an extrapolation: it states the designs below the results
        # only. The trend stays fitted on every residual: from the others alone (9 results on
        # cifar100 held out, report seed 23; python experiments/told_widths.py --dataset cifar100
        # with that variant) designs within the results were stated 15.2 points wide instead of 6.1
        return replace(fitted, below=fitted,
                       **_residual_fields(m[within], residual[within], bins[within], len(edges) + 1, trend))

    # ------------------------------------------------------------ use
    @property
    def flat(self) -> bool:
        """Whether the calibrated mean is one level: the results' mean predicts them as well as
        their curve (:func:`~gennas.surrogates.residual_scale.flat_is_better`), or the isotonic
        curve pooled them all. Either way the predictions do not order the cells it was fitted on."""
        return bool(np.ptp(self.knots_y) == 0.0)

    @property
    def top_edge(self) -> float:
        """The lowest raw prediction from which the calibrated mean is at its highest level (the
        highest prediction fitted on, where the mean is one level): from there up the calibration
        cannot order designs, as above every result."""
        if self.flat:
            return float(self.knots_x[-1])
        return float(self.knots_x[int(np.argmax(self.knots_y >= self.knots_y.max()))])

    @property
    def low_edge(self) -> float:
        """The lowest raw prediction the calibrated mean is fitted at: the :data:`SUPPORT`-th knot
        from the bottom (the lowest knot where there are fewer); below it the mean is extrapolated."""
        return float(self.knots_x[min(SUPPORT, len(self.knots_x)) - 1])

    def _curve(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``f(m)`` and ``d = min(m - x0, 0)``, ``x0`` the :attr:`low_edge`. Flat above the top knot:
        selection happens there, never extrapolate upwards (a slope of 1/2 put the top 20 of a
        refitted predictor up to 2.4 points too high). Below ``x0`` one cell at most sets no level:
        the truth is taken to fall by 0 to 1 points per predicted point from ``f(x0)``, ``f`` the
        midpoint."""
        edge = self.low_edge
        below = np.minimum(m - edge, 0.0)
        return np.interp(np.maximum(m, edge), self.knots_x, self.knots_y) + below / 2, below

    def mean(self, predicted: ArrayLike) -> np.ndarray:
        """Calibrated mean ``(n,)`` of raw predictions ``(n,)``, within :attr:`reach`."""
        return np.clip(self._curve(np.asarray(predicted, dtype=np.float64))[0], *self.reach)

    def residual_bounds(self, predicted: ArrayLike, coverage: float = COVERAGE, binned: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Conformal residual quantiles ``(q_lo, q_hi)``, ``(n,)`` each, at raw predictions ``(n,)``:
        the normalised ones times the trend's scale where there is a :attr:`trend` (unless
        ``binned``), else those of the predictions' bins."""
        if not 0 < coverage < 1:
            raise GennasError(f"coverage must be in (0, 1), got {coverage!r}")
        m = np.asarray(predicted, dtype=np.float64)
        if self.trend is not None and self.normalised is not None and not binned:  # set together by fit
            q_lo, q_hi = _conformal(self.normalised, int(self.counts.sum()), coverage)
            scale = self.trend.scale(m)
            lo, hi = q_lo * scale, q_hi * scale
        else:
            bounds = np.array([_conformal(q, n, coverage) for q, n in zip(self.quantiles, self.counts)])
            bins = np.searchsorted(self.edges, m, side="right")
            lo, hi = bounds[bins, 0], bounds[bins, 1]
        if self.below is None:
            return lo, hi
        under, (below_lo, below_hi) = m < self.low_edge, self.below.residual_bounds(m, coverage, binned)
        return np.where(under, below_lo, lo), np.where(under, below_hi, hi)

    def interval(self, predicted: ArrayLike, coverage: float = COVERAGE, binned: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, ``(n,)`` each: an interval that holds the true score with probability
        ``coverage`` for cells like the held-out ones at this predicted value; within :attr:`reach`
        (``binned``: from the bins' quantiles even where a :attr:`trend` states)."""
        m = np.asarray(predicted, dtype=np.float64)
        (mean, below), (lo, hi) = self._curve(m), self.residual_bounds(m, coverage, binned)
        low, high = mean + below / 2 + np.minimum(lo, 0), mean - below / 2 + np.maximum(hi, 0)
        return np.clip(low, *self.reach), np.clip(high, *self.reach)

    def std(self, predicted: ArrayLike, coverage: float = COVERAGE) -> np.ndarray:
        """The normal std with the same central interval width, ``(n,)`` (:func:`interval_std`)."""
        return interval_std(*self.interval(predicted, coverage), coverage)

    def with_reach(self, low: float, high: float) -> Calibration:
        """The same calibration clipped to ``[low, high]`` (intersected with the current reach)."""
        return replace(self, reach=(max(low, self.reach[0]), min(high, self.reach[1])))

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (4 decimals) of a stored table (one with a residual :attr:`trend`, learned
        from results and refitted when they change, is not stored: GennasError)."""
        if self.trend is not None:
            raise GennasError("a calibration learned from results (with a residual trend) is refitted, not stored")
        r = lambda a: np.round(np.asarray(a, dtype=np.float64), 4).tolist()  # noqa: E731
        return {"knots_x": r(self.knots_x), "knots_y": r(self.knots_y), "edges": r(self.edges),
                "levels": r(LEVELS), "quantiles": r(self.quantiles), "counts": [int(c) for c in self.counts],
                "reach": [float(v) for v in self.reach], "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        if not np.allclose(data["levels"], LEVELS):
            raise GennasError("a stored calibration has other quantile levels; write it again")
        a = lambda k: np.asarray(data[k], dtype=np.float64)  # noqa: E731
        return cls(a("knots_x"), a("knots_y"), a("edges"), a("quantiles").reshape(-1, len(LEVELS)),
                   np.asarray(data["counts"], dtype=np.int64), tuple(data["reach"]), data.get("source", ""))


# ------------------------------------------------------------ reach
def table_reach(space: SearchSpace, task: Task | str | None) -> tuple[float, float] | None:
    """``(min, max)`` over the space of a task the space's bundled benchmark measured; None otherwise."""
    from gennas.bench import load_benchmark

    name = task.name if isinstance(task, Task) and task.kind == "named" else task
    if not isinstance(name, str) or space.benchmark is None or name not in load_benchmark(space.benchmark).datasets:
        return None
    values = load_benchmark(space.benchmark).accuracy_of(None, name)
    return float(values.min()), float(values.max())


def pretrained_reach(space: SearchSpace, task: Task | str | None) -> tuple[float, float]:
    """What a task a pretrained predictor knows can reach: a benchmark task its table's range; a task
    named after a proxy anything; a named or image task (accuracy in %) [0, 100]; a samples task
    its scores widened by their spread on each side (verified values, units unknown)."""
    from gennas.evaluators.zero_cost import names_a_proxy
    table = table_reach(space, task)
    if table is not None:
        return table
    if isinstance(task, Task) and task.kind == "samples":
        scores = np.array([s for _, s in task.samples], dtype=np.float64)
        return float(scores.min() - scores.std()), float(scores.max() + scores.std())
    return (-math.inf, math.inf) if names_a_proxy(task.name if isinstance(task, Task) else task) else PERCENT


def learned_reach(told: np.ndarray, calibration: Calibration | None, coverage: float = COVERAGE,
                  unit: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float]:
    """What a task learned only from verified scores ``told`` can reach: from the ``unit``'s
    lowest score (0 for %; after a search all verified cells are good, so the worst of them bounds
    nothing) to the best verified score widened by the calibration's widest residual bound at
    ``coverage``, at most the unit's highest (100 for %: after 10 random cifar10 results with a
    cell that failed to train among them, the residual trend's widest bound put that at 111,655 %
    on seed 81, the intervals of the cells predicted worst above 100 % on 3 of 15 seeds)."""
    q_hi = np.zeros(1) if calibration is None else calibration.residual_bounds(calibration.knots_x, coverage)[1]
    return unit[0], min(unit[1], float(np.max(told)) + max(float(q_hi.max()), 0.0))


@dataclass(frozen=True)
class Predictions:
    """What is stated about ``n`` architectures, float64 ``(n,)`` arrays.

    Attributes:
        raw: the model's value (higher is better), the ranking's tie-break.
        score: ranking score (higher is better): the low end of the binned interval
            (conservative: an uncertain cell must earn its place) or the calibrated mean, else ``raw``.
        mean, std: calibrated mean and normal-equivalent std of the interval (without a
            calibration: raw mean within reach, ensemble std); None when only the rank is known.
        low, high: the :data:`COVERAGE` interval; None without a calibration. NaN in ``mean``,
            ``std``, ``low`` and ``high``: nothing is stated of that design (:mod:`gennas.design.source_line`).
        beyond, below: bool, True where ``raw`` is above every prediction the calibration was
            fitted on (below its :attr:`~Calibration.low_edge`, all but one at most): it
            extrapolates there (flat above, so the truth may lie above the interval).
        top: bool, True where ``raw`` is at or above the calibration's
            :attr:`~Calibration.top_edge`: stated at its highest level, unordered (``beyond`` too).
        unlike: bool, True where a from-scratch model states nothing: the design is unlike every
            result it learned from (:mod:`gennas.design.scratch_statement`).
    """

    raw: np.ndarray
    score: np.ndarray
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    beyond: np.ndarray | None = None
    below: np.ndarray | None = None
    top: np.ndarray | None = None
    unlike: np.ndarray | None = None

    @classmethod
    def of(cls, raw: np.ndarray, spread: np.ndarray, calibration: Calibration | None, reach: tuple[float, float],
           to_units: Callable[[np.ndarray], np.ndarray] | None = None, conservative: bool = True) -> Predictions:
        """From raw values and ensemble spread ``(n,)`` on a higher-is-better scale; ``to_units``
        maps that scale monotonically to the task's units (a loss: decreasing). ``conservative``:
        ranked by the interval's low end, else by the calibrated mean (ties by ``raw``)."""
        raw = np.asarray(raw, dtype=np.float64)
        if calibration is None:
            mean, std, low, high, score = np.clip(raw, *reach), np.asarray(spread, dtype=np.float64), None, None, raw
        else:
            mean, (low, high) = calibration.mean(raw), calibration.interval(raw)
            std = interval_std(low, high)
            if not conservative:
                score = mean
            elif calibration.trend is None:
                score = low
            else:
                # ranked by the binned low end: the trend's narrower top made generate pick cells the
                # results over-rate (development seeds, after a 20-result search on cifar10: top-20
                # coverage 88 -> 72 %)
                score = calibration.interval(raw, binned=True)[0]
        to_units = to_units or (lambda v: v)
        units = to_units(mean)
        std = np.abs(to_units(mean + std) - units)
        if low is not None and high is not None:  # set together
            low, high = np.minimum(to_units(low), to_units(high)), np.maximum(to_units(low), to_units(high))
        flags = () if calibration is None else (raw > calibration.knots_x[-1], raw < calibration.low_edge,
                                                raw >= calibration.top_edge)
        return cls(raw, score, units, std, low, high, *flags)

    def __repr__(self) -> str:  # its arrays in full filled a notebook
        return described(self, COVERAGE)

    def order(self, n: int) -> np.ndarray:
        """Indices of the best ``n`` by :attr:`score`, ties by :attr:`raw`."""
        return np.lexsort((-self.raw, -self.score))[:n]
