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


def test_an_input_recipe_of_some_classes_holds_what_load_images_standardised_them_by():
    """Walk 34 #7: the recipe recorded the whole dataset's mean and std while load_images
    standardised a class subset by its own; a deployer following it fed other inputs."""
    from gennas.datasets import PIXEL_SCALE, _pixels, input_recipe

    recipe = input_recipe("digits", classes=[1, 7])
    images, labels = load_images("digits", classes=[1, 7])
    x, y = _pixels("digits")
    raw = torch.from_numpy(x[np.isin(y, [1, 7])]).unsqueeze(1)
    again = (raw - recipe["then standardised by mean"]) / recipe["and std"]
    assert torch.allclose(again, images, atol=1e-5) and recipe["grey pixels divided by"] == PIXEL_SCALE["digits"]
    assert recipe["classes (labelled 0, 1, ... in this order)"] == [1, 7] and set(labels.tolist()) == {0, 1}
    assert "classes (labelled 0, 1, ... in this order)" not in input_recipe("digits")
