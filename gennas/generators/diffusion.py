"""Discrete (absorbing-state, D3PM / MDLM-style) diffusion over the slots of a space.

Forward process: each slot is independently replaced by a ``[MASK]`` token with probability
``t ~ U(0, 1)``. The denoiser sees the partly masked slots and predicts the clean op of every
slot; training minimises cross-entropy on the masked slots (the uniform-weight variant of the
absorbing-diffusion bound, as MaskGIT). Sampling starts from all-``[MASK]`` and reveals the
slots in a random order over ``steps`` steps, each revealed op drawn from the denoiser's
(guided) prediction under the validity mask, so every sample is valid by construction.

Denoiser: a small transformer over slots, not a message-passing GNN. Each space has one fixed
graph, so the graph enters as structure: learned position embeddings (a slot *is* an edge of the
nb201 cell, or a block of an mbv3 stage) and a learned attention bias per graph relation between
two slot nodes (same, parent, child, ancestor, descendant, unrelated; Graphormer-style). Attention
lets every slot see every other in one layer, which a DAG message-passing network needs several
layers to do, and needs no PyG batching.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from gennas.generators.base import (MASKED, SlotGenerator, allowed_ops, fill_slots, guidance_gradient,
                                    masked_logits, one_hot_slots, soft_slots)
from gennas.spaces import SearchSpace

if TYPE_CHECKING:
    from gennas.generators.guidance import Guidance

NUM_RELATIONS = 6


@dataclass
class DiffusionConfig:
    dim: int = 64
    layers: int = 3
    heads: int = 4
    dropout: float = 0.0
    steps: int = 0  # reverse steps; 0 = one per slot (nb201: 6) capped at 10


def slot_relations(space: SearchSpace) -> torch.Tensor:
    """Graph relation between slot nodes, long ``(S, S)``: 0 same, 1 parent, 2 child,
    3 ancestor, 4 descendant, 5 unrelated (``[i, j]`` is what ``j`` is to ``i``)."""
    template = space.from_choices(space.project([space.slot_vocab[0]] * space.num_slots))
    g = template.to_networkx()
    s = space.num_slots
    rel = torch.full((s, s), 5, dtype=torch.long)
    for i in range(s):
        anc, desc = nx.ancestors(g, i + 1), nx.descendants(g, i + 1)
        for j in range(s):
            node = j + 1
            if i == j:
                rel[i, j] = 0
            elif g.has_edge(node, i + 1):
                rel[i, j] = 1
            elif g.has_edge(i + 1, node):
                rel[i, j] = 2
            elif node in anc:
                rel[i, j] = 3
            elif node in desc:
                rel[i, j] = 4
    return rel


class SlotDenoiser(nn.Module):
    """``forward(x (B, S) long, MASKED allowed) -> logits (B, S, V)`` over clean ops."""

    def __init__(self, space: SearchSpace, config: DiffusionConfig) -> None:
        super().__init__()
        s, v, d = space.num_slots, len(space.slot_vocab), config.dim
        self.heads = config.heads
        self.token = nn.Embedding(v + 1, d)  # index v is [MASK]
        self.position = nn.Embedding(s, d)
        self.relation_bias = nn.Embedding(NUM_RELATIONS, config.heads)
        nn.init.zeros_(self.relation_bias.weight)
        self.register_buffer("relations", slot_relations(space), persistent=False)
        self.blocks = nn.ModuleList(_Block(d, config.heads, config.dropout) for _ in range(config.layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, v)
        self.mask_token = v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s = x.shape
        tokens = torch.where(x >= 0, x, torch.full_like(x, self.mask_token))
        h = self.token(tokens) + self.position.weight.unsqueeze(0)
        bias = self.relation_bias(self.relations).permute(2, 0, 1).unsqueeze(0)  # (1, H, S, S)
        for block in self.blocks:
            h = block(h, bias)
        return self.head(self.norm(h))


class _Block(nn.Module):
    """Pre-norm transformer block whose attention takes an additive bias ``(1, H, S, S)``.

    Written out rather than ``nn.TransformerEncoderLayer``, whose inference fast path returned
    NaN with a float attention mask in torch 2.13."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, s, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                                       dropout_p=self.dropout if self.training else 0.0)
        h = h + self.out(a.transpose(1, 2).reshape(b, s, d))
        return h + self.ff(self.norm2(h))


class SlotDiffusion(SlotGenerator):
    """Absorbing-state discrete diffusion generator (see the module docstring)."""

    kind = "diffusion"

    def __init__(self, space: SearchSpace | str, config: DiffusionConfig | None = None) -> None:
        super().__init__(space)
        self.config = config or DiffusionConfig()
        self.denoiser = SlotDenoiser(self.space, self.config)
        self.steps = self.config.steps or min(self.num_slots, 10)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Denoiser logits with invalid ops masked, ``(B, S, V)``."""
        return masked_logits(self.denoiser(x), allowed_ops(self.space, x))

    def loss(self, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, s = x0.shape
        t = torch.rand(b, 1, generator=generator)
        masked = torch.rand(b, s, generator=generator) < t
        # at least one masked slot per row, so every row contributes to the loss
        forced = torch.randint(s, (b,), generator=generator)
        masked[torch.arange(b), forced] = True
        xt = torch.where(masked, torch.full_like(x0, MASKED), x0)
        logits = self.logits(xt)
        ce = nn.functional.cross_entropy(logits.reshape(-1, self.vocab), x0.reshape(-1), reduction="none")
        return (ce * masked.reshape(-1)).sum() / masked.sum()

    # ------------------------------------------------------------ sampling
    def _sample_indices(self, n: int, generator: torch.Generator, guidance: Guidance | None) -> torch.Tensor:
        s = self.num_slots
        x = torch.full((n, s), MASKED, dtype=torch.long)
        order = torch.argsort(torch.rand(n, s, generator=generator), dim=1)
        bounds = np.linspace(0, s, self.steps + 1).round().astype(int)
        for k in range(self.steps):
            positions = order[:, bounds[k]:bounds[k + 1]]
            if positions.shape[1] == 0:
                continue
            # Rows with the same revealed slots get the same prediction and guidance, and early
            # steps have few distinct rows (all rows are equal at the first): compute once per row.
            rows, inverse = torch.unique(x, dim=0, return_inverse=True)
            logits = self.logits(rows)
            if guidance is not None and guidance.uses_gradient:
                logits = logits + guidance_gradient(guidance, soft_slots(rows, logits))
            logits = logits[inverse]
            if guidance is not None and guidance.derivative_free:
                x = self._best_of(x, logits, positions, generator, guidance)
            else:
                x = fill_slots(self.space, x, logits, positions, generator)
        return x

    def _best_of(self, x: torch.Tensor, logits: torch.Tensor, positions: torch.Tensor,
                 generator: torch.Generator, guidance: Guidance) -> torch.Tensor:
        """SVDD step: ``M`` continuations per sample, each completed greedily by the denoiser and
        scored on its hard architecture; keep the best continuation per sample."""
        n, m = x.shape[0], guidance.num_candidates
        rep = lambda t: t.repeat_interleave(m, dim=0)  # noqa: E731 - (n, ...) -> (n*m, ...)
        cand = fill_slots(self.space, rep(x), rep(logits), rep(positions), generator)
        done = fill_slots(self.space, cand, self.logits(cand), None, generator, greedy=True)
        archs = self.to_archs(done)
        scores = guidance.score(archs, one_hot_slots(done, self.vocab))  # done is valid: no projection
        best = torch.from_numpy(scores.reshape(n, m).argmax(1))
        return cand.view(n, m, -1)[torch.arange(n), best]
