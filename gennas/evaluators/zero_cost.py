"""Zero-cost proxies: score an untrained network from one batch of real data.

One registry, one call::

    import gennas
    train, _ = gennas.datasets.image_loaders("mnist", batch_size=64, size=32, channels=3)
    scores = gennas.evaluators.zero_cost.score(archs, "nb201", "synflow", data=train)   # float64 (len(archs),)
    table = gennas.evaluators.zero_cost.score_many(archs, "nb201", ["snip", "naswot"], data=train)

Each network is built with ``space.build`` (for ``nb201`` the benchmark skeleton unless
``build_options`` say otherwise), initialised from ``torch.manual_seed(seed)``, kept in train
mode (BatchNorm uses batch statistics, as in Abdelfattah et al. 2021), and every proxy gets a
fresh copy of the same initial weights. Higher is better for every proxy. The implementations
follow the reference code of zero-cost-nas (synflow, snip, grasp, fisher, grad_norm, jacov),
NASWOT (Mellor et al. 2021), EPE-NAS (Lopes et al. 2021) and ZiCo (Li et al. 2023); see each
function's docstring for where they deliberately differ. ``data`` is a DataLoader, any iterable
of ``(images (B,C,H,W), labels (B,))`` batches, or one such tuple.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, overload

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gennas.errors import GennasError, InvalidArchitecture, unknown
from gennas.evaluators.batches import Batch, take_batches
from gennas.graph import ArchGraph
from gennas.seeds import seeded_torch
from gennas.spaces import SearchSpace, resolve_space



@dataclass
class ProxyInput:
    """What a proxy sees: ``batches`` of real data (possibly empty for data-free proxies) and
    the input shape ``(C, H, W)``; ``cache`` lets proxies share work on one network."""

    batches: list[Batch]
    shape: tuple[int, int, int]
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> torch.Tensor:
        return self.batches[0][0]

    @property
    def targets(self) -> torch.Tensor:
        return self.batches[0][1]


@dataclass(frozen=True)
class Proxy:
    name: str
    fn: Callable[[nn.Module, ProxyInput], float]
    needs_data: bool
    description: str


_REGISTRY: dict[str, Proxy] = {}


def register(name: str, needs_data: bool = True) -> Callable:
    """Decorator adding ``fn(model, inp) -> float`` (higher = better) to the registry."""

    def wrap(fn: Callable[[nn.Module, ProxyInput], float]) -> Callable:
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Proxy(name, fn, needs_data, doc[0] if doc else "")
        return fn

    return wrap


def names() -> list[str]:
    """Every registered proxy name, in registration order."""
    return list(_REGISTRY)


def task_of(task: str, proxy: str, data: str | None = None) -> str:
    """The task name under which a search that verifies with ``proxy`` learns (``cifar10-synflow``):
    a proxy's score is not the dataset's accuracy, so it never refits that task. Scored on other
    images (``data``) than the task's own, the images are named too (``cifar10-jacov-digits``):
    those scores are another task, which must not overwrite what was learned on the task's images.
    A task already named after ``proxy`` (``cifar10-synflow``, as the designer's warning advises) is
    not named after it twice (it learned "cifar10-synflow-synflow")."""
    named = proxy.lower() in str(task).lower().replace("_", "-").split("-")
    learned = task if named else f"{task}-{proxy}"
    return learned if data is None or data == task else f"{learned}-{data}"


def names_a_proxy(task_name: object) -> bool:
    """Whether a task's name names a registered proxy (``cifar10-synflow``, ``mnist-synflow-log10``):
    its scores are a proxy's, without a unit or an accuracy's bounds."""
    tokens = str(task_name or "").lower().replace("_", "-").split("-")
    return any(t in _REGISTRY for t in tokens)


def get(name: str) -> Proxy:
    """The registered proxy ``name`` (:func:`names` lists them); GennasError for an unknown one."""
    if name not in _REGISTRY:
        raise GennasError(unknown("proxy", name, names()))
    return _REGISTRY[name]


# ---------------------------------------------------------------- helpers
def _weight_layers(model: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    """Conv and linear layers: the layers zero-cost-nas scores (BN and biases are ignored)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _strip_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm by Identity in place (synflow is defined on BN-free networks)."""
    for name, child in model.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _strip_batchnorm(child)
    return model


class _HardSigmoid(nn.Module):
    """relu6(x + 3) / 6 from primitives: torch has no double backward for ``hardsigmoid``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0) / 6.0


