"""What data a training run learned from, as a short key: part of a resumable training's checkpoint
key (:meth:`gennas.evaluators.train.TrainEvaluator.config`).

Without it a second dataset of the same image shape, trained in the same ``checkpoint_dir``, was
given the first dataset's finished run: 53.1 % returned for data that scores 57.8 % (two random
2-class sets, one epoch, ``keep_weights=True``), and an interrupted run resumed on other data.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch.utils.data import DataLoader

from gennas.seeds import seeded_torch

#: items of a dataset read into its key at most (evenly spaced): enough that another split, another
#: subset or other preprocessing differs, cheap at construction (1-2 ms of CPU for 64 of MNIST's
#: 3x32x32 images, a TensorDataset or a Subset of one: ``python -c "import time;from gennas.datasets
#: import image_loaders as L;from gennas.evaluators.data_key import data_key;tr,_=L('mnist',size=32,
#: channels=3);t=time.process_time();data_key(tr);print(time.process_time()-t)"``, 0.0017)
KEY_ITEMS = 64


def _item_bytes(value: Any) -> bytes:
    """The bytes of one dataset item (tensors, numbers, tuples of them; else its repr)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().contiguous().numpy().tobytes() + str(tuple(value.shape)).encode()
    if isinstance(value, (tuple, list)):
        return b"|".join(_item_bytes(v) for v in value)
    return repr(value).encode()


def data_key(loader: DataLoader) -> str:
    """A 12-hex-digit key of the data ``loader`` reads, the same for every loader of the same
    data (whatever its batch size or shuffling; a sampler's ``indices``, as ``SubsetRandomSampler``'s,
    are part of it): the dataset's type and length and up to
    :data:`KEY_ITEMS` evenly spaced items (every tensor of a ``TensorDataset`` sliced so; another
    dataset indexed, under a fixed torch seed so that torch-random augmentation reads the same).
    A dataset that cannot be indexed (an ``IterableDataset``, or one whose items by index fail) is
    keyed by its type and ``repr`` only: name its runs apart with their own ``checkpoint_dir``."""
    dataset: Any = getattr(loader, "dataset", loader)  # any loader's, or the loader itself
    digest = hashlib.sha1(type(dataset).__qualname__.encode())
    indices = getattr(getattr(loader, "sampler", None), "indices", None)
    if indices is not None:  # a SubsetRandomSampler: two loaders may split one dataset
        digest.update(str(sorted(int(i) for i in indices)).encode())
    tensors = getattr(dataset, "tensors", None)
    try:
        size = len(dataset)
    except TypeError:  # an IterableDataset: nothing to index
        digest.update(repr(dataset).encode())
        return digest.hexdigest()[:12]
    digest.update(str(size).encode())
    picks = torch.linspace(0, max(size - 1, 0), min(size, KEY_ITEMS)).round().long()
    if tensors is not None:
        for tensor in tensors:
            digest.update(_item_bytes(tensor[picks]))
        return digest.hexdigest()[:12]
    try:
        with seeded_torch(0):  # the caller's random streams untouched
            for i in picks.tolist():
                digest.update(_item_bytes(dataset[i]))
    except Exception:  # noqa: BLE001 - a dataset whose items cannot be read by index: keyed as unindexable
        digest.update(repr(dataset).encode())
    return digest.hexdigest()[:12]
