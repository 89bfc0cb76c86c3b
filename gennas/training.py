"""Training utilities shared by the evaluators, the surrogates, the latency measurer and the
experiments: torch-device choice, ridge regression, BN recalibration, a short classifier loop.

"device" in gennas means a latency target (``pixel3``); the torch device a model runs on is
called ``torch_device`` everywhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import update_bn

from gennas.errors import DataError, GennasError, TrainingDiverged


def resolve_torch_device(torch_device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything else must name a usable torch device."""
    if torch_device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(torch_device)
    except (RuntimeError, TypeError) as exc:
        raise GennasError(f"not a torch device: {torch_device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GennasError(f"torch_device {torch_device!r} requested but CUDA is not available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise GennasError(f"torch_device {torch_device!r} requested but MPS is not available")
    return dev


def ridge_solve(x: torch.Tensor, y: torch.Tensor, lam: float | torch.Tensor,
                prior: torch.Tensor | None = None) -> torch.Tensor:
    """``argmin_w |x w - y|^2 + |sqrt(lam) (w - prior)|^2``, solved in float64.

    Args:
        x: design matrix ``(n, d)`` (append a column of ones yourself for an intercept).
        y: targets ``(n,)`` or ``(n, k)``.
        lam: ridge strength, a number or a ``(d,)`` tensor (0 on an entry leaves it unshrunk).
        prior: what ``w`` is pulled towards, shaped like ``w`` (default 0).
    Returns:
        ``w`` ``(d,)`` or ``(d, k)``, float64.
    """
    x = x.double()
    y = torch.as_tensor(y).double()
    d = x.shape[1]
    shrink = torch.as_tensor(lam, dtype=torch.float64)
    penalty = torch.diag(shrink.expand(d)) if shrink.dim() <= 1 else shrink
    b = x.T @ y
    if prior is not None:
        b = b + penalty @ prior.double()
    return torch.linalg.solve(x.T @ x + penalty, b)


def count_parameters(model: Any) -> int:
    """Trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def recalibrate_bn(model: nn.Module, loader: Iterable, batches: int,
                   torch_device: str | torch.device | None = None) -> int:
    """Reset every BatchNorm's running statistics and re-estimate them as the plain (cumulative)
    average over the first ``batches`` batches of ``loader`` (``torch.optim.swa_utils.update_bn``).

    After a short schedule the momentum-0.1 running averages still remember the first, untrained
    steps and eval-mode accuracy drops towards chance; a weight-sharing supernet's statistics
    belong to no single subnet. Batches are ``(images, ...)`` tuples or image tensors. Momenta
    and the train/eval mode are restored even when a batch raises. Returns the batches used
    (0 when the model has no BatchNorm).
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or batches <= 0:
        return 0
    momenta, was_training, used = [m.momentum for m in norms], model.training, 0

    def counted() -> Iterator[Any]:
        nonlocal used
        for batch in itertools.islice(loader, batches):
            used += 1
            yield batch

    try:
        # torch annotates device as int | torch.device, but only passes it to Tensor.to(), which takes a str too
        update_bn(counted(), model, torch_device)  # type: ignore[arg-type]
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)
    return used


class Accuracy(NamedTuple):
    """Top-1 accuracy in %, mean cross-entropy, and the number of examples scored."""

    percent: float
    loss: float
    examples: int


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
                      torch_device: str | torch.device | None = None) -> Accuracy:
    """Score ``model`` in eval mode on ``(images, labels)`` batches; DataError if there are none."""
    model.eval()
    correct, loss_sum, n = 0, 0.0, 0
    for x, y in loader:
        if torch_device is not None:
            x, y = x.to(torch_device), y.to(torch_device)
        logits = model(x)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(1) == y).sum())
        n += len(y)
    if n == 0:
        raise DataError("the evaluation data yielded no batches (empty data)")
    return Accuracy(100.0 * correct / n, loss_sum / n, n)


