"""DartsSpace: normal and reduction cells whose nodes choose their inputs (Liu et al., ICLR 2019).

A cell has two input states (the outputs of the two cells before it) and ``nodes``
intermediate nodes; intermediate node ``i`` picks ``inputs_per_node`` distinct inputs among
the ``i + 2`` states before it and one non-zero op for each, and the cell's output concatenates
every intermediate node. The network repeats the normal cell and uses the reduction cell at
1/3 and 2/3 of its depth (:mod:`gennas.models.darts_net`).

Slots: every *possible* edge of a cell (``E = sum(i + 2)``, 14 for 4 nodes), normal cell first;
a slot holds an op, or the zero op where the node does not read that input, so each node has
exactly ``inputs_per_node`` non-zero slots. This is DARTS's own supergraph view (a genotype is
the supernet with all but the kept edges set to ``none``), and it makes the two inputs of a
node unordered by construction. As an :class:`ArchGraph` each slot is an operation node (node
``1 + s``), with the data-flow edges of the supergraph: the cell inputs of the normal cell come
from ``input``, those of the reduction cell from every normal-cell node (the normal cell's
output), and every reduction-cell node feeds ``output``.

Text form: DARTS's genotype, ``Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...],
normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])``, read without ``eval``.
"""

from __future__ import annotations

import ast
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture
from gennas.graph import ArchGraph, ArchLike, normal_edges
from gennas.spaces.base import RngLike, SearchSpace, as_rng
from gennas.spaces.cell import check_marker_ops
from gennas.spaces.schema import DictOf, Int, KindSchema, Map, Name, OpSpec

if TYPE_CHECKING:
    from torch import nn

CELLS = ("normal", "reduce")
BUILD_OPTIONS = {"channels": Int(1, 4096), "layers": Int(3, 100), "stem_multiplier": Int(1, 8)}
_DEFAULTS = {"channels": 36, "layers": 20, "stem_multiplier": 3}  # DARTS's CIFAR-10 evaluation network


def _check_darts(spec: dict[str, Any]) -> tuple[str, str] | None:
    cell = spec["cell"]
    if len(cell["ops"]) < 2:
        return "cell.ops", "needs the zero op and at least one other op"
    zeros = [name for name, op in cell["ops"].items() if op["type"] == "zero"]
    if zeros != [cell["zero_op"]]:
        return "cell.ops", f"needs exactly one op of type zero (the zero_op); found {zeros or 'none'}"
    return check_marker_ops(spec)


