"""Built networks from both spaces run forward and take a training step on CPU."""

from __future__ import annotations

import pytest
import torch

import gennas
from gennas.datasets import load_images


def _train_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.detach().item())
    return losses[0], losses[1]


@pytest.mark.parametrize("arch", [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # all-zero cell still trains (head learns)
])
def test_nb201_forward_and_train_step(nb201, arch):
    torch.manual_seed(0)
    x, y = load_images("mnist", size=16, channels=3)
    x, y = x[:32], y[:32]
    model = nb201.build(arch, num_classes=10, in_channels=3, channels=8, cells_per_stage=1)
    assert model(x).shape == (32, 10)
    first, second = _train_step(model, x, y)
    assert second < first  # the step reduced the loss on the same batch


def test_nb201_full_skeleton_shape(nb201):
    model = nb201.build(nb201.sample(0), num_classes=100)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 100)


def test_mbv3_forward_and_train_step(mbv3):
    torch.manual_seed(0)
    x, y = load_images("mnist", size=32, channels=1)
    x, y = x[:16], y[:16]
    arch = mbv3.sample(2)
    model = mbv3.build(arch, num_classes=10, in_channels=1, width_mult=0.5)
    assert model(x).shape == (16, 10)
    first, second = _train_step(model, x, y)
    assert second < first


def test_build_accepts_strings_and_rejects_bad(nb201):
    with pytest.raises(gennas.InvalidArchitecture):
        nb201.build("|bad~0|")
    with pytest.raises(gennas.GennasError, match="num_classes"):
        nb201.build(nb201.sample(0), num_classes=0)
