"""The designer's verify-and-refine loop: ask/tell and ``search`` (mixed into :class:`gennas.Designer`).

One round: generate guided candidates with the *refitted* predictor, drop what was verified
already (by canonical hash), choose a batch by an acquisition that weighs predicted accuracy,
uncertainty and diversity (:mod:`gennas.acquisition`), verify it (elsewhere, or through
``search``), and refit the predictor (and the task's embedding) on every verified result, so
the next round's guidance is steered by what was measured.

A share of each batch (``local_share``; every other pick when batches have one architecture)
is chosen only among the unseen one-edit neighbours of the best verified architecture, ranked
by the same acquisition: a predictor-ordered local search around what was *measured* best. The
rest comes from the generated pool. Without it a predictor that is confidently wrong about one
region (say, that a skip connection on the output edge hurts) keeps the search on a plateau of
architectures it over-rates; the local picks test its beliefs where they matter most.

The pretrained predictor is copied on the first ``tell``; the designer's ``generate`` keeps
using the pretrained one until then. A task the predictor has never seen starts from its
default task (transfer: what was learned on other tasks) and gets its own embedding from the
first verified result on.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gennas.acquisition import select_batch
from gennas.errors import GennasError
from gennas.evaluators.base import Evaluator, Result
from gennas.graph import ArchGraph

#: unseen architectures the loop tries to add by mutation/sampling when the generator repeats itself
_TOP_UP_TRIES = 2000


class DesignLoop:
    """ask/tell/search for a Designer (needs ``space``, ``task``, ``predictor``, ``generator``,
    ``_guidance``, ``pool``, ``seed``, ``device``, ``estimator``, ``max_latency_ms``)."""

    kappa: float = 0.5       # uncertainty bonus of the acquisition (in score stds)
    diversity: float = 0.5   # diversity penalty of the acquisition (in score spreads)
    local_share: float = 0.5  # share of each batch taken from the neighbours of the best verified

    # ------------------------------------------------------------ state
    def _loop(self) -> dict[str, Any]:
        state = self.__dict__.get("_loop_state")
        if state is None:
            state = {"history": [], "seen": set(), "refitted": None, "rounds": 0}
            self.__dict__["_loop_state"] = state
        return state

    @property
    def history(self) -> list[Result]:
        """Every result told so far, in order (failed included)."""
        return list(self._loop()["history"])

    @property
    def loop_predictor(self) -> Any:
        """The predictor refitted on the verified results (the pretrained one before any)."""
        return self._loop()["refitted"] or self.predictor

    def _task_key(self) -> Any:
        """What the refitted predictor is trained and queried with for this designer's task."""
        task = self.task
        kind = getattr(task, "kind", None)
        if kind in ("named", "samples"):
            return task.name  # refit as a named task; samples tasks cannot be trained on
        return task

    def _query_task(self) -> Any:
        """Task to predict with: the designer's, or the predictor's default while it is unknown."""
        predictor, key = self.loop_predictor, self._task_key()
        if isinstance(key, str) and key not in getattr(predictor, "tasks", [key]):
            kind = getattr(self.task, "kind", None)
            return self.task if kind == "samples" else None
        return self.task if key is self.task else key

    # ------------------------------------------------------------ ask
    def ask(self, k: int = 1) -> list[ArchGraph]:
        """``k`` architectures to verify next, none verified or asked before."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise GennasError(f"ask(k) needs a positive integer k, got {k!r}")
        state = self._loop()
        predictor, task = self.loop_predictor, self._query_task()
        seed = None if self.seed is None else self.seed * 7919 + state["rounds"]
        from gennas.designer import _value

        trained = _is_trained(predictor)
        # From scratch (an untrained predictor) the first round samples the generator unguided.
        guidance = replace(self._guidance, value=_value(predictor, task) if trained else None)
        pool = self.generator.sample(max(self.pool * k, 200), seed=seed, guidance=guidance)
        # Exploit what was measured: one-edit neighbours of the best verified architectures join
        # the generated pool, and the refitted predictor decides between them (as BANANAS does).
        pool += self._filter_budget(self._neighbours_of_best(3))
        fresh = _unseen(pool, state["seen"])
        local = self._filter_budget(self._local_candidates(state["seen"]))
        # every other round rounds the local share up, so one-architecture batches alternate
        n_local = min(len(local), int(np.floor(k * self.local_share + 0.5 * (state["rounds"] % 2))))
        picks = self._choose(local, n_local, predictor, task, trained)
        chosen = {a.canonical_hash() for a in picks}
        fresh = [a for a in fresh if a.canonical_hash() not in chosen]
        if len(fresh) < k - len(picks):
            fresh += self._top_up(k - len(picks) - len(fresh),
                                  state["seen"] | chosen | {a.canonical_hash() for a in fresh}, seed)
        picks += self._choose(fresh, k - len(picks), predictor, task, trained)
        state["rounds"] += 1
        state["seen"].update(a.canonical_hash() for a in picks)
        return picks

    def _choose(self, candidates: list[ArchGraph], k: int, predictor: Any, task: Any, trained: bool) -> list[ArchGraph]:
        """``k`` of ``candidates`` by the acquisition (in the given order while nothing is trained)."""
        if k <= 0 or not candidates:
            return []
        if not trained:
            return candidates[:k]  # generator / neighbour order is already random
        mean, std = predictor.predict(candidates, task)
        return [candidates[i] for i in select_batch(self.space, candidates, mean, std, k, self.kappa, self.diversity)]

    def _local_candidates(self, seen: set[str]) -> list[ArchGraph]:
        """Unseen one-edit neighbours of the best verified architecture that still has some."""
        for result in self._best_first():
            around = _unseen(self.space.neighbours(result.arch), seen)
            if around:
                return around
        return []

    def _best_first(self) -> list[Result]:
        """Successful results so far, best score first."""
        return sorted((r for r in self._loop()["history"] if not r.failed), key=lambda r: -r.score)

    def _neighbours_of_best(self, top: int) -> list[ArchGraph]:
        return [a for r in self._best_first()[:top] for a in self.space.neighbours(r.arch)]

    def _top_up(self, n: int, seen: set[str], seed: int | None) -> list[ArchGraph]:
        """Unseen neighbours of the best verified architectures, then random unseen samples,
        within the latency budget where there is one (the generator ran out of new ideas)."""
        rng = np.random.default_rng(seed)
        out: list[ArchGraph] = []
        candidates = (a for r in self._best_first()[:5] for a in self.space.neighbours(r.arch))
        for tries in range(_TOP_UP_TRIES):
            arch = next(candidates, None) or self.space.sample(rng)
            h = arch.canonical_hash()
            if h in seen or not self._within_budget(arch):
                continue
            seen.add(h)
            out.append(arch)
            if len(out) == n:
                break
        return out

    def _filter_budget(self, archs: list[ArchGraph]) -> list[ArchGraph]:
        """The architectures predicted within the latency budget (all of them without one)."""
        if self.max_latency_ms is None or not archs:
            return archs
        ms = np.asarray(self.estimator.predict(archs, self.device), dtype=np.float64)
        return [a for a, t in zip(archs, ms) if t <= self.max_latency_ms]

    def _within_budget(self, arch: ArchGraph) -> bool:
        if self.max_latency_ms is None:
            return True
        return float(self.estimator.predict([arch], self.device)[0]) <= self.max_latency_ms

    # ------------------------------------------------------------ tell
    def tell(self, arch: ArchGraph | str | Sequence[Result] | Result, score: float | None = None) -> None:
        """Report verified results: ``tell(arch, score)`` or ``tell(results)`` (Results from an
        evaluator; failed ones are remembered, not learned from). Refits the predictor."""
        results = _as_results(self.space, arch, score)
        state = self._loop()
        state["history"].extend(results)
        state["seen"].update(r.arch.canonical_hash() for r in results)
        good = [r for r in results if not r.failed]
        if not good:
            return
        if state["refitted"] is None:
            state["refitted"] = copy.deepcopy(self.predictor)  # the pretrained one stays untouched
        refitted = state["refitted"]
        if not _is_trained(refitted):
            # From scratch: a full fit on the first results, warm updates afterwards.
            told = [r for r in state["history"] if not r.failed]
            refitted.fit([r.arch for r in told], [r.score for r in told], task=self._task_key())
            refitted.update([r.arch for r in told], [r.score for r in told], task=self._task_key(), steps=1)
        else:
            refitted.update([r.arch for r in good], [r.score for r in good], task=self._task_key())

    # ------------------------------------------------------------ search
    def search(self, evaluator: Evaluator | Callable[[ArchGraph], float], budget: int, batch_size: int = 1,
               storage: Any = None, study_name: str | None = None, resume: bool = False,
               progress: bool = False) -> Any:
        """Generate, verify with ``evaluator``, refit; until ``budget`` architectures are verified.

        Every result is stored as an optuna trial (``storage``: URL or ``.db`` path; defaults to
        the designer's ``storage``; None keeps it in memory). Returns a
        :class:`gennas.search.SearchResult` whose ``results`` are the verified ones, best first.
        """
        from gennas.search import run_search

        storage = storage if storage is not None else getattr(self, "storage", None)
        attrs = {"method": "designer", "task": str(getattr(self.task, "name", self.task)),
                 "device": self.device, "max_latency_ms": self.max_latency_ms, "seed": self.seed}
        return run_search(self, evaluator, budget, storage=storage, study_name=study_name,
                          batch_size=batch_size, progress=progress, resume=resume, attrs=attrs)


def _is_trained(predictor: Any) -> bool:
    """False for a Predictor that was never fitted (from-scratch search)."""
    return bool(getattr(predictor, "tasks", True)) or getattr(predictor, "image_scale", None) is not None


def _unseen(archs: Sequence[ArchGraph], seen: set[str]) -> list[ArchGraph]:
    out, hashes = [], set(seen)
    for a in archs:
        h = a.canonical_hash()
        if h not in hashes:
            hashes.add(h)
            out.append(a)
    return out


def _as_results(space: Any, arch: Any, score: float | None) -> list[Result]:
    if isinstance(arch, Result):
        return [arch]
    if isinstance(arch, (ArchGraph, str)):
        if score is None:
            raise GennasError("tell(arch, score) needs a score")
        try:
            value = float(score)
        except (TypeError, ValueError):
            raise GennasError(f"score must be a number, got {score!r}") from None
        error = None if math.isfinite(value) else f"score is {value}"
        return [Result(space.parse(arch), value, "user", error=error)]
    results = list(arch)
    if not all(isinstance(r, Result) for r in results):
        raise GennasError("tell() takes (arch, score) or a list of Result")
    return results
