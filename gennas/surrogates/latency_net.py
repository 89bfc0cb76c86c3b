"""The latency estimator's network: an architecture's features ``phi`` and a device's vector
``w`` from its reference latencies, whose product is the architecture's standardised log-latency
on that device (:class:`~gennas.surrogates.latency.LatencyEstimator` fits and adapts it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gennas.models.gnn import DAGEncoder, EncoderConfig
from gennas.spaces import SearchSpace

__all__ = ["LatencyConfig", "LatencyNet", "ms_of"]


@dataclass
class LatencyConfig:
    hidden: int = 64      # GNN width
    layers: int = 3       # GNN depth
    rank: int = 32        # size of phi(arch) and of the device vector w (minus the offset)
    k: int = 10           # number of reference architectures in the hardware embedding
    ridge: float = 1.0    # pull of the adapted w towards the embedding, per unit of sample weight


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class LatencyNet(nn.Module):
    """``phi``: node features ``(B, N, V)`` -> ``(B, rank)``; ``hardware``: reference z ``(D, k)`` -> ``(D, rank+1)``."""

    def __init__(self, space: SearchSpace, config: LatencyConfig) -> None:
        super().__init__()
        self.encoder = DAGEncoder(len(space.node_vocab), space.num_nodes, EncoderConfig(config.hidden, config.layers))
        self.head = _mlp(self.encoder.out_dim, config.hidden, config.rank)
        self.hardware = _mlp(config.k, config.hidden, config.rank + 1)

    def phi(self, space: SearchSpace, node_features: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.encode_features(space, node_features))

    @staticmethod
    def combine(phi: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """z ``(B, D)`` from features ``(B, rank)`` and device vectors ``(D, rank+1)``."""
        return phi @ w[:, :-1].T + w[:, -1]


def ms_of(phi: torch.Tensor, params: tuple[float, float, torch.Tensor]) -> np.ndarray:
    """Latency in ms, float64 ``(n,)``, of features ``phi`` ``(n, rank)`` on a device of ``(mu, sigma, w)``."""
    mu, sigma, w = params
    with torch.no_grad():
        z = LatencyNet.combine(phi, w[None])[:, 0].double().numpy()
    return np.exp(mu + sigma * z)
