"""The DARTS cell space: sampling, genotype strings, canonical hashing of isomorphic cells, slot
rules for generators, conversions, the network and the weight-sharing supernet."""

from __future__ import annotations

import itertools
import math
import uuid

import networkx as nx
import numpy as np
import pytest
import torch

import gennas
from gennas.errors import GennasError, InvalidArchitecture

# DARTS (second order), the cell published in Liu et al. 2019 (genotypes.py, DARTS_V2)
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")


@pytest.fixture(scope="module")
def darts() -> gennas.SearchSpace:
    return gennas.load_space("darts")


def genotype(normal, reduce) -> str:
    return f"Genotype(normal={normal!r}, normal_concat=range(2, 6), reduce={reduce!r}, reduce_concat=range(2, 6))"


REDUCE = [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
          ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]


# ---------------------------------------------------------------- space and strings
def test_size_and_published_cell(darts):
    # per cell: C(2,2) C(3,2) C(4,2) C(5,2) input pairs x 7 ops per kept edge, two cells
    assert darts.size() == (1 * 3 * 6 * 10 * 7 ** 8) ** 2
    arch = darts.from_string(DARTS_V2)
    assert darts.is_valid(arch) and darts.from_string(arch.to_string()) == arch
    # the text lists each node's two inputs by source index (the graph does not order them)
    published = {"normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
                 "reduce": REDUCE}
    by_source = {cell: [p for i in range(0, 8, 2) for p in sorted(pairs[i:i + 2], key=lambda p: p[1])]
                 for cell, pairs in published.items()}
    assert darts.genotype(arch) == by_source
    assert darts.num_slots == 28 and arch.num_nodes == 30
    # the paper's Table 1: 3.3M parameters for the DARTS cell in the 20-cell, 36-channel network
    assert round(darts.count_params(arch) / 1e6, 1) == 3.3


def test_a_thousand_samples_are_valid_unique_and_round_trip(darts):
    archs = darts.sample_many(1000, 0)
    assert archs == darts.sample_many(1000, 0) and archs[:5] != darts.sample_many(5, 1)
    assert all(darts.is_valid(a) for a in archs)
    assert len({a.canonical_hash() for a in archs}) == 1000
    assert all(darts.from_string(a.to_string()) == a for a in archs)
    # every node keeps exactly two distinct inputs: 8 (op, input) pairs per cell
    assert all(len(darts.genotype(a)["normal"]) == 8 == len(darts.genotype(a)["reduce"]) for a in archs[:50])


@pytest.mark.parametrize("text, message", [
    ("", "expected"),
    ("normal=[]", "must look like Genotype"),
    ("Genotype(normal=[('sep_conv_3x3', 0)] * 8, reduce=[])", "literal lists"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)])", "must list 8"),
    (genotype([("sep_conv_3x3", 0), ("sep_conv_3x3", 0)] + [("sep_conv_3x3", 1)] * 6, REDUCE), "reads state 0 twice"),
    (genotype([("sep_conv_3x3", 0), ("sep_conv_3x3", 2)] + [("sep_conv_3x3", 1)] * 6, REDUCE), "may read 0..1"),
    (genotype([("conv_9x9", 0)] + [("sep_conv_3x3", 1)] * 7, REDUCE), "unknown op 'conv_9x9'"),
    (genotype([("none", 0)] + [("sep_conv_3x3", 1)] * 7, REDUCE), "unknown op 'none'"),
    (genotype([("sep_conv_3x3", "0")] + [("sep_conv_3x3", 1)] * 7, REDUCE), r"must be an \('op', input\) pair"),
    (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]"), "normal_concat must be"),
    (DARTS_V2.replace("reduce_concat", "colour"), "unknown genotype field 'colour'"),
    ("Genotype(normal=__import__('os').system('true'), reduce=[])", "literal lists"),
])
def test_bad_genotypes(darts, text, message):
    with pytest.raises(InvalidArchitecture, match=message):
        darts.from_string(text)


def test_slot_rules(darts):
    choices = list(darts.choices(darts.sample(0)))
    bad = choices.copy()
    bad[0] = "none"  # node 2 of the normal cell can read only states 0 and 1: both are needed
    with pytest.raises(InvalidArchitecture, match="normal cell node 2 reads 1 inputs"):
        darts.from_choices(bad)
    assert darts.is_valid(darts.from_choices(darts.project(bad)))
    assert darts.is_valid(darts.from_choices(darts.project(["sep_conv_3x3"] * 28)))
    assert darts.is_valid(darts.from_choices(darts.project(["none"] * 28)))
    with pytest.raises(InvalidArchitecture, match="belongs to space 'nb201'"):
        darts.validate(gennas.load_space("nb201").sample(0))


