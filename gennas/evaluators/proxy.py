"""Zero-cost proxies as an evaluator, and a learned weighted combination of them.

``ProxyEvaluator(space, "synflow", data=loader)`` scores architectures with one proxy of
:mod:`gennas.evaluators.zero_cost`; ``ProxyEvaluator(space, combination, data=loader)`` with a
:class:`ProxyCombination`, a weighted sum of normalised proxies whose weights were searched
(RoBoT, He et al. ICLR 2024: Bayesian optimisation of the weights of a linear ensemble of
training-free metrics, scored by how well it ranks a few labelled architectures). Here the
search is optuna's TPE over weights in [-1, 1], maximising Kendall tau on the labelled set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gennas.evaluators import zero_cost
from gennas.errors import GennasError
from gennas.evaluators.base import Result, architectures_to_evaluate
from gennas.evaluators.batches import take_batches
from gennas.graph import ArchGraph
from gennas.search.backends import quiet_optuna
from gennas.spaces import SearchSpace, resolve_space
from gennas.threads import check_threads, with_own_threads


def _squash(values: np.ndarray) -> np.ndarray:
    """Signed log, so that proxies spanning 30 orders of magnitude (synflow) become comparable;
    non-finite values (a proxy undefined on a degenerate network) become NaN."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.sign(v) * np.log1p(np.abs(v))
    return np.where(np.isfinite(out), out, np.nan)


