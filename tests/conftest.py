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


#: a user's 3-node cell space (no shipped estimator, generator or predictor); each module names its
#: own, so the checkpoints and devices a test writes for it stay apart
USER_CELL_SPACE = """kind: cell
name: {name}
input_size: 32
cell:
  nodes: {nodes}
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    conv3: {{type: relu_conv_bn, kernel: 3}}
    pool3: {{type: avg_pool, kernel: 3}}
macro: {{channels: 4, cells_per_stage: 1, stages: 1}}
"""


@pytest.fixture
def user_cell_space(tmp_path):
    """``write(name, nodes=3)``: :data:`USER_CELL_SPACE` written to ``tmp_path / "own.yaml"``,
    returns the file's path (``gennas.load_space`` of it is the space)."""
    def write(name: str, nodes: int = 3):
        path = tmp_path / "own.yaml"
        path.write_text(USER_CELL_SPACE.format(name=name, nodes=nodes))
        return path
    return write

