"""Latency on a device timed here, for a space without a pretrained latency estimator.

The few-shot estimator (:mod:`gennas.surrogates.latency`) is meta-trained on many devices'
latencies of one space; a user's own space (or darts) has none, so until now it could not be
designed under a latency budget. Latency is close to additive over a network's operations (the
premise of FBNet's and ProxylessNAS's lookup tables), so here a device is described by
:func:`reference_count` architectures of the space timed on it, and the rest are predicted by a
ridge fit on their one-hot slot choices and each op's count (``space.encode``, the layout of
``slot_probs``, so the same weights give a differentiable latency for guided generation; the
penalty chosen by cross-validation, :data:`RIDGES`), either as listed or as the
built networks compute them (:meth:`~gennas.spaces.SearchSpace.computed_choices`: gennas' cells
skip an edge whose source node has no live input), whichever cross-validates better: the
NAS-Bench-201 tables were timed with networks that run every op, this machine times gennas'. The fit is of log ms (each
choice multiplies the latency): on the NAS-Bench-201 tables, fitted in ms the cells a bound kept
under a device's 10th-percentile latency were truly over it 3.5 % of the time on average (35 %
in the worst draw), in log ms with the groups below 0.8 % (``python experiments/slot_latency.py
--compare``).

The upper bound a budget is judged by is multiplicative: the prediction times ``exp(q)``, ``q``
a split-conformal quantile (whole rank ``ceil((n + 1) c)``, an at-least promise, as the bundled
spaces' bound keeps) of the timed architectures' K-fold cross-validated log ratios measured /
predicted, taken within the third of them nearest in predicted latency (:data:`BINS`; the fast
and slow cells err differently, and a budget keeps the fast ones). docs/results.md "Latency for a space
of your own".

In a space with a pretrained estimator (nb201, mbv3), ``gennas latency measure --cells N`` times the
estimator's references as well, and the model is given the estimator as its ``base``: it then also
fits the slot choices to the random architectures' ratios measured / the estimator adapted from
those references (the estimator's ranking, corrected where this device ranks choices otherwise) and
keeps whichever form cross-validates better (:func:`fit_best_form`). On the 19 NAS-Bench-201
devices, each held out of an estimator's training, 30 or 60 random cells so fitted kept 47-51 % of
the cells truly under a 10th-percentile budget where the slot choices alone kept 14-19 %, at a mean
coverage of 95.8-97.2 % (``python experiments/stacked_latency.py``; on this project's VM 25-50 %
against 0-35 % in three sittings, ``--here``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast

import numpy as np
import torch

from gennas.errors import GennasError, UnknownDevice, unknown
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.latency_bound import check_confidence
from gennas.surrogates.protocols import LatencyModel

Samples = Sequence[tuple[ArchGraph | str, float]]


class ReferencedLatencyModel(LatencyModel, Protocol):
    """A latency model adapted to a device from its reference architectures' timings (the
    pretrained :class:`~gennas.surrogates.latency.LatencyEstimator`, which imports this module)."""

    def reference_archs(self, k: int | None = 10) -> list[ArchGraph]:
        """The architectures a device is timed on to adapt it."""

    def adapt(self, device_name: str, samples: Samples) -> Any:
        """Fit ``device_name`` from measured ``(arch, ms)`` samples."""

#: fewest timed architectures a device is fitted from (a 90 % bound needs 9, a 95 % one 19; below
#: 30 the cross-validated quantile is too coarse to be worth a budget)
MIN_TIMED = 30
#: architectures timed per free slot choice (weights to fit), within [MIN_DEFAULT, MAX_DEFAULT]
PER_WEIGHT = 2
MIN_DEFAULT, MAX_DEFAULT = 60, 200
#: most architectures a device is timed on (`gennas latency measure --cells`)
MAX_TIMED = 2000
#: folds of the cross-validation whose log ratios calibrate the bound
FOLDS = 10
#: ridge penalties per timed architecture, the one whose cross-validated error is smallest fits a
#: device (the one-hot choices of a slot sum to one, collinear with the intercept, so some pull is
#: always needed). The one penalty used before, 1e-3, left the fit to the data: mbv3 fitted from
#: 200 subnets, about as many as its 180 free choices, predicted the others at an RMS of 0.35-0.39
#: log ms, and of the 50 with the lowest bound, what a budget keeps first, only 69-75 % were under
#: it; 95-99 % with the penalty chosen (``python experiments/slot_latency.py --mbv3``)
RIDGES = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
#: groups of the timed architectures by predicted latency, each with its own quantile (fewer where
#: a group would be too small for the confidence asked)
BINS = 3
#: the seed of the architectures a device is timed on (every machine times the same ones)
REFERENCE_SEED = 0


def as_computed(space: SearchSpace, archs: Sequence[ArchGraph | str]) -> list[ArchGraph]:
    """Each architecture as the network gennas builds computes it: an op whose source node has no
    live input replaced by the space's zero op (:meth:`SearchSpace.computed_choices`)."""
    return [space.from_choices(space.computed_choices(space.parse(a))) for a in archs]


