"""TrainEvaluator: train each built network and report its validation accuracy (%).

SGD with Nesterov momentum, weight decay and a per-step cosine schedule, gradient clipping at 5
(the NAS-Bench-201 recipe, shortened); everything seeded. Before each validation the
BatchNorm statistics are re-estimated on a few training batches (short schedules need it). With ``checkpoint_dir`` the full
training state (weights, optimiser, schedule, history) is saved after every epoch as a plain
dict of tensors and numbers (``torch.load(path, weights_only=True)``) with a JSON manifest
beside it, and a later call resumes from it: a finished run is not repeated, an interrupted one
continues from its last finished epoch. A NaN/inf loss raises :class:`TrainingDiverged`;
finished epochs stay on disk.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gennas.errors import GennasError, InvalidArchitecture, TrainingDiverged
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.evaluators.zero_cost import check_batch, take_batches
from gennas.spaces import SearchSpace, resolve_space


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything else must name a usable torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise GennasError(f"not a torch device: {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GennasError(f"device {device!r} requested but CUDA is not available")
    return dev


def _num_classes(loader: DataLoader) -> int:
    """Max label + 1 over the training set (read from a TensorDataset directly, else iterated)."""
    tensors = getattr(getattr(loader, "dataset", None), "tensors", None)
    if tensors is not None and len(tensors) >= 2:
        return int(tensors[1].max()) + 1
    return max(int(check_batch(b, "train_loader")[1].max()) for b in loader) + 1


class TrainEvaluator:
    """Standalone training as an evaluator.

    Args:
        space: the search space (or its name); architectures of another space are refused.
        train_loader, val_loader: batches of ``(images (B,C,H,W) float, labels (B,) int)``.
        epochs, lr: schedule length and peak learning rate (cosine to 0, per step).
        seed: seeds the initial weights, each epoch's shuffling and dropout.
        device: ``"auto"`` (GPU when present), ``"cpu"``, ``"cuda"``, ...
        checkpoint_dir: where per-architecture training state is saved and resumed (None: no saving).
        build_options: passed to ``space.build`` (e.g. ``{"cells_per_stage": 1}``).
        bn_batches: training batches that re-estimate BatchNorm statistics before each
            validation (0: keep the running averages).
        num_classes: classifier width; default max training label + 1.
        progress: show a rich progress bar.
        on_diverge: ``"raise"`` (default) or ``"record"`` a failed Result and go on.
    """

    kind = "train"

    def __init__(self, space: SearchSpace | str, train_loader: DataLoader, val_loader: DataLoader, epochs: int = 5,
                 lr: float = 0.05, seed: int = 0, device: str | torch.device = "auto",
                 checkpoint_dir: str | Path | None = None, build_options: Mapping[str, Any] | None = None, *,
                 momentum: float = 0.9, weight_decay: float = 5e-4, grad_clip: float = 5.0,
                 bn_batches: int = 20, num_classes: int | None = None, progress: bool = True,
                 on_diverge: str = "raise") -> None:
        self.space = resolve_space(space)
        if int(epochs) < 1 or not lr > 0:
            raise GennasError(f"need epochs >= 1 and lr > 0, got epochs={epochs}, lr={lr}")
        if on_diverge not in ("raise", "record"):
            raise GennasError(f"on_diverge must be 'raise' or 'record', got {on_diverge!r}")
        # peek at one batch of each loader now, so that bad data fails before any training
        x_train, _ = take_batches(train_loader, 1, "train_loader")[0]
        x_val, _ = take_batches(val_loader, 1, "val_loader")[0]
        if x_train.shape[1:] != x_val.shape[1:]:
            raise GennasError(f"train images {tuple(x_train.shape[1:])} and validation images "
                              f"{tuple(x_val.shape[1:])} differ in shape")
        self.input_shape = tuple(x_train.shape[1:])
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs, self.lr, self.seed = int(epochs), float(lr), int(seed)
        self.momentum, self.weight_decay, self.grad_clip = momentum, weight_decay, grad_clip
        self.device = resolve_device(device)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.build_options = dict(build_options or {})
        self.num_classes = int(num_classes) if num_classes is not None else _num_classes(train_loader)
        self.progress, self.on_diverge, self.bn_batches = progress, on_diverge, int(bn_batches)

    # ------------------------------------------------------------ bookkeeping
    def config(self, arch: ArchGraph) -> dict[str, Any]:
        """Everything that determines a training run (its checkpoint key)."""
        return {"space": self.space.name, "arch": self.space.to_string(arch), "epochs": self.epochs, "lr": self.lr,
                "seed": self.seed, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "grad_clip": self.grad_clip, "bn_batches": self.bn_batches, "num_classes": self.num_classes, "input_shape": list(self.input_shape),
                "build_options": self.build_options}

    def checkpoint_path(self, arch: ArchGraph) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        key = hashlib.sha1(json.dumps(self.config(arch), sort_keys=True).encode()).hexdigest()[:16]
        return self.checkpoint_dir / f"train_{key}.pt"

    def _save(self, path: Path | None, state: dict[str, Any], manifest: dict[str, Any]) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)  # atomic: an interruption never leaves half a checkpoint
        path.with_suffix(".json").write_text(json.dumps(manifest, indent=2))

    # ------------------------------------------------------------ training
    def _batch(self, batch: Any, where: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = check_batch(batch, where)
        if tuple(x.shape[1:]) != self.input_shape:
            raise GennasError(f"{where} yielded images {tuple(x.shape[1:])}, expected {self.input_shape}")
        if int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise GennasError(f"{where} yielded labels outside 0..{self.num_classes - 1}")
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def _batches_per_epoch(self) -> int:
        """Length of the training loader (counted once if it has no ``len``); sets the schedule."""
        try:
            n = len(self.train_loader)
        except TypeError:
            n = sum(1 for _ in self.train_loader)
        if n < 1:
            raise GennasError("train_loader yielded no batches")
        return n

    @torch.no_grad()
    def _recalibrate_bn(self, model: torch.nn.Module) -> None:
        """Reset BatchNorm running statistics to the plain average over ``bn_batches`` training
        batches: after a short schedule the momentum-0.1 running averages still remember the
        first, untrained steps, and eval-mode accuracy drops to chance (observed: 9% vs 58%)."""
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        if not norms or self.bn_batches <= 0:
            return
        saved = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        model.train()
        for i, batch in enumerate(self.train_loader):
            if i == self.bn_batches:
                break
            model(self._batch(batch, "train_loader")[0])
        for m, mom in zip(norms, saved):
            m.momentum = mom

    @torch.no_grad()
    def _validate(self, model: torch.nn.Module) -> float:
        model.eval()
        correct = total = 0
        for batch in self.val_loader:
            x, y = self._batch(batch, "val_loader")
            correct += int((model(x).argmax(1) == y).sum())
            total += len(y)
        if total == 0:
            raise GennasError("val_loader yielded no images")
        return 100.0 * correct / total

    def train(self, arch: ArchGraph | str) -> Result:
        """Train one architecture (resuming from its checkpoint) and return its Result. An
        interruption (Ctrl-C) loses at most the epoch in progress."""
        if isinstance(arch, ArchGraph) and arch.space != self.space.name:
            raise InvalidArchitecture(f"architecture of space {arch.space!r} given to a {self.space.name} TrainEvaluator")
        arch = self.space.parse(arch)
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):  # our seeding leaves the caller's random streams alone
            return self._train(arch)

    def _train(self, arch: ArchGraph) -> Result:
        start = time.perf_counter()
        path = self.checkpoint_path(arch)
        torch.manual_seed(self.seed)
        model = self.space.build(arch, num_classes=self.num_classes, in_channels=self.input_shape[0],
                                 **self.build_options).to(self.device)
        opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum,
                              weight_decay=self.weight_decay, nesterov=self.momentum > 0)
        per_epoch = self._batches_per_epoch()
        steps = self.epochs * per_epoch
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
        history: list[dict[str, float]] = []
        first = 0
        if path is not None and path.exists():
            try:
                state = torch.load(path, map_location=self.device, weights_only=True)
                model.load_state_dict(state["model"])
                opt.load_state_dict(state["optimizer"])
                sched.load_state_dict(state["scheduler"])
            except Exception as exc:  # a corrupt or foreign file: say which, do not guess
                raise GennasError(f"cannot resume from {path}: {type(exc).__name__}: {exc}") from None
            first, history = int(state["epoch"]), list(state["history"])
        manifest = {"config": self.config(arch), "device": str(self.device),
                    "load": "torch.load(path, weights_only=True)", "history": history}
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                       TimeRemainingColumn(), transient=True, disable=not self.progress)
        with bar:
            task = bar.add_task(f"train {self.space.to_string(arch)[:48]}", total=steps,
                                completed=first * per_epoch, info="")
            for epoch in range(first, self.epochs):
                # reseed per epoch so that a resumed run sees the same batches and dropout masks
                torch.manual_seed(self.seed * 100_003 + epoch)
                gen = getattr(getattr(self.train_loader, "sampler", None), "generator", None)
                if isinstance(gen, torch.Generator):
                    gen.manual_seed(self.seed * 100_003 + epoch)
                model.train()
                loss_sum, seen = 0.0, 0
                for step, batch in enumerate(self.train_loader):
                    x, y = self._batch(batch, "train_loader")
                    loss = F.cross_entropy(model(x), y)
                    if not torch.isfinite(loss):
                        done = int(history[-1]["epoch"]) if history else first
                        saved = (f"the state after epoch {done} is saved in {path}" if path is not None and path.exists()
                                 else "no finished epoch was saved (no checkpoint_dir, or none finished)")
                        manifest["diverged"] = {"epoch": epoch + 1, "step": step + 1, "loss": float(loss.detach())}
                        if path is not None:
                            path.parent.mkdir(parents=True, exist_ok=True)
                            path.with_suffix(".json").write_text(json.dumps(manifest, indent=2))
                        raise TrainingDiverged(f"loss became {float(loss.detach())} at epoch {epoch + 1}, step {step + 1} "
                                               f"training {self.space.to_string(arch)} (lr={self.lr}); {saved}")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                    opt.step()
                    sched.step()
                    loss_sum, seen = loss_sum + float(loss.detach()) * len(y), seen + len(y)
                    bar.update(task, advance=1, info=f"epoch {epoch + 1}/{self.epochs} loss {loss_sum / seen:.3f}")
                self._recalibrate_bn(model)
                acc = self._validate(model)
                history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(1, seen), "val_acc": acc})
                manifest["history"] = history
                self._save(path, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                  "scheduler": sched.state_dict(), "epoch": epoch + 1, "history": history}, manifest)
        if not history:
            raise GennasError("no epoch was trained")  # unreachable with epochs >= 1; guards a corrupt checkpoint
        meta = {"history": history, "resumed_from_epoch": first, "device": str(self.device),
                "checkpoint": str(path) if path else None, **self.config(arch)}
        return Result(arch, float(history[-1]["val_acc"]), self.kind, f"epochs={self.epochs}",
                      time.perf_counter() - start, meta)

    def evaluate(self, archs: Sequence[ArchGraph]) -> list[Result]:
        """Train every architecture in turn; Results carry validation accuracy in %."""
        out = []
        for arch in archs:
            try:
                out.append(self.train(arch))
            except TrainingDiverged as exc:
                if self.on_diverge == "raise":
                    raise
                out.append(Result(arch, math.nan, self.kind, f"epochs={self.epochs}", 0.0,
                                  {"diverged": True}, error=str(exc)))
        return out
