"""Bundled image loaders: shapes and split, and bad arguments as GennasErrors naming the argument and
its valid range (size=0 was torch's RuntimeError, limit=0 and val_fraction=1.0 the sampler's ValueError)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gennas.datasets import image_loaders, load_images
from gennas.errors import GennasError


def test_loaders_split_the_limited_images_seeded():
    train, val = image_loaders("mnist", batch_size=16, size=16, channels=1, limit=50, val_fraction=0.2)
    assert len(train.dataset) == 40 and len(val.dataset) == 10
    assert len(image_loaders("mnist", limit=np.int64(30))[0].dataset) == 24  # numpy integers are integers
    x, y = next(iter(val))
    assert x.shape == (10, 1, 16, 16) and x.dtype == torch.float32 and y.dtype == torch.int64
    again = image_loaders("mnist", batch_size=16, size=16, channels=1, limit=50, val_fraction=0.2)[1]
    assert torch.equal(again.dataset.tensors[1], val.dataset.tensors[1])
    for fraction in (0.0, 0.99):  # the extremes of two images: one each
        two = image_loaders("mnist", limit=2, val_fraction=fraction)
        assert len(two[0].dataset) == 1 and len(two[1].dataset) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 0}, r"size must be an integer >= 1 or None \(the native side: 28 for mnist, 8 for digits\), got 0"),
    ({"size": 2.5}, r"size must be an integer >= 1 .* got 2.5"),
    ({"limit": 0},
     r"limit must be an integer >= 2 \(one image to train on, one to validate\) or None \(every image\), got 0"),
    ({"limit": 1}, r"limit must be an integer >= 2"),
    ({"val_fraction": 1.0}, r"val_fraction must be a number in \[0, 1\) .* got 1.0"),
    ({"val_fraction": -0.1}, r"val_fraction must be a number in \[0, 1\)"),
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
    ({"channels": 2}, r"channels must be 1 or 3, got 2"),
])
def test_bad_arguments_are_named_with_their_range(kwargs, message):
    with pytest.raises(GennasError, match=message):
        image_loaders("mnist", **kwargs)


def test_load_images_checks_size_before_reading():
    with pytest.raises(GennasError, match="size must be an integer >= 1"):
        load_images("mnist", size=-3)
    with pytest.raises(GennasError, match="unknown image dataset|cifar"):
        image_loaders("cifar", size=16)
