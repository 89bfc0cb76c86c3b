"""Optuna's TPE sampler over the categorical slots of a space."""

from __future__ import annotations

import math
from typing import Any

from gennas.baselines.base import BaseOptimizer
from gennas.search.optimizer import asked_count
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.optuna_module import optuna_module
from gennas.spaces import RngLike, SearchSpace
from gennas.search.backends import quiet_optuna

#: TPE proposals tried per ask while they duplicate pending ones
MAX_PROPOSALS = 20


class TPESearch(BaseOptimizer):
    """Tree-structured Parzen estimator (optuna's ``TPESampler``) on one categorical per slot.

    Each slot offers only the ops its :meth:`~gennas.spaces.base.SearchSpace.slot_mask` allows; a
    choice vector the space still rejects is repaired with ``space.project``. When TPE proposes
    a cell whose canonical hash was already verified, that trial is closed as failed and an
    unseen one-edit neighbour of the proposal is verified instead (a uniform sample if every
    neighbour was seen).
    """

    name = "tpe"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, n_startup_trials: int = 10,
                 multivariate: bool = False) -> None:
        super().__init__(space, seed)
        import warnings

        optuna = optuna_module()

        sampler_seed = int(self.rng.integers(2**31 - 1))
        with warnings.catch_warnings():  # multivariate TPE is flagged experimental in some versions
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=n_startup_trials,
                                                 multivariate=multivariate)
        with quiet_optuna():
            self.study = optuna.create_study(direction="maximize", sampler=sampler)
        mask = self.space.slot_mask()
        vocab = self.space.slot_vocab
        self._distributions = {
            f"slot_{i}": optuna.distributions.CategoricalDistribution([op for j, op in enumerate(vocab) if mask[i, j]])
            for i in range(self.space.num_slots)}
        self._pending: dict[str, list[Any]] = {}  # hash -> optuna trials waiting for its score
        self._known: dict[str, float] = {}  # hash -> score (NaN when it failed)

    def _propose(self) -> ArchGraph | None:
        with quiet_optuna():
            arch = None
            for _ in range(MAX_PROPOSALS):
                trial = self.study.ask(self._distributions)
                choices = self.space.project([trial.params[f"slot_{i}"] for i in range(self.space.num_slots)])
                arch = self.space.from_choices(choices)
                h = arch.canonical_hash()
                if h in self._pending and h not in self._known:  # asked in this batch: wait for its score
                    self._pending[h].append(trial)
                    continue
                if h in self._known or not self._claim(arch):
                    # Close the repeat as FAIL: a second COMPLETE copy of a known cell would pull
                    # TPE's density further onto it until it proposed nothing else.
                    self._finish(trial, math.nan)
                    break
                self._pending[h] = [trial]
                return arch
        if arch is not None:
            # TPE insists on a known cell: verify its nearest unseen neighbour instead, which stays
            # in the region TPE prefers; it joins the study as an added trial once told.
            options = self.space.neighbours(arch)
            for i in self.rng.permutation(len(options)):
                if self._claim(options[int(i)]):
                    return options[int(i)]
        return None

    def ask(self, k: int) -> list[ArchGraph]:
        out = []
        for _ in range(asked_count(k)):
            arch = self._propose() or self._random_new()
            if arch is None:  # nothing unseen turns up: the space is (nearly) exhausted
                break
            out.append(arch)
        return out

    def _finish(self, trial: Any, score: float) -> None:
        optuna = optuna_module()

        if math.isfinite(score):
            self.study.tell(trial, score)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def _observe(self, result: Result) -> None:
        optuna = optuna_module()

        h = result.arch.canonical_hash()
        score = math.nan if result.failed else float(result.score)
        self._known[h] = score
        trials = self._pending.pop(h, None)
        with quiet_optuna():
            if trials:
                for trial in trials:
                    self._finish(trial, score)
                return
            # A result TPE did not propose (a resumed run, a random fallback): add it as a trial.
            params = {f"slot_{i}": op for i, op in enumerate(self.space.choices(result.arch))}
            if any(params[name] not in dist.choices for name, dist in self._distributions.items()):
                return  # outside the masked domain (cannot happen for valid graphs); nothing to learn
            state = optuna.trial.TrialState.COMPLETE if math.isfinite(score) else optuna.trial.TrialState.FAIL
            self.study.add_trial(optuna.trial.create_trial(
                state=state, value=score if math.isfinite(score) else None, params=params,
                distributions=self._distributions))