@dataclass(frozen=True)
class ProxyCombination:
    """``score = sum_i weights[i] * (squash(proxy_i) - mean[i]) / std[i]``, missing values
    count as the worst seen (``floor[i]``).

    Attributes:
        names: proxy names, ``(k,)``.
        weights, mean, std, floor: float per proxy, ``(k,)``.
        fit_kendall: Kendall tau reached on the labelled architectures it was fitted on.
    """

    names: tuple[str, ...]
    weights: tuple[float, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    floor: tuple[float, ...]
    fit_kendall: float = float("nan")

    def _features(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        missing = [n for n in self.names if n not in scores]
        if missing:
            raise GennasError(f"combination needs scores for {missing}")
        cols = []
        for n, m, s, lo in zip(self.names, self.mean, self.std, self.floor):
            z = (_squash(scores[n]) - m) / s
            cols.append(np.where(np.isnan(z), lo, z))
        return np.stack(cols, axis=1)

    def combine(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        """Combined score, float64 ``(n,)``, from proxy name -> raw scores ``(n,)``."""
        return self._features(scores) @ np.asarray(self.weights)

    @classmethod
    def fit(cls, scores: Mapping[str, np.ndarray], targets: Sequence[float], n_trials: int = 200,
            seed: int = 0) -> ProxyCombination:
        """Search weights maximising Kendall tau between the combination and ``targets``
        (e.g. accuracies of a few labelled architectures), optuna TPE, seeded."""
        import optuna
        from scipy.stats import kendalltau

        names = tuple(scores)
        y = np.asarray(targets, dtype=np.float64)
        if not names:
            raise GennasError("a combination needs at least one proxy")
        if len(y) < 3 or any(len(np.asarray(scores[n])) != len(y) for n in names):
            raise GennasError(f"need >= 3 labelled architectures with a score for every proxy, got {len(y)}")
        mean, std, floor = [], [], []
        for n in names:
            v = _squash(scores[n])
            ok = v[~np.isnan(v)]
            m, s = (float(ok.mean()), float(ok.std())) if len(ok) else (0.0, 1.0)
            s = s if s > 0 else 1.0
            mean.append(m)
            std.append(s)
            floor.append(float(((ok - m) / s).min()) if len(ok) else 0.0)
        base = cls(names, (0.0,) * len(names), tuple(mean), tuple(std), tuple(floor))
        feats = base._features(scores)

        def objective(trial: optuna.Trial) -> float:
            w = np.array([trial.suggest_float(n, -1.0, 1.0) for n in names])
            tau = kendalltau(feats @ w, y).statistic
            return float(tau) if math.isfinite(tau) else -1.0

        with quiet_optuna():  # its INFO lines for the fit only: a user's own studies keep theirs
            study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
            # start from "every proxy counts equally": a sensible prior the search must beat
            study.enqueue_trial({n: 1.0 for n in names})
            study.optimize(objective, n_trials=n_trials)
        weights = tuple(float(study.best_params[n]) for n in names)
        return cls(names, weights, tuple(mean), tuple(std), tuple(floor), float(study.best_value))

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "weights": list(self.weights), "mean": list(self.mean),
                "std": list(self.std), "floor": list(self.floor), "fit_kendall": self.fit_kendall}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProxyCombination:
        try:
            return cls(tuple(d["names"]), tuple(map(float, d["weights"])), tuple(map(float, d["mean"])),
                       tuple(map(float, d["std"])), tuple(map(float, d["floor"])),
                       float(d.get("fit_kendall", float("nan"))))
        except (KeyError, TypeError, ValueError) as exc:
            raise GennasError(f"not a proxy combination: {exc}") from None


class ProxyEvaluator:
    """Scores architectures with a zero-cost proxy or a :class:`ProxyCombination`.

    Args:
        space: the search space (or its name); architectures of another space are refused.
        proxy: a proxy name (:func:`gennas.evaluators.zero_cost.names`) or a fitted combination.
        data: real data for data-dependent proxies (DataLoader or ``(images, labels)``).
        build_options: passed to ``space.build`` (e.g. ``cells_per_stage=1`` for speed).
        seed: initialisation seed of every network.
        num_classes: classifier width; default from the labels of the batch.
        threads: torch CPU threads while it scores (1: see :mod:`gennas.threads`; None: torch's
            setting; restored after either way; an outer choice overrides it).
    """

    def __init__(self, space: SearchSpace | str, proxy: str | ProxyCombination = "synflow", data: Any = None,
                 *, build_options: Mapping[str, Any] | None = None, seed: int = 0,
                 num_classes: int | None = None, threads: int | None = 1) -> None:
        self.space = resolve_space(space)
        self.threads = check_threads(threads)
        self.proxy = proxy
        self.names = list(proxy.names) if isinstance(proxy, ProxyCombination) else [zero_cost.get(proxy).name]
        needs = [n for n in self.names if zero_cost.get(n).needs_data]
        if needs and data is None:
            raise GennasError(f"proxies {needs} need real data: pass data=DataLoader or (images, labels)")
        # take the batch once: every architecture is scored on the same images
        self.batches = take_batches(data, 1) if data is not None else None
        self.build_options = dict(build_options or {})
        self.seed = seed
        self.num_classes = num_classes
        self.kind = "proxy:combination" if isinstance(proxy, ProxyCombination) else f"proxy:{proxy}"

    def __repr__(self) -> str:
        # a bare <... object at 0x...> in a notebook
        proxy = "combination of " + "+".join(self.names) if isinstance(self.proxy, ProxyCombination) else self.proxy
        images = getattr(self.batches[0][0], "shape", None) if self.batches else None
        data = "None" if not self.batches else f"<{images[0]} images>" if images else "<given>"
        return f"ProxyEvaluator(space={self.space.name!r}, proxy={proxy!r}, data={data}, seed={self.seed})"

    @with_own_threads
    def evaluate(self, archs: Sequence[ArchGraph]) -> list[Result]:
        """One Result per architecture (graphs or their strings); score is the proxy value (higher = better)."""
        archs = architectures_to_evaluate(self.space, archs, "ProxyEvaluator.evaluate")
        data = self.batches[0] if self.batches else None
        out = []
        for arch in archs:
            start = time.perf_counter()
            raw = zero_cost.score_many([arch], self.space, self.names, data, num_classes=self.num_classes,
                                            build_options=self.build_options, seed=self.seed)
            if isinstance(self.proxy, ProxyCombination):
                value = float(self.proxy.combine(raw)[0])
            else:
                value = float(raw[self.names[0]][0])
            error = None if math.isfinite(value) else f"proxy {self.names[0]} is undefined for this network"
            meta = {"proxies": {n: float(v[0]) for n, v in raw.items()}, "seed": self.seed,
                    "build_options": self.build_options}
            out.append(Result(arch, value, self.kind, fidelity="zero-cost", cost_s=time.perf_counter() - start,
                              metadata=meta, error=error))
        return out

    @classmethod
    def fit_combination(cls, space: SearchSpace | str, archs: Sequence[ArchGraph], targets: Sequence[float],
                        proxies: Sequence[str] | None = None, data: Any = None, *, n_trials: int = 200,
                        seed: int = 0, build_options: Mapping[str, Any] | None = None,
                        num_classes: int | None = None) -> ProxyEvaluator:
        """Score ``archs`` with ``proxies`` (default: all, or the data-free ones without data),
        fit a :class:`ProxyCombination` to ``targets`` and return an evaluator using it."""
        raw = zero_cost.score_many(archs, space, proxies, data, num_classes=num_classes,
                                        build_options=build_options, seed=seed)
        combo = ProxyCombination.fit(raw, targets, n_trials=n_trials, seed=seed)
        return cls(space, combo, data, build_options=build_options, seed=seed, num_classes=num_classes)