def sgd(model: nn.Module, lr: float, momentum: float = 0.9, weight_decay: float = 5e-4) -> torch.optim.SGD:
    """SGD with Nesterov momentum (plain SGD when ``momentum`` is 0), the recipe used throughout."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                           nesterov=momentum > 0)


def sgd_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
             grad_clip: float | None = 5.0) -> str | None:
    """One step on ``loss``: zero the gradients, backward, clip the gradient norm, step.

    Returns None after a step, or why none was taken (``"loss became nan"``, ``"gradients
    became NaN/inf"``): then the weights are untouched and the gradients cleared."""
    optimizer.zero_grad(set_to_none=True)
    if not torch.isfinite(loss):
        return f"loss became {float(loss.detach())}"
    loss.backward()
    if grad_clip is not None:
        norm = nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        if not torch.isfinite(norm):
            optimizer.zero_grad(set_to_none=True)
            return "gradients became NaN/inf"
    optimizer.step()
    return None


def train_classifier(model: nn.Module, loader: Iterable | Callable[[int], Iterable], epochs: int, *,
                     lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 5e-4,
                     grad_clip: float | None = 5.0, schedule: str = "cosine", steps_per_epoch: int | None = None,
                     resume: Mapping[str, Any] | None = None, torch_device: str | torch.device | None = None,
                     on_epoch: Callable[[dict[str, Any]], None] | None = None,
                     on_step: Callable[[int, int, float], None] | None = None,
                     on_diverge: Callable[[dict[str, Any]], str] | None = None) -> list[float]:
    """The short classifier training of the evaluators and experiments: cross-entropy, SGD with
    Nesterov momentum and weight decay, a per-step learning-rate schedule, gradient clipping,
    and a NaN/inf check on every step.

    Args:
        model: the network, already on ``torch_device``.
        loader: ``(images, labels)`` batches, or a callable ``epoch -> batches`` (0-based) for
            callers that reseed or reshuffle per epoch.
        epochs: epochs in total, resumed ones included.
        schedule: ``"cosine"`` (to 0 over every step) or ``"onecycle"`` (torch's OneCycleLR,
            peak ``lr``, which also cycles the momentum).
        steps_per_epoch: schedule length per epoch; default ``len(loader)``.
        resume: ``{"epoch", "optimizer", "scheduler"}`` state to continue from (as given to on_epoch).
        on_epoch: called after every epoch with ``{"epoch" (1-based), "train_loss", "optimizer",
            "scheduler"}`` (validate, save a checkpoint, ...).
        on_step: called after every step with ``(epoch, step, running mean loss)`` (progress bars).
        on_diverge: called with ``{"epoch", "step", "loss"}`` before TrainingDiverged is raised;
            what it returns is appended to the message (where the last good state was saved).
    Returns:
        mean training loss of each epoch trained in this call.
    Raises:
        TrainingDiverged: the loss or the gradients became NaN/inf (no step is taken on them).
    """
    opt = sgd(model, lr, momentum, weight_decay)
    if steps_per_epoch is None:
        steps_per_epoch = len(loader)  # type: ignore[arg-type]
    steps = max(1, int(epochs) * int(steps_per_epoch))
    if schedule == "cosine":
        sched: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    elif schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    else:
        raise GennasError(f"schedule must be 'cosine' or 'onecycle', got {schedule!r}")
    first = 0
    if resume is not None:
        opt.load_state_dict(resume["optimizer"])
        sched.load_state_dict(resume["scheduler"])
        first = int(resume["epoch"])
    losses = []
    for epoch in range(first, int(epochs)):
        model.train()
        loss_sum, seen = 0.0, 0
        for step, (x, y) in enumerate(loader(epoch) if callable(loader) else loader):
            if torch_device is not None:
                x, y = x.to(torch_device, non_blocking=True), y.to(torch_device, non_blocking=True)
            loss = F.cross_entropy(model(x), y)
            failure = sgd_step(model, opt, loss, grad_clip)
            if failure is not None:
                where = {"epoch": epoch + 1, "step": step + 1, "loss": float(loss.detach())}
                extra = on_diverge(where) if on_diverge is not None else ""
                raise TrainingDiverged(f"{failure} at epoch {epoch + 1}, step {step + 1} (lr={lr}){extra}")
            sched.step()
            loss_sum, seen = loss_sum + loss.item() * len(y), seen + len(y)
            if on_step is not None:
                on_step(epoch + 1, step + 1, loss_sum / seen)
        if seen == 0:
            raise DataError("the training data yielded no batches (empty data)")
        losses.append(loss_sum / seen)
        if on_epoch is not None:
            on_epoch({"epoch": epoch + 1, "train_loss": losses[-1], "optimizer": opt, "scheduler": sched})
    return losses
