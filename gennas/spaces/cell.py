"""CellSpace: one op on every edge of a small complete DAG (NAS-Bench-201 style).

Cell edges are ordered as in the benchmark string: for each node ``i = 1..n-1``, the edges
from ``j = 0..i-1``. As an :class:`ArchGraph` each cell edge becomes an *operation node*
(the form MetaD2A and DiffusionNAG use): node 0 is ``input``, nodes ``1..E`` are the edge ops
in that order, node ``E+1`` is ``output``; op node ``j->i`` feeds every op node leaving ``i``,
and the ops entering the last cell node feed ``output``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture
from gennas.graph import ArchGraph, ArchLike, normal_edges
from gennas.spaces.base import RngLike, SearchSpace, as_rng
from gennas.spaces.schema import DictOf, Int, KindSchema, Map, Name, OpSpec, Text

if TYPE_CHECKING:
    from torch import nn

_NODE_TEXT = re.compile(r"^\|(.*)\|$")


def check_marker_ops(spec: dict[str, Any], section: str = "cell") -> tuple[str, str] | None:
    """``zero_op`` / ``identity_op`` must name ops of the section's ``ops`` with the matching type."""
    cell = spec[section]
    for key, op_type in (("zero_op", "zero"), ("identity_op", "identity")):
        name = cell.get(key)
        if name is None:
            continue
        if name not in cell["ops"]:
            return f"{section}.{key}", f"names {name!r}, which is not one of {section}.ops ({', '.join(cell['ops'])})"
        if cell["ops"][name]["type"] != op_type:
            return f"{section}.{key}", f"{name!r} must have type {op_type}, it has {cell['ops'][name]['type']}"
    return None


def check_stages_fit(spec: dict[str, Any]) -> tuple[str, str] | None:
    """Each stage after the first halves the resolution through a block whose shortcut pools 2x2:
    the input must hold ``2 ** (stages - 1)`` pixels a side (input 8 with 5 stages loaded, then
    every network failed with torch's "Output size is too small")."""
    size = int(spec.get("input_size", 32))
    for section in ("macro", "small_build"):
        stages = int((spec.get(section) or {}).get("stages", 3))
        if size < 2 ** (stages - 1):
            return (f"{section}.stages", f"{stages} stages need input_size >= {2 ** (stages - 1)} (each stage after "
                    f"the first halves the resolution), got input_size {size}")
        too_wide = widest_stage_refusal(int((spec.get(section) or {}).get("channels", 16)), stages)
        if too_wide is not None:
            return f"{section}.channels", too_wide
    return None


def widest_stage_refusal(channels: int, stages: int) -> str | None:
    """Why a skeleton of ``channels`` and ``stages`` is refused: its last stage wider than
    :data:`MAX_CHANNELS` (4096 channels and 10 stages, each within its bound, built a 2-million-wide
    layer); None where it is not."""
    widest = channels * 2 ** (stages - 1)
    if widest <= MAX_CHANNELS:
        return None
    return (f"with {stages} stages the last stage is {widest:,} channels wide (the channels double at each "
            f"reduction); at most {MAX_CHANNELS:,}: fewer channels or stages")


#: the widest stage a cell space's network may have (nb201's: 64; a 3x3 conv that wide holds
#: 4096^2 x 9 float32 weights, 0.6 GB)
MAX_CHANNELS = 4096


def check_some_op_computes(spec: dict[str, Any]) -> tuple[str, str] | None:
    """Some op must not be of type zero: a space of zero ops alone loaded, trained a generator, and
    its designer search verified nothing (it never proposes a cell whose output cannot depend on
    its input), then said every proposal was verified already."""
    if all(op["type"] == "zero" for op in spec["cell"]["ops"].values()):
        return "cell.ops", ("every op is of type zero: no architecture's output could depend on its input; add an "
                            "op that computes (a conv, a pool, identity)")
    return None