class DartsSpace(SearchSpace):
    """Normal and reduction cells whose nodes choose their inputs (darts; spec kind ``darts``): see the
    module docstring."""

    kind = "darts"
    spec_schema = KindSchema(
        sections={"cell": Map({"nodes": Int(1, 8), "inputs_per_node?": Int(1, 2), "ops": DictOf(OpSpec()),
                               "zero_op": Name(), "identity_op?": Name()}),
                  "macro?": Map({f"{k}?": v for k, v in BUILD_OPTIONS.items()})},
        build_options=BUILD_OPTIONS, rules=(_check_darts,))

    def read_spec(self, spec: dict[str, Any]) -> None:
        cell = spec["cell"]
        self.nodes = int(cell["nodes"])
        self.inputs_per_node = int(cell.get("inputs_per_node", 2))
        self.op_specs: dict[str, dict[str, Any]] = dict(cell["ops"])
        self.zero_op: str = cell["zero_op"]
        self.identity_op: str | None = cell.get("identity_op")
        #: the ops a kept edge may carry (all but the zero op)
        self.ops: tuple[str, ...] = tuple(op for op in self.op_specs if op != self.zero_op)
        self.macro: dict[str, Any] = {**_DEFAULTS, **spec.get("macro", {})}
        #: (source state, intermediate node) of every possible edge of a cell, by node then source
        self.cell_edges: tuple[tuple[int, int], ...] = tuple(
            (src, node) for node in range(self.nodes) for src in range(node + 2))
        self._graph_edges = normal_edges(self._supergraph(), self.num_slots + 2)

    def _supergraph(self) -> tuple[tuple[int, int], ...]:
        e = len(self.cell_edges)
        out_node = 2 * e + 1
        edges = []
        for c in range(2):
            feeders = [0] if c == 0 else list(range(1, e + 1))  # the reduction cell reads the normal cell
            for k, (src, _) in enumerate(self.cell_edges):
                me = 1 + c * e + k
                if src < 2:
                    edges += [(f, me) for f in feeders]
                else:  # fed by every edge into intermediate node src - 2
                    edges += [(1 + c * e + m, me) for m, (_, d) in enumerate(self.cell_edges) if d == src - 2]
                if c == 1:
                    edges.append((me, out_node))
        return tuple(sorted(edges))

    # ------------------------------------------------------------ vocabulary and slots
    @property
    def node_vocab(self) -> tuple[str, ...]:
        return ("input", "output", *self.op_specs)

    @property
    def slot_vocab(self) -> tuple[str, ...]:
        return tuple(self.op_specs)

    @property
    def num_slots(self) -> int:
        return 2 * len(self.cell_edges)

    def _node_groups(self) -> list[list[int]]:
        """Slots of each (cell, node), normal cell first."""
        e = len(self.cell_edges)
        return [[c * e + k for k, (_, d) in enumerate(self.cell_edges) if d == node]
                for c in range(2) for node in range(self.nodes)]

    def slot_mask(self) -> np.ndarray:
        mask = np.ones((self.num_slots, len(self.slot_vocab)), dtype=bool)
        zero = self.slot_vocab.index(self.zero_op)
        for group in self._node_groups():
            if len(group) == self.inputs_per_node:  # the node must read every state before it
                mask[group, zero] = False
        return mask

    def allowed_ops(self, slots: Any) -> Any:
        """As :meth:`SearchSpace.allowed_ops`, with the input count: once a node has
        ``inputs_per_node`` non-zero slots its undecided slots must be zero, and when its
        undecided slots are just enough to reach the count they must be non-zero."""
        allowed = super().allowed_ops(slots)
        zero = self.slot_vocab.index(self.zero_op)
        for group in self._node_groups():
            xs = slots[:, group]
            undecided = xs < 0
            present = ((xs >= 0) & (xs != zero)).sum(1)
            full = (present >= self.inputs_per_node).unsqueeze(1) & undecided  # (B, len(group))
            short = (present + undecided.sum(1) <= self.inputs_per_node).unsqueeze(1) & undecided
            sub = allowed[:, group]
            sub[full] = False
            sub[..., zero] |= full
            sub[..., zero] &= ~short
            allowed[:, group] = sub
        return allowed

    def from_choices(self, choices: Sequence[str]) -> ArchGraph:
        choices = tuple(choices)
        if len(choices) != self.num_slots:
            raise InvalidArchitecture(f"{self.name} needs {self.num_slots} edge ops, got {len(choices)}")
        for op in choices:
            if op not in self.op_specs:
                raise InvalidArchitecture(f"unknown op {op!r}; {self.name} ops: {', '.join(self.slot_vocab)}")
        for g, group in enumerate(self._node_groups()):
            kept = sum(choices[s] != self.zero_op for s in group)
            if kept != self.inputs_per_node:
                raise InvalidArchitecture(f"{CELLS[g // self.nodes]} cell node {g % self.nodes + 2} reads {kept} "
                                          f"inputs; {self.name} nodes read exactly {self.inputs_per_node}")
        return ArchGraph.from_checked(self.name, tuple(map(str, choices)), self._graph_edges)

    def project(self, choices: Sequence[str]) -> tuple[str, ...]:
        """Nearest valid choices: a node with too many inputs keeps its first ones (lowest source
        index); one with too few gains its first unread inputs, with the cell's most common op."""
        out = list(choices)
        e = len(self.cell_edges)
        for g, group in enumerate(self._node_groups()):
            cell = out[(g // self.nodes) * e:(g // self.nodes + 1) * e]
            common = Counter(op for op in cell if op in self.ops).most_common(1)
            filler = common[0][0] if common else self.ops[0]
            kept = [s for s in group if out[s] != self.zero_op]
            for s in kept[self.inputs_per_node:]:
                out[s] = self.zero_op
            for s in [s for s in group if out[s] == self.zero_op][:max(0, self.inputs_per_node - len(kept))]:
                out[s] = filler
        return tuple(out)

    # ------------------------------------------------------------ genotype and text form
    def genotype(self, arch: ArchGraph) -> dict[str, list[tuple[str, int]]]:
        """``{"normal": [(op, source), ...], "reduce": [...]}``: per node its kept inputs by source index."""
        choices = self._choices_unchecked(arch)
        e = len(self.cell_edges)
        return {name: [(choices[c * e + k], src) for k, (src, _) in enumerate(self.cell_edges)
                       if choices[c * e + k] != self.zero_op] for c, name in enumerate(CELLS)}

    def to_string(self, arch: ArchGraph) -> str:
        g = self.genotype(arch)
        concat = list(range(2, 2 + self.nodes))
        return (f"Genotype(normal={g['normal']!r}, normal_concat={concat!r}, "
                f"reduce={g['reduce']!r}, reduce_concat={concat!r})")

    def from_string(self, text: str) -> ArchGraph:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArchitecture(f"expected a {self.name} genotype string, got {text!r}")
        fields = _genotype_fields(text)
        choices: list[str] = []
        for name in CELLS:
            if name not in fields:
                raise InvalidArchitecture(f"{text!r}: the genotype lacks {name}=[...]")
            concat = fields.get(f"{name}_concat", list(range(2, 2 + self.nodes)))
            if list(concat) != list(range(2, 2 + self.nodes)):
                raise InvalidArchitecture(f"{text!r}: {name}_concat must be {list(range(2, 2 + self.nodes))} "
                                          f"(every intermediate node), got {concat}")
            choices += self._cell_choices(text, name, fields[name])
        return self.from_choices(choices)

    def _cell_choices(self, text: str, name: str, pairs: Any) -> list[str]:
        """Slot ops of one cell from its genotype list of ``(op, source)`` pairs."""
        k = self.inputs_per_node
        if not isinstance(pairs, list) or len(pairs) != k * self.nodes:
            raise InvalidArchitecture(f"{text!r}: {name} must list {k * self.nodes} (op, input) pairs, "
                                      f"{k} per node")
        ops: dict[tuple[int, int], str] = {}
        for i, pair in enumerate(pairs):
            node = i // k
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                    and type(pair[1]) is int):
                raise InvalidArchitecture(f"{text!r}: {name} item {i} must be an ('op', input) pair, got {pair!r}")
            op, src = pair
            if op not in self.ops:
                raise InvalidArchitecture(f"{text!r}: unknown op {op!r} in {name}; kept edges take "
                                          f"{', '.join(self.ops)}")
            if not 0 <= src < node + 2:
                raise InvalidArchitecture(f"{text!r}: {name} node {node + 2} reads state {src}; it may read "
                                          f"0..{node + 1}")
            if (src, node) in ops:
                raise InvalidArchitecture(f"{text!r}: {name} node {node + 2} reads state {src} twice")
            ops[(src, node)] = op
        return [ops.get(edge, self.zero_op) for edge in self.cell_edges]

    # ------------------------------------------------------------ sampling and neighbourhoods
    def sample(self, rng: RngLike = None) -> ArchGraph:
        """Uniform over the space: per node, a uniform set of inputs, then a uniform op for each."""
        rng = as_rng(rng)
        choices = [self.zero_op] * self.num_slots
        for group in self._node_groups():
            picked = rng.choice(len(group), size=self.inputs_per_node, replace=False)
            for s, op in zip(picked, rng.integers(len(self.ops), size=self.inputs_per_node)):
                choices[group[int(s)]] = self.ops[int(op)]
        return self.from_choices(choices)

    def neighbours(self, arch: ArchGraph) -> list[ArchGraph]:
        """Change the op of one kept edge, or move one kept edge to an input its node does not read."""
        base = self.choices(arch)
        seen: dict[ArchGraph, None] = {}
        for group in self._node_groups():
            kept = [s for s in group if base[s] != self.zero_op]
            for s in kept:
                for op in self.ops:
                    if op != base[s]:
                        seen[self.from_choices(base[:s] + (op,) + base[s + 1:])] = None
                for t in group:
                    if t not in kept:
                        moved = list(base)
                        moved[s], moved[t] = self.zero_op, base[s]
                        seen[self.from_choices(moved)] = None
        return list(seen)

    def size(self) -> int:
        per_cell = 1
        for node in range(self.nodes):
            per_cell *= math.comb(node + 2, self.inputs_per_node) * len(self.ops) ** self.inputs_per_node
        return per_cell ** 2

    # ------------------------------------------------------------ identity
    def canonical_form(self, arch: ArchGraph, functional: bool = False) -> str:
        """Symbolic expression of both cells: a node is the sorted ``+``-join of its terms
        ``op(input)``, the identity op passes its input through (not on the strided inputs of the
        reduction cell, where it is a factorized reduction), and a cell is the sorted list of its
        nodes (concatenation order is a channel permutation). Isomorphic cells (nodes renumbered,
        inputs of a node swapped) get the same text. No kept edge is zero, so ``functional`` adds
        nothing."""
        g = self.genotype(arch)
        k = self.inputs_per_node
        cells = []
        for name in CELLS:
            states = ["s0", "s1"]
            for node in range(self.nodes):
                terms = []
                for op, src in g[name][node * k:(node + 1) * k]:
                    strided = name == "reduce" and src < 2
                    terms.append(states[src] if op == self.identity_op and not strided else f"{op}({states[src]})")
                states.append("[" + "+".join(sorted(terms)) + "]")
            cells.append(f"{name}:{{{','.join(sorted(states[2:]))}}}")
        return f"{self.name}:" + ";".join(cells)

    # ------------------------------------------------------------ models
    def build_settings(self, options: dict[str, Any]) -> dict[str, int]:
        """The skeleton's ``channels``, ``layers``, ``stem_multiplier``: the spec's ``macro``
        overridden by ``options``; unknown or bad options raise GennasError."""
        return {k: int(v) for k, v in {**self.macro, **self.checked_build_options(options)}.items()}

    def build(self, arch: ArchLike, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """DARTS network (:class:`~gennas.models.darts_net.DartsNetwork`). Options override the
        spec's ``macro``: ``channels`` (36), ``layers`` (20), ``stem_multiplier`` (3)."""
        from gennas.models.darts_net import DartsNetwork

        arch = self.parse(arch)
        if int(num_classes) < 1 or int(in_channels) < 1:
            raise GennasError(f"num_classes and in_channels must be >= 1, got {num_classes}, {in_channels}")
        settings = self.build_settings(options)
        e = len(self.cell_edges)
        choices = self.choices(arch)
        cells = [[(src, node, self.op_specs[choices[c * e + k]]) for k, (src, node) in enumerate(self.cell_edges)
                  if choices[c * e + k] != self.zero_op] for c in range(2)]
        return DartsNetwork(cells[0], cells[1], self.nodes, num_classes=int(num_classes),
                            in_channels=int(in_channels), **settings)

    # ------------------------------------------------------------ weight-sharing supernet
    def supernet_options(self) -> tuple[str, ...]:
        """Build options :meth:`build_supernet` accepts (the same as :meth:`build`)."""
        return tuple(BUILD_OPTIONS)

    def build_supernet(self, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """DARTS supernet (:mod:`gennas.models.darts_supernet`): ``forward(x, path)`` runs one
        architecture (single-path training), ``forward(x)`` the continuous relaxation."""
        from gennas.models.darts_supernet import build_darts_supernet

        return build_darts_supernet(self, int(num_classes), int(in_channels), **options)

    def supernet_path(self, arch: ArchLike) -> tuple[int, ...]:
        """The supernet's forward argument selecting ``arch``: op index (in :attr:`slot_vocab`) per slot."""
        return tuple(self.slot_vocab.index(op) for op in self.choices(self.parse(arch)))

    def copy_supernet_weights(self, supernet_net: Any, path: Any, standalone_net: Any) -> Any:
        """Load ``path``'s weights of ``supernet_net`` into ``standalone_net`` (made by :meth:`build`)."""
        from gennas.models.darts_supernet import copy_into_standalone

        return copy_into_standalone(supernet_net, path, standalone_net)

    def derive(self, supernet_net: Any) -> ArchGraph:
        """The architecture DARTS reads off a relaxed supernet's ``alphas`` (strongest inputs and ops)."""
        path = supernet_net.derive(self.cell_edges, self.nodes, self.inputs_per_node)
        return self.from_choices([self.slot_vocab[i] for i in path])


def _genotype_fields(text: str) -> dict[str, Any]:
    """The keyword fields of ``Genotype(...)`` as Python values, parsed without evaluating code."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        tree = None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "Genotype"
            and not tree.args and all(kw.arg for kw in tree.keywords)):
        raise InvalidArchitecture(f"{text!r} must look like Genotype(normal=[('op', input), ...], "
                                  "normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])")
    fields: dict[str, Any] = {}
    for kw in tree.keywords:
        if kw.arg not in ("normal", "normal_concat", "reduce", "reduce_concat"):
            raise InvalidArchitecture(f"{text!r}: unknown genotype field {kw.arg!r}")
        value = kw.value
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "range"
                and not value.keywords and 1 <= len(value.args) <= 3):  # DARTS writes range(2, 6)
            bounds = [_literal(text, a) for a in value.args]
            if not all(type(b) is int for b in bounds):
                raise InvalidArchitecture(f"{text!r}: range() of {kw.arg} takes integers")
            span = range(*bounds)
            if len(span) > 64:  # range(2, 10**8) took gigabytes before any check (no genotype has such a cell)
                raise InvalidArchitecture(f"{kw.arg}={ast.get_source_segment(text.strip(), value)} names "
                                          f"{len(span):,} nodes; a cell has at most 8")
            fields[kw.arg] = list(span)
        else:
            fields[kw.arg] = _literal(text, value)
    return fields


def _literal(text: str, node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise InvalidArchitecture(f"{text!r}: genotype fields must be literal lists of ('op', input) pairs") from None
