"""ArchGraph: immutability, hashing classes over all of NAS-Bench-201, conversions."""

from __future__ import annotations

import dataclasses

import networkx as nx
import pytest
import torch

import gennas
from gennas import ArchGraph, InvalidArchitecture
from tests.conftest import BEST_C10


def test_string_round_trip_over_all_cells(nb201, all_cells):
    assert len(all_cells) == 15625
    strings = [a.to_string() for a in all_cells]
    assert len(set(strings)) == 15625
    for text, arch in zip(strings, all_cells):
        assert nb201.from_string(text) == arch


def test_hash_classes_match_published_counts(all_cells):
    # NAS-Bench-201's own rule (zero terms kept in sums): 6,466 unique cells.
    assert len({a.canonical_hash() for a in all_cells}) == 6466
    # Stricter functional rule (zero terms dropped): 5,390 classes.
    assert len({a.canonical_hash(functional=True) for a in all_cells}) == 5390


def test_hash_equivalences(nb201):
    base = nb201.from_string("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    # Edges feeding node 2 only matter through node 3; swapping commutative terms keeps the class.
    a = nb201.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
    b = nb201.from_string("|avg_pool_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
    assert a.canonical_hash() == b.canonical_hash()  # node 1 and 2 unused
    assert base.canonical_hash() != a.canonical_hash()
    # An op applied to a zero node is zero: node 1 is zero, so its conv edge equals none.
    c = nb201.from_string("|none~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    d = nb201.from_string("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert c.canonical_hash() == d.canonical_hash()


def test_immutable_and_hashable(nb201):
    arch = nb201.sample(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        arch.ops = ()  # type: ignore[misc]
    assert len({arch, nb201.from_string(arch.to_string())}) == 1
    assert ArchGraph("nb201", list(arch.ops), [list(e) for e in arch.edges]) == arch


def test_cycle_and_bad_edges_rejected():
    with pytest.raises(InvalidArchitecture, match="cycle"):
        ArchGraph("nb201", ("input", "output"), ((1, 0),))
    with pytest.raises(InvalidArchitecture, match="outside"):
        ArchGraph("nb201", ("input", "output"), ((0, 5),))
    # a cell string naming a node the cell does not have says so (it used to read as a cycle)
    cell = BEST_C10.rsplit("~", 1)[0]
    with pytest.raises(InvalidArchitecture, match="node 5 does not exist"):
        gennas.load_space("nb201").from_string(cell + "~5|")
    with pytest.raises(InvalidArchitecture, match="cycle"):
        gennas.load_space("nb201").from_string(cell + "~3|")


def test_conversions(nb201):
    arch = nb201.from_string(BEST_C10)
    g = arch.to_networkx()
    assert nx.is_directed_acyclic_graph(g)
    assert [g.nodes[i]["op"] for i in range(g.number_of_nodes())] == list(arch.ops)
    data = arch.to_pyg()
    assert data.x.shape == (8, len(nb201.node_vocab))
    assert data.edge_index.shape == (2, len(arch.edges))
    assert torch.equal(data.x.argmax(1), data.op)
    assert nb201.node_vocab[int(data.op[1])] == "nor_conv_3x3"


def test_to_dgl_matches_pyg(nb201):
    pytest.importorskip("dgl")
    arch = nb201.sample(3)
    g = arch.to_dgl()
    data = arch.to_pyg()
    src, dst = g.edges()
    assert torch.equal(torch.stack([src, dst]), data.edge_index)
    assert torch.equal(g.ndata["x"], data.x)


def test_space_of_graph_checked(nb201, mbv3):
    arch = mbv3.sample(0)
    with pytest.raises(InvalidArchitecture, match="mbv3"):
        nb201.validate(arch)
    assert gennas.load_space("mbv3").is_valid(arch)
