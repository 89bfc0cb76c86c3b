"""TrainEvaluator: train each built network and report its validation accuracy (%).

The loop is :func:`gennas.training.train_classifier`: SGD with Nesterov momentum, weight decay
and a per-step cosine schedule, gradient clipping at 5 (the NAS-Bench-201 recipe, shortened);
everything seeded. Before each validation the BatchNorm statistics are re-estimated on a few
training batches (short schedules need it). With ``checkpoint_dir`` the full training state
(weights, optimiser, schedule, history) is saved after every epoch as a ``"trained"``
checkpoint of :mod:`gennas.checkpoint` with its JSON manifest beside it, and a later call
resumes from it: a finished run is not repeated, an interrupted one continues from its last
finished epoch. A NaN/inf loss raises :class:`TrainingDiverged`; finished epochs stay on disk.

Inside a search (:func:`gennas.search.run_search`) the harness gives an evaluator without a
``checkpoint_dir`` the study's work folder (beside a SQLite file, else under
``$GENNAS_HOME/work``), so ``--resume`` continues an interrupted architecture from its last
finished epoch, and calls :meth:`TrainEvaluator.stored` once a result is stored: the training
state is deleted then, or with ``keep_weights=True`` cut down to the trained weights (the file
``Result.metadata["checkpoint"]`` names, a ``"trained"`` checkpoint). Epochs and steps are
reported through :func:`gennas.search.progress.report` (the search's progress display).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence, Sized
from numbers import Integral
from pathlib import Path
from typing import Any, cast

import torch
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler

from gennas.checkpoint import Checkpoint, load_checkpoint, save_checkpoint, write_manifest
from gennas.errors import (GennasError, GennasWarning, InvalidArchitecture, TrainingDiverged, caller_stacklevel,
                           first_line)
from gennas.evaluators.base import Result, architectures_to_evaluate
from gennas.evaluators.data_key import data_key
from gennas.evaluators.batches import check_batch, take_batches
from gennas.evaluators.thin_data import warn_thin_data
from gennas.graph import ArchGraph, ArchLike
from gennas.search.evaluator_settings import images_in
from gennas.search.progress import listening, report
from gennas.seeds import seeded_torch
from gennas.spaces import SearchSpace, resolve_space
from gennas.threads import check_threads, with_own_threads
from gennas.training import evaluate_accuracy, recalibrate_bn, resolve_torch_device, train_classifier

KIND = "trained"


def _num_classes(loader: DataLoader) -> int:
    """Max label + 1 over the training set (read from a TensorDataset directly, else iterated)."""
    tensors = getattr(getattr(loader, "dataset", None), "tensors", None)
    if tensors is not None and len(tensors) >= 2:
        return int(tensors[1].max()) + 1
    return max(int(check_batch(b, "train_loader")[1].max()) for b in loader) + 1


def _labels(loader: DataLoader, first: torch.Tensor) -> tuple[torch.Tensor, str]:
    """The labels that can be checked cheaply, and which they are: every label of a TensorDataset
    the loader reads whole (read directly), else only those of the first batch (iterating the whole
    loader at construction could cost an epoch; a sampler may read a part of the dataset only:
    two loaders splitting one dataset by class were refused for the other part's labels)."""
    tensors = getattr(getattr(loader, "dataset", None), "tensors", None)
    if (tensors is not None and len(tensors) >= 2 and isinstance(tensors[1], torch.Tensor) and len(tensors[1])
            and _reads_whole_dataset(loader)):
        return tensors[1], " has"
    return first, "'s first batch has"


def _reads_whole_dataset(loader: DataLoader) -> bool:
    """Whether ``loader`` reads every item of its dataset once per epoch (in order or shuffled)."""
    sampler, batches = getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)
    if batches is not None and getattr(batches, "sampler", None) is not sampler:
        return False  # a batch sampler of the user's own: which items it reads is its business
    if isinstance(sampler, SequentialSampler):
        return True
    return (isinstance(sampler, RandomSampler) and not sampler.replacement
            and sampler.num_samples == len(cast(Sized, loader.dataset)))  # a RandomSampler's source is sized


