"""The predictor's network and losses: its config, a task's training rows, one ensemble member (DAG encoder + FiLM
head), the pairwise ranking loss, and the two small fits that map tasks to task vectors.

:class:`gennas.surrogates.predictor.Predictor` owns the ensemble, the task table and training;
this module owns what one member computes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

import numpy as np
import torch
from torch import nn

from gennas.errors import GennasError
from gennas.models.gnn import DAGEncoder, EncoderConfig
from gennas.spaces import SearchSpace
from gennas.surrogates.task import DESCRIPTOR_DIM, Task
from gennas.training import ridge_solve

if TYPE_CHECKING:  # annotations only: dgl is optional
    from gennas.models.gnn_dgl import DGLDAGEncoder


#: largest score magnitude the predictor learns: it predicts ``mean + std * z`` in float32
#: (largest ~3.4e38), so scores far beyond this would come back infinite or NaN
MAX_ABS_SCORE = 1e30


def check_scores(scores: object) -> np.ndarray:
    """Scores as float64 ``(n,)`` if they are finite numbers within ±MAX_ABS_SCORE, else a GennasError."""
    try:
        y = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise GennasError(f"scores must be numbers, got {str(scores)[:60]}") from None
    if y.ndim != 1:  # None read as "NaN values", a (5, 2) array as 10 scores
        raise GennasError(f"scores must be a list of numbers (one per architecture), got "
                          f"{'None' if scores is None else f'shape {y.shape}'}")
    if not np.isfinite(y).all():
        raise GennasError("scores contain NaN or infinite values")
    if np.abs(y).max(initial=0.0) > MAX_ABS_SCORE:
        raise GennasError(f"scores must be within +/-{MAX_ABS_SCORE:g}, got {np.abs(y).max():g}; "
                          "compress them first (e.g. sign(s) * log1p(|s|))")
    return y


def positive_steps(steps: int | None, default: int) -> int:
    """Training steps: ``default`` for None, else ``steps`` if it is a positive integer (GennasError otherwise)."""
    if steps is None:
        return default
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise GennasError(f"steps must be a positive integer (or None for the default {default}), got {steps!r}")
    return int(steps)


def adamw(params: list[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, fused where this torch supports it: the ensemble has ~160 small tensors, and the
    per-tensor loop of the default CPU implementation took a quarter of a search's time."""
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused CPU kernel
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


#: distinct standardised scores a task vector is fitted from (a task described by samples)
MIN_FITTED_SAMPLES = 3


@dataclass
class PredictorConfig:
    """Model size and training schedule (steps are optimiser steps over task batches)."""

    hidden: int = 32
    layers: int = 3
    dropout: float = 0.0
    members: int = 3
    task_dim: int = 8
    steps: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    rank_weight: float = 1.0
    #: emphasis of the ranking loss on the best architectures (0: all pairs equal), see rank_loss;
    #: a designer's untrained predictor uses gennas.design.pretrained.SCRATCH_TOP_WEIGHT
    top_weight: float = 0.0
    update_steps: int = 20
    sample_steps: int = 60
    #: finite spaces: add up to this many functionally equivalent cells per training row
    augment: int = 8
    #: finite spaces: predict every cell through its equivalence class's representative
    canonical: bool = True
    #: zero-cost proxies used as input features (names of gennas.evaluators.zero_cost; () none),
    #: see gennas.surrogates.features; a relaxed architecture (predict_soft) uses the proxies
    #: the member predicts from its encoding instead
    proxies: tuple[str, ...] = ()
    #: weight of the auxiliary loss that teaches each member to predict its proxy features
    proxy_weight: float = 1.0
    #: start the encoders from the space's shipped self-supervised encoder
    #: (checkpoints/encoder_<space>.pt) when one exists for this hidden size and depth, so a
    #: fresh ``Predictor(space)`` mostly has to fit its head (Kendall tau on held-out nb201 cells,
    #: 5 seeds, ``python experiments/predictor.py --parts efficiency``: 100 cells 0.739 vs 0.736 on
    #: cifar10, 0.755 vs 0.731 on cifar100; 1,000 cells 0.826 vs 0.808 on cifar10). A designer's
    #: untrained predictor does not: the encoder made the from-scratch search slower to the
    #: optimum (development seeds 100-109, median verifications cifar10 16.5 vs 16, cifar100 15.5
    #: vs 9; docs/results.md "Proxy features and a self-supervised encoder"), see
    #: gennas.design.pretrained.untrained_predictor
    pretrained: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.proxies, str) or not all(isinstance(p, str) for p in self.proxies):
            raise GennasError(f"proxies must be a sequence of proxy names, got {self.proxies!r}")
        self.proxies = tuple(self.proxies)  # a checkpoint stores a list