class _HardSwish(_HardSigmoid):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * super().forward(x)


def _twice_differentiable(model: nn.Module) -> nn.Module:
    """Swap hard-sigmoid/-swish for equal compositions, in place (GraSP needs Hessian-vector products)."""
    for name, child in model.named_children():
        if isinstance(child, nn.Hardswish):
            setattr(model, name, _HardSwish())
        elif isinstance(child, nn.Hardsigmoid):
            setattr(model, name, _HardSigmoid())
        else:
            _twice_differentiable(child)
    return model


def _loss_backward(model: nn.Module, inp: ProxyInput) -> None:
    model.zero_grad()
    F.cross_entropy(model(inp.inputs), inp.targets).backward()


def _input_jacobian(model: nn.Module, inp: ProxyInput) -> np.ndarray:
    """d sum(logits) / d input per image, float64 ``(B, C*H*W)``; shared by jacov and epe_nas."""
    if "jacobian" not in inp.cache:
        x = inp.inputs.clone().requires_grad_(True)
        model.zero_grad()
        y = model(x)
        y.backward(torch.ones_like(y))
        grad = cast(torch.Tensor, x.grad)  # set by the backward through the network's input
        inp.cache["jacobian"] = grad.detach().reshape(len(x), -1).double().numpy()
    return inp.cache["jacobian"]


# ---------------------------------------------------------------- data-free proxies
@register("params", needs_data=False)
def params(model: nn.Module, inp: ProxyInput) -> float:
    """Number of trainable parameters."""
    return float(sum(p.numel() for p in model.parameters() if p.requires_grad))


@register("flops", needs_data=False)
def flops(model: nn.Module, inp: ProxyInput) -> float:
    """FLOPs of one forward pass on one image (a multiply-add is 2), torch's flop counter."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, *inp.shape))
    return float(counter.get_total_flops())


@register("synflow", needs_data=False)
def synflow(model: nn.Module, inp: ProxyInput) -> float:
    """SynFlow (Tanaka et al. 2020): sum |w * dR/dw| with R = sum of the outputs of the
    BN-free network with |weights| on an all-ones input, in float64 (zero-cost-nas ``synflow``)."""
    model = _strip_batchnorm(model).double()
    with torch.no_grad():
        for p in model.state_dict().values():
            p.abs_()
    model.zero_grad()
    model(torch.ones(1, *inp.shape, dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        return float(sum((m.weight * m.weight.grad).abs().sum() for m in _weight_layers(model)
                         if m.weight.grad is not None))


# ---------------------------------------------------------------- gradient proxies
@register("grad_norm")
def grad_norm(model: nn.Module, inp: ProxyInput) -> float:
    """Sum over conv/linear layers of the L2 norm of the loss gradient."""
    _loss_backward(model, inp)
    with torch.no_grad():
        return float(sum(m.weight.grad.norm() for m in _weight_layers(model) if m.weight.grad is not None))


@register("snip")
def snip(model: nn.Module, inp: ProxyInput) -> float:
    """SNIP (Lee et al. 2019): sum |w * dL/dw| (the gradient of a weight mask at 1)."""
    _loss_backward(model, inp)
    with torch.no_grad():
        return float(sum((m.weight * m.weight.grad).abs().sum() for m in _weight_layers(model)
                         if m.weight.grad is not None))


@register("grasp")
def grasp(model: nn.Module, inp: ProxyInput) -> float:
    """GraSP (Wang et al. 2020): sum of -w * (H g), H the loss Hessian, g the loss gradient."""
    model = _twice_differentiable(model)
    weights = [m.weight for m in _weight_layers(model)]
    loss = F.cross_entropy(model(inp.inputs), inp.targets)
    first = torch.autograd.grad(loss, weights, allow_unused=True)
    g = [torch.zeros_like(w) if gi is None else gi.detach() for w, gi in zip(weights, first)]
    model.zero_grad()
    loss = F.cross_entropy(model(inp.inputs), inp.targets)
    grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum((gi * fi).sum() for gi, fi in zip(g, grad_f) if fi is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return 0.0  # no weight reaches the loss: the network is constant
    z.backward()  # weight.grad = H g
    return float(sum((-w.detach() * w.grad).sum() for w in weights if w.grad is not None))


@register("fisher")
def fisher(model: nn.Module, inp: ProxyInput) -> float:
    """Fisher (Theis et al. 2018, as in zero-cost-nas): per output channel of every conv/linear
    layer, 0.5 * mean over images of (sum over positions of activation * gradient)^2, summed."""
    acts: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: Any, out: torch.Tensor) -> None:
        if out.requires_grad:
            out.retain_grad()
            acts.append(out)

    hooks = [m.register_forward_hook(keep) for m in _weight_layers(model)]
    try:
        _loss_backward(model, inp)
    finally:
        for h in hooks:
            h.remove()
    total = 0.0
    for a in acts:
        if a.grad is None:
            continue
        prod = a.detach() * a.grad
        per_channel = prod.sum(dim=(2, 3)) if prod.dim() == 4 else prod  # (B, channels)
        total += float(0.5 * per_channel.pow(2).mean(0).sum())
    return total


@register("jacov")
def jacov(model: nn.Module, inp: ProxyInput) -> float:
    """Jacobian covariance (Mellor et al. 2020 v1): -sum(log(v + k) + 1/(v + k)) over the
    eigenvalues v of the correlation matrix of per-image input Jacobians, k = 1e-5."""
    jac = _input_jacobian(model, inp)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jac)
    if not np.isfinite(corr).all():
        return float("nan")  # a constant network has zero Jacobians: no correlation exists
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


@register("epe_nas")
def epe_nas(model: nn.Module, inp: ProxyInput) -> float:
    """EPE-NAS (Lopes et al. 2021): per class c, s_c = sum log(|corr of the class's input
    Jacobians| + 1e-5); score = sum over class pairs |s_c - s_c'| / number of classes."""
    jac = _input_jacobian(model, inp)
    labels = inp.targets.numpy()
    per_class = []
    for c in np.unique(labels):
        rows = jac[labels == c]
        if len(rows) < 2:
            continue  # a single image has no correlation matrix (the reference skips it too)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(rows)
        if not np.isfinite(corr).all():
            return float("nan")  # constant Jacobians (a constant network): as the reference, NaN
        per_class.append(float(np.sum(np.log(np.abs(corr) + 1e-5))))
    if not per_class:
        return float("nan")
    s = np.array(per_class)
    return float(np.abs(s[:, None] - s[None, :]).sum() / len(s))


