"""The one check of an image batch's layout, shared by every entry point that takes images
(``Task.from_images``, ``TrainEvaluator``, ``ProxyEvaluator``, the zero-cost proxies, ``Supernet``).

gennas reads images channels-first, ``(N, C, H, W)``. Arrays from numpy, PIL or TensorFlow are
often channels-last, ``(N, H, W, C)``; read channels-first, ``(N, 16, 16, 3)`` is 16 channels of
16x3 images, which runs without an error and gives results that have nothing to do with the images.
"""

from __future__ import annotations

from typing import Any

import torch

from gennas.errors import DataError

#: channel counts of images as stored (grey, RGB, RGBA): a last axis of this size looks like channels
IMAGE_CHANNELS = (1, 3, 4)


def check_images(images: Any, what: str = "images", batch: str = "N") -> torch.Tensor:
    """``images`` unchanged when it is a non-empty ``(N, C, H, W)`` tensor, else a :class:`DataError`.

    A channels-last batch is refused: its last axis is a channel count (1, 3 or 4) while the
    channel axis is wider than any (``(N, 32, 32, 3)``), so ``(N, 3, 32, 32)``,
    ``(N, 1, 28, 28)`` and tiny ``(N, 3, 4, 4)`` images all pass.

    Args:
        images: the batch to check.
        what: names it in the message (``"train_loader: images"``).
        batch: the batch axis's letter in the message (``"N"``, or ``"B"`` for a loader's batch).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise DataError(f"{what} must be a non-empty ({batch}, C, H, W) tensor, got {shape}")
    channels, last = int(images.shape[1]), int(images.shape[-1])
    if last in IMAGE_CHANNELS and channels > max(IMAGE_CHANNELS):
        n, h, w, c = tuple(images.shape)
        raise DataError(f"{what} of shape {tuple(images.shape)} look channels-last ({batch}, H, W, C): read as "
                        f"({batch}, C, H, W) they would be {h} channels of {w}x{c} images; gennas needs the "
                        f"channels second, ({n}, {c}, {h}, {w}): pass x.permute(0, 3, 1, 2) (a tensor) or "
                        "np.transpose(x, (0, 3, 1, 2)) (a numpy array)")
    return images
