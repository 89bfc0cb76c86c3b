"""Few-shot latency estimator: a DAG GNN with a hardware embedding (the HELP idea).

A device is described by the latencies of ``k`` fixed *reference architectures*. Per device,
log-latencies are standardised by the mean ``mu`` and standard deviation ``sigma`` of the
references' log-latencies, which makes the targets unit-free (a 2x slower phone is the same
device up to ``mu``). The model is bilinear::

    z(arch, device) = [phi(arch), 1] . w(device)          ms = exp(mu + sigma * z)

``phi`` is a :class:`~gennas.models.gnn.DAGEncoder` plus an MLP (``rank`` features); ``w`` comes from
an MLP over the references' standardised log-latencies (the hardware embedding). Adapting to a
new device from ``(arch, ms)`` samples is cheap and closed-form: embed the references, then a
ridge fit of ``w`` on the samples pulled towards that embedding. Training (:meth:`fit`) goes
through that same closed-form fit (it is differentiable), so the features are learnt for
10-sample adaptation; it uses the bundled devices plus *virtual* devices whose latency is a
random convex mix of two real ones (a device that spends time like both), so the hardware
encoder sees more than the real devices.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gennas.checkpoint import Checkpoint, config_dict, config_from_dict, load_checkpoint, save_checkpoint
from gennas.errors import GennasError, GennasWarning, InvalidArchitecture, UnknownDevice, first_line, unknown_device
from gennas.models.gnn import archs_to_node_features, slot_probs_to_node_features
from gennas.graph import ArchGraph
from gennas.surrogates.latency_checks import check_latencies, check_ridge
from gennas.surrogates.latency_net import LatencyConfig, LatencyNet, ms_of  # LatencyConfig: re-exported
from gennas.surrogates.latency_bound import BoundCalibration, load_calibration, spread_of
from gennas.surrogates.latency_refs import select_references  # re-exported
from gennas.surrogates.measure import broken_device_note, measure_latency  # measure_latency: re-exported
from gennas.surrogates.routed_latency import RoutedLatencyModel, registered_models
from gennas.surrogates.slot_latency import SlotLatencyModel, as_computed
from gennas.resources import checkpoints_dir
from gennas.seeds import keeps_callers_torch_stream, seeded_torch
from gennas.spaces import SearchSpace, as_rng, resolve_space
from gennas.state_fit import declared_shapes, state_mismatch
from gennas.training import ridge_solve

__all__ = ["LatencyConfig", "LatencyEstimator", "load_latency_estimator", "measure_latency", "select_references"]

Samples = Sequence[tuple[ArchGraph | str, float]]
KIND = "latency"
#: samples a prediction is ranked among where the space is too large to list (the bound's bins)
RANK_SAMPLES = 5000


def _log_stats(ms: np.ndarray) -> tuple[float, float]:
    return float((logs := np.log(ms)).mean()), max(float(logs.std()), 1e-3)


def _solvable(lam: float, x: torch.Tensor) -> float:
    """The ridge strength, nudged off 0 where fewer samples than unknowns leave no unique fit."""
    return 1e-6 if lam <= 0 and x.shape[0] < x.shape[1] else lam


class LatencyEstimator:
    """Predicts inference latency (ms) of architectures of one space on known or adapted devices.

    Attributes:
        space: the search space.
        references: the fixed reference architectures (what a new device must measure).
        device_params: device -> (mu, sigma, w) with ``w`` a float32 tensor ``(rank+1,)``.
        calibration: the upper bound's calibration (None: the space's bundled one).
        device_spread: device -> RMS leave-one-out log-ratio error of the samples it was adapted
            from (set by :meth:`adapt`; devices loaded from a checkpoint have none).
    """

    def __init__(self, space: SearchSpace | str, config: LatencyConfig | None = None,
                 references: Sequence[ArchGraph] = (), seed: int = 0) -> None:
        self.space = resolve_space(space)
        self.config = config or LatencyConfig()
        # initial weights from ``seed`` (as Predictor's): torch's own seed differs per process, and one
        # leave-one-device-out fold gave 0.895, then 0.900 (a user walk); the caller's stream stays (walk 44)
        with seeded_torch(seed):
            self.net = LatencyNet(self.space, self.config).eval()
        self.references = [self.space.parse(a) for a in references]
        self.device_params: dict[str, tuple[float, float, torch.Tensor]] = {}
        self.bundled: list[str] = []
        self.calibration: BoundCalibration | None = None  # None: the space's bundled one
        self.device_spread: dict[str, float] = {}  # device -> leave-one-out RMS log-error of its samples
        self.partial_devices: set[str] = set()  # adapted without every reference: a wider bound
        # timed as gennas builds networks (skipping an op whose input is dead), not as the tables'
        # code ran them (every op): predicted as those networks (``adapt(computed=True)``)
        self.computed_devices: set[str] = set()
        # phi of the cells predictions are ranked among: as listed, and as gennas computes them
        self._rank_phi: dict[bool, torch.Tensor] = {}
        # device -> (its parameters, its sorted predictions of those cells): one sort per adaptation
        self._rank_ms: dict[str, tuple[tuple[float, float, torch.Tensor], np.ndarray]] = {}

    # ------------------------------------------------------------ devices
    @property
    def devices(self) -> list[str]:
        """Every device it predicts for: bundled (fitted on their tables) and adapted, sorted."""
        return sorted(self.device_params)

    def __repr__(self) -> str:
        adapted = len(self.device_params) - len(self.bundled)
        return (f"LatencyEstimator({self.space.name}, devices={len(self.bundled)} bundled + {adapted} adapted, "
                f"references={len(self.references)})")

    def reference_archs(self, k: int | None = 10) -> list[ArchGraph]:
        """The first ``k`` reference architectures (greedy order, so any prefix is a good design)."""
        k = len(self.references) if k is None else int(k)
        if not 1 <= k <= len(self.references):
            raise GennasError(f"k must be in 1..{len(self.references)} (references of this estimator), got {k}")
        return list(self.references[:k])

    def _features(self, archs: Sequence[ArchGraph | str]) -> torch.Tensor:
        parsed = [self.space.parse(a) for a in archs]
        return archs_to_node_features(self.space, parsed)

    def _phi(self, archs: Sequence[ArchGraph | str], batch: int = 4096) -> torch.Tensor:
        with torch.no_grad():
            feats = self._features(archs)
            return torch.cat([self.net.phi(self.space, feats[i:i + batch]) for i in range(0, len(feats), batch)])

    def embed(self, ref_ms: np.ndarray) -> tuple[float, float, torch.Tensor]:
        """Hardware embedding from the references' latencies ``(k,)`` ms -> (mu, sigma, w0)."""
        ref_ms = np.asarray(ref_ms, dtype=np.float64)
        check_latencies(ref_ms, "reference latencies")
        if ref_ms.shape != (self.config.k,):
            raise GennasError(f"expected {self.config.k} reference latencies, got {ref_ms.shape}")
        mu, sigma = _log_stats(ref_ms)
        ref_z = torch.tensor((np.log(ref_ms) - mu) / sigma, dtype=torch.float32)
        with torch.no_grad():
            return mu, sigma, self.net.hardware(ref_z[None])[0]

    def adapt(self, device_name: str, samples: Samples, ridge: float | None = None,
              phi_cache: torch.Tensor | None = None, phi_rows: dict[ArchGraph, int] | None = None,
              computed: bool = False) -> LatencyEstimator:
        """Register ``device_name`` from measured ``(arch, ms)`` samples; returns ``self``.

        The samples should include the reference architectures (:meth:`reference_archs`): they
        give the hardware embedding. Then ``w`` is refitted on all samples by ridge regression
        towards that embedding (closed form, milliseconds). Without every reference, the prior
        is the mean of the known devices' vectors, shifted through the samples (see
        :meth:`_partial_prior`; one sample gives that mean device scaled to it). ``ridge`` (default
        ``config.ridge``) must be finite and >= 0.
        ``phi_cache`` ``(n, rank)`` with ``phi_rows`` (arch -> row) skips re-encoding known archs.
        ``computed``: the samples time gennas' networks (``gennas latency measure``), which skip an op
        whose input is dead; the device then predicts those networks (:func:`~gennas.surrogates.
        slot_latency.as_computed`): on this project's VM the RMS log error of 400 other cells fell
        from 0.32-0.35 to 0.24-0.25 (three sittings, ``experiments/stacked_latency.py --here``).
        """
        if not isinstance(device_name, str) or not device_name.strip():
            raise GennasError(f"device name must be a non-empty string, got {device_name!r}")
        if not samples:
            raise GennasError(f"adapting {device_name!r}: no samples given")
        if device_name in self.bundled:  # replaced without a word, pixel3 read 200 ms for a 3 ms cell
            warnings.warn(f"adapt({device_name!r}) replaces the bundled device of that name (its model from the "
                          "tables) in this estimator; adapt under another name to keep it", GennasWarning, stacklevel=2)
        try:
            archs = [self.space.parse(a) for a, _ in samples]
            ms = np.array([float(m) for _, m in samples], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, GennasError):
                raise
            raise GennasError(f"adapting {device_name!r}: samples must be (arch, ms) pairs ({exc})") from None
        check_latencies(ms, f"adapting {device_name!r}")
        (self.computed_devices.add if computed else self.computed_devices.discard)(device_name)
        # Average repeated archs: the embedding wants one latency per reference.
        by_arch: dict[ArchGraph, list[float]] = {}
        for a, m in zip(archs, ms):
            by_arch.setdefault(a, []).append(m)
        archs, ms = list(by_arch), np.array([float(np.mean(v)) for v in by_arch.values()])
        lam = check_ridge(self.config.ridge if ridge is None else ridge, device_name)
        phi = self._phi(archs) if phi_cache is None else phi_cache[[phi_rows[a] for a in archs]]
        refs = self.references[:self.config.k]
        if refs and all(r in by_arch for r in refs):
            mu, sigma, w0 = self.embed(np.array([np.mean(by_arch[r]) for r in refs]))
            self.partial_devices.discard(device_name)
        else:
            mu, sigma, w0 = self._partial_prior(phi, ms, device_name)
            self.partial_devices.add(device_name)
        z = (np.log(ms) - mu) / sigma
        w = self._ridge(phi, z, w0, lam)
        self.device_params[device_name] = (mu, sigma, w)
        x = torch.cat([phi, torch.ones(len(phi), 1)], 1)
        self.device_spread[device_name] = spread_of(x, z, w, _solvable(lam, x), sigma, device_name, archs, ms)
        return self

    def _partial_prior(self, phi: torch.Tensor, ms: np.ndarray, device_name: str
                       ) -> tuple[float, float, torch.Tensor]:
        """(mu, sigma, w0) for samples that miss some reference: the known devices' mean vector
        and median spread, shifted so that the prior goes through the samples' mean log-latency.

        The spread comes from the samples only when there are at least 3 of them: one or two
        latencies say nothing about it (one sample used to give sigma = 0, a flat prediction).
        """
        known = [p for n, p in self.device_params.items() if n != device_name]
        w0 = torch.stack([p[2] for p in known]).mean(0) if known else torch.zeros(self.config.rank + 1)
        prior_sigma = float(np.median([p[1] for p in known])) if known else 1.0
        sigma = _log_stats(ms)[1] if len(ms) >= 3 else prior_sigma
        z0 = LatencyNet.combine(phi, w0[None])[:, 0].double().numpy()
        mu = float(np.mean(np.log(ms) - sigma * z0))
        return mu, sigma, w0

    @staticmethod
    def _ridge(phi: torch.Tensor, z: np.ndarray, w0: torch.Tensor, lam: float) -> torch.Tensor:
        """argmin_w |[phi,1] w - z|^2 + lam |w - w0|^2, solved in float64."""
        x = torch.cat([phi, torch.ones(len(phi), 1)], 1)
        return ridge_solve(x, torch.as_tensor(z, dtype=torch.float64), _solvable(lam, x), prior=w0).float()

    def _device(self, device: str) -> tuple[float, float, torch.Tensor]:
        if device not in self.device_params:
            raise UnknownDevice(unknown_device(device, self.devices, broken_device_note(device, self.space.name)
                                               or " (register one with `gennas latency measure` or .adapt())"))
        return self.device_params[device]

    # ------------------------------------------------------------ prediction
    def predict(self, archs: Sequence[ArchGraph | str] | ArchGraph | str, device: str) -> np.ndarray:
        """Latency in ms of each architecture on ``device``, float64 ``(len(archs),)``."""
        params = self._device(device)
        if isinstance(archs, (ArchGraph, str)):
            archs = [archs]
        if len(archs) == 0:
            return np.zeros(0)
        return ms_of(self._phi(as_computed(self.space, archs) if device in self.computed_devices else archs), params)

    def upper_bound(self, archs: Sequence[ArchGraph | str] | ArchGraph | str, device: str,
                    confidence: float = 0.95) -> np.ndarray:
        """Calibrated upper bound of the latency (ms) on ``device``, float64 ``(len(archs),)``.

        The true latency of an architecture on a device adapted from its reference latencies is
        at most this with probability ``confidence`` (leave-one-device-out calibration; see
        :mod:`gennas.surrogates.latency_bound`). A bundled device loaded from the checkpoint has
        no samples to measure its spread on: the calibration file records one for it (as if
        adapted from its references); budgets there are judged by the measurements anyway. A
        device adapted without all its references is outside the calibration: it gets the widest
        spread of the bundled devices, a conservative guess. Where the calibration is binned by
        predicted-latency rank, each architecture gets its bin's factor (:meth:`predicted_rank`).
        """
        predicted = self.predict(archs, device)
        return predicted * self.bound_factor(device, confidence, predicted)

    def bound_factor(self, device: str, confidence: float = 0.95,
                     predicted_ms: np.ndarray | None = None) -> float | np.ndarray:
        """``upper_bound / predict`` on ``device``: per architecture ``(n,)`` of predictions
        ``predicted_ms`` (its rank's bin, see :mod:`gennas.surrogates.latency_bound`); without
        them one number per device and confidence, the largest over the bins (so a
        differentiable bound is ``predict_soft(...) * bound_factor(...)``)."""
        self._device(device)
        calibration = self.calibration or load_calibration(self.space.name)
        ranks = None if predicted_ms is None or not calibration.binned else self.predicted_rank(predicted_ms, device)
        return calibration.factor(confidence, self.device_spread.get(device), device,
                                  partial=device in self.partial_devices, ranks=ranks)

    def predicted_rank(self, predicted_ms: np.ndarray, device: str) -> np.ndarray:
        """Where each prediction ``(n,)`` ms lies among ``device``'s predictions of the space's
        cells (every one of an enumerable space, else :data:`RANK_SAMPLES` seeded uniform
        samples), as a share in [0, 1] ``(n,)`` (a cell of the space: its mid-rank / count). On a
        device predicted as gennas' networks (``computed_devices``), among its predictions of
        those networks: ranked among the listed ones, a prediction lay in a faster bin than the
        cell's own."""
        computed = device in self.computed_devices
        if computed not in self._rank_phi:
            cells = (list(self.space.enumerate()) if self.space.is_finite_enumerable()
                     else self.space.sample_many(RANK_SAMPLES, 0))
            self._rank_phi[computed] = self._phi(as_computed(self.space, cells) if computed else cells)
        params = self._device(device)
        cached = self._rank_ms.get(device)
        if cached is None or cached[0] is not params:  # adapted again since: its predictions moved
            cached = self._rank_ms[device] = (params, np.sort(ms_of(self._rank_phi[computed], params)))
        space_ms = cached[1]
        predicted_ms = np.asarray(predicted_ms, dtype=np.float64)
        below, through = np.searchsorted(space_ms, predicted_ms, "left"), np.searchsorted(space_ms, predicted_ms, "right")
        return (below + through) / (2.0 * len(space_ms))

    def predict_soft(self, slot_probs: torch.Tensor, device: str) -> torch.Tensor:
        """Differentiable latency (ms) ``(B,)`` of relaxed architectures ``(B, num_slots, len(slot_vocab))``."""
        mu, sigma, w = self._device(device)
        expected = (self.space.num_slots, len(self.space.slot_vocab))
        if slot_probs.ndim != 3 or tuple(slot_probs.shape[1:]) != expected:
            raise GennasError(f"slot_probs must have shape (B, {expected[0]}, {expected[1]}), got {tuple(slot_probs.shape)}")
        feats = slot_probs_to_node_features(self.space, slot_probs.float())
        z = LatencyNet.combine(self.net.phi(self.space, feats), w.to(slot_probs.device)[None])[:, 0]
        return torch.exp(mu + sigma * z)

    # ------------------------------------------------------------ training
    @keeps_callers_torch_stream
    def fit(self, archs: Sequence[ArchGraph], table: dict[str, np.ndarray], steps: int = 1000,
            batch_size: int = 256, virtual: int = 16, lr: float = 2e-3, seed: int = 0,
            log_every: int = 0) -> LatencyEstimator:
        """Train on ``table`` (device -> ms ``(len(archs),)``), choose the references, adapt every device on all rows.

        One device is enough to learn the features ``phi`` (a new device then adapts through the
        ridge refit; the hardware embedding has seen one device only): a space with two measured
        devices is evaluated by training on one and adapting to the other."""
        if len(table) < 1:
            raise GennasError("training the latency estimator needs at least one device")
        archs = [self.space.parse(a) for a in archs]
        names = sorted(table)
        ms = np.stack([np.asarray(table[d], dtype=np.float64) for d in names])  # (D, n)
        if ms.shape[1] != len(archs):
            raise GennasError(f"latency table has {ms.shape[1]} rows for {len(archs)} architectures")
        check_latencies(ms, "training table")
        self._rank_phi.clear()  # features of the network about to change (predicted_rank's cache)
        torch.manual_seed(seed)
        rng = as_rng(seed)
        ref_idx = select_references(self.space, archs, table, self.config.k)
        self.references = [archs[i] for i in ref_idx]
        feats = archs_to_node_features(self.space, archs)
        ms_t = torch.tensor(ms)
        lam = self.config.ridge
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        self.net.train()
        for step in range(steps):
            rows = torch.from_numpy(rng.choice(len(archs), size=min(batch_size, len(archs)), replace=False))
            # Virtual devices: time spent like device a with weight alpha and like b otherwise.
            pair = torch.from_numpy(rng.integers(len(names), size=(virtual, 2)))
            alpha = torch.from_numpy(rng.uniform(size=(virtual, 1)))
            cols = torch.cat([rows, torch.tensor(ref_idx)])
            dev_ms = torch.cat([ms_t[:, cols], alpha * ms_t[pair[:, 0]][:, cols] + (1 - alpha) * ms_t[pair[:, 1]][:, cols]])
            logs = dev_ms.log()
            ref_logs = logs[:, len(rows):]
            mu, sigma = ref_logs.mean(1, keepdim=True), ref_logs.std(1, unbiased=False, keepdim=True).clamp_min(1e-3)
            z = ((logs - mu) / sigma).float()
            ref_z = z[:, len(rows):]
            w0 = self.net.hardware(ref_z)                                   # (D+V, rank+1)
            phi = self.net.phi(self.space, feats[cols])
            phi_rows, phi_refs = phi[:len(rows)], phi[len(rows):]
            # Train through the test-time procedure: the ridge refit on the references is
            # closed form, so its result is differentiable (one solve, devices as columns).
            x = torch.cat([phi_refs, torch.ones(len(ref_idx), 1)], 1)
            w = ridge_solve(x, ref_z.T, lam, prior=w0.T).T.float()
            target = z[:, :len(rows)].T
            loss = (nn.functional.huber_loss(LatencyNet.combine(phi_rows, w), target, delta=1.0)
                    + nn.functional.huber_loss(LatencyNet.combine(phi_rows, w0), target, delta=1.0))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if log_every and (step % log_every == 0 or step == steps - 1):
                print(f"step {step:5d}  loss {loss.item():.4f}", flush=True)
        self.net.eval()
        phi, rows_of = self._phi(archs), {a: i for i, a in enumerate(archs)}
        for i, name in enumerate(names):
            self.adapt(name, list(zip(archs, ms[i])), phi_cache=phi, phi_rows=rows_of)
        self.bundled = names
        return self

    # ------------------------------------------------------------ persistence
    def to_checkpoint(self) -> Checkpoint:
        """Config, weights, references and bundled devices as a :class:`~gennas.checkpoint.Checkpoint`."""
        devices = {}
        for name in self.bundled:
            mu, sigma, w = self.device_params[name]
            devices[name] = {"mu": float(mu), "sigma": float(sigma), "w": w.detach().clone()}
        state = {"net": {k: v.detach().clone() for k, v in self.net.state_dict().items()}, "devices": devices}
        return Checkpoint(KIND, config_dict(self.config), state,
                          meta={"space": self.space.name, "references": [a.to_string() for a in self.references],
                                "devices": list(self.bundled)})

    def save(self, path: str | Path, data: str | None = None, metrics: dict[str, Any] | None = None,
             command: str | None = None, **extra: Any) -> Path:
        """Write the checkpoint and, given ``data``, its manifest beside it (with the bundled
        devices and the references); see :func:`gennas.checkpoint.save_checkpoint`."""
        ckpt = self.to_checkpoint()
        if data is not None:
            extra = {"devices": ckpt.meta["devices"], "references": ckpt.meta["references"], **extra}
        return save_checkpoint(path, ckpt, data, metrics, command, **extra)

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | str) -> LatencyEstimator:
        """Load a file written by :meth:`save`; refuses pickled objects and other spaces' checkpoints."""
        space = resolve_space(space)
        return cls.from_checkpoint(load_checkpoint(path, KIND, space.name), space, source=str(path))

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, space: SearchSpace | str,
                        source: str = "checkpoint") -> LatencyEstimator:
        """Rebuild an estimator from :meth:`to_checkpoint` output."""
        space = resolve_space(space)
        if ckpt.kind != KIND or ckpt.space != space.name:
            raise GennasError(f"{source} is a {ckpt.kind} checkpoint for space {ckpt.space!r}, "
                              f"not a {KIND} one for {space.name!r}")
        config = config_from_dict(LatencyConfig, ckpt.config, source)
        misfit = state_mismatch(declared_shapes(lambda: LatencyNet(space, config)), ckpt.state.get("net", {}))
        if misfit is not None:  # compared before it is built: a config within each field's bound declared terabytes
            raise GennasError(f"{source} does not hold a {space.name} latency estimator: {misfit}")
        est = cls(space, config)
        try:
            est.net.load_state_dict(ckpt.state["net"])
            est.references = [space.parse(a) for a in ckpt.meta["references"]]
            for name in ckpt.meta["devices"]:
                params = ckpt.state["devices"][name]
                est.device_params[name] = (float(params["mu"]), float(params["sigma"]), params["w"].float())
                est.bundled.append(name)
        except (KeyError, TypeError, ValueError, RuntimeError, InvalidArchitecture) as exc:
            reason = first_line(exc)
            raise GennasError(f"{source} does not hold a {space.name} latency estimator: {reason}") from None
        return est


def load_latency_estimator(space: SearchSpace | str = "nb201", path: str | Path | None = None,
                           with_registered: bool = True) -> LatencyEstimator | SlotLatencyModel | RoutedLatencyModel:
    """The pretrained estimator of ``space`` from ``checkpoints/latency_<space>.pt``, plus every
    device registered under ``$GENNAS_HOME/devices`` for that space (``gennas latency measure``).
    Devices timed on random architectures (``--cells``), and every device of a space without an
    estimator (a user's own, darts), are fitted by :class:`SlotLatencyModel` (:func:`registered_models`)."""
    space = resolve_space(space)
    default = path is None
    path = Path(path) if path is not None else checkpoints_dir() / f"latency_{space.name}.pt"
    if not path.is_file() and not default:
        raise GennasError(f"no latency estimator checkpoint at {path}")
    est = LatencyEstimator.load(path, space) if path.is_file() else None
    if with_registered:
        return registered_models(est, space)
    return SlotLatencyModel(space) if est is None else est