@register("naswot")
def naswot(model: nn.Module, inp: ProxyInput) -> float:
    """NASWOT (Mellor et al. 2021): log|det K| with K_ij = number of ReLUs on which images i
    and j share the activation pattern (Hamming-similarity kernel of binary codes)."""
    n = len(inp.inputs)
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def count(_m: nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        code = (args[0].detach().reshape(n, -1) > 0).double()
        kernel.add_(code @ code.T + (1 - code) @ (1 - code).T)

    # ReLU as in the paper; the hard-swish of MobileNetV3 gates at 0 the same way
    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.ReLU, nn.ReLU6, nn.Hardswish))]
    try:
        with torch.no_grad():
            model(inp.inputs)
    finally:
        for h in hooks:
            h.remove()
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else float("-inf")


@register("zico")
def zico(model: nn.Module, inp: ProxyInput) -> float:
    """ZiCo (Li et al. 2023): sum over conv/linear layers of log(sum over weights of
    mean|g| / std(g)), g the loss gradients of the two halves of the batch (reference code
    splits one batch in two; it forgets to zero the gradient between halves, we do not)."""
    x, y = inp.inputs, inp.targets
    if len(x) < 2:
        raise GennasError("zico needs a batch of at least 2 images")
    layers = _weight_layers(model)
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    half = len(x) // 2
    for part in (slice(0, half), slice(half, len(x))):
        model.zero_grad()
        F.cross_entropy(model(x[part]), y[part]).backward()
        for store, m in zip(grads, layers):
            if m.weight.grad is not None:
                store.append(m.weight.grad.detach().reshape(-1).clone())
    total = 0.0
    for store in grads:
        if len(store) < 2:
            continue
        g = torch.stack(store).double()
        std, mean_abs = g.std(0, unbiased=False), g.abs().mean(0)
        nz = std > 0
        s = float((mean_abs[nz] / std[nz]).sum())
        if s > 0:
            total += math.log(s)
    return total


#: one architecture or a sequence of them, as graphs or strings
Archs = ArchGraph | str | Sequence[ArchGraph | str]
#: proxy name -> float64 scores (len(archs),)
Scores = dict[str, np.ndarray]