def _inputs(inputs: Any) -> dict[str, Any] | None:
    """``inputs`` as a dict, checked now: it is written into ``build.json`` only when an export is
    made, after the training (a string or a tensor failed there, or became a raw ValueError)."""
    if inputs is None:
        return None
    if not isinstance(inputs, Mapping):
        raise GennasError(f"inputs must be a dict describing how the images were prepared "
                          f"(gennas.datasets.input_recipe(...)) or None, got {type(inputs).__name__}")
    if not all(isinstance(k, str) for k in inputs):
        raise GennasError(f"inputs' keys must be strings, got {[k for k in inputs if not isinstance(k, str)]}")
    try:
        json.dumps(dict(inputs))
    except (TypeError, ValueError) as exc:
        raise GennasError(f"inputs must hold JSON values (numbers, strings, lists, dicts): {exc}") from None
    return dict(inputs)


class TrainEvaluator:
    """Standalone training as an evaluator.

    Args:
        space: the search space (or its name); architectures of another space are refused.
        train_loader, val_loader: batches of ``(images (B,C,H,W) float, labels (B,) int)``.
        epochs, lr: schedule length and peak learning rate (cosine to 0, per step).
        seed: seeds the initial weights, each epoch's shuffling and dropout.
        torch_device: ``"auto"`` (GPU when present), ``"cpu"``, ``"cuda"``, ...
        checkpoint_dir: where per-architecture training state is saved and resumed (None: no saving).
        build_options: passed to ``space.build`` (e.g. ``{"cells_per_stage": 1}``).
        bn_batches: training batches that re-estimate BatchNorm statistics before each
            validation (0: keep the running averages).
        num_classes: classifier width; default max training label + 1.
        progress: show a rich progress bar (outside a search; inside one the search shows progress).
        on_diverge: ``"raise"`` (default) or ``"record"`` a failed Result and go on.
        keep_weights: when a search has stored a result, keep its trained weights (the
            checkpoint cut down to weights and history) instead of deleting the training state.
        inputs: how the loaders' images were prepared, a JSON-able dict such as
            ``gennas.datasets.input_recipe("mnist", size=32, channels=3)``; kept with the weights
            (``keep_weights``) and written as ``"inputs"`` into an export's ``build.json``, so a
            deployer feeds the network the same inputs (None: ``"not recorded: ..."``).
        threads: torch CPU threads while it trains (1: beside a busy process two threads took 2x
            the CPU of one for a full-size cell, ``python experiments/thread_contention.py --work
            train-full``; None: torch's setting, restored after either way; a designer's or the
            command line's choice overrides it, see :mod:`gennas.threads`).

    The data is checked at construction, before any training: labels of ``train_loader`` and
    ``val_loader`` must lie in ``0..num_classes - 1`` (every label of a ``TensorDataset``, else
    only the first batch's: a later batch's stray label fails when it is reached), and one
    network of the space, built with ``build_options``, must take the images (nb201's two
    reduction blocks refuse sides such as 1, 2, 10; mbv3's and darts' padded strides take any).
    """

    kind = "train"

    def __init__(self, space: SearchSpace | str, train_loader: DataLoader, val_loader: DataLoader, epochs: int = 5,
                 lr: float = 0.05, seed: int = 0, torch_device: str | torch.device = "auto",
                 checkpoint_dir: str | Path | None = None, build_options: Mapping[str, Any] | None = None, *,
                 momentum: float = 0.9, weight_decay: float = 5e-4, grad_clip: float = 5.0,
                 bn_batches: int = 20, num_classes: int | None = None, progress: bool = True,
                 on_diverge: str = "raise", keep_weights: bool = False,
                 inputs: Mapping[str, Any] | None = None, threads: int | None = 1) -> None:
        self.space = resolve_space(space)
        self.threads = check_threads(threads)
        if int(epochs) < 1 or not lr > 0:
            raise GennasError(f"need epochs >= 1 and lr > 0, got epochs={epochs}, lr={lr}")
        if on_diverge not in ("raise", "record"):
            raise GennasError(f"on_diverge must be 'raise' or 'record', got {on_diverge!r}")
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, Integral)
                                        or num_classes < 1):
            raise GennasError(f"num_classes must be a positive integer or None (max training label + 1), "
                              f"got {num_classes!r}")
        # peek at one batch of each loader now, so that bad data fails before any training
        x_train, y_train = take_batches(train_loader, 1, "train_loader")[0]
        x_val, y_val = take_batches(val_loader, 1, "val_loader")[0]
        if x_train.shape[1:] != x_val.shape[1:]:
            raise GennasError(f"train images {tuple(x_train.shape[1:])} and validation images "
                              f"{tuple(x_val.shape[1:])} differ in shape")
        self.input_shape = tuple(x_train.shape[1:])
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs, self.lr, self.seed = int(epochs), float(lr), int(seed)
        self.momentum, self.weight_decay, self.grad_clip = momentum, weight_decay, grad_clip
        self.torch_device = resolve_torch_device(torch_device)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.build_options = dict(build_options or {})
        self.num_classes = int(num_classes) if num_classes is not None else _num_classes(train_loader)
        self.progress, self.on_diverge, self.bn_batches = progress, on_diverge, int(bn_batches)
        self.keep_weights = bool(keep_weights)
        # how the loaders' images were prepared (gennas.datasets.input_recipe): kept with the
        # weights, so an export says what inputs the trained network expects
        self.inputs = _inputs(inputs)
        self._check_labels(train_loader, y_train, val_loader, y_val, given=num_classes is not None)
        train_labels, which = _labels(train_loader, y_train)
        warn_thin_data(images_in(val_loader), train_labels, which == " has", classes_given=num_classes is not None)
        self._check_fits(x_train[:1])
        # part of each run's checkpoint key: other data in the same checkpoint_dir trains afresh
        self.data_keys = {"train": data_key(train_loader), "val": data_key(val_loader)}

    def _check_labels(self, train_loader: DataLoader, y_train: torch.Tensor, val_loader: DataLoader,
                      y_val: torch.Tensor, given: bool) -> None:
        """Labels outside ``0..num_classes - 1`` as a GennasError now: found during training,
        every verification of a search failed on them, spending its budget."""
        for where, loader, first in (("train_loader", train_loader, y_train), ("val_loader", val_loader, y_val)):
            labels, which = _labels(loader, first)
            low, high = int(labels.min()), int(labels.max())
            if low < 0:
                raise GennasError(f"{where}{which} label {low}: labels must be class indices >= 0")
            if high < self.num_classes:
                continue
            if given:
                raise GennasError(f"{where}{which} label {high}, but num_classes={self.num_classes} "
                                  f"(labels 0..{self.num_classes - 1}): give num_classes={high + 1} or more")
            raise GennasError(f"{where}{which} label {high}, but the training labels reach only "
                              f"{self.num_classes - 1}: validation classes the network never learns (take the "
                              "validation images from the same classes, or give num_classes)")

    @with_own_threads
    def _check_fits(self, image: torch.Tensor) -> None:
        """One network of the space, built as training builds it, run on one real image (CPU,
        eval mode): an image size the network cannot take fails here, as a GennasError, instead
        of as torch's RuntimeError deep in the first training step of every architecture. A
        forward pass rather than a rule: the fixed parts of each space's network decide (nb201's
        reduction blocks add a stride-2 branch to a pooled one, which fits only some sides)."""
        arch = self.space.sample(0)  # any architecture: the parts that refuse sizes are fixed
        with seeded_torch(), torch.no_grad():  # the caller's random streams untouched
            model = self.space.build(arch, num_classes=self.num_classes, in_channels=self.input_shape[0],
                                     **self.build_options).eval()

            def fits(side_h: int, side_w: int) -> bool:
                try:
                    model(torch.zeros(1, self.input_shape[0], side_h, side_w))
                except (RuntimeError, ValueError):
                    return False
                return True

            try:
                model(image)
                return
            except (RuntimeError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {first_line(exc)[:160]}"
            h, w = self.input_shape[1:]
            near = [s for s in sorted(range(max(1, h - 8), h + 9), key=lambda s: (abs(s - h), s)) if fits(s, s)][:3]
        if not near:  # no side fits: the build, not the image size, is at fault
            raise GennasError(f"the {self.space.name} network built with build_options {self.build_options} fails "
                              f"on one image shaped {self.input_shape}, and on every side near it ({reason}): "
                              "check build_options")
        raise GennasError(f"the {self.space.name} network (build_options {self.build_options}) cannot take "
                          f"images of {h}x{w} pixels ({reason}); square sides that fit near {h}: "
                          f"{', '.join(map(str, sorted(near)))}")

    # ------------------------------------------------------------ bookkeeping
    def with_seed(self, seed: int) -> TrainEvaluator:
        """This evaluator training with ``seed`` (its data, settings and folder shared; each seed
        checkpoints apart): a repeat of one architecture's training is another draw only with
        another seed (:meth:`gennas.Designer.reverify`; with its own, it repeated the score exactly)."""
        other = copy.copy(self)
        other.seed = int(seed)
        return other

    def config(self, arch: ArchGraph) -> dict[str, Any]:
        """Everything that determines a training run (its checkpoint key), the data included
        (:func:`~gennas.evaluators.data_key.data_key` of each loader)."""
        return {"space": self.space.name, "arch": self.space.to_string(arch), "epochs": self.epochs, "lr": self.lr,
                "seed": self.seed, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "grad_clip": self.grad_clip, "bn_batches": self.bn_batches, "num_classes": self.num_classes, "input_shape": list(self.input_shape),
                "build_options": self.build_options, "data": self.data_keys}

    def checkpoint_path(self, arch: ArchGraph) -> Path | None:
        """``<checkpoint_dir>/train_<arch hash>_<settings hash>.pt``, or None without a folder."""
        if self.checkpoint_dir is None:
            return None
        key = hashlib.sha1(json.dumps(self.config(arch), sort_keys=True).encode()).hexdigest()[:8]
        return Path(self.checkpoint_dir) / f"train_{arch.canonical_hash()[:12]}_{key}.pt"

    def __repr__(self) -> str:
        # a bare <... object at 0x...> in a notebook
        return (f"TrainEvaluator(space={self.space.name!r}, epochs={self.epochs}, lr={self.lr:g}, "
                f"torch_device={str(self.torch_device)!r}; {self._data()})")

    def _data(self) -> str:
        dataset: Any = getattr(self.train_loader, "dataset", None)
        size = f"{len(dataset)} images" if hasattr(dataset, "__len__") else "images"
        return f"train_loader: {size} shaped {list(self.input_shape)}, {self.num_classes} classes"

    def _write_manifest(self, path: Path | None, arch: ArchGraph, history: list[dict[str, float]],
                        **extra: Any) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        metrics = {"val_acc_percent": history[-1]["val_acc"]} if history else {}
        write_manifest(path, KIND, self.space.name, self.config(arch), self._data(), metrics,
                       history=history, torch_device=str(self.torch_device), **extra)

    # ------------------------------------------------------------ training
    def _batch(self, batch: Any, where: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = check_batch(batch, where)
        if tuple(x.shape[1:]) != self.input_shape:
            raise GennasError(f"{where} yielded images {tuple(x.shape[1:])}, expected {self.input_shape}")
        if int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise GennasError(f"{where} yielded labels outside 0..{self.num_classes - 1}")
        return x.to(self.torch_device, non_blocking=True), y.to(self.torch_device, non_blocking=True)

    def _batches(self, loader: Any, where: str) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return (self._batch(b, where) for b in loader)

    def _epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Epoch ``epoch``'s training batches, reseeded so that a resumed run sees the same
        batches and dropout masks as an uninterrupted one."""
        torch.manual_seed(self.seed * 100_003 + epoch)
        gen = getattr(getattr(self.train_loader, "sampler", None), "generator", None)
        if isinstance(gen, torch.Generator):
            gen.manual_seed(self.seed * 100_003 + epoch)
        yield from self._batches(self.train_loader, "train_loader")

    def _batches_per_epoch(self) -> int:
        """Length of the training loader (counted once if it has no ``len``); sets the schedule."""
        try:
            n = len(self.train_loader)
        except TypeError:
            n = sum(1 for _ in self.train_loader)
        if n < 1:
            raise GennasError("train_loader yielded no batches")
        return n

    @with_own_threads
    def train(self, arch: ArchLike) -> Result:
        """Train one architecture (resuming from its checkpoint) and return its Result. An
        interruption (Ctrl-C) loses at most the epoch in progress."""
        if isinstance(arch, ArchGraph) and arch.space != self.space.name:
            raise InvalidArchitecture(f"architecture of space {arch.space!r} given to a {self.space.name} TrainEvaluator")
        arch = self.space.parse(arch)
        cuda = [self.torch_device.index or 0] if self.torch_device.type == "cuda" else []
        with seeded_torch(devices=cuda):  # our seeding leaves the caller's random streams alone
            return self._train(arch)

    def _resumable_state(self, path: Path | None) -> dict[str, Any] | None:
        """The training state saved at ``path``, None where there is none or it cannot be read (a
        truncated or changed file: warned, and the architecture trains from its first epoch). A
        damaged state of gennas's own is no verdict on the architecture: it was recorded as a failed
        verification, spent one of the budget and was never asked again (a user walk)."""
        if path is None or not path.exists():
            return None
        try:
            return load_checkpoint(path, KIND, self.space.name, map_location=self.torch_device).state
        except GennasError as exc:
            warnings.warn(f"the interrupted training saved at {path} cannot be resumed ({exc}); training this "
                          "architecture from its first epoch", GennasWarning, stacklevel=caller_stacklevel())
            return None

    def _train(self, arch: ArchGraph) -> Result:
        start = time.perf_counter()
        path = self.checkpoint_path(arch)
        torch.manual_seed(self.seed)
        model = self.space.build(arch, num_classes=self.num_classes, in_channels=self.input_shape[0],
                                 **self.build_options).to(self.torch_device)
        per_epoch = self._batches_per_epoch()
        history: list[dict[str, float]] = []
        resume, spent = None, 0.0
        state = self._resumable_state(path)
        if state is not None:
            try:
                model.load_state_dict(state["model"])
            except Exception as exc:  # a foreign file: say which, do not guess
                raise GennasError(f"cannot resume from {path}: {type(exc).__name__}: {exc}") from None
            resume, history = state, list(state["history"])
            spent = float(state.get("seconds", 0.0))  # earlier runs' time (absent in older checkpoints)
            if "optimizer" not in state and len(history) < self.epochs:
                raise GennasError(f"cannot resume from {path}: it holds weights only, not a training state")
        first = len(history)

        def on_epoch(done: dict[str, Any]) -> None:
            recalibrate_bn(model, (x for x, _ in self._batches(self.train_loader, "train_loader")), self.bn_batches)
            acc = evaluate_accuracy(model, self._batches(self.val_loader, "val_loader")).percent
            history.append({"epoch": done["epoch"], "train_loss": done["train_loss"], "val_acc": acc})
            if path is not None:
                seconds = spent + time.perf_counter() - start  # so that a resumed Result's cost_s is the total
                save_checkpoint(path, Checkpoint(KIND, self.config(arch), {
                    "model": model.state_dict(), "optimizer": done["optimizer"].state_dict(),
                    "scheduler": done["scheduler"].state_dict(), "epoch": done["epoch"], "history": history,
                    "seconds": seconds}, {"space": self.space.name}))
                self._write_manifest(path, arch, history, training_seconds=round(seconds, 3))

        def on_diverge(where: dict[str, Any]) -> str:
            self._write_manifest(path, arch, history, diverged=where)
            if path is not None and path.exists():
                return f" training {self.space.to_string(arch)}; the state after epoch {len(history)} is saved in {path}"
            return f" training {self.space.to_string(arch)}; no finished epoch was saved (no checkpoint_dir, or none finished)"

        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        # inside a search its display shows our steps; a bar of our own only when used alone, on a
        # terminal (off one a transient bar left a blank line per architecture), on stderr
        console = Console(stderr=True)
        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                       TimeRemainingColumn(), transient=True, console=console,
                       disable=not self.progress or listening() or not console.is_terminal)
        with bar:
            task = bar.add_task(f"train {self.space.to_string(arch)[:48]}", total=self.epochs * per_epoch,
                                completed=first * per_epoch, info="")

            def on_step(epoch: int, step: int, loss: float) -> None:
                bar.update(task, advance=1, info=f"epoch {epoch}/{self.epochs} loss {loss:.3f}")
                report(f"train epoch {epoch}/{self.epochs} loss {loss:.3f} step", step, per_epoch)

            if first < self.epochs:  # a finished run is not repeated
                report(f"train epoch {first + 1}/{self.epochs} step", 0, per_epoch)
                train_classifier(model, self._epoch, self.epochs, lr=self.lr, momentum=self.momentum,
                                 weight_decay=self.weight_decay, grad_clip=self.grad_clip,
                                 steps_per_epoch=per_epoch, resume=resume, on_epoch=on_epoch,
                                 on_diverge=on_diverge, on_step=on_step)
        if not history:
            raise GennasError("no epoch was trained")  # unreachable with epochs >= 1; guards a corrupt checkpoint
        meta = {"history": history, "resumed_from_epoch": first, "torch_device": str(self.torch_device),
                "checkpoint": str(path) if path else None, "keep_weights": self.keep_weights, **self.config(arch)}
        # cost_s: this call's time plus what the checkpoint says earlier, interrupted calls spent
        return Result(arch, float(history[-1]["val_acc"]), self.kind, f"epochs={self.epochs}",
                      spent + time.perf_counter() - start, meta)

    def stored(self, results: Sequence[Result]) -> None:
        """Called by the search once ``results`` are stored: their training state is no longer
        needed to resume. Deleted (checkpoint and manifest), or with ``keep_weights`` rewritten
        as weights, history and training seconds only (loadable with ``load_checkpoint(path, "trained")``)."""
        for result in results:
            meta = result.metadata if isinstance(result.metadata, dict) else {}
            name = meta.get("checkpoint")
            if result.kind != self.kind or not isinstance(name, str) or self.checkpoint_dir is None:
                continue
            path = Path(name)
            if path.parent != Path(self.checkpoint_dir) or not path.is_file():
                continue  # only what this evaluator wrote into its folder
            if self.keep_weights:
                try:
                    ckpt = load_checkpoint(path, KIND, self.space.name)
                    weights: dict[str, Any] = {k: ckpt.state[k] for k in ("model", "epoch", "history", "seconds")
                                               if k in ckpt.state}
                    meta = {"space": self.space.name, **({"inputs": self.inputs} if self.inputs else {})}
                    save_checkpoint(path, Checkpoint(KIND, ckpt.config, weights, meta))
                    self._write_manifest(path, result.arch, list(weights.get("history", [])),
                                         weights_only_state=True)
                except (GennasError, OSError):
                    pass  # the full training state stays: still the trained weights, only larger
                continue
            for file in (path, path.with_suffix(".json")):
                file.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only when empty: every architecture of the study is stored
                path.parent.rmdir()
                if path.parent.parent.name.endswith(".work"):
                    path.parent.parent.rmdir()

    @with_own_threads
    def evaluate(self, archs: Sequence[ArchLike]) -> list[Result]:
        """Train every architecture in turn; Results carry validation accuracy in %."""
        out = []
        for arch in architectures_to_evaluate(self.space, archs, "TrainEvaluator.evaluate"):
            try:
                out.append(self.train(arch))
            except TrainingDiverged as exc:
                if self.on_diverge == "raise":
                    raise
                out.append(Result(arch, math.nan, self.kind, f"epochs={self.epochs}", 0.0,
                                  {"diverged": True}, error=str(exc)))
        return out
