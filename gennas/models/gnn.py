"""Shared DAG encoder (PyTorch Geometric): graphs of a space -> fixed-size embeddings.

Node features may be hard one-hot ops or *soft* op distributions (rows summing to 1), so
models built on this encoder are differentiable with respect to relaxed architectures, which
is what gradient guidance needs. Messages flow along the edges (data flow) and against them
(gradient flow), one GIN convolution each way per layer, as in DAG-aware encoders
(D-VAE, DiffusionNAG's predictor).

Every space here has one fixed edge set and node count (depth is expressed by ``skip``
slots), so a batch is ``B`` copies of one graph with different node features. The PyG encoder
therefore runs dense (``DenseGINConv`` with the one ``(N, N)`` adjacency shared by the batch):
the same function as ``GINConv`` over a batched ``edge_index``, with the same parameters, at
half the CPU time for the small batches the design loop evaluates (``python
experiments/encoder_speed.py``: identical embeddings; 1.7 vs 3.5 ms at batch 1, 4.8 vs 6.5 ms
at batch 128; nb201, hidden 32, one thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import gennas.models.pyg  # noqa: F401  (before torch_geometric: its import's DeprecationWarning)
from torch_geometric.nn import DenseGINConv

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


@dataclass
class EncoderConfig:
    hidden: int = 64
    layers: int = 3
    dropout: float = 0.0


def slot_probs_to_node_features(space: SearchSpace, slot_probs: torch.Tensor) -> torch.Tensor:
    """Node features of a batch of relaxed architectures.

    Args:
        slot_probs: ``(B, num_slots, len(space.slot_vocab))`` op distributions per slot.
    Returns:
        ``(B, num_nodes, len(space.node_vocab))``: ``input``/``output`` one-hot at the ends,
        slot distributions placed at their ops' columns in between.
    """
    b = slot_probs.shape[0]
    vocab = space.node_vocab
    cols = torch.tensor([vocab.index(op) for op in space.slot_vocab], device=slot_probs.device)
    x = slot_probs.new_zeros(b, space.num_nodes, len(vocab))
    x[:, 1:-1].index_copy_(2, cols, slot_probs)
    x[:, 0, vocab.index("input")] = 1.0
    x[:, -1, vocab.index("output")] = 1.0
    return x


def archs_to_node_features(space: SearchSpace, archs: list[ArchGraph]) -> torch.Tensor:
    """One-hot node features, float32 ``(B, num_nodes, len(space.node_vocab))``."""
    idx = torch.from_numpy(np.stack([space.op_indices(a) for a in archs]))
    return nn.functional.one_hot(idx, num_classes=len(space.node_vocab)).float()


def batched_edges(space: SearchSpace, batch_size: int, device: torch.device | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """``edge_index (2, B*E)`` of ``B`` copies of the space's graph and ``batch (B*N,)``."""
    template = space.from_choices(space.project([space.slot_vocab[0]] * space.num_slots))
    n = template.num_nodes
    base = torch.tensor(template.edges, dtype=torch.long, device=device).t()
    offsets = torch.arange(batch_size, device=device).repeat_interleave(base.shape[1]) * n
    edge_index = base.repeat(1, batch_size) + offsets
    batch = torch.arange(batch_size, device=device).repeat_interleave(n)
    return edge_index, batch


def _mlp(dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))


class BidirectionalGINLayers(nn.Module):
    """Parameters shared by both backends' encoders: node embedding, per-position embedding, and
    per layer a forward and a backward GIN convolution (built by ``make_conv(mlp)``), a mixing
    linear map and a LayerNorm. Same attribute names in both, so weights move between them."""

    def __init__(self, vocab_size: int, max_nodes: int, config: EncoderConfig | None,
                 make_conv: Callable[[nn.Module], nn.Module]) -> None:
        super().__init__()
        self.config = config or EncoderConfig()
        h, layers = self.config.hidden, self.config.layers
        self.embed = nn.Linear(vocab_size, h)
        # Position matters: nb201 slots are specific edges and mbv3 slots specific stages.
        self.position = nn.Embedding(max_nodes, h)
        self.forward_convs = nn.ModuleList(make_conv(_mlp(h)) for _ in range(layers))
        self.backward_convs = nn.ModuleList(make_conv(_mlp(h)) for _ in range(layers))
        self.mix = nn.ModuleList(nn.Linear(2 * h, h) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(layers))
        self.dropout = nn.Dropout(self.config.dropout)
        self.max_nodes = max_nodes

    @property
    def out_dim(self) -> int:
        return 2 * self.config.hidden


class DAGEncoder(BidirectionalGINLayers):
    """Bidirectional GIN over a DAG, dense over the space's one graph.

    ``encode_features(space, x (B, N, V))`` -> ``(B, 2 * hidden)`` graph embeddings (mean and
    sum / N pooling concatenated; equal for equal-size graphs, both kept so trained weights and
    the DGL twin keep their shapes). Parameter names are those of ``GINConv``, so checkpoints
    trained with the sparse form load unchanged.
    """

    def __init__(self, vocab_size: int, max_nodes: int, config: EncoderConfig | None = None) -> None:
        super().__init__(vocab_size, max_nodes, config, lambda mlp: DenseGINConv(mlp, train_eps=True))
        self._adjacency: dict[str, torch.Tensor] = {}  # space name -> (N, N) in-edges, built once

    def adjacency(self, space: SearchSpace) -> torch.Tensor:
        """``(N, N)`` float: ``[i, j] = 1`` when the space's graph has an edge ``j -> i`` (messages
        flow along the data flow; the transpose carries them back)."""
        if space.name not in self._adjacency:
            edge_index, _ = batched_edges(space, 1)
            adj = torch.zeros(space.num_nodes, space.num_nodes)
            adj.index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.shape[1]), accumulate=True)
            self._adjacency[space.name] = adj
        return self._adjacency[space.name]

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """``x (B, N, V)`` node features (soft or one-hot), ``adj (N, N)`` -> ``(B, out_dim)``."""
        n = x.shape[1]
        adj = adj.to(x.device, x.dtype)
        h = self.embed(x) + self.position.weight[:n]
        back = adj.t()
        for fwd, bwd, mix, norm in zip(self.forward_convs, self.backward_convs, self.mix, self.norms):
            update = mix(torch.cat([fwd(h, adj), bwd(h, back)], dim=-1))
            h = norm(h + self.dropout(torch.relu(update)))  # residual keeps shallow signals
        return torch.cat([h.mean(1), h.sum(1) / n], dim=-1)

    def encode_features(self, space: SearchSpace, node_features: torch.Tensor) -> torch.Tensor:
        """Embed a batch given as dense node features ``(B, N, V)`` -> ``(B, out_dim)``."""
        return self(node_features, self.adjacency(space))