def _as_archs(archs: Archs, space: SearchSpace) -> list[ArchGraph]:
    items = [archs] if isinstance(archs, (ArchGraph, str)) else list(archs)
    out = []
    for a in items:
        if isinstance(a, ArchGraph) and a.space != space.name:
            raise InvalidArchitecture(f"architecture of space {a.space!r} scored in space {space.name!r}")
        out.append(space.parse(a))
    return out


@overload  # what it returns, by with_seconds (type checkers read a union where one of the two comes back)
def score_many(archs: Archs, space: SearchSpace | str, proxies: Sequence[str] | None = ..., data: Any = ..., *,
               num_classes: int | None = ..., build_options: Mapping[str, Any] | None = ..., seed: int = ...,
               with_seconds: Literal[False] = ...) -> Scores: ...
@overload
def score_many(archs: Archs, space: SearchSpace | str, proxies: Sequence[str] | None = ..., data: Any = ..., *,
               num_classes: int | None = ..., build_options: Mapping[str, Any] | None = ..., seed: int = ...,
               with_seconds: Literal[True]) -> tuple[Scores, Scores]: ...
def score_many(archs: Archs, space: SearchSpace | str, proxies: Sequence[str] | None = None, data: Any = None, *,
               num_classes: int | None = None, build_options: Mapping[str, Any] | None = None, seed: int = 0,
               with_seconds: bool = False) -> Scores | tuple[Scores, Scores]:
    """Scores of several proxies (default: every data-free proxy, or all of them when ``data`` is
    given), each float64 ``(len(archs),)``. ``num_classes`` defaults to max label + 1 of the
    batch (at least 2). ``with_seconds`` also returns wall-clock seconds per architecture per
    proxy (network building excluded; it is shared). A proxy that cannot be computed on a
    degenerate network (a constant output) gives NaN."""
    space = resolve_space(space)
    if proxies is None:
        proxies = names() if data is not None else [p for p in names() if not get(p).needs_data]
    if isinstance(proxies, str):
        proxies = [proxies]
    chosen = [get(n) for n in proxies]
    arch_list = _as_archs(archs, space)
    need_data = any(p.needs_data for p in chosen)
    batches = take_batches(data, 1) if (need_data or data is not None) else []
    shape = cast("tuple[int, int, int]", tuple(batches[0][0].shape[1:])) if batches else \
        (3, space.default_input_size, space.default_input_size)  # an image batch: (B, C, H, W)
    if num_classes is None:
        num_classes = max(2, int(batches[0][1].max()) + 1) if batches else 10
    if batches and int(batches[0][1].max()) >= num_classes:
        raise GennasError(f"labels go up to {int(batches[0][1].max())} but num_classes={num_classes}")
    options = dict(build_options or {})
    scores = {p.name: np.full(len(arch_list), np.nan) for p in chosen}
    seconds = {p.name: np.zeros(len(arch_list)) for p in chosen}
    with seeded_torch():  # seeding here must not change the caller's random stream, nor another thread's
        for i, arch in enumerate(arch_list):
            torch.manual_seed(seed)
            base = space.build(arch, num_classes=num_classes, in_channels=shape[0], **options).train()
            inp = ProxyInput(batches, shape)  # one cache per network: jacov and epe_nas share a Jacobian
            for p in chosen:
                start = time.perf_counter()
                torch.manual_seed(seed)  # proxies that draw random numbers draw the same ones
                scores[p.name][i] = p.fn(copy.deepcopy(base), inp)
                seconds[p.name][i] = time.perf_counter() - start
    return (scores, seconds) if with_seconds else scores


@overload  # a float for one architecture, an array for a list
def score(archs: ArchGraph | str, space: SearchSpace | str, name: str, data: Any = ..., **kwargs: Any) -> float: ...
@overload
def score(archs: Sequence[ArchGraph | str], space: SearchSpace | str, name: str, data: Any = ...,
          **kwargs: Any) -> np.ndarray: ...
def score(archs: Archs, space: SearchSpace | str, name: str, data: Any = None, **kwargs: Any) -> np.ndarray | float:
    """Proxy ``name`` for each architecture: float64 ``(len(archs),)``, or a float for one
    architecture. Keyword arguments as :func:`score_many`."""
    values = score_many(archs, space, [name], data, **kwargs)[name]
    return float(values[0]) if isinstance(archs, (ArchGraph, str)) else values
