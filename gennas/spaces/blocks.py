"""BlockSpace: stages of searchable blocks (MobileNetV3 / Once-for-All style).

Each of the spec's stages holds ``min_depth..max_depth`` MBConv blocks; each block picks a
depthwise kernel ``k`` and an expansion ratio ``e`` (op name ``k{k}e{e}``). The graph is a
chain ``input -> slot_1 -> ... -> slot_S -> output`` with ``max_depth`` slots per stage, so
every graph of the space has the same nodes; a stage of depth ``d`` fills its first ``d``
slots and puts ``skip`` (identity) in the rest. Depth is variable, the representation is not.

Text form: stages separated by ``|``, blocks by ``-``: ``k3e4-k5e6|k3e3-k3e3-k7e6|...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture
from gennas.graph import ArchGraph, ArchLike, normal_edges
from gennas.spaces.base import RngLike, SearchSpace, as_rng
from gennas.spaces.schema import Bool, Int, KindSchema, ListOf, Map, Number, Text

if TYPE_CHECKING:
    from torch import nn

SKIP = "skip"
_ACTS = ("relu", "hswish")
_CHANNELS = Int(1, 8192)


def _check_blocks(spec: dict[str, Any]) -> tuple[str, str] | None:
    blocks = spec["blocks"]
    if blocks["min_depth"] > blocks["max_depth"]:
        return "blocks.min_depth", f"must be <= max_depth ({blocks['max_depth']}), got {blocks['min_depth']}"
    even = [k for k in blocks["kernels"] if k % 2 == 0]
    if even:
        return "blocks.kernels", f"kernels must be odd, got {even}"
    for key in ("kernels", "expand_ratios"):  # a repeat counted twice in the space's size
        if len(set(blocks[key])) != len(blocks[key]):
            return f"blocks.{key}", f"must not repeat a value, got {blocks[key]}"
    return None


class BlockSpace(SearchSpace):
    """Stages of MBConv blocks of searchable kernel and expansion (mbv3; spec kind ``blocks``): see the
    module docstring."""

    kind = "blocks"
    spec_schema = KindSchema(
        sections={
            "blocks": Map({"kernels": ListOf(Int(1, 15)), "expand_ratios": ListOf(Int(1, 12)),
                           "min_depth": Int(1, 20), "max_depth": Int(1, 20)}),
            "macro": Map({
                "stem": Map({"channels": _CHANNELS, "stride": Int(1, 4), "act": Text(_ACTS)}),
                "first_block": Map({"channels": _CHANNELS, "kernel": Int(1, 15), "expand": Int(1, 12),
                                    "act": Text(_ACTS), "se": Bool()}),
                "stages": ListOf(Map({"channels": _CHANNELS, "stride": Int(1, 4), "act": Text(_ACTS), "se": Bool()})),
                "final_expand": _CHANNELS, "feature_mix": _CHANNELS})},
        build_options={"width_mult": Number(0.05, 10.0), "dropout": Number(0.0, 1.0)},
        rules=(_check_blocks,))

    def read_spec(self, spec: dict[str, Any]) -> None:
        blocks = spec["blocks"]
        self.kernels: tuple[int, ...] = tuple(int(k) for k in blocks["kernels"])
        self.expand_ratios: tuple[int, ...] = tuple(int(e) for e in blocks["expand_ratios"])
        self.min_depth = int(blocks["min_depth"])
        self.max_depth = int(blocks["max_depth"])
        self.macro: dict[str, Any] = dict(spec["macro"])
        self.num_stages = len(self.macro["stages"])
        if not 1 <= self.min_depth <= self.max_depth:
            raise GennasError(f"space {self.name!r}: need 1 <= min_depth <= max_depth")
        self.block_ops: tuple[str, ...] = tuple(f"k{k}e{e}" for k in self.kernels for e in self.expand_ratios)
        n = self.num_slots
        self._edges = normal_edges(((i, i + 1) for i in range(n + 1)), n + 2)

    # ------------------------------------------------------------ vocabulary and slots
    @property
    def node_vocab(self) -> tuple[str, ...]:
        return ("input", "output", *self.block_ops, SKIP)

    @property
    def slot_vocab(self) -> tuple[str, ...]:
        return (*self.block_ops, SKIP)

    @property
    def num_slots(self) -> int:
        return self.num_stages * self.max_depth

    def slot_mask(self) -> np.ndarray:
        mask = np.ones((self.num_slots, len(self.slot_vocab)), dtype=bool)
        first = np.arange(self.num_slots) % self.max_depth < self.min_depth
        mask[first, -1] = False  # the first min_depth blocks of a stage always exist
        return mask

    def allowed_ops(self, slots: Any) -> Any:
        """As :meth:`SearchSpace.allowed_ops`, with the stage rule: a ``skip`` before a slot of the
        same stage forces ``skip`` there, and a block after it forbids ``skip`` (skips are trailing)."""
        import torch

        allowed = super().allowed_ops(slots)
        b, s = slots.shape
        skip = self.slot_vocab.index(SKIP)
        xs = slots.view(b, self.num_stages, self.max_depth)
        is_skip = (xs == skip).long()
        is_block = ((xs >= 0) & (xs != skip)).long()
        # exclusive prefix/suffix counts within each stage
        skip_before = (torch.cumsum(is_skip, dim=2) - is_skip).view(b, s) > 0
        block_after = (torch.flip(torch.cumsum(torch.flip(is_block, [2]), dim=2), [2]) - is_block).view(b, s) > 0
        allowed[:, :, skip] &= ~block_after
        blocks = torch.ones(len(self.slot_vocab), dtype=torch.bool, device=slots.device)
        blocks[skip] = False
        allowed &= ~(skip_before.unsqueeze(-1) & blocks)
        return allowed

    def stages_of(self, choices: Sequence[str]) -> list[list[str]]:
        """Active blocks per stage, ``skip`` slots removed."""
        d = self.max_depth
        return [[op for op in choices[s * d:(s + 1) * d] if op != SKIP] for s in range(self.num_stages)]

    def from_choices(self, choices: Sequence[str]) -> ArchGraph:
        choices = tuple(choices)
        if len(choices) != self.num_slots:
            raise InvalidArchitecture(f"{self.name} needs {self.num_slots} block slots, got {len(choices)}")
        d = self.max_depth
        for s in range(self.num_stages):
            stage = choices[s * d:(s + 1) * d]
            for op in stage:
                if op not in self.slot_vocab:
                    raise InvalidArchitecture(
                        f"unknown block op {op!r}; {self.name} ops: {', '.join(self.slot_vocab)}")
            depth = sum(op != SKIP for op in stage)
            if SKIP in stage[:depth]:
                raise InvalidArchitecture(f"stage {s + 1}: '{SKIP}' slots must come after the blocks")
            if depth < self.min_depth:
                raise InvalidArchitecture(
                    f"stage {s + 1} has {depth} blocks; {self.name} stages need {self.min_depth}..{self.max_depth}")
        return ArchGraph.from_checked(self.name, tuple(map(str, choices)), self._edges)

    def project(self, choices: Sequence[str]) -> tuple[str, ...]:
        """Valid choices nearest to ``choices``: blocks of a stage move ahead of its skips, and a
        stage short of ``min_depth`` gets ``k3e3`` blocks... chosen as the stage's first block op."""
        d = self.max_depth
        out: list[str] = []
        for s in range(self.num_stages):
            stage = [op for op in choices[s * d:(s + 1) * d] if op != SKIP]
            filler = stage[0] if stage else self.block_ops[0]
            stage += [filler] * (self.min_depth - len(stage))
            out += stage + [SKIP] * (d - len(stage))
        return tuple(out)

    # ------------------------------------------------------------ text form
    def to_string(self, arch: ArchGraph) -> str:
        return "|".join("-".join(stage) for stage in self.stages_of(self._choices_unchecked(arch)))

    def from_string(self, text: str) -> ArchGraph:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArchitecture(f"expected a {self.name} architecture string, got {text!r}")
        stages = text.strip().split("|")
        if len(stages) != self.num_stages:
            raise InvalidArchitecture(
                f"{text!r}: {self.name} has {self.num_stages} '|'-separated stages, got {len(stages)}")
        choices: list[str] = []
        for s, stage in enumerate(stages, start=1):
            blocks = [b for b in stage.split("-")] if stage else []
            if not self.min_depth <= len(blocks) <= self.max_depth:
                raise InvalidArchitecture(
                    f"{text!r}: stage {s} has {len(blocks)} blocks; allowed {self.min_depth}..{self.max_depth}")
            for b in blocks:
                if b not in self.block_ops:
                    raise InvalidArchitecture(
                        f"{text!r}: unknown block {b!r} in stage {s}; blocks: {', '.join(self.block_ops)}")
            choices += blocks + [SKIP] * (self.max_depth - len(blocks))
        return self.from_choices(choices)

    # ------------------------------------------------------------ sampling and neighbourhoods
    def sample(self, rng: RngLike = None) -> ArchGraph:
        """Depth uniform per stage, then kernel and expansion uniform per block (the OFA prior)."""
        rng = as_rng(rng)
        choices: list[str] = []
        for _ in range(self.num_stages):
            depth = int(rng.integers(self.min_depth, self.max_depth + 1))
            choices += [self.block_ops[i] for i in rng.integers(len(self.block_ops), size=depth)]
            choices += [SKIP] * (self.max_depth - depth)
        return self.from_choices(choices)

    def neighbours(self, arch: ArchGraph) -> list[ArchGraph]:
        """Change one block's op, append a block to a stage (copying its last), or drop a stage's last block."""
        base = list(self.choices(arch))
        d = self.max_depth
        seen: dict[ArchGraph, None] = {}
        for s in range(self.num_stages):
            stage = [op for op in base[s * d:(s + 1) * d] if op != SKIP]
            variants = []
            for i, current in enumerate(stage):
                variants += [stage[:i] + [op] + stage[i + 1:] for op in self.block_ops if op != current]
            if len(stage) < self.max_depth:
                variants.append(stage + [stage[-1]])
            if len(stage) > self.min_depth:
                variants.append(stage[:-1])
            for v in variants:
                new = base[:s * d] + v + [SKIP] * (d - len(v)) + base[(s + 1) * d:]
                seen[self.from_choices(new)] = None
        return list(seen)

    def size(self) -> int:
        per_stage = sum(len(self.block_ops) ** k for k in range(self.min_depth, self.max_depth + 1))
        return per_stage ** self.num_stages

    # ------------------------------------------------------------ identity
    def canonical_form(self, arch: ArchGraph, functional: bool = False) -> str:
        # Each architecture has exactly one graph (skips are trailing), so the text is canonical.
        return f"{self.name}:{self.to_string(arch)}"

    # ------------------------------------------------------------ models
    def build(self, arch: ArchLike, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """MobileNetV3 network. Options: ``width_mult`` (1.0) scales every width;
        ``dropout`` (0.0) before the classifier."""
        from gennas.models.mobilenet import MobileNetV3

        arch = self.parse(arch)
        options = self.checked_build_options(options)
        if int(num_classes) < 1 or int(in_channels) < 1:
            raise GennasError(f"num_classes and in_channels must be >= 1, got {num_classes}, {in_channels}")
        stages = self.stages_of(self.choices(arch))
        blocks = [[(int(op[1:op.index("e")]), int(op[op.index("e") + 1:])) for op in st] for st in stages]
        return MobileNetV3(self.macro, blocks, num_classes=int(num_classes), in_channels=int(in_channels),
                           width_mult=float(options.get("width_mult", 1.0)),
                           dropout=float(options.get("dropout", 0.0)))

    # ------------------------------------------------------------ weight-sharing supernet
    def supernet_options(self) -> tuple[str, ...]:
        """Build options :meth:`build_supernet` accepts (the same as :meth:`build`)."""
        return ("width_mult", "dropout")

    def build_supernet(self, num_classes: int = 10, in_channels: int = 3, **options: Any) -> nn.Module:
        """Once-for-All style elastic supernet holding every block choice
        (:mod:`gennas.models.supernet_mbv3`); ``forward(x, path)`` with ``path = supernet_path(arch)``."""
        from gennas.models.supernet_mbv3 import build_mbv3_supernet

        return build_mbv3_supernet(self, num_classes, in_channels, **options)

    def supernet_path(self, arch: ArchLike) -> list[list[tuple[int, int]]]:
        """The supernet's forward argument selecting ``arch``: per stage its ``(kernel, expand)`` blocks."""
        from gennas.models.supernet_mbv3 import parse_block_op

        return [[parse_block_op(op) for op in stage] for stage in self.stages_of(self.choices(self.parse(arch)))]

    def copy_supernet_weights(self, supernet_net: Any, path: Any, standalone_net: Any) -> Any:
        """Load ``path``'s weights of ``supernet_net`` into ``standalone_net`` (made by :meth:`build`)."""
        from gennas.models.supernet_mbv3 import copy_into_standalone

        return copy_into_standalone(supernet_net, path, standalone_net)
