"""The designer's verify-and-refine loop: an :class:`~gennas.search.Optimizer` (``ask(k)``,
``tell(results)``) that *has* a designer's models, like every baseline is an optimizer.

One round: generate guided candidates with the *refitted* predictor, drop what was verified
already (by canonical hash), choose a batch by an acquisition that weighs predicted accuracy,
uncertainty and diversity (:mod:`gennas.design.acquisition`), verify it (elsewhere: the search
harness or the user), and refit the predictor, once per told batch, so the next round's
guidance is steered by what was measured.

A share of each batch (``local_share``; every other pick when batches have one architecture)
is chosen only among the unseen one-edit neighbours of the best verified architecture, ranked
by the same acquisition: a predictor-ordered local search around what was *measured* best. The
rest comes from the generated pool. Without it a predictor that is confidently wrong about one
region (say, that a skip connection on the output edge hurts) keeps the search on a plateau of
architectures it over-rates; the local picks test its beliefs where they matter most.

The pretrained predictor is copied on the first refit and stays untouched. A new task starts from
what transfers: the measured source tables where the space has them (:mod:`gennas.design.prior`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from gennas.design.acquisition import select_batch
from gennas.design.asked import AskLedger
from gennas.design.budget import LatencyBudget
from gennas.design.loop_settings import REGENERATE_PRETRAINED, REGENERATE_SCRATCH, LoopSettings
from gennas.design.pool import local_count, proxy_order, proxy_top, random_within, unseen
from gennas.design.prior import SourceTablePrior, prior_map
from gennas.design.scores import ScoreScale
from gennas.design.search_notes import search_notes
from gennas.design.told_scale import told_unit, trained_beyond_results, unit_factor
from gennas.design.told_units import held_to_unit
from gennas.evaluators.base import Result
from gennas.generators.guidance import Guidance, InfeasibleBudget, predictor_value
from gennas.graph import ArchGraph
from gennas.search.optimizer import asked_count, told_results
from gennas.spaces import SearchSpace
from gennas.surrogates.protocols import AccuracyModel, Generator
from gennas.surrogates.task import Task

TOP_UP_TRIES = 2000  #: unseen architectures the loop tries to add by mutation or sampling when the generator repeats
PRIOR_TOP = 50  #: the best cells of the measured source tasks that join every pool (see gennas.design.prior)
#: results of a new task below which the pretrained network stays frozen and only a task vector is fitted to
#: them (Task.from_samples). Fine-tuning the shared network on a handful of results of one task drifts it away
#: from everything it learned on the others: one update on one cifar100 result moved its mean prediction of
#: cifar10's 6 best cells from 99.1 % to 86.8 % (the command is in docs/results.md, "Search").
FEW_SHOT_RESULTS = 20


class DesignLoop(AskLedger):
    """Ask/tell optimizer over ``space`` driven by a predictor-guided generator.

    Args:
        space: the search space.
        predictor: the pretrained (or untrained) accuracy model; copied before the first refit.
        generator: samples architectures, ``sample(n, seed=, guidance=)``.
        guidance: the designer's guidance (latency terms); its value is replaced by the refitted predictor's each round.
        task: the task verified results belong to (None: the predictor's default).
        budget: the latency budget proposals must keep (None: no budget).
        seed: makes the proposals reproducible.
        settings: acquisition knobs.
        direction: ``"maximize"`` the evaluator's scores (accuracy) or ``"minimize"`` them (a loss).
    """
    name = "designer"  # the search method a study records (gennas.search.optimizer.method_name)

    def __init__(self, space: SearchSpace, predictor: AccuracyModel, generator: Generator, guidance: Guidance,
                 task: Task | None = None, budget: LatencyBudget | None = None, seed: int | None = None,
                 settings: LoopSettings | None = None, direction: str = "maximize") -> None:
        self.space = space
        self.pretrained = predictor
        self.generator = generator
        self.guidance = guidance
        self.task = task
        self.budget = budget
        self.seed = seed
        self.settings = settings or LoopSettings()
        self.scale = ScoreScale(direction)  # evaluator scores <-> the predictor's scale
        self.history: list[Result] = []
        self.refits = 0  # predictor refits so far: one per told batch with a success
        self.start_ledger()  # what was asked, told, pending and given back (gennas.design.asked)
        self._refitted: AccuracyModel | None = None
        self._few_shot: Task | None = None  # a new task described by its results, network frozen
        self._rounds = 0
        self._pool: list[ArchGraph] = []  # the unseen rest of the latest guided generation
        self._pool_at: tuple[int, bool, int] | None = None  # (told results, trained, guide) when it was generated
        self._guide = 0  # bumped whenever what guides generation (network or few-shot task) changes
        self._memo: dict[str, tuple[float, float]] = {}  # canonical hash -> prediction, until the next tell
        self._encoders_told = 0  # successful results when the predictor's encoders were last trained
        self._within_budget: list[ArchGraph] | None = None  # an enumerable space's cells within the budget
        self._prior_within: list[ArchGraph] | None = None  # the best source cells within the budget
        # a new dataset on a space with bundled tables: the tables of the predictor's own tasks
        self.prior = SourceTablePrior(space, predictor, task)

    # ------------------------------------------------------------ state
    @property
    def predictor(self) -> AccuracyModel:
        """The predictor refitted on the verified results (the pretrained one before any)."""
        return self._refitted or self.pretrained

    @property
    def direction(self) -> str:
        """Which scores are best; the loop reads told scores in it (the harness tells them as they are)."""
        return self.scale.direction

    @property
    def local_share(self) -> float:
        return self.settings.local_share

    @local_share.setter
    def local_share(self, value: float) -> None:
        self.settings.local_share = float(value)

    def task_key(self) -> Task | str | None:
        """What the refitted predictor is trained with for this loop's task: a name for named
        and samples tasks (a samples task cannot be trained on), the Task itself otherwise."""
        if self.task is not None and self.task.kind in ("named", "samples"):
            return self.task.name
        return self.task

    def query_task(self) -> Task | str | None:
        """Task to predict with: the loop's; for a new task its results while they are few (see
        :data:`FEW_SHOT_RESULTS`); the predictor's default while nothing is known."""
        if self._few_shot is not None:
            return self._few_shot
        key = self.task_key()
        if isinstance(key, str) and key not in self.predictor.tasks:
            return self.task if self.task is not None and self.task.kind == "samples" else None
        return key

    def best_first(self) -> list[Result]:
        """Successful results so far, best score first."""
        ok = [r for r in self.history if not r.failed]
        better = self.scale.to_model(np.array([r.score for r in ok]))  # higher is better, any direction
        return [ok[i] for i in np.argsort(-better, kind="stable")]

    # ------------------------------------------------------------ ask
    def ask(self, k: int = 1) -> list[ArchGraph]:
        """``k`` architectures to verify next, none verified or asked before (unless released:
        :meth:`release`), all within the budget; pending (:attr:`pending`) until told."""
        if asked_count(k) == 0:  # as every baseline: nothing asked, nothing proposed
            return []
        seed = None if self.seed is None else self.seed * 7919 + self._rounds
        trained = self.predictor.is_trained
        pool = self.released() + self._generated(k, seed, trained)  # given back: offered again
        # Exploit what was measured: the best verified's one-edit neighbours join the pool (as BANANAS does)
        s = self.settings  # during the warm-up the proxy's best cells of the whole space too (where shipped)
        pool += [a for r in self.best_first()[:3] for a in self.space.neighbours(r.arch)] + self.prior_top() + list(
            proxy_top(self.space, s.warmup_proxy, s.warmup_top) if self._warming_up() else ())
        fresh = self._admissible(unseen(pool, self._seen))
        fresh += self._listed_filling(fresh, k, seed)
        # while the tables rank a new task, a few random cells of them: what the check judges their best by
        probes = self.prior.probes(k, self._admissible, self._seen, seed) if self.ranks_by_sources() else []
        local = unseen(self._admissible(self._local_candidates()), {a.canonical_hash() for a in probes})
        n_local = min(len(local), local_count(self.settings.local_share, self._asked, k), k - len(probes))
        picks = probes + self._choose(local, n_local, trained)
        chosen = {a.canonical_hash() for a in picks}
        fresh = [a for a in fresh if a.canonical_hash() not in chosen]
        if len(fresh) < k - len(picks):
            taken = self._seen | chosen | {a.canonical_hash() for a in fresh}
            fresh += self._top_up(k - len(picks) - len(fresh), taken, seed)
        picks += self._choose(fresh, k - len(picks), trained)
        if not picks and self.budget is not None and self.cells_within_budget() == []:  # none to verify: say why
            raise InfeasibleBudget(self.budget.infeasible_reason(self.space, ""))
        picks = self.prior.placed(probes, picks[len(probes):], len(self._seen))  # each at its verification's place
        self._rounds += 1
        self.asked_now(picks, k)
        return picks

    def _generated(self, k: int, seed: int | None, trained: bool) -> list[ArchGraph]:
        """Guided samples: a new generation when :meth:`regenerate_every` results were told since
        the last one, the predictor became trained, or fewer than ``k`` unseen samples are left;
        otherwise the unseen rest of the last one (re-ranked by the caller with the current predictor)."""
        told = len(self.history)
        self._pool = unseen(self._pool, self._seen)
        # a new generation only when the guidance changed: while the source tables rank a new task (its first
        # FEW_SHOT_RESULTS results) the predictor is untouched; drawing again was a third of a transfer search
        stale = (self._pool_at is None or self._pool_at[1] != trained or len(self._pool) < k
                 or (self._pool_at[2] != self._guide and told - self._pool_at[0] >= self.regenerate_every()))
        if stale:
            # From scratch (an untrained predictor) the generator samples unguided.
            value = predictor_value(self.predictor, self.query_task(), self.settings.guide_members,
                                    self.points_per_unit()) if trained else None
            n = self._generation_size(k)
            # One round of draws, repeats and all: guidance concentrates the samples, and drawing
            # again until n are distinct doubled the generation's cost (the acquisition ranks the
            # pool anyway). Under a budget twice as many draws, in one batch rather than two
            # rounds (half the denoising passes), of which the first n within it are kept; if
            # none fits, the loop tops up with neighbours and random cells within the budget (_top_up).
            draws = n if self.budget is None else 2 * n
            try:
                drawn = self.generator.sample(draws, seed=seed, guidance=replace(self.guidance, value=value),
                                              max_draws=draws)[:n]
            except InfeasibleBudget:
                drawn = []
            self._pool = unseen(drawn, self._seen)
            self._pool_at = (told, trained, self._guide)
        return self._pool

    def _listed_filling(self, fresh: list[ArchGraph], k: int, seed: int | None) -> list[ArchGraph]:
        """Random unseen cells within a measured budget of an enumerable space
        (:meth:`cells_within_budget`) that fill ``fresh`` up to a guided generation's size (a
        tight budget keeps few guided samples); none where it is that large, or where the latency
        model judges the budget: there the extra cells near its bound raised the proposals truly
        over it from 2.1 to 2.6 % for 0.01 points (docs/results.md, "Latency budgets kept, by the measurements")."""
        if self.budget is None or not self.budget.exact:  # checked first: listing judges every cell
            return []
        listed = self.cells_within_budget()
        want = self._generation_size(k) - len(fresh)
        if listed is None or want <= 0:
            return []
        return random_within(unseen(listed, self._seen | {a.canonical_hash() for a in fresh}), want, seed)

    def _generation_size(self, k: int) -> int:
        """Guided samples kept per generation for an ask of ``k``."""
        return max(self.settings.pool * k, 200)

    def _choose(self, candidates: list[ArchGraph], k: int, trained: bool) -> list[ArchGraph]:
        """``k`` of ``candidates`` by the acquisition (by the warm-up proxy during the warm-up, else
        in the given order while nothing is trained)."""
        if k <= 0 or not candidates:
            return []
        if self._warming_up():
            return [candidates[i] for i in proxy_order(self.space, candidates, self.settings.warmup_proxy)[:k]]
        if not trained:
            return candidates[:k]  # generator / neighbour order is already random
        mean, std = self.predict(candidates)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            # a bug, never a pick: NaN would silently turn the acquisition into random choice
            raise AssertionError(f"the loop's predictor returned non-finite predictions for {self.query_task()!r}")
        # none while measured tables rank a new task: their best cells hold its best (1 point lower with it)
        diversity = 0.0 if self.ranks_by_sources() else self.settings.diversity
        return [candidates[i] for i in select_batch(self.space, candidates, mean, std, k, self.settings.kappa, diversity)]

    def _warming_up(self) -> bool:
        """The first ``settings.warmup`` picks are ranked by a zero-cost proxy from scratch and from a
        predictor a search saved (a darts search from one skipped it and fell near random)."""
        return not trained_beyond_results(self.pretrained) and len(self.history) < self.settings.warmup

    def predict(self, archs: Sequence[ArchGraph]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted value and spread, float64 ``(n,)`` on the predictor's scale (higher is
        better): the current predictor's, corrected by the measured source tables for a new
        dataset (:class:`~gennas.design.prior.SourceTablePrior`)."""
        mean, std = self._corrected(archs)
        if self.ranks_by_sources():
            told = [r for r in self.history if not r.failed]
            slope, offset = prior_map(self.scale.to_model(np.array([r.score for r in told])),
                                      self._corrected([r.arch for r in told])[0], self.told_unit()[0])
            mean, std = offset + slope * mean, slope * std
        return mean, std

    def points_per_unit(self) -> float:
        """Accuracy points per unit of the predictor's value for the task: the told scores' once it
        learned them (100 for fractions; another unit's as the tables' spread sees it, a proxy's
        kept at 1: its searches were measured so), else 1 (the tables' %, ranking a new dataset)."""
        if self._refitted is None and self._few_shot is None:
            return 1.0
        percent, proxy = self.told_unit()
        return percent or (1.0 if proxy else self.prior.points_per_unit(self.predictor, self.query_task()))

    def told_unit(self) -> tuple[float | None, bool]:
        """:func:`gennas.design.told_scale.told_unit`: % per unit of the predictor's scale, and a proxy's?"""
        return told_unit(self)

    def _corrected(self, archs: Sequence[ArchGraph]) -> tuple[np.ndarray, np.ndarray]:
        """The predictor's prediction corrected by the source tables, memoised until the next
        tell: one ask ranks the same cells several times (local picks, the pool, the offset)."""
        archs = list(archs)
        keys = [a.canonical_hash() for a in archs]
        new = list({h: a for a, h in zip(archs, keys) if h not in self._memo}.items())
        if new:
            predictor, task = self.predictor, self.query_task()
            cells = [a for _, a in new]
            mean, std = self.prior.correct(predictor, cells, task, *predictor.predict(cells, task))
            self._memo.update({h: (float(m), float(s)) for (h, _), m, s in zip(new, mean, std)})
        mean = np.array([self._memo[h][0] for h in keys], dtype=np.float64)
        std = np.array([self._memo[h][1] for h in keys], dtype=np.float64)
        return mean, std

    def prior_top(self) -> list[ArchGraph]:
        """What was best on the measured tasks (:data:`PRIOR_TOP` cells) is always a candidate;
        under a budget the best within it (once: the budget is fixed). A tight budget kept none of
        the best overall, the slow ones (docs/results.md, "Under a latency budget")."""
        if self.budget is None:
            return self.prior.top(PRIOR_TOP)
        if self._prior_within is None:
            self._prior_within = self.prior.top(PRIOR_TOP, keep=self._admissible)
        return self._prior_within

    def _local_candidates(self) -> list[ArchGraph]:
        """Unseen one-edit neighbours of the best verified architecture that still has some."""
        for result in self.best_first():
            around = unseen(self.space.neighbours(result.arch), self._seen)
            if around:
                return around
        return []

    def _top_up(self, n: int, seen: set[str], seed: int | None) -> list[ArchGraph]:
        """Unseen neighbours of the best verified architectures, then random unseen samples,
        within the latency budget (the generator ran out of new ideas): ``n`` of them, or, when
        those tries find fewer under a budget, every unseen one of the space's cells within it
        (:meth:`cells_within_budget`; the acquisition chooses among them)."""
        if self._within_budget is not None:  # listed already (random tries fell short before): take them
            return unseen(self._within_budget, seen)
        rng = np.random.default_rng(seed)
        neighbours = iter([a for r in self.best_first()[:5] for a in self.space.neighbours(r.arch)])
        out: list[ArchGraph] = []
        for _ in range(TOP_UP_TRIES // 100):
            batch = [next(neighbours, None) or self.space.sample(rng) for _ in range(100)]
            for arch in self._admissible(unseen(batch, seen)):  # one estimator call per batch
                seen.add(arch.canonical_hash())
                out.append(arch)
                if len(out) == n:
                    return out
        # random tries miss a budget few cells keep (pixel3, 61 cells: 4 of 20 verified): all within it, or measured
        listed = self.cells_within_budget() or (self.budget.timed_within(self.space) if self.budget else [])
        return out + unseen(listed, seen)

    def cells_within_budget(self) -> list[ArchGraph] | None:
        """Every distinct architecture whose output can depend on the input within the latency
        budget, where the space is small enough to enumerate (computed once: the budget is
        fixed); None without a budget or for a space too large to list."""
        if self.budget is None or not self.space.is_finite_enumerable():
            return None
        if self._within_budget is None:
            self._within_budget = self.budget.admissible(self.space, 0)
        return self._within_budget

    def _admissible(self, archs: list[ArchGraph]) -> list[ArchGraph]:
        """The architectures worth a verification: those whose output depends on their input
        (:meth:`~gennas.spaces.base.SearchSpace.output_is_constant`: at chance on every task,
        which an untrained predictor cannot know, and from scratch the loop did verify such
        cells) within the latency budget (all of them without one)."""
        archs = [a for a in archs if not self.space.output_is_constant(a)]
        if self.budget is None or not archs:
            return archs
        return [a for a, ok in zip(archs, self.budget.within(archs)) if ok]

    # ------------------------------------------------------------ tell
    def tell(self, results: Sequence[Result]) -> None:
        """Report verified results (failed ones are remembered, not learned from), asked or not.
        Refits the predictor once for the whole batch."""
        results = held_to_unit(self, told_results(results))  # one unit per loop
        self.history.extend(results)
        self._memo.clear()  # the predictor, the few-shot task or the score scale may change
        self.told_now(results)
        if any(not r.failed for r in results):
            self._refit([r for r in results if not r.failed])

    def _few_shot_task(self, told: list[Result]) -> bool:
        """True while a new named task has too few results to fine-tune the pretrained network on."""
        return (self.pretrained.is_trained and self.task is not None and self.task.kind == "named"
                and self.task.name not in self.pretrained.tasks and len(told) < FEW_SHOT_RESULTS)

    def _refit(self, new: list[Result]) -> None:
        told = [r for r in self.history if not r.failed]
        changed = self.scale.observe(np.array([r.score for r in new]))
        factor = unit_factor(self, told)  # fractions of a bundled dataset are learned as its %: told_scale
        changed, self.scale.factor = changed or factor != self.scale.factor, factor
        self.refits += 1
        # one score ranks nothing: fine-tuned towards it, the top ten fell to 88.5-92.2 %; from scratch
        # a fit to one result taught the network a constant that no later warm refit undid
        if self.learned_nothing() or (not self.pretrained.is_trained and len({r.score for r in told}) < 2):
            self._refitted, self._few_shot, self._encoders_told, self._guide = None, None, 0, self._guide + 1
            self.prior.forget()
            return
        scores = self.scale.to_model(np.array([r.score for r in told]))
        if self.ranks_by_sources():  # while they agree with the results (a synthetic set: below random), at any count:
            self.prior.check([r.arch for r in told], scores)  # a first batch of 20, a study rebuilt from 25
        if self._few_shot_task(told):
            if not self.prior.active:
                self._few_shot = Task.from_samples(zip([r.arch for r in told], scores.tolist()))
                self._guide += 1
            # With measured source tables the prior ranks until the task has enough results: a
            # task vector fitted to a few results reorders cells by noise (one result carries
            # only the task's level, yet moved the fitted vector's ranking of the best cells by
            # more than their measured differences); the local picks exploit what was verified.
            return
        if self._refitted is None or self._few_shot is not None or changed:
            # fine-tuning starts (also after a few-shot phase ranked by the source tables, whose
            # results were never passed on), or the map changed: every told score goes (the latest wins)
            new = told
        self._few_shot = None
        self._guide += 1
        self.prior.forget()  # the network changes below: its spreads are measured again
        if self._refitted is None:
            self._refitted = copy.deepcopy(self.pretrained)  # the pretrained one stays untouched
        predictor, key = self._refitted, self.task_key()
        if not predictor.is_trained:
            # From scratch: a full fit on everything told so far, remembered (no step) so later refits keep them;
            # a step after the annealed fit had left a darts study's rebuild 1.5 stds off its own results
            archs, scores = [r.arch for r in told], self.scale.to_model(np.array([r.score for r in told]))
            predictor.fit(archs, scores, task=key)
            predictor.update(archs, scores, task=key, steps=0)
            self._encoders_told = len(told)
        else:
            s = self.settings
            growth = self.encoder_growth()  # the first refit (0 told before) trains them unless inf
            encoders = math.isfinite(growth) and len(told) >= growth * self._encoders_told
            fresh = len(told) - self._encoders_told if encoders else len(new)  # what these weights have not seen
            steps = max(1, min(s.max_refit_steps, s.refit_steps_per_result * fresh))
            predictor.update([r.arch for r in new], self.scale.to_model(np.array([r.score for r in new])), task=key,
                             steps=steps, encoders=encoders)
            if encoders:
                self._encoders_told = len(told)

    def encoder_growth(self) -> float:
        """Growth of the results that retrains the encoders: 1 (every refit) from scratch; inf (never:
        heads only) for a task the pretrained predictor was trained on, whose encoders a search's few
        top results drifted (docs/calibration.md: ``generate(20)`` stated 94.03 % for cells of 88-90 %;
        ``python experiments/known_task_refit.py``: the optimum within 20 verifications in 4 / 7 of 10
        cifar10 / cifar100 searches against 0 / 3); else ``settings.encoder_growth``."""
        if not self.pretrained.is_trained:
            return 1.0
        key = self.task_key()
        return math.inf if isinstance(key, str) and key in self.pretrained.tasks else self.settings.encoder_growth

    def regenerate_every(self) -> int:
        """Results between two guided generations: ``settings.regenerate``, or by default
        :data:`REGENERATE_PRETRAINED` with a pretrained predictor and no budget, else
        :data:`REGENERATE_SCRATCH`."""
        if self.settings.regenerate is not None:
            return max(1, self.settings.regenerate)
        return REGENERATE_PRETRAINED if self.pretrained.is_trained and self.budget is None else REGENERATE_SCRATCH

    def ranks_by_sources(self) -> bool:
        """Whether the measured source tables rank a new task (mapped to its told scores) and no refit yet."""
        return self.prior.active and self._refitted is None

    def learned_nothing(self) -> bool:
        """True when two or more successful results all have one score (a constant evaluator)."""
        scores = [r.score for r in self.history if not r.failed]
        return len(set(scores)) == 1 and len(scores) > 1

    def search_notes(self, exhausted: bool) -> list[str]:
        """What the user should know after a search (read by :func:`gennas.search.run_search`):
        :func:`gennas.design.search_notes.search_notes`."""
        return search_notes(self, exhausted, self._seen)

    def __repr__(self) -> str:
        return f"DesignLoop({self.space.name}, task={self.task!r}, told={len(self.history)}, refits={self.refits})"