def test_allowed_ops_lead_every_order_of_decisions_to_a_valid_cell(darts):
    # a generator that fixes slots one at a time in any order, obeying allowed_ops, ends valid
    rng = np.random.default_rng(0)
    for _ in range(10):
        slots = torch.full((1, darts.num_slots), -1)
        for s in rng.permutation(darts.num_slots):
            allowed = np.flatnonzero(darts.allowed_ops(slots)[0, s].numpy())
            assert len(allowed) > 0
            slots[0, s] = int(rng.choice(allowed))
        assert darts.is_valid(darts.from_choices([darts.slot_vocab[i] for i in slots[0]]))


def test_neighbours_and_mutate(darts):
    arch = darts.sample(1)
    nbrs = darts.neighbours(arch)
    # per kept edge: 6 other ops, or a move to one of the node's unread inputs (0, 1, 2, 3 of them)
    assert len(nbrs) == 2 * sum(2 * (6 + i) for i in range(4)) == len(set(nbrs))
    assert arch not in nbrs and all(darts.is_valid(n) for n in nbrs)
    rng = np.random.default_rng(0)
    assert all(darts.mutate(arch, rng) in set(nbrs) for _ in range(10))


# ---------------------------------------------------------------- canonical hashing
NORMAL = [("sep_conv_3x3", 0), ("sep_conv_5x5", 1),  # node 2
          ("skip_connect", 0), ("max_pool_3x3", 1),  # node 3
          ("dil_conv_3x3", 2), ("sep_conv_3x3", 1),  # node 4 reads node 2
          ("avg_pool_3x3", 3), ("skip_connect", 4)]  # node 5 reads nodes 3 and 4


def test_isomorphic_cells_hash_equal(darts):
    base = darts.from_string(genotype(NORMAL, REDUCE))
    # the two inputs of a node are unordered: the same graph
    swapped = [NORMAL[1], NORMAL[0]] + NORMAL[2:]
    assert darts.from_string(genotype(swapped, REDUCE)) == base
    # nodes 2 and 3 renumbered (each reads only the cell inputs): another graph, the same cell
    renumbered = [NORMAL[2], NORMAL[3], NORMAL[0], NORMAL[1],
                  ("dil_conv_3x3", 3), ("sep_conv_3x3", 1), ("avg_pool_3x3", 2), ("skip_connect", 4)]
    other = darts.from_string(genotype(renumbered, REDUCE))
    assert other != base and other.canonical_hash() == base.canonical_hash()
    # not isomorphic: node 4 reading node 3 instead of node 2
    moved = NORMAL[:4] + [("dil_conv_3x3", 3)] + NORMAL[5:]
    assert darts.from_string(genotype(moved, REDUCE)).canonical_hash() != base.canonical_hash()
    # the normal and the reduction cell are not interchangeable
    assert darts.from_string(genotype(REDUCE, NORMAL)).canonical_hash() != base.canonical_hash()


TINY = """\
kind: darts
name: {name}
cell:
  nodes: 2
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    conv: {{type: sep_conv, kernel: 3}}
macro: {{channels: 4, layers: 3, stem_multiplier: 1}}
"""


