"""Shared fixtures: spaces and the bundled benchmark are loaded once per session."""

from __future__ import annotations

import pytest
import torch

import gennas

# Two cores on CI: one thread per test process keeps timings predictable.
torch.set_num_threads(1)

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture(scope="session")
def nb201() -> gennas.SearchSpace:
    return gennas.load_space("nb201")


@pytest.fixture(scope="session")
def space(nb201) -> gennas.SearchSpace:
    """The space evaluator tests build networks in (nb201)."""
    return nb201


@pytest.fixture(scope="session")
def mbv3() -> gennas.SearchSpace:
    return gennas.load_space("mbv3")


@pytest.fixture(scope="session")
def bench():
    return gennas.load_benchmark("nb201")


@pytest.fixture(scope="session")
def all_cells(nb201):
    return list(nb201.enumerate())
