"""The DARTS network (Liu et al., ICLR 2019) around a normal and a reduction cell.

stem (3x3 conv to ``stem_multiplier * C``, BN) -> ``layers`` cells, reduction cells at
``layers // 3`` and ``2 * layers // 3`` (width doubles, size halves) -> global average pool ->
linear. Each cell takes the outputs of the two cells before it (``s0``, ``s1``), brings them
to ``C`` channels (1x1 ReLUConvBN; a factorized reduction when ``s0`` is twice the size), and
every intermediate node sums its chosen ops over its chosen inputs; the cell's output
concatenates the intermediate nodes (``nodes * C`` channels). Ops on the cell inputs of a
reduction cell have stride 2. Input ``(B, C_in, H, W)``, output logits ``(B, num_classes)``.

Not included (DARTS's evaluation extras): the auxiliary head and drop-path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gennas.models.layers import FactorizedReduce, ReLUConvBN, build_op

#: a cell edge: (source state, intermediate node, op spec); states 0 and 1 are the cell inputs,
#: state ``2 + m`` is intermediate node ``m``
Edge = tuple[int, int, dict[str, Any]]


@dataclass(frozen=True)
class CellPlan:
    """Widths of one cell of the skeleton."""

    c_pp: int  # channels of s0 (two cells back)
    c_p: int  # channels of s1 (previous cell)
    c: int  # channels of each intermediate node
    reduction: bool
    reduction_prev: bool


def skeleton(layers: int, channels: int, stem_multiplier: int, nodes: int) -> tuple[int, list[CellPlan]]:
    """The stem width and each cell's widths, DARTS's bookkeeping (shared by the supernet)."""
    c_stem = stem_multiplier * channels
    c_pp, c_p, c = c_stem, c_stem, channels
    reductions = {layers // 3, 2 * layers // 3}
    plans, reduction_prev = [], False
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c *= 2
        plans.append(CellPlan(c_pp, c_p, c, reduction, reduction_prev))
        c_pp, c_p, reduction_prev = c_p, nodes * c, reduction
    return c_stem, plans


def preprocess(plan: CellPlan) -> tuple[nn.Module, nn.Module]:
    """The two input adapters of a cell: ``s0`` and ``s1`` to ``plan.c`` channels, one size."""
    pre0 = FactorizedReduce(plan.c_pp, plan.c) if plan.reduction_prev else ReLUConvBN(plan.c_pp, plan.c, 1)
    return pre0, ReLUConvBN(plan.c_p, plan.c, 1)


def stride_of(plan: CellPlan, source: int) -> int:
    return 2 if plan.reduction and source < 2 else 1


class DartsCell(nn.Module):
    """One cell with fixed edges (those a genotype keeps), in the order given."""

    def __init__(self, edges: Sequence[Edge], nodes: int, plan: CellPlan) -> None:
        super().__init__()
        self.nodes = nodes
        self.pre0, self.pre1 = preprocess(plan)
        self.edges = [(src, dst) for src, dst, _ in edges]
        self.ops = nn.ModuleList(build_op(spec, plan.c, plan.c, stride_of(plan, src)) for src, _, spec in edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for node in range(self.nodes):
            terms = [op(states[src]) for (src, dst), op in zip(self.edges, self.ops) if dst == node]
            states.append(torch.stack(terms).sum(0))
        return torch.cat(states[2:], dim=1)


class DartsNetwork(nn.Module):
    """Stem, ``layers`` cells (the normal cell, or the reduction cell at 1/3 and 2/3), head."""

    def __init__(self, normal: Sequence[Edge], reduce: Sequence[Edge], nodes: int, *, num_classes: int,
                 in_channels: int, channels: int, layers: int, stem_multiplier: int) -> None:
        super().__init__()
        c_stem, plans = skeleton(layers, channels, stem_multiplier, nodes)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        self.cells = nn.ModuleList(DartsCell(reduce if p.reduction else normal, nodes, p) for p in plans)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(nodes * plans[-1].c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.head(s1))
