"""A calibrated upper bound on latency, for devices known only from a few measurements.

The latency estimator's point prediction for a device it adapted to from its 10 reference
latencies is off by a few % (GPUs) to tens of % (phones, CPUs), so a budget judged by the point
prediction lets about half of the designs near the budget go over it. The bound::

    bound_ms = predicted_ms * exp(q(confidence) * s_device)      s_device = spread + floor

is a split-conformal upper bound. ``spread`` is the device's own root-mean-square leave-one-out
log-error on the samples it was adapted from (:func:`loo_rms`, closed form, set by ``adapt``):
it scales the bound to the device (a GPU whose references fit to 3 % gets a tight bound, a
phone whose references fit to 40 % a wide one). ``floor`` keeps a device whose few samples
happen to fit well from getting a bound of zero width. ``q`` is the ``confidence``-quantile,
with the finite-sample correction, of pooled *normalised* residuals ``log(true / predicted) /
s_device`` measured leave-one-device-out: for each bundled device, an estimator that never saw
it, adapted from its reference latencies only, predicted every cell of the space. The promise is
marginal: over devices like the bundled ones and their cells, the truth is within the bound
with probability ``confidence``; on a single device coverage varies (see docs/results.md, "Latency budgets kept, by the measurements").

``q`` is taken per bin of the cell's *predicted-latency rank* on the device (``bin_edges``:
quantiles of the space's predicted latencies there; Mondrian conformal, as the accuracy
calibration bins by predicted value). A budget binds among the fast cells, and there the
held-out residuals are wider (nb201, 95 %: q 1.11 among the fastest 5 %, 0.77 among the slowest
30 %, 0.92 pooled): one pooled ``q`` kept its promise on average over the space but not where the
budget was judged (pixel3 at its 10th-percentile latency: 9.7 % of the cells the bound admitted
were over: ``python experiments/calibrate_latency.py``, with and without ``--no-bins``).
Within a bin the promise is the same marginal one. Across a bin edge the bound can step down
while the prediction rises a little.

The calibration is a small table (confidence grid -> ``q``, the floor, the typical spread used
for devices without one, such as bundled devices loaded from a checkpoint) in
``gennas/data/latency_bound_<space>.npz``, written by ``experiments/calibrate_latency.py`` (its
command is stored in the file) and read without pickle.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gennas.errors import GennasError, GennasWarning, caller_stacklevel
from gennas.resources import data_dir

__all__ = ["BoundCalibration", "OutlyingTiming", "calibration_path", "check_confidence", "conformal_quantile",
           "deferred_outliers", "load_calibration", "loo_residuals", "loo_rms", "spread_of", "warn_outlying"]

SCALES = ("none", "spread")


def check_confidence(confidence: Any) -> float:
    """``confidence`` as a float strictly between 0 and 1 (else :class:`GennasError`)."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise GennasError(f"confidence must be a number in (0, 1), got {confidence!r}") from None
    if not 0.0 < value < 1.0:  # also False for nan
        raise GennasError(f"confidence must be in (0, 1) (e.g. 0.95), got {confidence!r}")
    return value


def conformal_quantile(scores: np.ndarray, confidence: float) -> float:
    """Split-conformal quantile: the ``ceil((n + 1) * confidence)``-th smallest of ``n`` scores
    (``inf`` when that exceeds ``n``); a new exchangeable score is below it with probability
    at least ``confidence``."""
    scores = np.sort(np.asarray(scores, dtype=np.float64).reshape(-1))
    rank = math.ceil((len(scores) + 1) * check_confidence(confidence))
    return float(scores[rank - 1]) if rank <= len(scores) else math.inf


def loo_residuals(x: torch.Tensor, z: np.ndarray, w: torch.Tensor, lam: float) -> np.ndarray:
    """Leave-one-out residuals ``(n,)`` of the ridge fit ``w`` ``(d,)`` of targets ``z`` ``(n,)`` on
    features ``x`` ``(n, d)`` (ridge strength ``lam`` > 0 or ``n >= d``), in closed form:
    ``e_i / (1 - h_ii)`` with ``h`` the hat matrix's diagonal (the prior the fit is pulled towards
    does not change ``h``). In the units of ``z``."""
    x = x.double()
    gram = x.T @ x + lam * torch.eye(x.shape[1], dtype=torch.float64)
    leverage = (x @ torch.linalg.inv(gram) * x).sum(1)
    residual = torch.as_tensor(z, dtype=torch.float64) - x @ w.double()
    return (residual / (1 - leverage).clamp_min(1e-6)).numpy()