def reference_count(space: SearchSpace) -> int:
    """How many architectures describe a device of ``space``: :data:`PER_WEIGHT` per free slot
    choice (``num_slots * (len(slot_vocab) - 1)`` where every op is allowed), clamped to
    [:data:`MIN_DEFAULT`, :data:`MAX_DEFAULT`]."""
    free = int(space.slot_mask().sum()) - space.num_slots
    return int(min(MAX_DEFAULT, max(MIN_DEFAULT, PER_WEIGHT * free)))


@dataclass(frozen=True)
class SlotFit:
    """One device: ``log ms = intercept + one_hot(choices) . weights``; ``log_ratios`` ``(n,)`` are the
    timed architectures' cross-validated ``log(measured / predicted)``, ``cv_log_ms`` ``(n,)`` the
    cross-validated predictions they were measured against (in log ms)."""

    intercept: float
    weights: np.ndarray
    log_ratios: np.ndarray
    cv_log_ms: np.ndarray
    #: fitted on the ops the built networks run (:meth:`SearchSpace.computed_choices`), not as listed
    computed: bool = False
    #: the ridge penalty per timed architecture it was fitted at (of :data:`RIDGES`)
    ridge: float = RIDGES[0]
    #: fitted to ``log(measured / base prediction)``: the model's base estimator times ``exp`` of the
    #: fit predicts (``cv_log_ms`` holds the whole prediction all the same)
    stacked: bool = False

    @property
    def count(self) -> int:
        return len(self.log_ratios)

    def max_confidence(self) -> float:
        """The highest confidence whose conformal rank exists: ``n / (n + 1)``."""
        return self.count / (self.count + 1.0)

    def quantiles(self, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """Edges ``(b - 1,)`` in log ms and each group's conformal quantile of the log ratios ``(b,)``:
        :data:`BINS` groups by predicted latency, fewer where a group could not promise
        ``confidence`` (its conformal rank ``ceil((m + 1) c)`` beyond its ``m`` ratios)."""
        for bins in range(BINS, 0, -1):
            edges = np.quantile(self.cv_log_ms, np.linspace(0, 1, bins + 1)[1:-1])
            groups = [np.sort(self.log_ratios[np.digitize(self.cv_log_ms, edges) == g]) for g in range(bins)]
            ranks = [math.ceil((len(ratios) + 1) * confidence) for ratios in groups]
            if all(rank <= len(ratios) for rank, ratios in zip(ranks, groups)):
                return edges, np.array([ratios[rank - 1] for rank, ratios in zip(ranks, groups)])
        raise GennasError(f"a {confidence:g} bound needs at least {math.ceil(confidence / (1 - confidence))} "
                          f"timed architectures, got {self.count}")


def _ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    """Intercept and weights ``(d,)`` of ``y ~ intercept + x @ weights`` (``x`` ``(n, d)``), the
    intercept unpenalised, the weights by ``ridge`` per row."""
    design = np.hstack([np.ones((len(x), 1)), x])
    penalty = ridge * len(x) * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ y)
    return float(coef[0]), coef[1:]


