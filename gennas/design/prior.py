"""What the bundled tables say about a new task: the loop's prior where other tasks were measured.

On a task the predictor was not trained on (a new dataset), its prediction is what it learned on
the other tasks, *smoothed*: a GNN fitted to 15,625 cells approximates each cell's measured
accuracy to within a few tenths of a point, and at the top of the ranking those tenths decide
the order. Where the space's bundled benchmark has measured a *source* task (one the predictor
was trained on), the measurement is known exactly, so the loop corrects the predictor by its own
error there::

    mean_T(a) = pred_T(a) + sd_T / sd_S * (label_S(a) - pred_S(a))      (averaged over sources S)

Before any result of the target T is told, ``pred_T == pred_S`` (the predictor's default task
is a source), so the prior *is* the source table (what ``transfer-topk`` ranks by). As results
come in, the refitted predictor learns how T differs from S (``pred_T - pred_S``) and the
measured source labels keep what no smooth model captures. Cells without a measurement keep the
predictor's prediction. Only tasks the pretrained predictor was trained on are sources, so a
holdout predictor never sees its held-out table through this path either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
from scipy.stats import kendalltau, median_abs_deviation

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.protocols import AccuracyModel
from gennas.surrogates.task import Task

if TYPE_CHECKING:  # annotations only: the tables load lazily
    from gennas.bench import Benchmark


#: cells judged at a time when the best source cells are filtered (a latency budget: one estimator call each)
TOP_CHUNK = 500
#: results of a new task after which the tables keep ranking it only while they agree with them
#: (:meth:`SourceTablePrior.check`)
CHECK_AFTER = 10
#: the new task's verifications (counted from 1) that go to a random cell of the tables while they
#: rank it. The tables' best cells are alike, so their results alone order them by a short
#: training's noise: judged on those only, the check dropped the tables on every real-training run,
#: MNIST too (experiments/new_task_training.py). Cells from the whole ranking are the reference that
#: says whether the tables' best do better on the task than cells the tables rate poorly.
PROBE_AT = (4, 7, 10)
#: cells on which the target's and the sources' prediction spreads are compared (measured again
#: after every refit of the network, so kept small: the ratio scales a small correction)
REFERENCE_CELLS = 128


class SourceTablePrior:
    """Measured accuracies of the predictor's own training tasks, used to correct its predictions.

    Args:
        space: the search space; without a bundled benchmark there is no source (``active`` False).
        predictor: the *pretrained* predictor; its named tasks that the benchmark measured are sources.
        target: the loop's task; the prior is active only for a named task the predictor was not
            trained on (for a known task the predictor already learned it; for images or samples
            the task's relation to the tables is the predictor's business).
    """

    def __init__(self, space: SearchSpace, predictor: AccuracyModel, target: Task | None) -> None:
        self.space = space
        self.sources: list[str] = []
        self._labels: dict[str, np.ndarray] = {}
        self._bench: Benchmark | None = None
        self._top: list[ArchGraph] = []  # cached: the tables never change
        self._order: np.ndarray | None = None  # table rows by mean standardised source accuracy, best first
        self._z: np.ndarray | None = None  # that mean standardised accuracy per table row (_standardised)
        self._reference: list[ArchGraph] | None = None
        self._ratios: dict[tuple, float] = {}  # (task, source) -> ratio, until the predictor changes
        self.dropped_at: int | None = None  # results when the sources were dropped (check), and their tau
        self.dropped_tau: float | None = None
        self.probed: set[str] = set()  # canonical hashes of the random cells proposed (probes)
        known = list(getattr(predictor, "tasks", []))
        if space.benchmark is None or target is None or target.kind != "named" or target.name in known:
            return
        from gennas.bench import load_benchmark

        self._bench = load_benchmark(space.benchmark)
        self.sources = [t for t in known if t in self._bench.datasets and t != target.name]
        self._labels = {s: self._bench.accuracy_of(None, s) for s in self.sources}

    @property
    def active(self) -> bool:
        """True when there is at least one measured source task to correct by."""
        return bool(self.sources)

    def top(self, k: int, keep: Callable[[list[ArchGraph]], list[ArchGraph]] | None = None) -> list[ArchGraph]:
        """The ``k`` cells with the best mean standardised source accuracy (candidates the loop
        always considers: what was best elsewhere), best first; with ``keep`` (a filter, e.g.
        the loop's latency budget) the ``k`` best distinct ones it keeps, :data:`TOP_CHUNK` judged at a time."""
        if not self.active or k <= 0:
            return []
        if self._order is None:
            self._order = np.argsort(-self._standardised(), kind="stable")
        if keep is None:
            if len(self._top) < k:
                self._top = self._cells(self._order[:k])
            return self._top[:k]
        kept: dict[str, ArchGraph] = {}  # distinct architectures (equivalent cells are one), best first
        for start in range(0, len(self._order), TOP_CHUNK):
            for arch in keep(self._cells(self._order[start:start + TOP_CHUNK])):
                kept.setdefault(arch.canonical_hash(), arch)
            if len(kept) >= k:
                break
        return list(kept.values())[:k]

    def _standardised(self) -> np.ndarray:
        """Each table row's mean standardised accuracy over the sources ``(rows,)`` (what :meth:`top`
        ranks by and :meth:`agreement` compares with), computed once."""
        if self._z is None:
            self._z = np.mean([(y - y.mean()) / y.std() for y in self._labels.values()], axis=0)
        return self._z

    def probes(self, k: int, keep: Callable[[list[ArchGraph]], list[ArchGraph]], seen: set[str],
               seed: int | None) -> list[ArchGraph]:
        """Random cells of the tables for those of the next ``k`` verifications that :data:`PROBE_AT`
        names, counted after the ``len(seen)`` asked or told (canonical hashes: a designer rebuilt
        from results counts them): distinct, kept by ``keep`` (the loop's budget), not in ``seen``;
        seeded by ``seed``. Judged with the tables' best cells by :meth:`check`."""
        asked = len(seen)
        due = sum(asked < at <= asked + k for at in PROBE_AT)
        if not self.active or due == 0:
            return []
        order = np.random.default_rng(seed).permutation(len(self._table))
        found: dict[str, ArchGraph] = {}
        for start in range(0, len(order), TOP_CHUNK):  # a tight budget keeps few random cells
            for arch in keep(self._cells(order[start:start + TOP_CHUNK])):
                if (h := arch.canonical_hash()) not in seen:
                    found.setdefault(h, arch)
                    if len(found) == due:
                        break
            if len(found) == due:
                break
        self.probed.update(found)
        return list(found.values())

    @staticmethod
    def placed(probes: list[ArchGraph], others: list[ArchGraph], asked: int) -> list[ArchGraph]:
        """A batch of ``others`` with each of :meth:`probes`' cells at the place :data:`PROBE_AT`
        gives it after ``asked`` verifications (in a batch of 4 from the start, the 4th; they had all
        come first)."""
        out = list(others)
        for probe, at in zip(probes, [at for at in PROBE_AT if at > asked]):
            out.insert(min(at - asked - 1, len(out)), probe)
        return out

    @property
    def _table(self) -> Benchmark:
        """The benchmark of an active prior (its sources are the benchmark's tasks: it was loaded)."""
        return cast("Benchmark", self._bench)

    def _cells(self, rows: np.ndarray) -> list[ArchGraph]:
        return [self.space.from_string(self._table.strings[i]) for i in rows]

    def correct(self, predictor: AccuracyModel, archs: Sequence[ArchGraph], target: Task | str | None,
                mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``mean`` (the predictor's prediction for ``target``, ``(n,)`` in the target's units)
        plus the predictor's measured error on the sources, rescaled to the target; and ``std``
        (its ensemble spread) less what the members disagree on about the sources.

        The members share their network, so a member that over-rates a cell on the target
        over-rates it on a source as well: once the source's label replaces the members' guess,
        what stays uncertain is their disagreement about the *difference*, approximated (for
        errors that move together) by ``|std_T - ratio * std_S|``.

        Args:
            predictor: the loop's current (refitted) predictor, which also predicts the sources.
            target: the task as the predictor is queried for it (None: its default task).
        """
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if not self.active or not archs:
            return mean, std
        rows = self._table.rows(list(archs))
        correction, spread = np.zeros(len(archs)), np.zeros(len(archs))
        for source in self.sources:
            predicted, source_std = predictor.predict(list(archs), source)
            ratio = self._scale_ratio(predictor, target, source)
            correction += (self._labels[source][rows] - predicted) * ratio
            spread += np.abs(std - ratio * source_std)
        return mean + correction / len(self.sources), spread / len(self.sources)

    def labels(self, archs: Sequence[ArchGraph]) -> dict[str, np.ndarray]:
        """Each source's measured accuracy (%) of ``archs``, float64 ``(len(archs),)`` per source."""
        rows = self._table.rows(list(archs)) if self.active else np.empty(0, dtype=np.int64)
        return {source: self._labels[source][rows] for source in self.sources}

    def points_per_unit(self, predictor: AccuracyModel, target: Task | str | None) -> float:
        """Accuracy points (%) of the sources per unit of ``target``'s scores as ``predictor`` sees
        them (the inverse of the mean of its spread ratios, :meth:`_scale_ratio`): what guides a
        task of its own unit as strongly as an accuracy in % (error rates were guided 100 times
        weaker, and after 30 random cifar100 results their top 5 designs were 72.03 % against
        72.95 in %: ``python experiments/score_units.py --design-quality 30 --seeds 0,1,2,3
        --datasets cifar100``); 1 without sources."""
        ratio = np.mean([self._scale_ratio(predictor, target, s) for s in self.sources]) if self.active else 0.0
        return float(1.0 / ratio) if ratio > 0 else 1.0

    def check(self, archs: Sequence[ArchGraph], scores: np.ndarray) -> None:
        """Drops every source (the tables no longer rank the task) where :data:`CHECK_AFTER` or more
        results ``scores`` ``(n,)`` (higher is better) of ``archs`` disagree with them
        (:meth:`agreement` at or below 0), judged on the first 10, 11, ... of them in their order (a
        batch, or a designer rebuilt from results, drops where one told them singly would);
        ``dropped_at`` is then that count. A synthetic
        image set ranked by the tables for its first 20 results lost to random search (a user walk);
        tasks whose ops were relabelled: ``python experiments/misleading_prior.py``. The results
        include the random cells of :meth:`probes`: the tables' best must beat them."""
        if not self.active:
            return
        tables, scores = self._standardised()[self._table.rows(list(archs))], np.asarray(scores, dtype=np.float64)
        for n in range(CHECK_AFTER, len(archs) + 1):  # in their order: as told one at a time
            if (tau := kendall(tables[:n], scores[:n])) <= 0:
                self.sources, self._labels, self._top, self._order, self._z = [], {}, [], None, None
                self._ratios.clear()
                self.dropped_at, self.dropped_tau = n, tau
                return

    def agreement(self, archs: Sequence[ArchGraph], scores: np.ndarray) -> float:
        """Kendall's tau of ``scores`` ``(n,)`` (higher is better) with the sources' mean standardised
        accuracy of ``archs``: how far the tables' ranking holds on the task's results (1 where
        they order them alike, about 0 where they say nothing, negative where they mislead); 0
        where either side has one value."""
        if not self.active:
            return 0.0
        return kendall(self._standardised()[self._table.rows(list(archs))], np.asarray(scores, dtype=np.float64))

    def forget(self) -> None:
        """The predictor changed (a refit): scale ratios are measured again."""
        self._ratios.clear()

    def _scale_ratio(self, predictor: AccuracyModel, target: Task | str | None, source: str) -> float:
        """How many target units one source unit is, as the predictor sees them: the ratio of its
        prediction spreads over a fixed sample of cells (works for every kind of task, including
        those whose scale the predictor fits internally). Cached until :meth:`forget`."""
        key = (target.name if isinstance(target, Task) else target, source)
        if key not in self._ratios:
            if self._reference is None:
                rng = np.random.default_rng(0)
                self._reference = [self.space.from_string(self._table.strings[i])
                                   for i in rng.choice(len(self._table), size=min(REFERENCE_CELLS, len(self._table)),
                                                       replace=False)]
            spread_target = np.std(predictor.predict(self._reference, target)[0])
            spread_source = np.std(predictor.predict(self._reference, source)[0])
            self._ratios[key] = float(spread_target / spread_source) if spread_source > 0 else 1.0
        return self._ratios[key]


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau of ``x`` and ``y`` ``(n,)``; 0 where either has one value (scipy's NaN)."""
    tau = kendalltau(x, y).statistic
    return float(tau) if np.isfinite(tau) else 0.0


def prior_map(told: np.ndarray, prior: np.ndarray, percent_per_unit: float | None) -> tuple[float, float]:
    """``(slope, offset)`` taking the prior's values (accuracies in % of the measured tables) to a
    new task's scale while the tables rank it: ``offset + slope * prior``. ``told`` ``(n,)`` are the
    told scores on the predictor's scale, ``prior`` ``(n,)`` the prior's values of their cells.

    Scores that read as accuracies (``percent_per_unit``: how many % one unit of the predictor's
    scale is, 1 for %, 100 for fractions; :func:`~gennas.design.scores.percent_per_unit`)
    keep the tables' unit (slope ``1 / percent_per_unit``, the level their median difference). Any
    other score takes the ratio of the two's spreads (median absolute deviations): with the level
    alone, fractions took the prior's fall in % as a fall in fractions, and designs below the
    results read 0.57 [0.19, 0.94] where they scored 0.94 (in % the same designs read
    93.74 [93.00, 94.17], truly 93.67). The slope is positive, so the ranking is the tables' still;
    1 where either spread is zero (one distinct score, or one prior value)."""
    told, prior = np.asarray(told, dtype=np.float64), np.asarray(prior, dtype=np.float64)
    if not len(told):
        return 1.0, 0.0
    slope = 1.0
    if percent_per_unit is not None:
        slope = 1.0 / percent_per_unit
    else:
        spread_told, spread_prior = median_abs_deviation(told), median_abs_deviation(prior)
        if spread_told > 0 and spread_prior > 0:
            slope = float(spread_told / spread_prior)
    return slope, float(np.median(told - slope * prior))

