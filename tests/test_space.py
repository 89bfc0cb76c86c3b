"""Search spaces: parsing errors, sampling, neighbourhoods, enumeration, params and FLOPs."""

from __future__ import annotations

import numpy as np
import pytest

import gennas
from gennas import GennasError, InvalidArchitecture, UnknownSpace
from tests.conftest import BEST_C10


def test_list_and_load():
    assert {"nb201", "mbv3"} <= set(gennas.list_spaces())
    assert gennas.load_space("nb201") is gennas.load_space("nb201")
    with pytest.raises(UnknownSpace, match="unknown search space 'nope'.*nb201"):
        gennas.load_space("nope")
    # a table passed where a space is expected (Designer(bench), Supernet(bench)): its space
    assert gennas.load_space(gennas.load_benchmark("nb201")) is gennas.load_space("nb201")


@pytest.mark.parametrize("text, message", [
    ("", "expected"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 computed nodes"),
    ("|conv_9x9~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|", "unknown op 'conv_9x9'"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~2|+|skip_connect~0|nor_conv_3x3~1|none~2|", "cycle"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|none~2|", "node 2 must have 2 inputs"),
    ("|nor_conv_3x3|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|", "op~input_index"),
    ("nor_conv_3x3~0+a+b", "must look like"),
])
def test_nb201_bad_strings(nb201, text, message):
    with pytest.raises(InvalidArchitecture, match=message):
        nb201.from_string(text)


@pytest.mark.parametrize("text, message", [
    ("k3e4-k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4", "5 '\\|'-separated stages"),
    ("k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4", "stage 1 has 1 blocks"),
    ("k3e4-k9e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4", "unknown block 'k9e4'"),
    ("k3e4-k3e4-k3e4-k3e4-k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4|k3e4-k3e4", "stage 1 has 5 blocks"),
])
def test_mbv3_bad_strings(mbv3, text, message):
    with pytest.raises(InvalidArchitecture, match=message):
        mbv3.from_string(text)


def test_mbv3_wrong_slot_structure(mbv3):
    choices = list(mbv3.choices(mbv3.sample(0)))
    choices[0], choices[3] = "skip", "k3e3"  # a skip before a block
    with pytest.raises(InvalidArchitecture, match="after the blocks"):
        mbv3.from_choices(choices)
    assert mbv3.is_valid(mbv3.from_choices(mbv3.project(choices)))


@pytest.mark.parametrize("name", ["nb201", "mbv3"])
def test_sampling_is_seeded_and_valid(name):
    space = gennas.load_space(name)
    a = space.sample_many(20, 7)
    assert a == space.sample_many(20, 7)
    assert a != space.sample_many(20, 8)
    assert all(space.is_valid(x) for x in a)
    assert all(space.from_string(x.to_string()) == x for x in a)


@pytest.mark.parametrize("name", ["nb201", "mbv3"])
def test_neighbours_and_mutate(name):
    space = gennas.load_space(name)
    arch = space.sample(1)
    nbrs = space.neighbours(arch)
    assert arch not in nbrs and len(set(nbrs)) == len(nbrs)
    assert all(space.is_valid(x) for x in nbrs)
    if name == "nb201":
        assert len(nbrs) == 6 * 4
    rng = np.random.default_rng(0)
    assert all(space.mutate(arch, rng) in set(nbrs) for _ in range(10))


def test_sizes_and_enumeration(nb201, mbv3):
    assert nb201.size() == 15625
    assert 1e19 <= mbv3.size() <= 1e20  # 7371^5 ~ 2.2e19
    with pytest.raises(GennasError, match="too many"):
        mbv3.enumerate()
    assert np.array_equal(
        nb201.all_choice_indices()[:3],
        np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 2]]))


def test_encode_shapes(nb201, mbv3):
    assert nb201.encode(nb201.sample_many(4, 0)).shape == (4, 6 * 5)
    enc = mbv3.encode(mbv3.sample_many(3, 0))
    assert enc.shape == (3, 20 * 10) and np.allclose(enc.reshape(3, 20, 10).sum(-1), 1)


def test_params_and_flops(nb201, mbv3):
    # Published NAS-Bench-201 CIFAR-10 extremes: 1.531546 M params and 220.11 M multiply-adds
    # for the all-3x3 cell, 0.073306 M params for the all-none cell (flop_counter counts 2 per MAC).
    dense = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    empty = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert nb201.count_params(dense) == 1531546
    assert nb201.count_params(empty) == 73306
    assert nb201.count_flops(dense) / 2 == pytest.approx(220.11e6, rel=1e-3)
    assert nb201.count_flops(empty) < nb201.count_flops(BEST_C10) < nb201.count_flops(dense)
    arch = mbv3.from_string("k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3")
    big = mbv3.from_string("-".join(["k7e6"] * 4) + ("|" + "-".join(["k7e6"] * 4)) * 4)
    assert mbv3.count_flops(arch, input_size=64) < mbv3.count_flops(big, input_size=64)
    assert mbv3.count_params(arch) < mbv3.count_params(big)


def test_build_rejects_unknown_options(nb201):
    with pytest.raises(GennasError, match="unknown build option"):
        nb201.build(BEST_C10, width=3)
