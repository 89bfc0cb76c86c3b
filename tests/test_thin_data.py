"""Data too thin for a training's scores to rank architectures is said as the evaluator is made
(user walk 52: 1 validation image scored 0 or 100 %, one training class 100 % for every network)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gennas


def loaders(train_labels: torch.Tensor, val_images: int) -> tuple[DataLoader, DataLoader]:
    x = torch.rand(len(train_labels) + val_images, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    val_labels = torch.arange(val_images) % 2
    return (DataLoader(TensorDataset(x[:len(train_labels)], train_labels), batch_size=8),
            DataLoader(TensorDataset(x[len(train_labels):], val_labels), batch_size=8))


def test_few_validation_images_and_one_training_class_are_warned_of():
    with pytest.warns(gennas.GennasWarning, match=r"holds 4 images: a score moves in steps of 25 %"):
        gennas.TrainEvaluator("nb201", *loaders(torch.arange(36) % 2, 4), epochs=1, progress=False)
    with pytest.warns(gennas.GennasWarning, match="every training label is class 0"):
        gennas.TrainEvaluator("nb201", *loaders(torch.zeros(36, dtype=torch.long), 60), epochs=1, num_classes=2,
                              progress=False)


def test_enough_images_of_several_classes_are_not_warned_of():
    with warnings.catch_warnings():
        warnings.simplefilter("error", gennas.GennasWarning)
        gennas.TrainEvaluator("nb201", *loaders(torch.arange(36) % 2, 50), epochs=1, progress=False)


def test_training_labels_that_skip_classes_are_warned_of_unless_the_classes_are_given():
    labels = torch.tensor([0, 1, 2, 7] * 9)
    with pytest.warns(gennas.GennasWarning, match=r"skip classes 3, 4, 5, 6 below their largest, 7: the network "
                                                  r"gets 8 outputs, 4 never trained"):
        gennas.TrainEvaluator("nb201", *loaders(labels, 60), epochs=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gennas.GennasWarning)
        gennas.TrainEvaluator("nb201", *loaders(labels, 60), epochs=1, num_classes=8, progress=False)