@dataclass
class TaskRows:
    """Training rows of one task: node features ``(n, N, V)``, standardised targets ``(n,)``,
    standardised proxy features ``(n, P)`` (None without proxies), and each row's architecture
    text (None when unknown), which keys its embedding in a cache."""

    task: Task
    x: torch.Tensor
    z: torch.Tensor
    f: torch.Tensor | None = None
    keys: list[str] | None = None


class PredictorMember(nn.Module):
    """Encoder + FiLM head. ``forward(x (B, N, V), t (task_dim,)) -> (B,)`` standardised score."""

    def __init__(self, space: SearchSpace, cfg: PredictorConfig, backend: str) -> None:
        super().__init__()
        enc_cfg = EncoderConfig(cfg.hidden, cfg.layers, cfg.dropout)
        if backend == "dgl":
            from gennas.models.gnn_dgl import DGLDAGEncoder

            self.encoder: DAGEncoder | DGLDAGEncoder = DGLDAGEncoder(len(space.node_vocab), space.num_nodes, enc_cfg)
        else:
            self.encoder = DAGEncoder(len(space.node_vocab), space.num_nodes, enc_cfg)
        d = self.encoder.out_dim
        self.film = nn.Linear(cfg.task_dim, 2 * d)
        nn.init.zeros_(self.film.weight)  # start as plain regression; tasks then learn to modulate
        nn.init.zeros_(self.film.bias)
        self.head = nn.Sequential(nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))
        if cfg.proxies:  # proxy features enter the embedding; proxy_out predicts them for soft inputs
            self.proxy_in = nn.Linear(len(cfg.proxies), d)
            self.proxy_out = nn.Linear(d, len(cfg.proxies))
        self.task_emb = nn.Parameter(torch.zeros(0, cfg.task_dim))  # one row per named task
        self.image_task = nn.Linear(DESCRIPTOR_DIM, cfg.task_dim)

    def forward(self, space: SearchSpace, x: torch.Tensor, t: torch.Tensor, f: torch.Tensor | None = None
                ) -> torch.Tensor:
        """Standardised score ``(B,)`` of node features ``x (B, N, V)``; ``f (B, P)`` proxy features
        (None: the member's own prediction of them, as for relaxed architectures)."""
        return self.modulated(self.embed(space, x, f)[0], t)

    def embed(self, space: SearchSpace, x: torch.Tensor, f: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Embedding ``(B, d)`` with proxy features added in, and, given ``f``, the member's prediction
        of ``f`` ``(B, P)`` for its auxiliary loss (None otherwise, or without proxies)."""
        e = self.encoder.encode_features(space, x)
        if not hasattr(self, "proxy_in"):
            return e, None
        if f is None:  # a relaxed architecture: its proxies as predicted from the encoding, differentiably
            return e + self.proxy_in(self.proxy_out(e)), None
        # given proxies: the prediction is only trained (aux loss), on a detached encoding, because
        # shaping the encoder to predict proxies cost ranking quality (tau 0.75 vs 0.79, cifar100)
        return e + self.proxy_in(f), self.proxy_out(e.detach())

    def modulated(self, embedding: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The head on an encoder ``embedding (B, d)`` modulated by task vector ``t``: ``(B,)``."""
        gamma, beta = self.film(t).chunk(2, dim=-1)
        return self.head(embedding * (1 + gamma) + beta).squeeze(-1)

    def add_task_row(self) -> None:
        """Append one row to the task table (a new task starts at the mean of the known ones)."""
        old = self.task_emb.data
        init = old.mean(0, keepdim=True) if len(old) else torch.zeros(1, old.shape[1])
        self.task_emb = nn.Parameter(torch.cat([old, init]))

    def fit_vector(self, space: SearchSpace, x: torch.Tensor, z: torch.Tensor, start: torch.Tensor,
                   steps: int, f: torch.Tensor | None = None) -> torch.Tensor:
        """A task vector fitted to standardised scores ``z (n,)`` of features ``x`` (proxy features
        ``f``), the network frozen; ``start`` itself from fewer than :data:`MIN_FITTED_SAMPLES`
        distinct scores: standardised by their own mean, one sample says nothing (z = 0: the fit
        pulled the best cell to the middle) and two of near one score only their order (samples
        of the two best cifar10 cells, 93.76 and 93.69 %, led generate to cells of 81-87 %;
        the mean named task's ranking is the better guess)."""
        if len(set(z.tolist())) < MIN_FITTED_SAMPLES:
            return start.clone()
        v = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([v], lr=0.05)
        with torch.no_grad():
            emb = self.embed(space, x, f)[0]  # frozen: embed once
        for _ in range(steps):
            pred = self.modulated(emb, v)
            # the pull towards the start keeps a handful of samples from overfitting the vector
            loss = nn.functional.mse_loss(pred, z) + rank_loss(pred, z) + 0.1 * (v - start).pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return v.detach()


if TYPE_CHECKING:
    class MemberList(nn.ModuleList):
        """The predictor's ensemble as the type checker sees it: a ModuleList of :class:`PredictorMember`."""

        def __iter__(self) -> Iterator[PredictorMember]: ...
        @overload
        def __getitem__(self, idx: slice) -> MemberList: ...
        @overload
        def __getitem__(self, idx: int) -> PredictorMember: ...
        def __getitem__(self, idx: int | slice) -> PredictorMember | MemberList: ...
else:
    MemberList = nn.ModuleList  # at run time the ensemble is a plain ModuleList


def members_misfit(space: SearchSpace, cfg: PredictorConfig, tasks: int, states: list[dict[str, torch.Tensor]]
                   ) -> str | None:
    """What differs between member ``states`` (PyG keys) and the members ``cfg`` declares with
    ``tasks`` task rows (None: they fit), found before any member is built: one is built on the
    meta device, which allocates nothing (a file's config within each field's bound declared 4096
    members of 4096 layers, terabytes built before its weights were compared)."""
    from gennas.state_fit import declared_shapes, state_mismatch

    if len(states) != cfg.members:
        return f"{len(states)} member states for {cfg.members} members"
    declared = {**declared_shapes(lambda: PredictorMember(space, cfg, "pyg")), "task_emb": (tasks, cfg.task_dim)}
    misfits = (state_mismatch(declared, state) for state in states)
    return next((said for said in misfits if said is not None), None)


def rank_loss(pred: torch.Tensor, target: torch.Tensor, top_weight: float = 0.0) -> torch.Tensor:
    """Pairwise logistic loss over all ordered pairs whose targets differ (RankNet).

    ``top_weight`` > 0 weighs a pair by ``exp(top_weight * target of its better member)``
    (targets are standardised scores), so mistakes among the best architectures, the ones a
    search verifies first, cost more than mistakes in the bulk.
    """
    diff_t = target[:, None] - target[None, :]
    mask = diff_t > 1e-6
    if not mask.any():
        return pred.sum() * 0.0
    losses = nn.functional.softplus(-(pred[:, None] - pred[None, :])[mask])
    if top_weight <= 0:
        return losses.mean()
    # relative to the largest (clamped) target: the same weights once normalised, but targets far
    # below the task's scale (synflow's 7e25 against a saved scale of 6e61, z = -83) no longer
    # underflow to all-zero weights and a 0 / 0 that turned a darts predictor's weights to NaN
    top = target.clamp(max=4.0)
    weights = torch.exp(top_weight * (top - top.max()))[:, None].expand_as(diff_t)[mask]
    return (weights * losses).sum() / weights.sum()


def image_scale_map(descriptors: torch.Tensor, targets: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Descriptor standardisation and a ridge map descriptor -> (mean, log std) of a task's scores.

    Args:
        descriptors: ``(T, DESCRIPTOR_DIM)`` image-task descriptors.
        targets: ``(T, 2)`` float64 score mean and log std per task.
    Returns:
        ``(desc_mean, desc_std, map)``; ``[standardised descriptor, 1] @ map`` is ``(mean, log std)``.
    """
    mean, std = descriptors.mean(0), descriptors.std(0, unbiased=False).clamp_min(1e-3)
    z = torch.cat([(descriptors - mean) / std, torch.ones(len(descriptors), 1)], dim=1)
    lam = torch.full((z.shape[1],), 10.0, dtype=torch.float64)
    lam[-1] = 0.0  # the intercept is not shrunk
    return mean, std, ridge_solve(z, targets, lam).float()