def loo_rms(x: torch.Tensor, z: np.ndarray, w: torch.Tensor, lam: float) -> float:
    """Root-mean-square of :func:`loo_residuals`, in the units of ``z``."""
    return float(np.sqrt(np.mean(np.square(loo_residuals(x, z, w, lam)))))


class OutlyingTiming(GennasWarning):
    """One timing a device was adapted from lies far from what the others predict: it alone
    widens every latency bound on the device."""


#: a timing is outlying where its leave-one-out log-error exceeds this many times the samples'
#: median one, and :data:`OUTLIER_MIN_LOG` (a factor of 3): samsung_a50's table times its first
#: reference cell at 117 ms where the other nine predict 9.4, and every bound on a device adapted
#: from those ten was 3x its prediction, though the predictions err 9 % (rms, log) over the space;
#: of the 19 bundled devices' references it flags samsung_a50's and samsung_s7's (41 ms for 9.1),
#: not pixel3's farthest, a factor of 2 off (``python experiments/outlying_timings.py``)
OUTLIER_RATIO = 4.0
OUTLIER_MIN_LOG = math.log(3.0)
#: ... and where the device's spread without it is at most this share of the spread with it: among
#: many timings no one timing widens the bounds, and adapting to every cell of a table (as
#: ``LatencyEstimator.fit`` does, 15,625 on nb201) named dozens of cells per device whose removal
#: left the spread as it was ("its spread 0.29, 0.29 without it"); samsung_a50's reference: 0.93
#: -> 0.50
OUTLIER_WIDENS = 0.8


#: set inside :func:`deferred_outliers`: device -> its OutlyingTiming messages, kept, not warned
_DEFERRED: ContextVar[dict[str, list[str]] | None] = ContextVar("gennas_deferred_outliers", default=None)


@contextmanager
def deferred_outliers() -> Iterator[dict[str, list[str]]]:
    """Inside the block :func:`spread_of` keeps each device's :class:`OutlyingTiming` messages in
    the dict it yields (device -> messages) instead of warning them. Every latency command adapts
    every device registered in the home: one device's outlying timing was warned by commands about
    others, and under ``PYTHONWARNINGS=error::UserWarning`` ended them (user walk 45)."""
    kept: dict[str, list[str]] = {}
    token = _DEFERRED.set(kept)
    try:
        yield kept
    finally:
        _DEFERRED.reset(token)


def warn_outlying(model: Any, device: str | None) -> None:
    """Warn the :class:`OutlyingTiming` kept for ``device`` when ``model`` loaded it (its
    ``outlying_timings``, set by :func:`~gennas.surrogates.routed_latency.registered_models`),
    now that the device is used."""
    for message in getattr(model, "outlying_timings", {}).get(device, []):
        warnings.warn(message, OutlyingTiming, stacklevel=caller_stacklevel())


def spread_of(x: torch.Tensor, z: np.ndarray, w: torch.Tensor, lam: float, sigma: float, device: str,
              archs: list[Any], ms: np.ndarray) -> float:
    """A device's spread, ``sigma`` x :func:`loo_rms` (log units), for the timings ``ms`` ``(n,)``
    of ``archs`` it was adapted from; an :class:`OutlyingTiming` warning names each timing that
    alone widens it (:data:`OUTLIER_RATIO`, :data:`OUTLIER_MIN_LOG`, :data:`OUTLIER_WIDENS`), with the
    spread without it (kept instead inside :func:`deferred_outliers`)."""
    log_error = sigma * loo_residuals(x, z, w, lam)
    spread = float(np.sqrt(np.mean(np.square(log_error))))
    far = np.flatnonzero(np.abs(log_error) > max(OUTLIER_RATIO * float(np.median(np.abs(log_error))), OUTLIER_MIN_LOG))
    kept = _DEFERRED.get()
    for i in far if len(log_error) >= 5 else []:  # a median of fewer says nothing of what is typical
        others = float(np.sqrt(np.mean(np.square(np.delete(log_error, i)))))
        if others > OUTLIER_WIDENS * spread:
            continue
        message = (f"device {device!r}: {getattr(archs[i], 'to_string', lambda: archs[i])()} timed at {ms[i]:.4g} "
                   f"ms, where the other timings predict {ms[i] / math.exp(log_error[i]):.3g} ms; this one timing "
                   f"widens every latency bound on the device (its spread {spread:.2f}, {others:.2f} without it): "
                   "time it again, or check it")
        if kept is not None:
            kept.setdefault(device, []).append(message)
        else:
            warnings.warn(message, OutlyingTiming, stacklevel=caller_stacklevel())
    return spread


