"""TrainEvaluator: real training on digits, checkpoints, exact resume, divergence, bad input."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gennas
from gennas.checkpoint import load_checkpoint
from gennas.datasets import image_loaders
from gennas.errors import GennasError, InvalidArchitecture
from gennas.evaluators import TrainEvaluator, TrainingDiverged

TINY = {"channels": 8, "cells_per_stage": 1}
CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"


@pytest.fixture(scope="module")
def loaders():
    """400 real digits (8x8, 3 channels): 320 train / 80 validation, batch 64."""
    return image_loaders("digits", batch_size=64, channels=3, seed=0, limit=400)


def make(space, loaders, tmp_path=None, **kw):
    options = {"epochs": 2, "lr": 0.05, "seed": 0, "build_options": TINY, "progress": False, **kw}
    return TrainEvaluator(space, *loaders, checkpoint_dir=tmp_path, **options)


class InterruptAt:
    """Wraps a loader; raises KeyboardInterrupt at (epoch, step), counting epochs by iterations."""

    def __init__(self, loader: DataLoader, epoch: int, step: int = 0, exc: type[BaseException] = KeyboardInterrupt):
        self.loader, self.epoch, self.step, self.exc, self.calls = loader, epoch, step, exc, 0
        self.sampler, self.dataset = loader.sampler, loader.dataset

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        self.calls += 1
        for i, batch in enumerate(self.loader):
            if self.calls == self.epoch and i == self.step:
                raise self.exc("interrupted")
            yield batch


def test_training_learns_and_resumes_finished_runs(space, loaders, tmp_path):
    ev = make(space, loaders, tmp_path)
    first = ev.evaluate([space.from_string(CELL)])[0]
    assert first.kind == "train" and first.fidelity == "epochs=2"
    assert first.score > 40.0  # 10 classes: chance is 10%; two epochs on 320 digits learn much more
    assert [h["epoch"] for h in first.metadata["history"]] == [1, 2]
    path = ev.checkpoint_path(space.from_string(CELL))
    state = load_checkpoint(path, "trained", "nb201").state
    assert state["epoch"] == 2 and "model" in state and "optimizer" in state
    assert json.loads(path.with_suffix(".json").read_text())["config"]["arch"] == CELL
    again = make(space, loaders, tmp_path).evaluate([CELL])[0]
    assert again.score == first.score and again.metadata["resumed_from_epoch"] == 2


def test_interrupted_run_resumes_to_the_same_weights(space, loaders, tmp_path):
    straight = make(space, loaders, tmp_path / "a").train(CELL)
    # iterations of the train loader: 1 = shape check, 2 = epoch 1, 3 = BN re-estimation, 4 = epoch 2
    cut = InterruptAt(loaders[0], epoch=4, step=2)
    ev = make(space, (cut, loaders[1]), tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        ev.train(CELL)
    assert load_checkpoint(ev.checkpoint_path(space.from_string(CELL)), "trained").state["epoch"] == 1
    resumed = make(space, loaders, tmp_path / "b").train(CELL)
    assert resumed.metadata["resumed_from_epoch"] == 1
    assert resumed.score == pytest.approx(straight.score)
    a = load_checkpoint(straight.metadata["checkpoint"], "trained").state["model"]
    b = load_checkpoint(resumed.metadata["checkpoint"], "trained").state["model"]
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-5) for k in a)


class Exploding(InterruptAt):
    """From epoch 2 on, images scaled to 1e38: float32 activations overflow and the loss is NaN."""

    def __iter__(self):
        self.calls += 1
        for x, y in self.loader:
            yield (x * 1e38 if self.calls >= self.epoch else x), y


def test_nan_loss_is_a_clear_error_and_finished_epochs_stay(space, loaders, tmp_path):
    ev = make(space, (Exploding(loaders[0], epoch=4), loaders[1]), tmp_path)  # epoch 2 (see above)
    with pytest.raises(TrainingDiverged, match="epoch 2") as info:
        ev.train(CELL)
    assert "saved" in str(info.value)
    path = ev.checkpoint_path(space.from_string(CELL))
    assert load_checkpoint(path, "trained").state["epoch"] == 1
    assert json.loads(path.with_suffix(".json").read_text())["diverged"]["epoch"] == 2
    record = make(space, loaders, lr=1e12, on_diverge="record")  # the first step throws the weights to inf
    r = record.evaluate([space.from_string(CELL)])[0]
    assert r.failed and "loss became" in r.error


def _loader(x, y):
    return DataLoader(TensorDataset(x, y), batch_size=8)


def test_bad_input_is_a_clear_error(space, loaders):
    good = _loader(torch.zeros(8, 3, 8, 8), torch.zeros(8, dtype=torch.long))
    empty = _loader(torch.zeros(0, 3, 8, 8), torch.zeros(0, dtype=torch.long))
    flat = _loader(torch.zeros(8, 64), torch.zeros(8, dtype=torch.long))
    with pytest.raises(GennasError, match="no batches"):
        TrainEvaluator(space, empty, good, progress=False)
    with pytest.raises(GennasError, match=r"\(B, C, H, W\)"):
        TrainEvaluator(space, flat, good, progress=False)
    with pytest.raises(GennasError, match="differ in shape"):
        TrainEvaluator(space, good, _loader(torch.zeros(8, 3, 16, 16), torch.zeros(8, dtype=torch.long)))
    with pytest.raises(InvalidArchitecture, match="mbv3"):
        make(space, loaders).train(gennas.load_space("mbv3").sample(0))
    with pytest.raises(GennasError, match="labels outside"):
        make(space, loaders, num_classes=3).train(CELL)
    with pytest.raises(GennasError, match="torch device"):
        make(space, loaders, torch_device="tpu:7")
    with pytest.raises(GennasError, match="epochs"):
        make(space, loaders, epochs=0)


@pytest.mark.parametrize("bad, message", [
    ("mnist", "inputs must be a dict .*input_recipe.* got str"),  # a raw ValueError from dict() before
    ([("dataset", "mnist")], "inputs must be a dict .* got list"),
    ({1: "mnist"}, r"inputs' keys must be strings, got \[1\]"),
    ({"mean": torch.zeros(1)}, "inputs must hold JSON values"),  # failed only when an export wrote build.json
])
def test_inputs_that_an_export_cannot_record_are_refused_by_name(space, loaders, bad, message):
    with pytest.raises(GennasError, match=message):
        make(space, loaders, inputs=bad)
