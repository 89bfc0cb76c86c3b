"""Batches of real data for proxies and training: ``(images (B, C, H, W), labels (B,))``,
validated and on the CPU, from a DataLoader, any iterable of batches or one such tuple."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from gennas.errors import GennasError
from gennas.images import check_images

__all__ = ["Batch", "check_batch", "take_batches"]

#: images (B, C, H, W) float32 and labels (B,) int64, on the CPU
Batch = tuple[torch.Tensor, torch.Tensor]


def check_batch(batch: Any, where: str) -> Batch:
    """One ``(images (B, C, H, W) float, labels (B,) int)`` batch on the CPU, or a GennasError naming ``where``."""
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise GennasError(f"{where}: expected (images, labels) batches, got {type(batch).__name__}")
    x, y = batch[0], batch[1]
    check_images(x, f"{where}: images", batch="B")
    if not x.is_floating_point():
        raise GennasError(f"{where}: images must be a float tensor (B, C, H, W), got {x.dtype}")
    if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.is_floating_point() or len(y) != len(x):
        # the dtype too: float labels of the right shape read "got (32,)", the shape asked for (user walk 52)
        shape = f"{tuple(y.shape)} {str(y.dtype).removeprefix('torch.')}" if isinstance(y, torch.Tensor) else \
            type(y).__name__
        raise GennasError(f"{where}: labels must be an integer tensor (B,) matching {len(x)} images, got {shape}")
    if not torch.isfinite(x).all():
        raise GennasError(f"{where}: images contain NaN or inf")
    return x.float().cpu(), y.long().cpu()


def take_batches(data: Any, n: int = 1, where: str = "proxy data") -> list[Batch]:
    """The first ``n`` validated batches of a DataLoader, an iterable of batches, or one
    ``(images, labels)`` tuple; raises GennasError if there is no data or the shape is wrong."""
    if data is None:
        raise GennasError(f"{where}: this proxy needs real data (pass data=DataLoader or (images, labels))")
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return [check_batch(data, where)]
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
        raise GennasError(f"{where}: expected a DataLoader or (images, labels), got {type(data).__name__}")
    out = []
    for batch in data:
        out.append(check_batch(batch, where))
        if len(out) == n:
            break
    if not out:
        raise GennasError(f"{where}: the data loader yielded no batches (empty dataset?)")
    return out
