"""The one image-layout check (gennas.images.check_images) at every entry point that takes images:
a channels-last batch is refused by name, channels-first batches of any size pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gennas
from gennas.evaluators import zero_cost
from gennas.images import check_images

TINY = {"channels": 8, "cells_per_stage": 1}
#: what every refusal of a channels-last batch says: the layout and the two fixes
CHANNELS_LAST = r"look channels-last .*permute\(0, 3, 1, 2\).*np\.transpose\(x, \(0, 3, 1, 2\)\)"


def _digits(n: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` real digits, float32 ``(n, 3, 8, 8)``, and their labels."""
    x, y = gennas.datasets.load_images("digits", channels=3)
    return x[:n], y[:n]


@pytest.mark.parametrize("shape", [(5, 3, 32, 32), (5, 1, 28, 28), (5, 3, 4, 4), (5, 4, 4, 4), (5, 1, 4, 4),
                                   (5, 3, 32, 3), (5, 16, 8, 8)])
def test_channels_first_images_of_any_size_pass(shape):
    x = torch.zeros(shape)
    assert check_images(x) is x


@pytest.mark.parametrize("shape", [(5, 32, 32, 3), (5, 28, 28, 1), (5, 16, 16, 4), (5, 8, 8, 3)])
def test_channels_last_images_are_refused_with_the_fix(shape):
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST) as err:
        check_images(torch.zeros(shape))
    n, h, w, c = shape
    assert f"({n}, {c}, {h}, {w})" in str(err.value)  # the shape they should pass


@pytest.mark.parametrize("form", ["tensor", "numpy", "loader"])
def test_task_from_images_refuses_channels_last_images(form):
    """(N, 16, 16, 3) was read as 16 channels of 16x3 images: a task unlike the images'."""
    x, y = _digits()
    x = torch.nn.functional.interpolate(x, size=(16, 16)).permute(0, 2, 3, 1)
    args = {"tensor": (x, y), "numpy": (x.numpy(), y.numpy()),
            "loader": (DataLoader(TensorDataset(x, y), batch_size=64),)}[form]
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST):
        gennas.Task.from_images(*args)
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST):  # named before "too few images"
        gennas.Task.from_images(x[:10])


def test_task_from_images_still_takes_small_channels_first_images():
    x, y = _digits()
    assert gennas.Task.from_images(torch.nn.functional.interpolate(x, size=(4, 4)), y).kind == "images"
    assert gennas.Task.from_images(x[:, :1].numpy(), y.numpy()).kind == "images"
    # one (images, labels) pair, as a batch: read as two batches before ("images of different shapes")
    assert gennas.Task.from_images((x, y)).name == gennas.Task.from_images(x, y).name


def test_evaluators_and_supernet_refuse_channels_last_batches():
    x, y = _digits(16)
    last = DataLoader(TensorDataset(x.permute(0, 2, 3, 1), y), batch_size=16)
    first = DataLoader(TensorDataset(x, y), batch_size=16)
    with pytest.raises(gennas.GennasError, match="train_loader: images .*" + CHANNELS_LAST):
        gennas.TrainEvaluator("nb201", last, first, progress=False)
    with pytest.raises(gennas.GennasError, match="val_loader: images .*" + CHANNELS_LAST):
        gennas.TrainEvaluator("nb201", first, last, progress=False)
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST):
        gennas.ProxyEvaluator("nb201", "synflow", data=last)
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST):
        zero_cost.score(gennas.load_space("nb201").sample(0), "nb201", "snip", data=(x.permute(0, 2, 3, 1), y),
                        build_options=TINY)
    supernet = gennas.Supernet("nb201", in_channels=3, torch_device="cpu", **TINY)
    with pytest.raises(gennas.GennasError, match=CHANNELS_LAST):
        supernet.fit(last, epochs=1)
    assert np.isfinite(zero_cost.score(gennas.load_space("nb201").sample(0), "nb201", "snip", data=first,
                                       build_options=TINY))
