"""Zero-cost proxies: registry, real-data scores, determinism, published behaviour, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

import gennas
from gennas.evaluators import zero_cost
from gennas.datasets import image_loaders
from gennas.errors import GennasError, InvalidArchitecture

TINY = {"channels": 8, "cells_per_stage": 1}
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def batch():
    """16 real digits, 8x8, 3 channels: (images (16,3,8,8), labels (16,))."""
    train, _ = image_loaders("digits", batch_size=16, channels=3, seed=0)
    return next(iter(train))


@pytest.fixture(scope="module")
def archs(space):
    return space.sample_many(3, rng=1)


@pytest.fixture(scope="module")
def all_scores(space, archs, batch):
    return zero_cost.score_many(archs, space, None, batch, build_options=TINY)


def test_registry_has_every_proxy_of_the_issue():
    wanted = {"synflow", "snip", "grasp", "fisher", "grad_norm", "jacov", "naswot", "epe_nas", "zico",
              "params", "flops"}
    assert wanted <= set(zero_cost.names())
    assert not zero_cost.get("synflow").needs_data and zero_cost.get("naswot").needs_data
    with pytest.raises(GennasError, match="unknown proxy 'nope'"):
        zero_cost.get("nope")


def test_every_proxy_is_finite_on_real_cells(all_scores, archs):
    for name, values in all_scores.items():
        assert values.shape == (len(archs),), name
        assert np.isfinite(values).all(), (name, values)
    assert (all_scores["params"] > 0).all() and (all_scores["synflow"] > 0).all()


def test_scores_are_seeded_and_single_arch_gives_float(space, archs, batch, all_scores):
    again = zero_cost.score(archs[0], space, "naswot", data=batch, build_options=TINY)
    assert isinstance(again, float) and again == pytest.approx(all_scores["naswot"][0], rel=1e-9)
    other = zero_cost.score(archs[:1], space, "snip", data=batch, build_options=TINY, seed=1)
    assert other[0] != pytest.approx(all_scores["snip"][0], rel=1e-6)  # another init, another value
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    zero_cost.score(archs[:1], space, "params", build_options=TINY)
    assert torch.equal(torch.rand(3), expected)  # the caller's random stream is left alone


def test_params_and_flops_match_the_space_counters(space, archs, all_scores):
    assert all_scores["params"][0] == space.count_params(archs[0], **TINY)
    assert all_scores["flops"][0] == space.count_flops(archs[0], input_size=8, **TINY)


def test_degenerate_cell_gets_the_worst_or_undefined_score(space, batch):
    s = zero_cost.score_many([ALL_NONE], space, ["synflow", "naswot", "jacov"], batch, build_options=TINY)
    assert s["synflow"][0] == 0.0  # no path from input to output carries any flow
    assert s["naswot"][0] == -np.inf  # every image gets the same code: singular kernel
    assert np.isnan(s["jacov"][0])


def test_synflow_ranks_nb201_cells_like_the_benchmark(space):
    """Data-free, on the benchmark network: the published property (rho ~0.74 on all cells)."""
    archs = space.sample_many(30, rng=7)
    s = zero_cost.score(archs, space, "synflow")
    acc = gennas.load_benchmark("nb201").accuracy_of(archs, "cifar10")
    assert spearmanr(s, acc).statistic > 0.5


def test_data_free_proxies_need_no_data_but_data_proxies_do(space, archs):
    assert set(zero_cost.score_many(archs[:1], space)) == {"params", "flops", "synflow"}
    with pytest.raises(GennasError, match="needs real data"):
        zero_cost.score(archs[:1], space, "snip")


def test_mbv3_networks_are_scored_too(batch):
    mbv3 = gennas.load_space("mbv3")
    big = torch.nn.functional.interpolate(batch[0][:8], size=32)
    s = zero_cost.score_many([mbv3.sample(0)], mbv3, ["grasp", "naswot"], (big, batch[1][:8]),
                           build_options={"width_mult": 0.25})
    assert all(np.isfinite(v).all() for v in s.values())


@pytest.mark.parametrize("data, message", [
    ((torch.zeros(4, 8, 8), torch.zeros(4, dtype=torch.long)), r"\(B, C, H, W\)"),
    ((torch.zeros(4, 3, 8, 8), torch.zeros(4)), r"integer tensor .*, got \(4,\) float32"),  # the dtype named
    ((torch.zeros(4, 3, 8, 8), torch.zeros(3, dtype=torch.long)), "matching 4 images"),
    ((torch.full((2, 3, 8, 8), float("nan")), torch.zeros(2, dtype=torch.long)), "NaN"),
    ([], "no batches"),
    ("images", "DataLoader"),
])
def test_bad_data_is_a_clear_error(space, archs, data, message):
    with pytest.raises(GennasError, match=message):
        zero_cost.score(archs[:1], space, "snip", data=data, build_options=TINY)


def test_empty_dataloader_and_foreign_architecture(space, batch):
    empty = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(0, 3, 8, 8),
                                                                      torch.zeros(0, dtype=torch.long)))
    with pytest.raises(GennasError, match="no batches"):
        zero_cost.score([ALL_NONE], space, "naswot", data=empty)
    with pytest.raises(InvalidArchitecture, match="space 'mbv3'"):
        zero_cost.score([gennas.load_space("mbv3").sample(0)], space, "synflow")
    with pytest.raises(GennasError, match="num_classes"):
        zero_cost.score([ALL_NONE], space, "snip", data=batch, num_classes=3, build_options=TINY)


def test_a_task_already_named_after_the_proxy_is_not_named_after_it_twice():
    """A user walk: `gennas search --task cifar10-synflow -e proxy:synflow` (as the designer's
    warning advises naming it) learned task 'cifar10-synflow-synflow'."""
    from gennas.evaluators.zero_cost import task_of

    assert task_of("cifar10", "synflow") == "cifar10-synflow"
    assert task_of("cifar10-synflow", "synflow") == "cifar10-synflow"
    assert task_of("cifar10_SynFlow", "synflow") == "cifar10_SynFlow"
    assert task_of("cifar10-synflow", "jacov") == "cifar10-synflow-jacov"  # another proxy is named
    assert task_of("cifar10-jacov", "jacov", "mnist") == "cifar10-jacov-mnist"  # other images still are
    assert task_of("cifar10", "jacov", "cifar10") == "cifar10-jacov"