def _computation_graph(space, arch) -> nx.DiGraph:
    """The labelled data-flow graph of both cells, identity edges kept as op nodes."""
    g = nx.DiGraph()
    for cell, pairs in space.genotype(arch).items():
        states = [f"{cell}s0", f"{cell}s1"] + [f"{cell}n{i}" for i in range(space.nodes)]
        g.add_node(states[0], label="s0")
        g.add_node(states[1], label="s1")
        g.add_nodes_from(states[2:], label="node")
        g.add_node(f"{cell}out", label=f"{cell}cat")
        for i, (op, src) in enumerate(pairs):
            strided = cell == "reduce" and src < 2
            g.add_node(f"{cell}e{i}", label=f"{op}{'/2' if strided else ''}")
            g.add_edge(states[src], f"{cell}e{i}")
            g.add_edge(f"{cell}e{i}", states[2 + i // space.inputs_per_node])
        g.add_edges_from((s, f"{cell}out") for s in states[2:])
    return g


def test_canonical_hash_is_graph_isomorphism_on_a_whole_small_space(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.format(name=f"tiny_{uuid.uuid4().hex[:8]}"))
    space = gennas.load_space(path)
    # every normal cell (2 x 6 x ... = 48) with one fixed reduction cell
    reduce = space.choices(space.sample(0))[5:]
    cells = []
    for normal in itertools.product(space.slot_vocab, repeat=5):
        try:
            cells.append(space.from_choices(normal + reduce))
        except InvalidArchitecture:
            continue
    assert len(cells) == 1 * 2 ** 2 * 3 * 2 ** 2 == math.isqrt(space.size())
    graphs = [_computation_graph(space, a) for a in cells]
    match = nx.algorithms.isomorphism.categorical_node_match("label", None)
    for (a, ga), (b, gb) in itertools.combinations(zip(cells, graphs), 2):
        iso = nx.is_isomorphic(ga, gb, node_match=match)
        assert (a.canonical_hash() == b.canonical_hash()) == iso, (a, b)
    assert len({a.canonical_hash() for a in cells}) < len(cells)  # some cells are isomorphic


# ---------------------------------------------------------------- conversions
def test_conversions(darts):
    arch = darts.from_string(DARTS_V2)
    data = arch.to_pyg()
    assert data.x.shape == (30, len(darts.node_vocab)) and data.edge_index.shape[0] == 2
    assert torch.equal(data.x.sum(1), torch.ones(30))
    g = arch.to_networkx()
    assert nx.is_directed_acyclic_graph(g) and g.number_of_edges() == data.edge_index.shape[1]
    # every graph of the space has the same edges (the supergraph): models batch them as copies
    assert all(a.edges == arch.edges for a in darts.sample_many(5, 0))
    assert darts.encode([arch]).shape == (1, 28 * 8)
    pytest.importorskip("dgl")
    assert arch.to_dgl().num_edges() == data.edge_index.shape[1]


# ---------------------------------------------------------------- networks
def test_build_and_one_training_step(darts):
    torch.manual_seed(0)
    net = darts.build(darts.sample(2), **darts.small_build_options)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and net(x).shape == (4, 10)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with pytest.raises(GennasError, match="unknown build option"):
        darts.build(DARTS_V2, width=3)


def test_supernet_paths_relaxation_and_weight_copy(darts):
    torch.manual_seed(0)
    options = {"channels": 4, "layers": 3}
    net = darts.build_supernet(**options)
    x = torch.randn(2, 3, 16, 16)
    arch = darts.sample(3)
    path = darts.supernet_path(arch)
    assert net(x, path).shape == (2, 10)
    relaxed = net(x)  # DARTS's continuous relaxation, differentiable in the alphas
    relaxed.sum().backward()
    assert net.alphas.grad is not None and net.alphas.grad.abs().sum() > 0
    assert darts.is_valid(darts.derive(net))
    standalone = darts.copy_supernet_weights(net, path, darts.build(arch, **options))
    net.eval(), standalone.eval()
    with torch.no_grad():
        assert torch.allclose(standalone(x), net(x, path), atol=1e-5)


def test_supernet_evaluator_trains_and_scores_darts_subnets():
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(16, 3, 16, 16, generator=g), torch.randint(0, 10, (16,), generator=g))
    loader = DataLoader(data, batch_size=8)
    sn = gennas.Supernet("darts", torch_device="cpu", channels=4, layers=3).fit(loader, epochs=1)
    archs = sn.space.sample_many(2, 0)
    results = sn.evaluate(archs, loader, calib_batches=1)
    assert [r.arch for r in results] == archs and all(0 <= r.score <= 100 for r in results)
    assert sn.subnet(archs[0]).training is False


def test_a_genotype_s_concat_range_is_bounded_before_it_is_expanded():
    """Walk 38 #7: `normal_concat=range(2, 100000000)` was expanded to a list before any check:
    one string (a study's trial, a timings file, a CLI argument) took gigabytes."""
    space = gennas.load_space("darts")
    text = space.to_string(space.sample(0))
    with pytest.raises(InvalidArchitecture, match=r"normal_concat=range\(2, 100000000\) names 99,999,998 nodes"):
        space.from_string(text.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 100000000)"))
    assert space.from_string(text.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")) == space.sample(0)
