"""Real image data bundled with the package, as torch DataLoaders.

* ``mnist``: the official MNIST test set (10,000 28x28 digits, ``gennas/data/mnist-t10k-*``),
  byte-identical to the original files.
* ``digits``: scikit-learn's ``load_digits`` (1,797 8x8 digits; needs scikit-learn).

Images are returned as float tensors ``(N, channels, size, size)`` normalised to zero mean and
unit variance, resized with bilinear interpolation, and repeated to 3 channels on request so
that they fit networks built for CIFAR-shaped input.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from gennas.errors import GennasError, MissingDependency, unknown
from gennas.resources import data_dir

DATASETS = ("mnist", "digits")
#: classes of the datasets a task may be named after (the benchmark's, the bundled images')
CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet16-120": 120, "mnist": 10, "digits": 10}


def classes_of(task: str | None) -> int | None:
    """How many classes the dataset ``task`` is named after has (``cifar100``, or a proxy's task
    ``cifar100-synflow``), else None."""
    for name in sorted(CLASSES, key=len, reverse=True):  # imagenet16-120 before a shorter prefix
        if task is not None and (task == name or task.startswith(name + "-")):
            return CLASSES[name]
    return None


def _read_idx(path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


#: what a bundled dataset's pixel values are divided by to lie in [0, 1]
PIXEL_SCALE = {"mnist": 255.0, "digits": 16.0}


def _pixels(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Grey images float32 ``(N, side, side)`` in [0, 1] and labels int64 ``(N,)`` of a bundled dataset."""
    if name == "mnist":
        x = _read_idx(data_dir() / "mnist-t10k-images-idx3-ubyte.gz").astype(np.float32) / PIXEL_SCALE[name]
        return x, _read_idx(data_dir() / "mnist-t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:
            raise MissingDependency("the digits dataset needs scikit-learn: pip install scikit-learn") from exc
        d = load_digits()
        return (d.images / PIXEL_SCALE[name]).astype(np.float32), d.target.astype(np.int64)
    raise GennasError(unknown("image dataset", name, DATASETS))


def input_recipe(name: str, size: int | None = None, channels: int = 1,
                 classes: Sequence[int] | None = None) -> dict[str, object]:
    """How :func:`load_images` prepares the images of ``name`` (of ``classes``, None: all), in order,
    so that a network trained on them can be fed the same inputs elsewhere (written into an
    export). The mean and std are those ``load_images`` standardises by: of the classes kept
    (mnist's 1 and 7 are 0.095 / 0.270, all of mnist 0.133 / 0.311)."""
    images = torch.from_numpy(_kept_pixels(name, classes)[0])
    recipe = {"dataset": name, "grey pixels divided by": PIXEL_SCALE[name],
              "then standardised by mean": float(images.mean()), "and std": float(images.std()),
              "resized bilinearly (align_corners=False) to": size or int(images.shape[-1]),
              "channels": channels if channels == 1 else f"{channels} (the grey image repeated)"}
    if classes is not None:
        recipe["classes (labelled 0, 1, ... in this order)"] = [int(c) for c in classes]
    return recipe


def _kept_pixels(name: str, classes: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """``name``'s scaled pixels ``(N, H, W)`` and labels ``(N,)``, of ``classes`` only (relabelled
    ``0..len(classes) - 1`` in their order; None: all), checked."""
    x, y = _pixels(name)
    if classes is None:
        return x, y
    classes = list(classes)
    bad = [c for c in classes if c not in set(y.tolist())]
    if bad or len(set(classes)) != len(classes) or not classes:
        raise GennasError(f"classes {classes} must be distinct labels present in {name}")
    keep = np.isin(y, classes)
    remap = {c: i for i, c in enumerate(classes)}
    return x[keep], np.array([remap[int(c)] for c in y[keep]], dtype=np.int64)


def load_images(name: str, classes: Sequence[int] | None = None, size: int | None = None,
                channels: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of a bundled dataset.

    Args:
        name: ``"mnist"`` or ``"digits"``.
        classes: keep only these labels, relabelled ``0..len(classes)-1`` in the given order.
        size: output side in pixels (default: native, 28 or 8).
        channels: 1 or 3 (grey repeated).
    Returns:
        images float32 ``(N, channels, size, size)``, labels int64 ``(N,)``.
    """
    # checked before any work: size=0 was torch's RuntimeError from the resize
    if size is not None and (isinstance(size, bool) or not isinstance(size, Integral) or size < 1):
        raise GennasError(f"size must be an integer >= 1 or None (the native side: 28 for mnist, 8 for digits), "
                          f"got {size!r}")
    if channels not in (1, 3):
        raise GennasError(f"channels must be 1 or 3, got {channels!r}")
    x, y = _kept_pixels(name, classes)
    images = torch.from_numpy(x).unsqueeze(1)
    images = (images - images.mean()) / images.std().clamp_min(1e-6)
    if size is not None and size != images.shape[-1]:
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    if channels == 3:
        images = images.repeat(1, 3, 1, 1)
    return images.contiguous(), torch.from_numpy(y)


def image_loaders(name: str, batch_size: int = 64, val_fraction: float = 0.2, seed: int = 0,
                  classes: Sequence[int] | None = None, size: int | None = None, channels: int = 1,
                  limit: int | None = None) -> tuple[DataLoader, DataLoader]:
    """Seeded train/validation DataLoaders over a bundled dataset.

    ``limit``: at most this many images (>= 2: one to train on, one to validate); ``val_fraction``
    in [0, 1): the share held out for validation (at least one image); ``batch_size`` >= 1. Wrong
    values are GennasErrors naming the argument (they were torch's ValueError "num_samples should
    be a positive integer" from the sampler)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise GennasError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    batch_size = int(batch_size)  # numpy's integers too: torch's DataLoader refuses them
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 2):
        raise GennasError(f"limit must be an integer >= 2 (one image to train on, one to validate) or None "
                          f"(every image), got {limit!r}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, Real) or not 0 <= val_fraction < 1:
        raise GennasError(f"val_fraction must be a number in [0, 1) (the share of images held out for "
                          f"validation), got {val_fraction!r}")
    x, y = load_images(name, classes=classes, size=size, channels=channels)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=g)
    if limit is not None:
        order = order[:limit]
    n_val = max(1, int(len(order) * val_fraction))
    val, train = order[:n_val], order[n_val:]
    train_loader = DataLoader(TensorDataset(x[train], y[train]), batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(TensorDataset(x[val], y[val]), batch_size=batch_size, shuffle=False)
    return train_loader, val_loader