def one_hot(space: SearchSpace, archs: Sequence[ArchGraph], computed: bool = False) -> np.ndarray:
    """Slot choices of ``archs`` one-hot, float64 ``(len(archs), num_slots * len(slot_vocab))`` in the
    layout of ``space.encode``: as listed, or as computed (:meth:`SearchSpace.computed_choices`)."""
    if not computed:
        return space.encode(list(archs)).astype(np.float64)
    index = {op: i for i, op in enumerate(space.slot_vocab)}
    out = np.zeros((len(archs), space.num_slots, len(space.slot_vocab)))
    for row, arch in enumerate(archs):
        for slot, op in enumerate(space.computed_choices(arch)):
            out[row, slot, index[op]] = 1.0
    return out.reshape(len(archs), -1)


def fit_device(x: np.ndarray, ms: np.ndarray, vocab: int, seed: int = 0, ridges: Sequence[float] = RIDGES,
               shared: bool = True) -> SlotFit:
    """A device from timed architectures: one-hot slot choices ``x`` ``(n, num_slots * vocab)`` and
    ms ``(n,)``. With ``shared``, each op's count over the slots is a feature too, so the penalty
    pulls an op's cost towards one value in every slot unless the timings say otherwise; the
    weights returned fold it into each slot's (the layout of ``x``). Fitted at the penalty of
    ``ridges`` whose K-fold cross-validated error is smallest, its out-of-fold ratios calibrating
    the bound (chosen on them among a few penalties: a slight optimism the at-least rank absorbs)."""
    counts = x.reshape(len(ms), -1, vocab).sum(1)
    features = np.hstack([x, counts]) if shared else x
    folds = np.arange(len(ms)) % FOLDS
    np.random.default_rng(seed).shuffle(folds)
    log_ms = np.log(ms)
    best: tuple[float, float, np.ndarray] | None = None
    for ridge in ridges:
        cv_log_ms = np.empty(len(ms))
        for fold in range(FOLDS):
            held = folds == fold
            intercept, weights = _ridge_fit(features[~held], log_ms[~held], ridge)
            cv_log_ms[held] = intercept + features[held] @ weights
        error = float(np.mean((log_ms - cv_log_ms) ** 2))
        if best is None or error < best[0]:
            best = (error, ridge, cv_log_ms)
    _, ridge, cv_log_ms = best
    intercept, weights = _ridge_fit(features, log_ms, ridge)
    if shared:  # an op's shared cost, folded into its weight in every slot
        weights = weights[:x.shape[1]] + np.tile(weights[x.shape[1]:], x.shape[1] // vocab)
    return SlotFit(intercept, weights, log_ms - cv_log_ms, cv_log_ms, ridge=ridge)


@dataclass(frozen=True)
class Form:
    """One way to fit a device: its features ``x`` ``(n, d)`` (one-hot choices as listed or as
    computed) and the base log ms ``offset`` ``(n,)`` its fit corrects (zeros: none)."""

    x: np.ndarray
    offset: np.ndarray
    computed: bool
    stacked: bool

    def fit(self, ms: np.ndarray, vocab: int, rows: np.ndarray | slice = slice(None)) -> SlotFit:
        """:func:`fit_device` on ``rows`` of the timed ``ms`` ``(n,)``; ``cv_log_ms`` the whole prediction."""
        fit = fit_device(self.x[rows], ms[rows] / np.exp(self.offset[rows]), vocab)
        return replace(fit, cv_log_ms=fit.cv_log_ms + self.offset[rows], computed=self.computed,
                       stacked=self.stacked)


def _cv_error(fit: SlotFit) -> float:
    return float(np.mean(np.abs(fit.log_ratios)))


def fit_best_form(forms: Sequence[Form], ms: np.ndarray, vocab: int, nested: bool = False) -> SlotFit:
    """The fit of the form whose cross-validated error is smallest. With ``nested``, its
    ``log_ratios`` and ``cv_log_ms`` are those of the whole choice, cross-validated: each fold
    predicted by the form chosen without it. Among four forms the choice's own optimism showed:
    fitted on 60 random cells of this project's VM, the bound of the chosen form covered 77.5-98 %
    of 400 others in three sittings where 95 % was promised (``python experiments/stacked_latency.py
    --here``)."""
    best = min((form.fit(ms, vocab) for form in forms), key=_cv_error)
    if not nested:
        return best
    folds = np.arange(len(ms)) % FOLDS
    np.random.default_rng(1).shuffle(folds)  # not fit_device's folds: those choose within each
    cv_log_ms = np.empty(len(ms))
    for fold in range(FOLDS):
        held, kept = folds == fold, np.flatnonzero(folds != fold)
        form, fit = min(((form, form.fit(ms, vocab, kept)) for form in forms), key=lambda pair: _cv_error(pair[1]))
        cv_log_ms[held] = form.offset[held] + fit.intercept + form.x[held] @ fit.weights
    return replace(best, log_ratios=np.log(ms) - cv_log_ms, cv_log_ms=cv_log_ms)


class SlotLatencyModel:
    """Latency (ms) of a space's architectures on devices timed on them (:func:`reference_count`
    architectures each; ``gennas latency measure`` times them here). Stands in for the
    pretrained estimator where a space has none: same ``predict`` / ``predict_soft`` /
    ``upper_bound`` / ``adapt`` / ``reference_archs``."""

    #: no device comes with the space
    bundled: tuple[str, ...] = ()
    #: none is partial: any :data:`MIN_TIMED` or more random timings calibrate the bound
    partial_devices: frozenset[str] = frozenset()

    def __init__(self, space: SearchSpace | str, base: ReferencedLatencyModel | None = None) -> None:
        """``base``: the space's pretrained estimator, whose references a device is timed on as well
        (:meth:`reference_archs`) and whose prediction from them a fit may correct (module doc)."""
        self.space = resolve_space(space)
        self.base = base
        self.fits: dict[str, SlotFit] = {}

    @property
    def devices(self) -> list[str]:
        return sorted(self.fits)

    def reference_archs(self, k: int | None = None) -> list[ArchGraph]:
        """The architectures a device is timed on: ``k`` (default :func:`reference_count`, at least
        :data:`MIN_TIMED`) distinct seeded random ones whose output can depend on the input; every
        ``k`` starts with the same ones."""
        k = reference_count(self.space) if k is None else int(k)
        if not MIN_TIMED <= k <= MAX_TIMED:
            raise GennasError(f"a {self.space.name} device is timed on {MIN_TIMED} to {MAX_TIMED} architectures, "
                              f"got {k}")
        base = self._base_references()
        skipped = {self.space.to_string(a) for a in base}
        picked: dict[str, ArchGraph] = {}
        for arch in self.space.sample_many(4 * k, REFERENCE_SEED):
            if not self.space.output_is_constant(arch) and self.space.to_string(arch) not in skipped:
                picked.setdefault(self.space.to_string(arch), arch)
            if len(picked) == k:
                break
        if len(picked) < MIN_TIMED:  # a space this small is timed whole, not modelled
            raise GennasError(f"{self.space.name} has {len(picked)} distinct architectures whose output can depend on "
                              f"the input (in {4 * k} draws): too few for a latency model, which needs {MIN_TIMED}; "
                              "time each with gennas.measure_latency and keep those under the budget")
        return base + list(picked.values())

    @property
    def _stacked_base(self) -> ReferencedLatencyModel:
        """The base estimator a stacked device corrects (a device is stacked only on a base's references)."""
        return cast(ReferencedLatencyModel, self.base)

    def _base_references(self) -> list[ArchGraph]:
        """The base estimator's reference architectures, first of those a device is timed on (none
        without a base)."""
        return [] if self.base is None else list(self.base.reference_archs())

    def adapt(self, device_name: str, samples: Samples, **_: object) -> SlotLatencyModel:
        """Fit ``device_name`` from measured ``(arch, ms)`` samples (at least :data:`MIN_TIMED`
        distinct architectures, ms finite and positive; repeats averaged); returns ``self``. The
        bound promises its confidence over architectures drawn as these were: time random ones
        (:meth:`reference_archs`), not a hand-picked few. Where the samples hold every reference of
        the ``base`` estimator, those adapt it to the device (under the same name) and the rest are
        fitted both alone and as corrections of its prediction (module doc)."""
        if not isinstance(device_name, str) or not device_name.strip():
            raise GennasError(f"device name must be a non-empty string, got {device_name!r}")
        by_arch: dict[str, list[float]] = {}
        for arch, ms in samples:
            try:
                value = float(ms)
            except (TypeError, ValueError):
                raise GennasError(f"adapting {device_name!r}: latency {ms!r} of {arch} is not a number") from None
            if not (math.isfinite(value) and value > 0):
                raise GennasError(f"adapting {device_name!r}: latency {ms!r} ms of {arch} is not a positive number")
            by_arch.setdefault(self.space.to_string(self.space.parse(arch)), []).append(value)
        references = {self.space.to_string(a): a for a in self._base_references()}
        stacked = bool(references) and references.keys() <= by_arch.keys()
        if stacked:  # the estimator adapted as `gennas latency measure` adapts it; the rest are random
            self._stacked_base.adapt(device_name, [(arch, float(np.mean(by_arch.pop(label))))
                                                   for label, arch in references.items()])
        if len(by_arch) < MIN_TIMED:
            what = f"besides the estimator's {len(references)} references, a device timed at random needs" \
                if stacked else "a space without a pretrained latency estimator needs"
            random_count = len(self.reference_archs()) - len(references)
            raise GennasError(f"adapting {device_name!r}: {len(by_arch)} distinct {self.space.name} architectures timed; "
                              f"{what} at least {MIN_TIMED} ({random_count} by `gennas latency measure`)")
        archs = [self.space.parse(a) for a in by_arch]
        mean_ms = np.array([np.mean(v) for v in by_arch.values()])
        vocab = len(self.space.slot_vocab)
        # whether the device spends time on the ops the built network skips depends on what built
        # the timed networks (gennas' cells skip them, NAS-Bench-201's own code did not), and
        # whether it ranks choices as the estimator's devices do is the device's own: the form
        # that cross-validates better describes it
        forms = [Form(one_hot(self.space, archs, computed), np.zeros(len(mean_ms)), computed, stacked=False)
                 for computed in (False, True)]
        forms += [Form(form.x, np.log(self._base_ms(archs, device_name, form.computed)), form.computed, stacked=True)
                  for form in forms[:2] if stacked]
        self.fits[device_name] = fit_best_form(forms, mean_ms, vocab, nested=stacked)
        return self

    def _base_ms(self, archs: Sequence[ArchGraph], device: str, computed: bool) -> np.ndarray:
        """The base estimator's ms ``(n,)`` on ``device`` of ``archs``, or (``computed``) of the networks
        they build: each skipped op as the space's zero op. The estimator learnt from tables whose
        networks ran every op; `gennas latency measure` times gennas' networks, which skip them. On
        this project's VM (400 cells timed in one sitting) the estimator's prediction of the computed
        networks erred by an RMS of 0.24 in log ms, of the listed ones by 0.31; corrected from 30
        random cells, by 0.13 and 0.26."""
        return self._stacked_base.predict(as_computed(self.space, archs) if computed else archs, device)

    def _fit(self, device: str) -> SlotFit:
        if device not in self.fits:
            from gennas.surrogates.measure import broken_device_note

            raise UnknownDevice(unknown("device", device, self.devices) + (
                broken_device_note(device, self.space.name) or
                f" ({self.space.name} has no pretrained latency estimator: time {reference_count(self.space)} of its "
                f"architectures on the device with `gennas latency measure --space ... --name {device}`)"))
        return self.fits[device]

    def predict(self, archs: Sequence[ArchGraph | str] | ArchGraph | str, device: str) -> np.ndarray:
        """Latency in ms of each architecture on ``device``, float64 ``(len(archs),)``."""
        fit = self._fit(device)
        archs = [archs] if isinstance(archs, (ArchGraph, str)) else list(archs)
        if not archs:
            return np.zeros(0)
        parsed = [self.space.parse(a) for a in archs]
        base_ms = self._base_ms(parsed, device, fit.computed) if fit.stacked else 1.0
        return base_ms * np.exp(fit.intercept + one_hot(self.space, parsed, fit.computed) @ fit.weights)

    def _time_more(self, device: str, needed: int) -> str:
        """How to time ``device`` on ``needed`` architectures, as a command that works pasted (it read
        `gennas latency measure --cells N --force`: no --name, --space or the device's clock)."""
        from gennas.surrogates.measure import registered_record
        from gennas.surrogates.measure_commands import measure_command

        if needed > MAX_TIMED:
            return f"a device is timed on at most {MAX_TIMED} architectures"
        record = registered_record(device, self.space.name) or {}
        return f"time more with `{measure_command(device, self.space, {**record, 'cells': needed})}`"

    def bound_factor(self, device: str, confidence: float = 0.95, predicted_ms: np.ndarray | None = None
                     ) -> float | np.ndarray:
        """``upper_bound / predict`` on ``device``: ``exp`` of the conformal quantile of the
        cross-validated log ratios of the timed architectures predicted alike, per prediction
        ``(n,)`` ms (without them the largest, one number); a confidence the timed count cannot
        promise is refused."""
        fit = self._fit(device)
        confidence = check_confidence(confidence)
        if confidence > fit.max_confidence():
            needed = math.ceil(confidence / (1 - confidence))
            raise GennasError(f"a {confidence:g} latency bound on {device!r} needs at least {needed} timed "
                              f"architectures; it has {fit.count} (at most {fit.max_confidence():.3f}: "
                              f"{self._time_more(device, needed)}, or lower the confidence)")
        edges, quantiles = fit.quantiles(confidence)
        if predicted_ms is None:
            return float(np.exp(quantiles.max()))
        return np.exp(quantiles[np.digitize(np.log(np.asarray(predicted_ms, dtype=np.float64)), edges)])

    def upper_bound(self, archs: Sequence[ArchGraph | str] | ArchGraph | str, device: str,
                    confidence: float = 0.95) -> np.ndarray:
        """Upper bound of the latency (ms) on ``device`` at ``confidence``, float64 ``(len(archs),)``:
        an architecture drawn as the timed ones were is at most this with that probability."""
        predicted = self.predict(archs, device)
        return predicted * self.bound_factor(device, confidence, predicted)

    def predict_soft(self, slot_probs: torch.Tensor, device: str) -> torch.Tensor:
        """Differentiable latency (ms) ``(B,)`` of relaxed architectures ``(B, num_slots, len(slot_vocab))``:
        ``exp`` of the expected log latency under the slot distributions (for a fit on the computed
        ops, as if every listed op ran: an over-estimate that only steers generation; budgets are
        judged by :meth:`upper_bound`)."""
        fit = self._fit(device)
        expected = (self.space.num_slots, len(self.space.slot_vocab))
        if slot_probs.ndim != 3 or tuple(slot_probs.shape[1:]) != expected:
            raise GennasError(f"slot_probs must have shape (B, {expected[0]}, {expected[1]}), got {tuple(slot_probs.shape)}")
        weights = torch.as_tensor(fit.weights.reshape(expected), dtype=torch.float32, device=slot_probs.device)
        corrected = torch.exp(fit.intercept + (slot_probs.float() * weights).sum((1, 2)))
        return self._stacked_base.predict_soft(slot_probs, device) * corrected if fit.stacked else corrected