BUILD_OPTIONS = {"channels": Int(1, 4096), "cells_per_stage": Int(1, 100), "stages": Int(1, 10)}


class CellSpace(SearchSpace):
    """One op on every edge of a small complete DAG (nb201; spec kind ``cell``): see the module docstring."""

    kind = "cell"
    spec_schema = KindSchema(
        sections={"cell": Map({"nodes": Int(2, 8), "ops": DictOf(OpSpec()), "zero_op?": Name(),
                               "identity_op?": Name()}),
                  "macro?": Map({**{f"{k}?": v for k, v in BUILD_OPTIONS.items()},
                                 "reduction?": Text(("resnet_basic",))})},
        build_options=BUILD_OPTIONS, rules=(check_marker_ops, check_stages_fit, check_some_op_computes))

    def read_spec(self, spec: dict[str, Any]) -> None:
        cell = spec["cell"]
        self.cell_nodes: int = int(cell["nodes"])
        self.op_specs: dict[str, dict[str, Any]] = dict(cell["ops"])
        self.zero_op: str | None = cell.get("zero_op")
        self.identity_op: str | None = cell.get("identity_op")
        self.macro: dict[str, Any] = dict(spec.get("macro", {}))
        self.cell_edges: tuple[tuple[int, int], ...] = tuple(
            (j, i) for i in range(1, self.cell_nodes) for j in range(i))
        self._ops = tuple(self.op_specs)
        self._edges = normal_edges(self._op_node_edges(), len(self.cell_edges) + 2)

    def _op_node_edges(self) -> tuple[tuple[int, int], ...]:
        out_node = len(self.cell_edges) + 1
        edges = []
        for k, (src, dst) in enumerate(self.cell_edges):
            me = k + 1
            if src == 0:
                edges.append((0, me))
            edges.extend((m + 1, me) for m, (_, d) in enumerate(self.cell_edges) if d == src)
            if dst == self.cell_nodes - 1:
                edges.append((me, out_node))
        return tuple(sorted(edges))

    # ------------------------------------------------------------ vocabulary and slots
    @property
    def node_vocab(self) -> tuple[str, ...]:
        return ("input", "output", *self._ops)

    @property
    def slot_vocab(self) -> tuple[str, ...]:
        return self._ops

    @property
    def num_slots(self) -> int:
        return len(self.cell_edges)

    def from_choices(self, choices: Sequence[str]) -> ArchGraph:
        choices = tuple(choices)
        if len(choices) != self.num_slots:
            raise InvalidArchitecture(
                f"{self.name} needs {self.num_slots} edge ops, got {len(choices)}")
        for op in choices:
            if op not in self.op_specs:
                raise InvalidArchitecture(f"unknown op {op!r}; {self.name} ops: {', '.join(self._ops)}")
        return ArchGraph.from_checked(self.name, tuple(map(str, choices)), self._edges)

    # ------------------------------------------------------------ text form
    def to_string(self, arch: ArchGraph) -> str:
        ops = iter(self._choices_unchecked(arch))
        groups = []
        for i in range(1, self.cell_nodes):
            groups.append("|" + "|".join(f"{next(ops)}~{j}" for j in range(i)) + "|")
        return "+".join(groups)

    def from_string(self, text: str) -> ArchGraph:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArchitecture(f"expected a {self.name} architecture string, got {text!r}")
        groups = text.strip().split("+")
        if len(groups) != self.cell_nodes - 1:
            raise InvalidArchitecture(
                f"{text!r}: {self.name} cells have {self.cell_nodes - 1} computed nodes "
                f"('+'-separated groups), got {len(groups)}")
        choices: list[str] = []
        for i, group in enumerate(groups, start=1):
            match = _NODE_TEXT.match(group)
            if not match:
                raise InvalidArchitecture(f"{text!r}: node {i} group {group!r} must look like |op~j|op~k|")
            terms = match.group(1).split("|")
            if len(terms) != i:
                raise InvalidArchitecture(f"{text!r}: node {i} must have {i} inputs, got {len(terms)}")
            for j, term in enumerate(terms):
                op, sep, src = term.partition("~")
                # ASCII digits only: str.isdigit() also accepts '¹' and '٣', which int() rejects or reads
                if not sep or not (src.isascii() and src.isdigit()):
                    raise InvalidArchitecture(f"{text!r}: term {term!r} must look like op~input_index")
                if op not in self.op_specs:
                    raise InvalidArchitecture(
                        f"{text!r}: unknown op {op!r}; {self.name} ops: {', '.join(self._ops)}")
                if int(src) > self.cell_nodes - 1:  # no such node (the cell's nodes are 0..n-1)
                    raise InvalidArchitecture(f"{text!r}: node {src} does not exist (a {self.name} cell has nodes "
                                              f"0-{self.cell_nodes - 1}; node {i} takes inputs 0-{i - 1})")
                if int(src) >= i:
                    raise InvalidArchitecture(
                        f"{text!r}: edge from node {src} into node {i} would make a cycle")
                if int(src) != j:
                    raise InvalidArchitecture(
                        f"{text!r}: node {i} lists input {src} where input {j} is expected")
                choices.append(op)
        return self.from_choices(choices)

    # ------------------------------------------------------------ sampling and neighbourhoods
    def sample(self, rng: RngLike = None) -> ArchGraph:
        idx = as_rng(rng).integers(len(self._ops), size=self.num_slots)
        return self.from_choices([self._ops[i] for i in idx])

    def neighbours(self, arch: ArchGraph) -> list[ArchGraph]:
        base = self.choices(arch)
        out = []
        for slot, current in enumerate(base):
            for op in self._ops:
                if op != current:
                    out.append(self.from_choices(base[:slot] + (op,) + base[slot + 1:]))
        return out

    def size(self) -> int:
        return len(self._ops) ** self.num_slots

    def is_finite_enumerable(self) -> bool:
        return self.size() <= 10**6

    def enumerate(self) -> Iterator[ArchGraph]:
        if not self.is_finite_enumerable():
            return super().enumerate()
        return (self.from_choices(c) for c in itertools.product(self._ops, repeat=self.num_slots))

    # ------------------------------------------------------------ identity
    def canonical_form(self, arch: ArchGraph, functional: bool = False) -> str:
        """Symbolic expression of the cell output, NAS-Bench-201's isomorphism rule.

        ``#`` is zero: a zero op, or any op applied to a zero node, gives ``#``; the identity
        op passes its input's expression through; a node is the sorted ``+``-join of its
        terms. The benchmark's rule keeps zero terms in a sum (``#+x`` differs from ``x``) and
        only a node made of a single ``#`` term is zero; ``functional=True`` drops zero terms,
        so a node is zero when all its terms are.
        """
        ops = self._choices_unchecked(arch)
        nodes = ["x"]
        for i in range(1, self.cell_nodes):
            terms = []
            for k, (src, dst) in enumerate(self.cell_edges):
                if dst != i:
                    continue
                op, value = ops[k], nodes[src]
                if op == self.zero_op or value == "#":
                    terms.append("#")
                elif op == self.identity_op:
                    terms.append(value)
                else:
                    terms.append(f"({value})@{op}")
            if functional:
                terms = [t for t in terms if t != "#"] or ["#"]
            nodes.append("+".join(sorted(terms)))
        return f"{self.name}:{nodes[-1]}"

    def computed_choices(self, arch: ArchGraph) -> tuple[str, ...]:
        """The edge ops with those the built cell skips replaced by the zero op: an edge whose source
        node has no live input adds zero whatever its op (:class:`gennas.models.cell_net.Cell`)."""
        ops = self.choices(arch)
        if self.zero_op is None:
            return ops
        live = [True] + [False] * (self.cell_nodes - 1)
        for node in range(1, self.cell_nodes):  # edges run from lower to higher nodes
            live[node] = any(dst == node and live[src] and ops[k] != self.zero_op
                             for k, (src, dst) in enumerate(self.cell_edges))
        return tuple(op if live[src] else self.zero_op for op, (src, _) in zip(ops, self.cell_edges))

    def output_is_constant(self, arch: ArchGraph) -> bool:
        """The cell's output is zero: its functional expression (:meth:`canonical_form`) is ``#``
        (NAS-Bench-201: 341 of the 15,625 cells, every one at chance, 10.0 % / 1.0 % on cifar10 /
        cifar100, where the lowest of the others is 46.2 % / 10.2 %)."""
        return self.zero_op is not None and self.canonical_form(arch, functional=True) == f"{self.name}:#"

    # ------------------------------------------------------------ models
    def build(self, arch: ArchLike, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """NAS-Bench-201 network. Options override the spec's ``macro`` entries:
        ``channels`` (16), ``cells_per_stage`` (5), ``stages`` (3)."""
        from gennas.models.cell_net import CellNetwork

        arch = self.parse(arch)
        if int(num_classes) < 1 or int(in_channels) < 1:
            raise GennasError(f"num_classes and in_channels must be >= 1, got {num_classes}, {in_channels}")
        macro = self.build_macro(options)
        edge_ops = [(s, d, self.op_specs[op]) for (s, d), op in zip(self.cell_edges, self.choices(arch))]
        return CellNetwork(self.cell_nodes, edge_ops, num_classes=int(num_classes),
                           in_channels=int(in_channels), channels=int(macro["channels"]),
                           cells_per_stage=int(macro["cells_per_stage"]), stages=int(macro["stages"]))

    def build_macro(self, options: dict[str, Any]) -> dict[str, Any]:
        """The skeleton's ``channels``, ``cells_per_stage`` and ``stages``: the spec's ``macro``
        overridden by ``options``, each within its bound and the widest stage within
        :data:`MAX_CHANNELS` (GennasError otherwise)."""
        macro = {"channels": 16, "cells_per_stage": 5, "stages": 3, **self.macro, **self.checked_build_options(options)}
        too_wide = widest_stage_refusal(int(macro["channels"]), int(macro["stages"]))
        if too_wide is not None:  # the images' side is the evaluator's to check: it is not known here
            raise GennasError(f"build options {options} of {self.name}: {too_wide}")
        return macro

    def all_choice_indices(self) -> np.ndarray:
        """Every cell as slot-op indices, int64 ``(size, num_slots)``, in :meth:`enumerate` order."""
        grids = np.meshgrid(*[np.arange(len(self._ops))] * self.num_slots, indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1)

    # ------------------------------------------------------------ weight-sharing supernet
    def supernet_options(self) -> tuple[str, ...]:
        """Build options :meth:`build_supernet` accepts (the same as :meth:`build`)."""
        return ("channels", "cells_per_stage", "stages")

    def build_supernet(self, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """Single-path one-shot supernet holding every cell (:mod:`gennas.models.supernet_cell`);
        ``forward(x, path)`` with ``path = supernet_path(arch)``."""
        from gennas.models.supernet_cell import build_cell_supernet

        return build_cell_supernet(self, num_classes, in_channels, **options)

    def supernet_path(self, arch: ArchLike) -> tuple[int, ...]:
        """The supernet's forward argument selecting ``arch``: op index (in :attr:`slot_vocab`) per edge."""
        return tuple(self.slot_vocab.index(op) for op in self.choices(self.parse(arch)))

    def copy_supernet_weights(self, supernet_net: Any, path: Any, standalone_net: Any) -> Any:
        """Load ``path``'s weights of ``supernet_net`` into ``standalone_net`` (made by :meth:`build`)."""
        from gennas.models.supernet_cell import copy_into_standalone

        return copy_into_standalone(supernet_net, path, standalone_net)
