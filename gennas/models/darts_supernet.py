"""Weight-sharing supernet of a DARTS space: every cell edge holds every candidate op.

The skeleton is :class:`~gennas.models.darts_net.DartsNetwork`'s. Each of a cell's ``E``
possible edges (every intermediate node from every earlier state) holds one module per op of
the space's slot vocabulary, the zero op included. Two ways to run it:

* ``forward(x, path)``: ``path`` is one op index per edge of the normal then the reduction
  cell (``2 * E`` ints, :meth:`DartsSpace.supernet_path`); edges whose op is the zero op are
  skipped, so this is single-path one-shot training (SPOS) of the architecture ``path`` names,
  what :class:`gennas.evaluators.Supernet` trains and scores.
* ``forward(x)``: DARTS's continuous relaxation: every edge is the softmax(``alphas``)-weighted
  sum of its ops; ``alphas`` ``(2, E, V)`` are :meth:`arch_parameters`, the rest
  :meth:`weight_parameters` (bilevel DARTS alternates the two), and :meth:`derive` keeps, per
  node, the ``inputs_per_node`` strongest edges and their strongest non-zero op.

Input ``(B, C_in, H, W)``, output logits ``(B, num_classes)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import torch
from torch import nn

from gennas.models.darts_net import CellPlan, DartsCell, DartsNetwork, preprocess, skeleton, stride_of
from gennas.models.layers import build_op


class MixedEdge(nn.Module):
    """All candidate ops of one edge."""

    def __init__(self, op_specs: Sequence[dict[str, Any]], c: int, stride: int) -> None:
        super().__init__()
        self.is_zero = [spec.get("type") == "zero" for spec in op_specs]
        self.candidates = nn.ModuleList(build_op(spec, c, c, stride) for spec in op_specs)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``weights (V,)``: the relaxed edge; the zero op adds nothing, so it is not run."""
        return sum(w * op(x) for w, op, zero in zip(weights, self.candidates, self.is_zero) if not zero)


class SuperCell(nn.Module):
    """Every possible edge of a cell; ``edges`` as ``(source state, node)`` in slot order."""

    def __init__(self, edges: Sequence[tuple[int, int]], nodes: int, op_specs: Sequence[dict[str, Any]],
                 plan: CellPlan) -> None:
        super().__init__()
        self.nodes, self.edges = nodes, list(edges)
        self.pre0, self.pre1 = preprocess(plan)
        self.mixed = nn.ModuleList(MixedEdge(op_specs, plan.c, stride_of(plan, src)) for src, _ in self.edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, choice: Sequence[int] | None,
                weights: torch.Tensor | None) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for node in range(self.nodes):
            terms = []
            for e, (src, dst) in enumerate(self.edges):
                if dst != node:
                    continue
                edge = cast(MixedEdge, self.mixed[e])
                if choice is None:  # the relaxed forward: weights given (DartsSupernet.forward)
                    terms.append(edge(states[src], cast(torch.Tensor, weights)[e]))
                elif not edge.is_zero[int(choice[e])]:
                    terms.append(edge.candidates[int(choice[e])](states[src]))
            if not terms:  # a path with no live input into a node: the node is zero
                first = next(e for e, (_, dst) in enumerate(self.edges) if dst == node)
                zero_edge = cast(MixedEdge, self.mixed[first])
                terms.append(zero_edge.candidates[zero_edge.is_zero.index(True)](states[0]))
            states.append(torch.stack(terms).sum(0))
        return torch.cat(states[2:], dim=1)


