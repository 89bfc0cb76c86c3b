"""Task descriptions: names, image sets (fixed extractor + set pooling), verified samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gennas
from gennas.datasets import load_images
from gennas.surrogates.task import DESCRIPTOR_DIM, Task, image_features


def test_named_known_and_unknown():
    assert Task.named("cifar10").name == "cifar10"
    with pytest.raises(gennas.UnknownDataset, match="cifar100"):  # the message lists what exists
        Task.named("imagenet-42")


def test_from_images_is_deterministic_and_content_dependent():
    x, y = load_images("digits", classes=[0, 1, 2])
    a, b = Task.from_images(x, y), Task.from_images(x, y)
    assert a.descriptor.shape == (DESCRIPTOR_DIM,)
    assert torch.equal(a.descriptor, b.descriptor) and a.name == b.name
    # more classes of the same data: class count and spread differ, so must the descriptor
    x5, y5 = load_images("digits", classes=[0, 1, 2, 3, 4])
    assert not torch.allclose(a.descriptor, Task.from_images(x5, y5).descriptor)
    # the extractor is resolution- and channel-agnostic: a 3-channel 32x32 copy embeds alike
    big = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear").repeat(1, 3, 1, 1)
    close = torch.nn.functional.cosine_similarity(image_features(x), image_features(big)).mean()
    assert close > 0.9


def test_from_images_accepts_a_loader_and_unlabelled_tensors():
    x, y = load_images("digits", classes=[3, 4])
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    from_loader = Task.from_images(loader)
    assert from_loader.descriptor[-1] == 1.0  # labels came with the batches
    unlabelled = Task.from_images(x)
    assert unlabelled.descriptor[-1] == 0.0 and unlabelled.kind == "images"
    # batches of two image sizes: torch.cat's "Sizes of tensors must match" before
    mixed = [(x[:64], y[:64]), (torch.nn.functional.interpolate(x[64:128], size=(16, 16)), y[64:128])]
    with pytest.raises(gennas.GennasError, match=r"images of different shapes .*resize them"):
        Task.from_images(mixed)


@pytest.mark.parametrize("bad", [torch.zeros(0, 1, 8, 8), torch.zeros(5, 8, 8), torch.full((4, 1, 8, 8), float("nan"))])
def test_from_images_rejects_bad_input(bad):
    with pytest.raises(gennas.GennasError):
        Task.from_images(bad)


@pytest.mark.parametrize("bad, message", [
    (np.full((200, 1, 8, 8), np.nan), "NaN"),  # an array was read as 200 batches of (1, 8, 8): "got (200, 8, 8)"
    ("notimages", "tensor or array"),  # a raw TypeError from torch before
    (5, "tensor or array"),
    ([["a"]], "numbers"),  # an IndexError before
    ([1, 2, 3], "got a list of int"),  # torch's "len() of a 0-d tensor" before
])
def test_from_images_names_what_is_wrong_with_arrays_and_other_inputs(bad, message):
    with pytest.raises(gennas.GennasError, match=message):
        Task.from_images(bad)


def test_from_images_reads_an_array_as_the_tensor_it_holds():
    x, y = load_images("digits", classes=[3, 4])
    assert Task.from_images(x.numpy(), y.numpy()).name == Task.from_images(x, y).name


def test_from_images_rejects_mismatched_labels():
    x, _ = load_images("digits", classes=[0, 1])
    with pytest.raises(gennas.GennasError, match="labels"):
        Task.from_images(x, torch.zeros(3, dtype=torch.long))


def test_from_samples_validates(nb201):
    arch = nb201.sample(0)
    task = Task.from_samples([(arch, 91.0), (arch.to_string(), 90.5)])
    assert task.kind == "samples" and len(task.samples) == 2
    with pytest.raises(gennas.GennasError, match="at least one"):
        Task.from_samples([])
    with pytest.raises(gennas.GennasError, match="finite"):
        Task.from_samples([(arch, float("nan"))])
    with pytest.raises(gennas.GennasError, match="pair"):
        Task.from_samples([arch])
    with pytest.raises(gennas.GennasError, match="number"):
        Task.from_samples([(arch, "high")])


def test_from_dataset_matches_from_images():
    x, y = load_images("mnist", classes=[1, 7], size=16)
    assert np.allclose(Task.from_dataset("mnist", classes=[1, 7]).descriptor, Task.from_images(x, y).descriptor)


def test_a_minimised_samples_task_is_designed_for_its_lowest_scores(bench):
    """Task.from_samples of error rates with direction="minimize": the predictor learns them
    negated and states them back in the samples' units, so the designs have low error (they were
    the cells of highest error, stated at the samples' mean); fractions are stated without "%"."""
    rng = np.random.default_rng(1)
    archs = [bench.space.sample(rng) for _ in range(20)]
    error = [100.0 - bench.accuracy(a, "cifar100") for a in archs]
    designs = gennas.Designer("nb201", task=Task.from_samples(zip(archs, error)), seed=0,
                              direction="minimize").generate(5)
    true_error = [100.0 - bench.accuracy(c.arch, "cifar100") for c in designs]
    assert np.mean(true_error) < np.percentile(error, 25) and all(c.unit == "%" for c in designs)
    assert all(abs(c.predicted_accuracy - t) < 10 for c, t in zip(designs, true_error))  # in the samples' units
    fractions = gennas.Designer("nb201", task=Task.from_samples(zip(archs, np.array(error) / 100)), seed=0,
                                direction="minimize").generate(2)
    assert all(c.unit == "" and 0 < c.predicted_accuracy < 1 for c in fractions)


def test_a_task_described_by_images_states_its_ranking_not_an_accuracy():
    """The image meta-tasks' accuracies are of brief training, not the user's: digits read
    "87.91 ± 2.58 %", then "87.91 %; uncalibrated", for cells that train to 97-99 %. The designs
    state their order (a relative score), no accuracy."""
    x, y = load_images("digits")
    designs = gennas.Designer("nb201", task=Task.from_images(x, y), seed=0).generate(3)
    assert [c.rank for c in designs] == [1, 2, 3]
    assert all(c.predicted_accuracy is None and c.interval is None and c.relative_score is not None
               and "relative score" in str(c) for c in designs)


def test_a_task_is_described_by_enough_images():
    """From 2 images every design read 100 % (126 % unclipped): under MIN_IMAGES the descriptor is
    too loose, and the error says what to do instead."""
    from gennas.surrogates.task import MIN_IMAGES

    x, y = load_images("digits")
    with pytest.raises(gennas.GennasError, match=f"at least {MIN_IMAGES} images, got 2"):
        Task.from_images(x[:2], y[:2])
    assert Task.from_images(x[:MIN_IMAGES], y[:MIN_IMAGES]).kind == "images"


def test_a_task_made_by_its_name_alone_says_how_to_make_one():
    """gennas.Task("cifar100") was a raw TypeError (missing 'name'); the message names the constructors."""
    with pytest.raises(gennas.GennasError, match=r"Task\('cifar100'\): .*Task.of\('cifar100'\)"):
        gennas.Task("cifar100")
    assert gennas.Task("named", "cifar100").name == "cifar100"
