"""Weight-sharing supernet of a cell space (NAS-Bench-201), trained by single-path sampling (SPOS).

The skeleton is :class:`~gennas.models.cell_net.CellNetwork`'s: stem, ``stages`` stages of
``cells_per_stage`` cells with ResNet reduction blocks between, head. Every cell edge holds
one module per candidate op (each with its own BatchNorm, as in SPOS and the NAS-Bench-201
supernet baselines); a forward pass takes ``choice``, one op index per edge, shared by every
cell because the searched cell repeats. A ``zero`` op contributes nothing, so it has no module.
Input ``(B, C_in, H, W)``, output logits ``(B, num_classes)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import torch
from torch import nn

from gennas.models.cell_net import CellNetwork
from gennas.models.layers import ResNetBasicBlock, build_op


class SuperEdge(nn.Module):
    """All candidate ops of one edge; ``forward(x, k)`` runs op ``k`` (None for a zero op)."""

    def __init__(self, op_specs: Sequence[dict[str, Any]], channels: int) -> None:
        super().__init__()
        self.is_zero = [spec.get("type") == "zero" for spec in op_specs]
        # Zero ops get an empty placeholder so that module index == op index.
        self.candidates = nn.ModuleList(
            nn.Identity() if zero else build_op(spec, channels, channels)
            for spec, zero in zip(op_specs, self.is_zero))

    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor | None:
        return None if self.is_zero[k] else self.candidates[k](x)


class SuperCell(nn.Module):
    """Node ``i`` = sum over live edges ``j -> i`` of ``edge(node_j)``; output is the last node."""

    def __init__(self, num_nodes: int, cell_edges: Sequence[tuple[int, int]],
                 op_specs: Sequence[dict[str, Any]], channels: int) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.cell_edges = list(cell_edges)
        self.edges = nn.ModuleList(SuperEdge(op_specs, channels) for _ in self.cell_edges)

    def forward(self, x: torch.Tensor, choice: Sequence[int]) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (self.num_nodes - 1)
        for (src, dst), edge, k in zip(self.cell_edges, self.edges, choice):
            if nodes[src] is None:  # a zero node stays zero through any op
                continue
            term = edge(nodes[src], int(k))
            if term is not None:
                nodes[dst] = term if nodes[dst] is None else nodes[dst] + term
        out = nodes[-1]
        # Same convention as the standalone Cell: a cell with no path to its output emits zeros.
        return x.mul(0.0) if out is None else out


class CellSupernet(nn.Module):
    """The NAS-Bench-201 skeleton with :class:`SuperCell` cells; ``forward(x, choice)``."""

    def __init__(self, num_nodes: int, cell_edges: Sequence[tuple[int, int]],
                 op_specs: Sequence[dict[str, Any]], *, num_classes: int, in_channels: int,
                 channels: int, cells_per_stage: int, stages: int) -> None:
        super().__init__()
        self.num_edges = len(cell_edges)
        self.num_ops = len(op_specs)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        self.layers = nn.ModuleList()
        c = channels
        for stage in range(stages):
            if stage > 0:
                self.layers.append(ResNetBasicBlock(c, c * 2, stride=2))
                c *= 2
            self.layers.extend(SuperCell(num_nodes, cell_edges, op_specs, c) for _ in range(cells_per_stage))
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor, choice: Sequence[int]) -> torch.Tensor:
        if len(choice) != self.num_edges:
            raise ValueError(f"choice needs {self.num_edges} op indices, got {len(choice)}")
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, choice) if isinstance(layer, SuperCell) else layer(x)
        return self.classifier(self.head(x))


def build_cell_supernet(space: Any, num_classes: int, in_channels: int, **options: Any) -> CellSupernet:
    """Supernet for a :class:`~gennas.spaces.cell.CellSpace`; options as ``space.build``:
    ``channels`` (16), ``cells_per_stage`` (5), ``stages`` (3)."""
    macro = space.build_macro(options)
    specs = [space.op_specs[op] for op in space.slot_vocab]
    return CellSupernet(space.cell_nodes, space.cell_edges, specs, num_classes=num_classes,
                        in_channels=in_channels, channels=int(macro["channels"]),
                        cells_per_stage=int(macro["cells_per_stage"]), stages=int(macro["stages"]))


@torch.no_grad()
def copy_into_standalone(supernet: CellSupernet, choice: Sequence[int], net: nn.Module) -> nn.Module:
    """Load the weights of ``supernet``'s path ``choice`` into ``net``, the standalone
    :class:`~gennas.models.cell_net.CellNetwork` of the same cell and skeleton. Returns ``net``."""
    standalone = cast(CellNetwork, net)
    standalone.stem.load_state_dict(supernet.stem.state_dict())
    for std, sup in zip(cast(Iterable[Any], standalone.cells), supernet.layers):  # cells and reduction blocks
        if isinstance(sup, SuperCell):
            # The standalone cell keeps only non-zero edges, in edge order: match them one by one.
            edges = cast(Iterable[SuperEdge], sup.edges)
            live = [(edge, int(k)) for edge, k in zip(edges, choice) if not edge.is_zero[int(k)]]
            for op, (edge, k) in zip(std.ops, live):
                op.load_state_dict(edge.candidates[k].state_dict())
        else:
            std.load_state_dict(sup.state_dict())
    standalone.head.load_state_dict(supernet.head.state_dict())
    standalone.classifier.load_state_dict(supernet.classifier.state_dict())
    return net
