"""SearchSpace: the rules of one family of architectures, declared by a YAML spec.

``load_space(name_or_path)`` reads ``spaces/<name>.yaml`` or a user's YAML file; its ``kind``
picks the class that interprets it (``cell``: ops on the edges of a small DAG repeated in a
fixed skeleton, as NAS-Bench-201; ``blocks``: a chain of stages of searchable blocks, as
MobileNetV3/OFA; ``darts``: normal and reduction cells whose nodes choose their inputs, as
DARTS). A user adds a space by writing a YAML file of an existing kind.

Every space exposes its free choices as a fixed number of *slots*, each picking one op from
``slot_vocab``; generators and encoders work on these slots, and ``from_choices`` /
``choices`` convert between slots and :class:`~gennas.graph.ArchGraph`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture
from gennas.graph import ArchGraph, ArchLike
from gennas.spaces.schema import KindSchema

if TYPE_CHECKING:
    from torch import nn

RngLike = np.random.Generator | int | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed (a non-negative integer), a Generator, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        # numpy's message ("expected non-negative integer") names neither the argument nor the fix
        raise GennasError(f"seed must be a non-negative integer or None, got {rng!r}") from None


def unknown_build_options(space: str, unknown: Sequence[str], known: Iterable[str]) -> GennasError:
    """The error for build options ``unknown`` to ``space``; a ``build_options=`` mapping passed where
    the options are keywords is said so (``Supernet(space, build_options=...)``, as
    ``TrainEvaluator`` takes them, was "unknown build option(s) ['build_options']": user walk 49)."""
    hint = (": here they are keywords, `**build_options` (TrainEvaluator and ProxyEvaluator take the mapping "
            "as build_options=)" if "build_options" in unknown else "")
    return GennasError(f"unknown build option(s) {sorted(unknown)} for {space}; known: {sorted(known)}{hint}")


class SearchSpace(ABC):
    """Base class: vocabulary, validity, sampling, neighbourhoods, encodings, model building."""

    #: the ``kind`` value in a YAML spec that selects this class
    kind: str = ""
    #: the schema of the kind's sections, checked at load (see :mod:`gennas.spaces.schema`)
    spec_schema: KindSchema

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        #: the user's YAML file the space was loaded from (None for a bundled space)
        self.source: Any = None
        self.spec = spec
        self.description: str = spec.get("description", "")
        self.benchmark: str | None = spec.get("benchmark")
        try:
            self.read_spec(spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise GennasError(f"space {name!r}: {self.kind} spec is missing or has a bad field: {exc}") from None

    @abstractmethod
    def read_spec(self, spec: dict[str, Any]) -> None:
        """Read the kind's own section of the YAML spec; KeyError/TypeError/ValueError name a bad field."""

    # ------------------------------------------------------------ vocabulary and slots
    @property
    @abstractmethod
    def node_vocab(self) -> tuple[str, ...]:
        """Every op name a node may carry, markers ``input``/``output`` included."""

    @property
    @abstractmethod
    def slot_vocab(self) -> tuple[str, ...]:
        """Ops a slot may choose; the same for every slot."""

    @property
    @abstractmethod
    def num_slots(self) -> int:
        """Number of free choices (nb201: 6 edges; mbv3: 20 block slots)."""

    @abstractmethod
    def from_choices(self, choices: Sequence[str]) -> ArchGraph:
        """Graph for one op name per slot; raises InvalidArchitecture if the rules forbid it."""


    @property
    def num_nodes(self) -> int:
        """Nodes of every graph of the space: ``input``, one per slot, ``output``."""
        return self.num_slots + 2

    def slot_mask(self) -> np.ndarray:
        """Ops allowed in each slot regardless of the others, bool ``(num_slots, len(slot_vocab))``."""
        return np.ones((self.num_slots, len(self.slot_vocab)), dtype=bool)

    def allowed_ops(self, slots: Any) -> Any:
        """Ops each slot may still take so that some completion of a partial choice is valid.

        Args:
            slots: long tensor ``(B, num_slots)``, op index per slot or -1 where undecided.
        Returns:
            bool tensor ``(B, num_slots, len(slot_vocab))``. This default applies
            :meth:`slot_mask` only; spaces whose slots constrain each other override it.
        """
        import torch

        mask = torch.from_numpy(self.slot_mask()).to(slots.device)
        return mask.unsqueeze(0).expand(slots.shape[0], -1, -1).clone()

    def project(self, choices: Sequence[str]) -> tuple[str, ...]:
        """The nearest valid choice vector (identity where every vector is valid)."""
        return tuple(choices)

    # ------------------------------------------------------------ text form
    @abstractmethod
    def from_string(self, text: str) -> ArchGraph:
        """Parse the space's text form; raises InvalidArchitecture naming the problem."""

    @abstractmethod
    def to_string(self, arch: ArchGraph) -> str:
        """Text form of a graph of this space."""

    # ------------------------------------------------------------ validity
    def validate(self, arch: ArchGraph) -> ArchGraph:
        """Return ``arch`` if it belongs to this space, else raise InvalidArchitecture."""
        if not isinstance(arch, ArchGraph):
            raise InvalidArchitecture(f"expected an ArchGraph, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitecture(f"architecture belongs to space {arch.space!r}, not {self.name!r}")
        # A graph is immutable and its space is looked up by name (ArchGraph.search_space), so
        # once valid it stays valid; searches validate the same graphs over and over.
        if arch.__dict__.get("_valid"):
            return arch
        expected = self.from_choices(self._choices_unchecked(arch))
        if expected != arch:
            raise InvalidArchitecture(f"graph does not follow the {self.name} topology rules")
        arch.__dict__["_valid"] = True
        return arch

    def _choices_unchecked(self, arch: ArchGraph) -> tuple[str, ...]:
        """Read slot ops off a graph (``input``, one node per slot, ``output``), raising
        InvalidArchitecture on the wrong shape; the ops themselves are checked by :meth:`validate`."""
        if arch.num_nodes != self.num_nodes:
            raise InvalidArchitecture(f"{self.name} graphs have {self.num_nodes} nodes, got {arch.num_nodes}")
        if arch.ops[0] != "input" or arch.ops[-1] != "output":
            raise InvalidArchitecture("first node must be 'input' and last node 'output'")
        return tuple(arch.ops[1:-1])

    def choices(self, arch: ArchGraph) -> tuple[str, ...]:
        """Op name per slot of a valid graph (inverse of :meth:`from_choices`)."""
        return self._choices_unchecked(self.validate(arch))

    def computed_choices(self, arch: ArchGraph) -> tuple[str, ...]:
        """:meth:`choices` with each op the built network never runs replaced by the zero op
        (what its latency depends on); every op runs unless a space says otherwise."""
        return self.choices(arch)

    def is_valid(self, arch: ArchLike) -> bool:
        """Whether ``arch`` (a graph, its string or a design) is an architecture of this space
        (a valid string was False: user walk 49)."""
        try:
            self.parse(arch)
        except InvalidArchitecture:
            return False
        return True

    def parse(self, arch: ArchLike) -> ArchGraph:
        """Accept a graph, its string, or a design ``generate`` returned (a
        :class:`~gennas.design.candidate.Candidate`) or a verified :class:`~gennas.Result`;
        return a validated graph."""
        if not isinstance(arch, (ArchGraph, str)) and isinstance(getattr(arch, "arch", None), ArchGraph):
            arch = arch.arch  # type: ignore[union-attr]  # a Candidate or a Result: its architecture
        return self.from_string(arch) if isinstance(arch, str) else self.validate(arch)

    # ------------------------------------------------------------ sampling and neighbourhoods
    @abstractmethod
    def sample(self, rng: RngLike = None) -> ArchGraph:
        """One architecture drawn uniformly from the space (or its documented prior)."""

    def sample_many(self, n: int, rng: RngLike = None) -> list[ArchGraph]:
        """``n`` architectures drawn as :meth:`sample` draws one (repeats possible), from ``rng``
        (a seed, a numpy Generator, or None)."""
        rng = as_rng(rng)
        return [self.sample(rng) for _ in range(n)]

    @abstractmethod
    def neighbours(self, arch: ArchGraph) -> list[ArchGraph]:
        """All architectures one edit away (one op changed, or one block added/removed)."""

    def mutate(self, arch: ArchGraph, rng: RngLike = None) -> ArchGraph:
        """A random neighbour."""
        options = self.neighbours(self.validate(arch))
        return options[int(as_rng(rng).integers(len(options)))]

    @abstractmethod
    def size(self) -> int:
        """Number of architectures in the space."""

    def is_finite_enumerable(self) -> bool:
        """Whether :meth:`enumerate` lists every architecture (nb201's 15,625 cells; not mbv3 or darts)."""
        return False

    def enumerate(self) -> Iterator[ArchGraph]:
        """Every architecture, in a fixed order (only for small spaces)."""
        raise GennasError(f"space {self.name!r} has {self.size():.3g} architectures: too many to enumerate")

    # ------------------------------------------------------------ identity and encodings
    @abstractmethod
    def canonical_form(self, arch: ArchGraph, functional: bool = False) -> str:
        """Text equal for architectures that compute the same function (see ArchGraph.canonical_hash)."""

    def output_is_constant(self, arch: ArchGraph) -> bool:
        """True when the network's output cannot depend on its input (every path to the output
        passes a zero op): it is at chance on every task, so no designer proposes it. False unless
        the space has zero ops (:class:`~gennas.spaces.cell.CellSpace` checks)."""
        return False

    def op_indices(self, arch: ArchGraph) -> np.ndarray:
        """Index of every node's op in :attr:`node_vocab`, int64 ``(num_nodes,)``."""
        index = {op: i for i, op in enumerate(self.node_vocab)}
        try:
            return np.array([index[o] for o in arch.ops], dtype=np.int64)
        except KeyError as exc:
            raise InvalidArchitecture(f"unknown op {exc.args[0]!r} in space {self.name!r}") from None

    def encode(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Flat one-hot slot encoding, float32 ``(len(archs), num_slots * len(slot_vocab))``."""
        index = {op: i for i, op in enumerate(self.slot_vocab)}
        out = np.zeros((len(archs), self.num_slots, len(self.slot_vocab)), dtype=np.float32)
        for row, arch in enumerate(archs):
            for slot, op in enumerate(self.choices(arch)):
                out[row, slot, index[op]] = 1.0
        return out.reshape(len(archs), -1)

    # ------------------------------------------------------------ models
    @abstractmethod
    def build(self, arch: ArchLike, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """A trainable ``torch.nn.Module`` for ``arch``; input ``(B, in_channels, H, W)``,
        output logits ``(B, num_classes)``."""

    def checked_build_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` of :meth:`build` or :meth:`build_supernet`, each one the spec schema names and
        within its bound there (GennasError naming it otherwise: ``channels=10**6`` was built,
        allocating until memory ran out)."""
        bounds = self.spec_schema.build_options
        unknown = sorted(set(options) - set(bounds))
        if unknown:
            raise unknown_build_options(self.name, unknown, bounds)
        for key, value in options.items():
            refused = bounds[key].refusal(value)
            if refused is not None:
                raise GennasError(f"build option {key} of {self.name} {refused}")
        return dict(options)

    @property
    def small_build_options(self) -> dict[str, Any]:
        """Build options for a network small enough to train in minutes on a CPU (the spec's
        ``small_build`` section; empty when the space declares none)."""
        return dict(self.spec.get("small_build") or {})

    @property
    def default_input_size(self) -> int:
        """Image side (pixels) the space's benchmark uses; used for FLOPs."""
        return int(self.spec.get("input_size", 32))

    def count_params(self, arch: ArchLike, **build_options: Any) -> int:
        """Number of trainable parameters of the built network."""
        from gennas.seeds import seeded_torch
        from gennas.training import count_parameters  # torch, imported when a network is built

        with seeded_torch():  # its initial weights: the caller's torch stream stays (user walk 50)
            return count_parameters(self.build(arch, **build_options))

    def count_flops(self, arch: ArchLike, input_size: int | None = None, **build_options: Any) -> int:
        """FLOPs of one forward pass on one image, counted by ``torch.utils.flop_counter``
        (a multiply-add counts as 2 FLOPs)."""
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        from gennas.seeds import seeded_torch

        with seeded_torch():  # as count_params
            model = self.build(arch, **build_options).eval()
        side = input_size or self.default_input_size
        x = torch.zeros(1, build_options.get("in_channels", 3), side, side)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(x)
        return int(counter.get_total_flops())

    # ------------------------------------------------------------ weight-sharing supernet
    def supernet_options(self) -> tuple[str, ...]:
        """Build options :meth:`build_supernet` accepts (spaces with a supernet override the four
        supernet methods)."""
        raise GennasError(f"space {self.name!r} has no supernet")

    def build_supernet(self, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """A ``torch.nn.Module`` holding every architecture; ``forward(x, supernet_path(arch))``."""
        raise GennasError(f"space {self.name!r} has no supernet")

    def supernet_path(self, arch: ArchLike) -> Any:
        """The supernet forward argument that selects ``arch``'s subnet."""
        raise GennasError(f"space {self.name!r} has no supernet")

    def copy_supernet_weights(self, supernet_net: Any, path: Any, standalone_net: Any) -> Any:
        """Load subnet ``path`` of ``supernet_net`` into ``standalone_net`` (made by :meth:`build`)."""
        raise GennasError(f"space {self.name!r} has no supernet")

    def __repr__(self) -> str:
        size = self.size()  # exact while it reads at a glance (15,625, not 1.562e+04)
        return f"{type(self).__name__}({self.name!r}, size={f'{int(size):,}' if size < 1e9 else f'{size:.4g}'})"
