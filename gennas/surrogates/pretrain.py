"""Self-supervised pretraining of the predictor's DAG encoder on unlabelled architectures.

Pretext: from the pooled graph embedding, (1) predict the architecture's standardised zero-cost
proxy features (data-free ones by default: params, FLOPs, synflow; see
:mod:`gennas.surrogates.features`) and (2) reconstruct every node's op. Both need no accuracy
label, so the encoder sees all 15,625 nb201 cells (or samples of an infinite space); the
proxies teach it what makes a cell big, deep and trainable, the reconstruction keeps the ops
apart. A labelled task then mostly has to fit the head.

The result is a :mod:`gennas.checkpoint` file of kind ``"encoder"``
(``checkpoints/encoder_<space>.pt`` + manifest with sha256); a
:class:`~gennas.surrogates.predictor.Predictor` with ``config.pretrained`` starts its members'
encoders from it when the hidden size and depth match (:func:`pretrained_encoder`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gennas.checkpoint import Checkpoint, config_dict, load_checkpoint, save_checkpoint
from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.models.gnn import DAGEncoder, EncoderConfig, archs_to_node_features
from gennas.resources import checkpoints_dir
from gennas.seeds import keeps_callers_torch_stream
from gennas.spaces import SearchSpace
from gennas.surrogates.features import DATA_FREE, feature_stats, raw_proxies, squash, standardise

KIND = "encoder"


@dataclass
class PretrainConfig:
    """Encoder size (must match the predictor's ``hidden``/``layers``) and pretext schedule."""

    hidden: int = 32
    layers: int = 3
    proxies: tuple[str, ...] = field(default_factory=lambda: DATA_FREE)
    steps: int = 3000
    batch_size: int = 256
    lr: float = 3e-3
    recon_weight: float = 1.0
    #: infinite spaces: how many sampled architectures to pretrain on
    samples: int = 5000
    seed: int = 0


class PretextModel(nn.Module):
    """Encoder + proxy head ``(B, d) -> (B, P)`` + op decoder ``(B, d) -> (B, N, V)``."""

    def __init__(self, space: SearchSpace, cfg: PretrainConfig) -> None:
        super().__init__()
        self.encoder = DAGEncoder(len(space.node_vocab), space.num_nodes, EncoderConfig(cfg.hidden, cfg.layers))
        d = self.encoder.out_dim
        self.proxy_head = nn.Linear(d, len(cfg.proxies))
        self.decoder = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, space.num_nodes * len(space.node_vocab)))
        self.shape = (space.num_nodes, len(space.node_vocab))

    def forward(self, space: SearchSpace, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.encoder.encode_features(space, x)
        return self.proxy_head(e), self.decoder(e).reshape(len(x), *self.shape)


def unlabelled_archs(space: SearchSpace, cfg: PretrainConfig) -> list[ArchGraph]:
    """Every architecture of a finite space, else ``cfg.samples`` seeded samples."""
    if space.is_finite_enumerable():
        return list(space.enumerate())
    return space.sample_many(cfg.samples, np.random.default_rng(cfg.seed))


@keeps_callers_torch_stream
def pretrain_encoder(space: SearchSpace, cfg: PretrainConfig, archs: Sequence[ArchGraph] | None = None,
                     log: Callable[[str], None] | None = None) -> tuple[PretextModel, torch.Tensor, dict[str, float]]:
    """Train the pretext model; returns it, the proxy feature stats ``(3, P)`` and held-out metrics
    (proxy R^2 per proxy, op reconstruction accuracy) on a seeded 5 % of the architectures."""
    archs = list(archs) if archs is not None else unlabelled_archs(space, cfg)
    squashed = squash(raw_proxies(space, archs, cfg.proxies))
    stats = feature_stats(squashed)
    f = standardise(squashed, stats)
    x = archs_to_node_features(space, archs)
    ops = x.argmax(-1)
    gen = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(archs), generator=gen)
    held, train = order[:max(1, len(archs) // 20)], order[max(1, len(archs) // 20):]
    torch.manual_seed(cfg.seed)
    model = PretextModel(space, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)
    model.train()
    for step in range(cfg.steps):
        idx = train[torch.randint(len(train), (cfg.batch_size,), generator=gen)]
        proxies, logits = model(space, x[idx])
        recon = nn.functional.cross_entropy(logits.flatten(0, 1), ops[idx].flatten())
        loss = nn.functional.mse_loss(proxies, f[idx]) + cfg.recon_weight * recon
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step + 1) % 500 == 0:
            log(f"  pretext step {step + 1}/{cfg.steps}: loss {float(loss.detach()):.4f}")
    model.eval()
    with torch.no_grad():
        proxies, logits = model(space, x[held])
    resid = ((proxies - f[held]) ** 2).mean(0) / f[held].var(0, unbiased=False).clamp_min(1e-9)
    metrics = {f"r2_{p}": round(float(1 - r), 4) for p, r in zip(cfg.proxies, resid)}
    metrics["op_accuracy"] = round(float((logits.argmax(-1) == ops[held]).float().mean()), 4)
    return model, stats, metrics


def encoder_path(space_name: str) -> Path:
    """Where the shipped pretrained encoder of a space lives."""
    return checkpoints_dir() / f"encoder_{space_name}.pt"


def save_encoder(path: str | Path, space: SearchSpace, model: PretextModel, stats: torch.Tensor,
                 cfg: PretrainConfig, data: str, metrics: dict[str, Any], command: str | None = None) -> Path:
    """Write the encoder checkpoint and its manifest (sha256)."""
    ckpt = Checkpoint(KIND, config_dict(cfg),
                      state={"encoder": model.encoder.state_dict(), "proxy_head": model.proxy_head.state_dict(),
                             "proxy_stats": stats},
                      meta={"space": space.name, "proxies": list(cfg.proxies)})
    return save_checkpoint(path, ckpt, data, metrics, command)


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Checkpoint:
    return load_checkpoint(path, KIND)


def pretrained_encoder(space_name: str, hidden: int, layers: int) -> dict[str, torch.Tensor] | None:
    """The shipped encoder's state dict (PyG key names) for this size, or None if none ships or the
    size differs. A damaged file raises GennasError (from :func:`gennas.checkpoint.load_checkpoint`)."""
    path = encoder_path(space_name)
    if not path.is_file():
        return None
    ckpt = _load(str(path))
    if ckpt.space != space_name:
        raise GennasError(f"{path} is an encoder for space {ckpt.space!r}, not {space_name!r}")
    if (ckpt.config.get("hidden"), ckpt.config.get("layers")) != (hidden, layers):
        return None
    state = ckpt.state.get("encoder")
    if not isinstance(state, dict):
        raise GennasError(f"{path} is not a valid encoder checkpoint: no 'encoder' weights")
    return state
