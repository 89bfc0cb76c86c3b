"""ArchGraph: the one value type for an architecture.

An architecture is a DAG of operation nodes. Node ``i`` carries the name of its operation
``ops[i]`` (a string from its space's vocabulary, including the ``input`` and ``output``
markers); ``edges`` are ``(src, dst)`` pairs with ``src < dst`` (nodes are topologically
ordered). ``space`` names the search space the graph belongs to, so every consumer can look
up the vocabulary and rules. ArchGraphs are immutable and hashable; equality is structural.
Equivalence of computations is what :meth:`ArchGraph.canonical_hash` is for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Union

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture, MissingDependency

if TYPE_CHECKING:  # heavy imports stay lazy: only the conversions need them
    import networkx as nx
    from torch import nn
    from torch_geometric.data import Data


class SpaceRules(Protocol):
    """What a graph asks of the space it belongs to (implemented by every ``SearchSpace``).

    The graph never imports the spaces: the space that validates a graph gives it its text form
    and its canonical key, found through :func:`register_space_lookup`."""

    name: str

    @property
    def node_vocab(self) -> tuple[str, ...]: ...

    def canonical_form(self, arch: ArchGraph, functional: bool = False) -> str: ...

    def to_string(self, arch: ArchGraph) -> str: ...

    def op_indices(self, arch: ArchGraph) -> np.ndarray: ...

    def build(self, arch: ArchGraph, **options: Any) -> Any: ...


_space_lookup: list[Callable[[str], SpaceRules]] = []


def register_space_lookup(lookup: Callable[[str], SpaceRules]) -> None:
    """Install the function that finds a space by name (``gennas.spaces.load_space`` does this
    when it is imported), so a graph can ask its space without importing it."""
    _space_lookup[:] = [lookup]


def space_rules(name: str) -> SpaceRules:
    """The space called ``name``, through the registered lookup."""
    if not _space_lookup:
        raise GennasError("no search spaces are loaded: import gennas first")
    return _space_lookup[0](name)


def normal_edges(edges: Iterable[tuple[int, int]], num_nodes: int) -> tuple[tuple[int, int], ...]:
    """``edges`` as sorted, unique int pairs; :class:`InvalidArchitecture` for an edge outside
    ``0..num_nodes - 1`` or one that does not go forwards."""
    out = tuple(sorted({(int(s), int(d)) for s, d in edges}))
    for s, d in out:
        if not (0 <= s < num_nodes and 0 <= d < num_nodes):
            raise InvalidArchitecture(f"edge ({s}, {d}) refers to a node outside 0..{num_nodes - 1}")
        if s >= d:
            # src < dst is both the topological order and the proof that there is no cycle.
            raise InvalidArchitecture(f"edge ({s}, {d}) goes backwards: the graph would have a cycle")
    return out


@dataclass(frozen=True)
class ArchGraph:
    """A DAG of operation nodes tagged with its search space.

    Attributes:
        space: name of the search space (``"nb201"``, ``"mbv3"``, ...).
        ops: operation name of each node, length ``num_nodes``.
        edges: ``(src, dst)`` pairs, ``src < dst``, sorted and without repeats.
    """

    space: str
    ops: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        # Normalise containers so that lists passed in by users still hash and compare.
        object.__setattr__(self, "ops", tuple(str(o) for o in self.ops))
        object.__setattr__(self, "edges", normal_edges(self.edges, len(self.ops)))

    @classmethod
    def from_checked(cls, space: str, choices: tuple[str, ...], edges: tuple[tuple[int, int], ...]) -> ArchGraph:
        """``ArchGraph(space, ("input", *choices, "output"), edges)`` without the normalisation
        and checks of ``__init__``, for a search space that checked ``choices`` (one ``str`` per
        slot) and put its fixed ``edges`` through :func:`normal_edges` once:
        normalising every sampled, neighbouring and parsed cell again cost 6.4 instead of 1.0 µs
        a graph (``python experiments/refit_speed.py``), ~14,000 graphs in a 50-result search."""
        graph = object.__new__(cls)
        object.__setattr__(graph, "space", space)
        object.__setattr__(graph, "ops", ("input", *choices, "output"))
        object.__setattr__(graph, "edges", edges)
        return graph

    # ----------------------------------------------------------------- properties
    @property
    def num_nodes(self) -> int:
        """Number of nodes (ops) of the graph."""
        return len(self.ops)

    @property
    def search_space(self) -> SpaceRules:
        """The :class:`~gennas.spaces.SearchSpace` this graph belongs to (loaded once, cached)."""
        return space_rules(self.space)

    def predecessors(self, node: int) -> list[int]:
        """The nodes with an edge into ``node``, in edge order."""
        return [s for s, d in self.edges if d == node]

    # ----------------------------------------------------------------- identity
    def canonical_hash(self, functional: bool = False) -> str:
        """Hex digest equal for architectures that compute the same function.

        The space defines the rule. For cell spaces (NAS-Bench-201) the default follows the
        benchmark's own rule (zero terms kept in sums: 6,466 classes of 15,625 cells);
        ``functional=True`` also drops zero terms (5,390 classes).
        """
        # Searches hash the same graph many times; the digest is cached on the (immutable) graph.
        cache: dict[bool, str] = self.__dict__.setdefault("_hash_cache", {})
        if functional not in cache:
            key = self.search_space.canonical_form(self, functional=functional)
            cache[functional] = hashlib.sha1(key.encode()).hexdigest()[:16]
        return cache[functional]

    # ----------------------------------------------------------------- conversions
    def to_string(self) -> str:
        """The space's text form (for nb201 the official ``|op~i|+|...|`` string)."""
        return self.search_space.to_string(self)

    def __str__(self) -> str:
        return self.to_string()

    def adjacency(self) -> np.ndarray:
        """Dense adjacency matrix, shape ``(num_nodes, num_nodes)``, ``A[src, dst] = 1``."""
        a = np.zeros((self.num_nodes, self.num_nodes), dtype=np.float32)
        for s, d in self.edges:
            a[s, d] = 1.0
        return a

    def op_indices(self) -> np.ndarray:
        """Index of each node's op in the space's node vocabulary, shape ``(num_nodes,)``."""
        return self.search_space.op_indices(self)

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` whose nodes carry an ``op`` attribute."""
        import networkx as nx

        g = nx.DiGraph(space=self.space)
        g.add_nodes_from((i, {"op": op}) for i, op in enumerate(self.ops))
        g.add_edges_from(self.edges)
        return g

    def to_pyg(self) -> Data:
        """A PyTorch Geometric ``Data``.

        ``x``: one-hot node ops, shape ``(num_nodes, vocab)``; ``op``: op indices, shape
        ``(num_nodes,)``; ``pos``: node position, shape ``(num_nodes,)``; ``edge_index``:
        shape ``(2, num_edges)``, source row first.
        """
        import torch

        import gennas.models.pyg  # noqa: F401  (before torch_geometric: its import's DeprecationWarning)
        from torch_geometric.data import Data

        space = self.search_space
        op = torch.as_tensor(self.op_indices(), dtype=torch.long)
        x = torch.nn.functional.one_hot(op, num_classes=len(space.node_vocab)).float()
        edge_index = torch.tensor(self.edges, dtype=torch.long).t().reshape(2, -1)
        return Data(x=x, op=op, pos=torch.arange(self.num_nodes), edge_index=edge_index,
                    num_nodes=self.num_nodes)

    def to_dgl(self) -> Any:
        """A ``dgl.DGLGraph`` with ``ndata['x']`` one-hot ops (needs the ``dgl`` extra)."""
        try:
            import dgl
        except ImportError as exc:  # dgl is optional; say how to get it
            raise MissingDependency(
                "to_dgl() needs DGL: pip install 'gennas[dgl]' (dgl==1.1.3 works with torch 2.x on CPU)"
            ) from exc
        data = self.to_pyg()
        g = dgl.graph((data.edge_index[0], data.edge_index[1]), num_nodes=self.num_nodes)
        g.ndata["x"] = data.x
        g.ndata["op"] = data.op
        g.ndata["pos"] = data.pos
        return g

    def build(self, **kwargs: Any) -> nn.Module:
        """Shorthand for ``space.build(self, **kwargs)``: a trainable ``torch.nn.Module``."""
        return self.search_space.build(self, **kwargs)

    def __repr__(self) -> str:
        try:
            text = self.to_string()
        except Exception:  # repr must never fail, even for graphs the space rejects
            text = f"ops={self.ops}"
        return f"ArchGraph({self.space}: {text})"


class HoldsArch(Protocol):
    """What holds one architecture: a design :meth:`gennas.Designer.generate` returned (a
    :class:`~gennas.Candidate`) or a verified :class:`~gennas.Result`."""

    @property
    def arch(self) -> ArchGraph: ...


#: one architecture as gennas's calls take it: a graph, its string, or a design or result holding
#: one (a design was taken by some calls and refused by others: user walk 49)
ArchLike = Union[ArchGraph, str, HoldsArch]
