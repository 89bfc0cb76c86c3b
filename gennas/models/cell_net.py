"""The NAS-Bench-201 macro skeleton around a searched cell.

stem (3x3 conv, BN) -> N cells -> reduction -> N cells -> reduction -> N cells -> BN, ReLU ->
global average pool -> linear. Width doubles at each reduction. Input ``(B, C_in, H, W)``,
output logits ``(B, num_classes)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from gennas.models.layers import ResNetBasicBlock, build_op


class Cell(nn.Module):
    """Node ``i`` = sum over ``j < i`` of ``op[j->i](node_j)``; the cell's output is the last node.

    ``edge_ops`` lists ``(src, dst, op_spec)``; edges whose op is the zero op are dropped
    (they add zero), and a node with no live input is zero.
    """

    def __init__(self, num_nodes: int, edge_ops: Sequence[tuple[int, int, dict[str, Any]]], channels: int) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.edges = [(s, d) for s, d, spec in edge_ops if spec.get("type") != "zero"]
        self.ops = nn.ModuleList(build_op(spec, channels, channels) for _, _, spec in edge_ops
                                 if spec.get("type") != "zero")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (self.num_nodes - 1)
        for (src, dst), op in zip(self.edges, self.ops):
            if nodes[src] is None:  # zero input: the term is zero whatever the op
                continue
            term = op(nodes[src])
            nodes[dst] = term if nodes[dst] is None else nodes[dst] + term
        out = nodes[-1]
        return x.mul(0.0) if out is None else out


class CellNetwork(nn.Module):
    """Stem, ``stages`` stages of ``cells_per_stage`` cells with reductions between, head."""

    def __init__(self, num_nodes: int, edge_ops: Sequence[tuple[int, int, dict[str, Any]]], *,
                 num_classes: int, in_channels: int, channels: int, cells_per_stage: int,
                 stages: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(stages):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, c * 2, stride=2))
                c *= 2
            layers.extend(Cell(num_nodes, edge_ops, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.cells(self.stem(x))))