class DartsSupernet(nn.Module):
    """The DARTS skeleton with :class:`SuperCell` cells; ``forward(x, path=None)``."""

    def __init__(self, edges: Sequence[tuple[int, int]], nodes: int, op_specs: Sequence[dict[str, Any]], *,
                 num_classes: int, in_channels: int, channels: int, layers: int, stem_multiplier: int) -> None:
        super().__init__()
        if sum(spec.get("type") == "zero" for spec in op_specs) != 1:
            raise ValueError("a DARTS supernet needs exactly one zero op among its candidates")
        self.num_edges, self.num_ops = len(edges), len(op_specs)
        c_stem, plans = skeleton(layers, channels, stem_multiplier, nodes)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        self.cells = nn.ModuleList(SuperCell(edges, nodes, op_specs, p) for p in plans)
        self.reduction = [p.reduction for p in plans]
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(nodes * plans[-1].c, num_classes)
        # DARTS initialises the architecture weights near zero: every op starts equally likely
        self.alphas = nn.Parameter(1e-3 * torch.randn(2, self.num_edges, self.num_ops))

    def forward(self, x: torch.Tensor, path: Sequence[int] | None = None) -> torch.Tensor:
        if path is not None and len(path) != 2 * self.num_edges:
            raise ValueError(f"path needs {2 * self.num_edges} op indices (normal then reduction cell), "
                             f"got {len(path)}")
        weights = torch.softmax(self.alphas, dim=-1) if path is None else None
        s0 = s1 = self.stem(x)
        for cell, reduction in zip(self.cells, self.reduction):
            t = int(reduction)
            choice = None if path is None else path[t * self.num_edges:(t + 1) * self.num_edges]
            s0, s1 = s1, cell(s0, s1, choice, None if weights is None else weights[t])
        return self.classifier(self.head(s1))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights ``alphas`` ``(2, E, V)`` (normal, reduction)."""
        return [self.alphas]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (the ops' weights)."""
        return [p for name, p in self.named_parameters() if name != "alphas"]

    @torch.no_grad()
    def derive(self, edges: Sequence[tuple[int, int]], nodes: int, inputs_per_node: int) -> list[int]:
        """DARTS's discretisation: one op index per edge (``2 * E``); per node, the
        ``inputs_per_node`` edges with the strongest non-zero op keep it, the others get the zero op."""
        zero = cast(MixedEdge, cast(SuperCell, self.cells[0]).mixed[0]).is_zero.index(True)
        out: list[int] = []
        for t in range(2):
            w = torch.softmax(self.alphas[t], dim=-1).clone()
            w[:, zero] = -1.0
            best, op = w.max(dim=-1)
            choice = [zero] * len(edges)
            for node in range(nodes):
                into = [e for e, (_, dst) in enumerate(edges) if dst == node]
                for e in sorted(into, key=lambda e: -float(best[e]))[:inputs_per_node]:
                    choice[e] = int(op[e])
            out += choice
        return out


def build_darts_supernet(space: Any, num_classes: int, in_channels: int, **options: Any) -> DartsSupernet:
    """Supernet of a :class:`~gennas.spaces.darts.DartsSpace`; options as ``space.build``."""
    macro = space.build_settings(options)
    specs = [space.op_specs[op] for op in space.slot_vocab]
    return DartsSupernet(space.cell_edges, space.nodes, specs, num_classes=num_classes, in_channels=in_channels,
                         **macro)


@torch.no_grad()
def copy_into_standalone(supernet: DartsSupernet, path: Sequence[int], net: nn.Module) -> nn.Module:
    """Load ``supernet``'s weights of ``path`` into ``net``, the
    :class:`~gennas.models.darts_net.DartsNetwork` of the same architecture and skeleton."""
    standalone = cast(DartsNetwork, net)
    standalone.stem.load_state_dict(supernet.stem.state_dict())
    e = supernet.num_edges
    cells, supercells = cast(Iterable[DartsCell], standalone.cells), cast(Iterable[SuperCell], supernet.cells)
    for std, sup, reduction in zip(cells, supercells, supernet.reduction):
        choice = path[int(reduction) * e:(int(reduction) + 1) * e]
        std.pre0.load_state_dict(sup.pre0.state_dict())
        std.pre1.load_state_dict(sup.pre1.state_dict())
        # The standalone cell keeps the live edges in edge order: match them one by one.
        live = [edge.candidates[int(k)] for edge, k in zip(cast(Iterable[MixedEdge], sup.mixed), choice)
                if not edge.is_zero[int(k)]]
        for op, source in zip(std.ops, live, strict=True):
            op.load_state_dict(source.state_dict())
    standalone.classifier.load_state_dict(supernet.classifier.state_dict())
    return net