@dataclass(frozen=True)
class BoundCalibration:
    """Quantiles of normalised leave-one-device-out log-ratio residuals.

    Attributes:
        space: the search space's name.
        confidences: increasing grid in (0, 1), ``(C,)``.
        quantiles: ``q`` at each confidence, non-decreasing, ``(B, C)``: one row per bin of
            predicted-latency rank (units of the device scale; ``(C,)`` is read as one bin).
        scale: ``"spread"`` (residuals divided by ``spread + floor``) or ``"none"`` (not scaled).
        floor: added to a device's spread (log units).
        typical_spread: the spread assumed for a device that has none recorded (log units).
        device_spreads: spreads of the pretrained estimator's bundled devices (whose checkpoint
            records none), each as if adapted from its 10 reference latencies.
        command: the command that wrote it.
        note: what it was computed from (held-out devices, cells, training steps).
        bin_edges: ``(B - 1,)`` increasing in (0, 1): the inner edges of the bins of a cell's
            predicted-latency rank on its device (empty: one bin, ``q`` the same for every cell).
    """

    space: str
    confidences: np.ndarray
    quantiles: np.ndarray
    scale: str = "spread"
    floor: float = 0.05
    typical_spread: float = 0.05
    command: str = ""
    note: str = ""
    device_spreads: dict[str, float] = field(default_factory=dict)
    bin_edges: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        c, q = np.asarray(self.confidences, float), np.atleast_2d(np.asarray(self.quantiles, float))
        edges = np.asarray(self.bin_edges, float).reshape(-1)
        if c.ndim != 1 or q.ndim != 2 or q.shape != (len(edges) + 1, len(c)) or len(c) == 0:
            raise GennasError(f"calibration grid and quantiles must be a vector and one row of it per bin "
                              f"({len(edges) + 1}), got {c.shape}, {q.shape}")
        if np.any(np.diff(c) <= 0) or c[0] <= 0 or c[-1] >= 1 or np.any(np.diff(q) < 0) or not np.all(np.isfinite(q)):
            raise GennasError("calibration must have an increasing grid in (0, 1) and finite non-decreasing quantiles")
        if np.any(np.diff(edges) <= 0) or np.any((edges <= 0) | (edges >= 1)):
            raise GennasError(f"calibration bin edges must increase within (0, 1), got {edges}")
        object.__setattr__(self, "quantiles", q)
        object.__setattr__(self, "bin_edges", edges)
        if self.scale not in SCALES:
            raise GennasError(f"calibration scale must be one of {SCALES}, got {self.scale!r}")
        if not (self.floor >= 0 and self.typical_spread >= 0 and self.floor + self.typical_spread > 0):
            raise GennasError(f"calibration floor and typical spread must be >= 0, not both 0, got "
                              f"{self.floor!r}, {self.typical_spread!r}")

    @classmethod
    def from_residuals(cls, space: str, residuals: np.ndarray, confidences: np.ndarray, scale: str = "spread",
                       floor: float = 0.05, typical_spread: float = 0.05, command: str = "",
                       note: str = "", ranks: np.ndarray | None = None,
                       bin_edges: np.ndarray | None = None) -> BoundCalibration:
        """Conformal quantiles of normalised residuals ``(n,)`` (see :meth:`device_scale`) at each
        confidence of the grid; with ``bin_edges``, per bin of ``ranks`` ``(n,)`` (each residual's
        cell's predicted-latency rank on its device, in (0, 1))."""
        edges = np.zeros(0) if bin_edges is None else np.asarray(bin_edges, float)
        bins = np.zeros(len(residuals), int) if ranks is None else _bin_of(ranks, edges)
        q = np.array([[conformal_quantile(residuals[bins == b], c) for c in confidences]
                      for b in range(len(edges) + 1)])
        return cls(space, np.asarray(confidences, float), np.maximum.accumulate(q, axis=1), scale, float(floor),
                   float(typical_spread), command, note, bin_edges=edges)

    @property
    def binned(self) -> bool:
        """True when ``q`` depends on the cell's predicted-latency rank (:attr:`bin_edges`)."""
        return len(self.bin_edges) > 0

    def device_scale(self, spread: float | None, device: str | None = None, partial: bool = False) -> float:
        """What a device's log-ratio residuals are divided by: ``spread + floor``, or 1 without
        scaling. An unknown ``spread`` is the recorded one of ``device``, else ``typical_spread``.
        ``partial``: the device was adapted without all its references, which the calibration
        never saw (one sample fits exactly, so its spread says nothing): it gets at least the
        widest spread of the bundled devices."""
        if self.scale == "none":
            return 1.0
        if spread is None:
            spread = self.device_spreads.get(device, self.typical_spread) if device else self.typical_spread
        if partial:
            spread = max(float(spread), self.typical_spread, *self.device_spreads.values())
        return float(spread) + self.floor

    def quantile(self, confidence: float, ranks: np.ndarray | None = None) -> float | np.ndarray:
        """``q`` at ``confidence``, linear between grid points; outside the grid is refused
        (the residual sample says nothing there). With ``ranks`` ``(n,)`` (predicted-latency
        ranks in [0, 1]), each one's bin's ``(n,)``; without, the largest over the bins."""
        c = check_confidence(confidence)
        lo, hi = float(self.confidences[0]), float(self.confidences[-1])
        if not lo - 1e-12 <= c <= hi + 1e-12:
            raise GennasError(f"the {self.space} latency bound is calibrated for confidence in "
                              f"[{lo:g}, {hi:g}], got {c:g}")
        per_bin = np.array([np.interp(c, self.confidences, row) for row in self.quantiles])
        if ranks is None:
            return float(per_bin.max())
        return per_bin[_bin_of(ranks, self.bin_edges)]

    def factor(self, confidence: float, spread: float | None, device: str | None = None,
               partial: bool = False, ranks: np.ndarray | None = None) -> float | np.ndarray:
        """Multiplier on the point prediction (ms) for a device of leave-one-out ``spread`` (log
        units; None and ``partial``: see :meth:`device_scale`); per cell ``(n,)`` with ``ranks``
        (see :meth:`quantile`), else the largest over the bins."""
        return np.exp(self.quantile(confidence, ranks) * self.device_scale(spread, device, partial))

    def save(self, path: str | Path) -> Path:
        """Write as ``.npz`` of plain arrays and strings (readable with ``allow_pickle=False``)."""
        path = Path(path)
        np.savez(path, space=np.str_(self.space), confidences=self.confidences, quantiles=self.quantiles,
                 scale=np.str_(self.scale), floor=np.float64(self.floor),
                 typical_spread=np.float64(self.typical_spread), command=np.str_(self.command),
                 note=np.str_(self.note), spread_devices=np.array(list(self.device_spreads), dtype=np.str_),
                 spread_values=np.array(list(self.device_spreads.values()), dtype=np.float64),
                 bin_edges=self.bin_edges)
        return path

    @classmethod
    def load(cls, path: str | Path) -> BoundCalibration:
        """Read a file written by :meth:`save` (no pickle)."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                spreads = {str(d): float(v) for d, v in zip(z["spread_devices"], z["spread_values"])}
                edges = z["bin_edges"].astype(float) if "bin_edges" in z.files else np.zeros(0)  # older: unbinned
                return cls(str(z["space"]), z["confidences"].astype(float), z["quantiles"].astype(float),
                           str(z["scale"]), float(z["floor"]), float(z["typical_spread"]), str(z["command"]),
                           str(z["note"]), spreads, edges)
        except (OSError, KeyError, ValueError) as exc:
            raise GennasError(f"{path} is not a latency-bound calibration: {exc}") from None


def _bin_of(ranks: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index ``(n,)`` of each predicted-latency rank ``(n,)`` among inner ``edges`` (0 below the first)."""
    return np.searchsorted(edges, np.asarray(ranks, float), side="right")


def calibration_path(space: str) -> Path:
    """Where the bundled calibration of ``space`` lives."""
    return data_dir() / f"latency_bound_{space}.npz"


@lru_cache(maxsize=8)
def load_calibration(space: str) -> BoundCalibration:
    """The bundled calibration of ``space`` (cached); :class:`GennasError` when there is none."""
    path = calibration_path(space)
    if not path.is_file():
        raise GennasError(f"no calibrated latency bound for space {space!r} (expected {path}); "
                          "compute one with experiments/calibrate_latency.py")
    calibration = BoundCalibration.load(path)
    if calibration.space != space:
        raise GennasError(f"{path} calibrates space {calibration.space!r}, not {space!r}")
    return calibration
