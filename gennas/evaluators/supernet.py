"""Weight-sharing supernet evaluator: train one network that contains every architecture, then
score an architecture by the accuracy of its subnet (inherited weights, no retraining).

* ``nb201`` (cell spaces): single-path one-shot with uniform sampling (SPOS, Guo et al. 2020):
  each training step samples one op per edge uniformly and trains only that path.
* ``mbv3`` (block spaces): Once-for-All style elastic kernel / expansion / depth (Cai et al.
  2020); each step trains one subnet drawn from the space's prior (depth uniform per stage,
  kernel and expansion uniform per block).

The space supplies the supernet (``space.build_supernet``), the path that selects an
architecture (``space.supernet_path``) and the copy into a standalone network
(``space.copy_supernet_weights``); a space without them raises GennasError. Before a subnet is
evaluated its BatchNorm statistics are recalibrated on a few training batches (the shared
running statistics belong to no single subnet). Training writes a ``"supernet"`` checkpoint of
:mod:`gennas.checkpoint` (weights, optimizer, epoch, history) after every epoch and before
raising on a NaN loss, and ``fit`` resumes from it. Training batches and the validation
batches of each subnet are reported through :func:`gennas.search.progress.report` (a search's
progress display shows them).

Example::

    train, val = gennas.datasets.image_loaders("mnist", size=16, channels=1)
    sn = Supernet("nb201", in_channels=1, channels=8, cells_per_stage=1)
    sn.fit(train, epochs=5, checkpoint="supernet.pt")
    results = sn.evaluate(archs, val)         # list[Result], score = accuracy in %
    net = sn.subnet(archs[0], calib_loader=train)   # standalone nn.Module with inherited weights
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gennas.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from gennas.errors import DataError, GennasError, TrainingDiverged, first_line
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph, ArchLike
from gennas.images import check_images
from gennas.search.progress import listening, report
from gennas.seeds import seeded_torch
from gennas.spaces import RngLike, SearchSpace, as_rng, resolve_space
from gennas.spaces.base import unknown_build_options
from gennas.state_fit import declared_shapes, state_mismatch
from gennas.threads import check_threads, with_own_threads
from gennas.training import evaluate_accuracy, recalibrate_bn, resolve_torch_device, sgd, sgd_step

KIND = "supernet"


class _Subnet(nn.Module):
    """The supernet with one path fixed, ``forward(x) = net(x, path)``: what the shared helpers
    of :mod:`gennas.training` (BN recalibration, accuracy) call as ``model(x)``."""

    def __init__(self, net: nn.Module, path: Any) -> None:
        super().__init__()
        self.net, self.path = net, path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.path)


class Supernet:
    """A trainable weight-sharing supernet of ``space``; an :class:`~gennas.evaluators.Evaluator`.

    Args:
        space: a :class:`SearchSpace` or its name (``"nb201"``, ``"mbv3"``).
        num_classes: classifier outputs.
        in_channels: image channels of the data.
        torch_device: ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"``, ...
        seed: seeds the weights and each epoch's path sampling and torch draws (epoch ``e`` uses
            ``[seed, e]``, so a resumed run samples the same paths as an uninterrupted one); the
            caller's torch stream is left where it was.
        threads: torch CPU threads while it trains and evaluates (1: see :mod:`gennas.threads`;
            None: torch's setting; restored after either way; an outer choice overrides it).
        **build_options: as ``space.build`` (nb201: ``channels``, ``cells_per_stage``,
            ``stages``; mbv3: ``width_mult``, ``dropout``).
    """

    kind = "supernet"

    def __init__(self, space: SearchSpace | str, num_classes: int = 10, in_channels: int = 3,
                 torch_device: str | torch.device = "auto", seed: int = 0, threads: int | None = 1,
                 **build_options: Any) -> None:
        self.space = resolve_space(space)
        self.threads = check_threads(threads)
        known = self.space.supernet_options()  # raises for a space without a supernet
        bad = set(build_options) - set(known)
        if bad:
            raise unknown_build_options(self.space.name, sorted(bad), known)
        if int(num_classes) < 1 or int(in_channels) < 1:
            raise GennasError(f"num_classes and in_channels must be >= 1, got {num_classes}, {in_channels}")
        self.num_classes, self.in_channels, self.seed = int(num_classes), int(in_channels), int(seed)
        self.build_options = dict(build_options)
        self.torch_device = resolve_torch_device(torch_device)
        with seeded_torch(self.seed):  # seeded weights, the caller's stream left where it was
            self.net: nn.Module = self.space.build_supernet(self.num_classes, self.in_channels, **self.build_options)
        self.net.to(self.torch_device)
        self.epochs_done = 0
        self.history: list[dict[str, Any]] = []  # per epoch: loss, train_acc, lr, seconds, torch_device
        self.optimizer: torch.optim.Optimizer | None = None
        self.train_loader: Iterable | None = None
        self.val_loader: Iterable | None = None
        # (loader, batches, images): the BN calibration images, drawn once (see _calibration_images)
        self._calibration: tuple[Iterable, int, list[torch.Tensor]] | None = None

    # ------------------------------------------------------------ architectures -> paths
    def path_of(self, arch: ArchLike) -> Any:
        """The forward argument selecting ``arch``'s subnet (``space.supernet_path``; raises
        InvalidArchitecture if foreign)."""
        return self.space.supernet_path(arch)

    def sample_path(self, rng: RngLike = None) -> Any:
        """A random path: uniform ops per edge (SPOS) or the block space's OFA prior."""
        return self.path_of(self.space.sample(as_rng(rng)))

    # ------------------------------------------------------------ data checks
    def _batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Validate one ``(images (B, C, H, W), labels (B,))`` batch and move it to the torch device."""
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise DataError(f"the DataLoader must yield (images, labels) pairs, got {type(batch).__name__}")
        x, y = batch[0], batch[1]
        if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise DataError("the DataLoader must yield tensors (images, labels)")
        check_images(x, "the DataLoader's images", batch="B")
        if x.shape[1] != self.in_channels:
            raise DataError(f"images must be shaped (B, {self.in_channels}, H, W) for this supernet, "
                            f"got {tuple(x.shape)}")
        if y.dim() != 1 or len(y) != len(x) or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise DataError(f"labels must be integer class indices shaped ({len(x)},), "
                            f"got {y.dtype} {tuple(y.shape)}")
        if len(y) == 0 or int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise DataError(f"labels must lie in 0..{self.num_classes - 1} (num_classes={self.num_classes})")
        return (x.to(self.torch_device, torch.float32, non_blocking=True),
                y.to(self.torch_device, torch.long, non_blocking=True))

    def _batches(self, loader: Iterable) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return (self._batch(b) for b in loader)

    # ------------------------------------------------------------ training
    @with_own_threads
    def fit(self, loader: Iterable, epochs: int, *, lr: float = 0.05, momentum: float = 0.9,
            weight_decay: float = 5e-4, grad_clip: float = 5.0, checkpoint: str | Path | None = None,
            resume: bool = True, val_loader: Iterable | None = None, progress: bool = False) -> Supernet:
        """Train for ``epochs`` epochs in total (SGD + Nesterov, cosine learning rate per epoch).

        One sampled path per batch. With ``checkpoint``, state is saved after every epoch and
        before raising :class:`TrainingDiverged`, and an existing checkpoint is resumed
        (``resume=True``): epochs already done are skipped. ``val_loader`` becomes the default
        data of :meth:`evaluate`. Returns ``self``.

        Not :func:`gennas.training.train_classifier`: every batch runs a freshly sampled path,
        the learning rate is set per epoch from its index (so a resumed run needs no scheduler
        state and the shipped checkpoint's schedule is kept), and a divergence must also put
        back the BN statistics the bad batch poisoned. The step itself (clip, NaN/inf check)
        is the shared :func:`gennas.training.sgd_step`.
        """
        if int(epochs) < 1:
            raise GennasError(f"epochs must be >= 1, got {epochs}")
        epochs = int(epochs)
        self.train_loader = loader
        if val_loader is not None:
            self.val_loader = val_loader
        self.optimizer = sgd(self.net, lr, momentum, weight_decay)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and resume and path.exists():
            self._restore(path)
        with seeded_torch():  # the epochs' own torch draws (below), the caller's left
            return self._epochs(loader, epochs, lr, grad_clip, path, progress)

    def _epochs(self, loader: Iterable, epochs: int, lr: float, grad_clip: float, path: Path | None,
                progress: bool) -> Supernet:
        """:meth:`fit`'s epochs from :attr:`epochs_done`; each seeds torch's stream by ``[seed, epoch]``
        (a loader shuffling without a generator of its own, dropout): an epoch draws the same
        whether resumed or not, and whatever the caller drew before."""
        assert self.optimizer is not None  # fit sets it before its epochs (their only caller)
        for epoch in range(self.epochs_done, epochs):
            torch.manual_seed(int(np.random.SeedSequence([self.seed, epoch, 1]).generate_state(1)[0]))
            for group in self.optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
            rng = np.random.default_rng([self.seed, epoch])
            self.net.train()
            start, total_loss, correct, seen = time.perf_counter(), 0.0, 0, 0
            # A bad batch poisons BN running statistics in the forward pass, before the loss is
            # seen: keep this epoch's starting statistics to put back if that happens.
            bn_start = self._bn_state()
            label = f"supernet epoch {epoch + 1}/{epochs}"
            for step, batch in enumerate(_maybe_progress(loader, progress and not listening(), label)):
                x, y = self._batch(batch)
                logits = self.net(x, self.sample_path(rng))
                loss = F.cross_entropy(logits, y)
                failure = sgd_step(self.net, self.optimizer, loss, grad_clip)
                if failure is not None:
                    # No step was taken: the weights are still those of the last finite step.
                    self.net.load_state_dict(bn_start, strict=False)
                    where = (f"; state saved to {path} (epoch {self.epochs_done})" if path
                             else "; the supernet keeps its last finite weights")
                    if path is not None:
                        self.save(path)
                    raise TrainingDiverged(f"{failure} in epoch {epoch + 1}, batch {step + 1}"
                                           f"{where}; lower lr or check the data")
                total_loss += loss.item() * len(y)
                correct += int((logits.argmax(1) == y).sum())
                seen += len(y)
                report(f"{label} batch", step + 1, _length(loader))
            if seen == 0:
                raise DataError("the training DataLoader yielded no batches (empty data)")
            self.epochs_done = epoch + 1
            self.history.append({"epoch": epoch + 1, "loss": total_loss / seen, "train_acc": 100.0 * correct / seen,
                                 "lr": self.optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - start,
                                 "torch_device": self.torch_device.type})
            if path is not None:
                self.save(path)
        return self

    # ------------------------------------------------------------ evaluation
    def recalibrate_bn(self, path: Any, loader: Iterable, batches: int = 20) -> int:
        """Reset every BatchNorm's running statistics and re-estimate them for ``path`` on up to
        ``batches`` batches (cumulative average). Returns the number of batches used."""
        try:
            used = recalibrate_bn(_Subnet(self.net, path), iter(self._calibration_images(loader, batches)), batches)
        finally:
            self.net.eval()
        if used == 0:
            raise DataError("the calibration DataLoader yielded no batches (empty data)")
        return used

    def _calibration_images(self, loader: Iterable, batches: int) -> list[torch.Tensor]:
        """The first ``batches`` image batches of ``loader``, drawn once under a fixed seed and kept:
        every architecture's BN statistics are estimated on the same images, whatever the order of
        the calls (from a shuffled loader the same cell scored 98.3-98.55 % by call order)."""
        cached = self._calibration
        if cached is None or cached[0] is not loader or cached[1] != batches:
            with seeded_torch(self.seed):  # a shuffling loader draws from the global RNG
                images = [x for x, _ in itertools.islice(self._batches(loader), batches)]
            self._calibration = cached = (loader, batches, images)
        return cached[2]

    @with_own_threads
    def evaluate(self, archs: Sequence[ArchGraph | str], loader: Iterable | None = None, *,
                 calib_loader: Iterable | None = None, calib_batches: int = 20) -> list[Result]:
        """Accuracy (%) of each architecture's subnet on ``loader`` after BN recalibration.

        ``loader`` defaults to ``fit``'s ``val_loader``; ``calib_loader`` to the training
        loader (else ``loader``). Foreign architectures raise before any work. The shared BN
        statistics are restored afterwards, so evaluating does not change the supernet.
        """
        loader = loader if loader is not None else self.val_loader
        if loader is None:
            raise GennasError("Supernet.evaluate needs data: pass a loader or fit(..., val_loader=...)")
        calib = calib_loader if calib_loader is not None else (self.train_loader or loader)
        paths = [self.path_of(a) for a in archs]  # validates every arch first
        graphs = [self.space.parse(a) for a in archs]
        snapshot = self._bn_state()
        fidelity = f"supernet epochs={self.epochs_done}"
        out: list[Result] = []
        try:
            for i, (arch, path) in enumerate(zip(graphs, paths)):
                start = time.perf_counter()
                stage = f"supernet subnet {i + 1}/{len(graphs)}"
                report(f"{stage} BN calibration", 0, None)
                used = self.recalibrate_bn(path, calib, calib_batches)
                acc, loss, n = evaluate_accuracy(_Subnet(self.net, path),
                                                 _reported(self._batches(loader), f"{stage} batch", _length(loader)))
                error = None if math.isfinite(loss) else f"subnet loss is {loss}"
                out.append(Result(arch, acc if error is None else float("nan"), self.kind, fidelity,
                                  time.perf_counter() - start,
                                  {"loss": loss, "examples": n, "calib_batches": used, "epochs": self.epochs_done,
                                   "torch_device": str(self.torch_device)}, error))
        finally:
            self.net.load_state_dict(snapshot, strict=False)
        return out

    @with_own_threads
    def subnet(self, arch: ArchLike, calib_loader: Iterable | None = None,
               calib_batches: int = 20) -> nn.Module:
        """The standalone network ``space.build(arch, ...)`` carrying the supernet's inherited
        weights (for fine-tuning or deployment), in eval mode on the supernet's torch device.

        With ``calib_loader`` its BN statistics are recalibrated first; the supernet's own
        statistics are left as they were."""
        path = self.path_of(arch)
        net = self.space.build(arch, num_classes=self.num_classes, in_channels=self.in_channels,
                               **self.build_options).to(self.torch_device)
        snapshot = self._bn_state()
        try:
            if calib_loader is not None:
                self.recalibrate_bn(path, calib_loader, calib_batches)
            self.space.copy_supernet_weights(self.net, path, net)
        finally:
            self.net.load_state_dict(snapshot, strict=False)
        return net.eval()

    def _bn_state(self) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in self.net.state_dict().items() if "running_" in k or "num_batches" in k}

    # ------------------------------------------------------------ checkpoints
    def config(self) -> dict[str, Any]:
        """What is needed to rebuild this supernet (JSON-serialisable)."""
        return {"space": self.space.name, "num_classes": self.num_classes, "in_channels": self.in_channels,
                "seed": self.seed, "build_options": self.build_options}

    def save(self, path: str | Path, *, data: str | None = None, metrics: dict[str, Any] | None = None,
             command: str | None = None) -> Path:
        """Write the ``"supernet"`` checkpoint ``path`` (weights, optimizer, epoch, history; see
        :mod:`gennas.checkpoint`) and its manifest beside it. ``data`` says in words what it
        was trained on (default: the size of the training loader's dataset). Keywords only: the
        predictor's and the latency estimator's ``save`` take ``data`` second, this one took
        ``command`` there, and a description given as theirs went into the wrong field
        (user walk 49)."""
        state: dict[str, Any] = {"model": self.net.state_dict(), "epoch": self.epochs_done, "history": self.history}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        if data is None:
            size = len(getattr(self.train_loader, "dataset", ()))
            data = f"{size} training images" if size else "unrecorded"
        return save_checkpoint(path, Checkpoint(KIND, self.config(), state, {"space": self.space.name}), data,
                               metrics, command, epochs_done=self.epochs_done, history=self.history)

    def _restore(self, path: Path, ckpt: Checkpoint | None = None) -> None:
        """Weights, optimizer, epochs and history from ``path`` (``ckpt``: its contents, read already)."""
        ckpt = ckpt if ckpt is not None else load_checkpoint(path, KIND, self.space.name)
        if ckpt.config != self.config():
            raise GennasError(f"checkpoint {path} was made by a different supernet: {ckpt.config} vs {self.config()}")
        try:
            self.net.load_state_dict(ckpt.state["model"])
            if self.optimizer is not None and "optimizer" in ckpt.state:
                self.optimizer.load_state_dict(ckpt.state["optimizer"])
            self.epochs_done = int(ckpt.state["epoch"])
            self.history = list(ckpt.state["history"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            # fields of the right types whose tensors do not fit this supernet (another width or
            # class count): name the file, not torch's 40-line size-mismatch listing
            first = first_line(exc)
            raise GennasError(f"checkpoint {path} does not fit this supernet: {first}") from None

    @classmethod
    def load(cls, path: str | Path, torch_device: str | torch.device = "auto", threads: int | None = 1) -> Supernet:
        """A supernet rebuilt from a checkpoint written by :meth:`save` (weights only, no optimizer)."""
        ckpt = load_checkpoint(path, KIND)
        config, space = ckpt.config, resolve_space(ckpt.config["space"])
        # compared before it is built: a config within each field's bound declared hundreds of GB
        misfit = state_mismatch(declared_shapes(lambda: space.build_supernet(
            config["num_classes"], config["in_channels"], **config["build_options"])), ckpt.state["model"])
        if misfit is not None:
            raise GennasError(f"checkpoint {path} does not fit the supernet its config declares: {misfit}")
        sn = cls(config["space"], config["num_classes"], config["in_channels"], torch_device, config["seed"],
                 threads, **config["build_options"])
        sn._restore(Path(path), ckpt)  # read once: its checksum and weights are not read again
        return sn

    def __repr__(self) -> str:
        return f"Supernet({self.space.name!r}, epochs_done={self.epochs_done}, torch_device={str(self.torch_device)!r})"


def _length(loader: Iterable) -> int | None:
    """Batches in ``loader`` when it knows (a DataLoader does), else None."""
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:
        return None


def _reported(batches: Iterable[Any], stage: str, total: int | None) -> Iterator[Any]:
    """``batches``, reporting each one as it is handed out."""
    for i, batch in enumerate(batches):
        yield batch
        report(stage, i + 1, total)


def _maybe_progress(loader: Iterable, enabled: bool, label: str) -> Iterable:
    """``loader`` itself, or wrapped in a rich progress bar."""
    if not enabled:
        return loader
    from rich.progress import track

    total = len(cast(Sized, loader)) if hasattr(loader, "__len__") else None
    return track(loader, description=label, total=total, transient=True)
