"""Cell operations, built by name from a space spec (``{type: relu_conv_bn, kernel: 3}``).

These follow the NAS-Bench-201 reference implementation so that a built network is the one
the benchmark trained: ReLU -> Conv -> BN, average pooling that ignores padding, a zero op
that multiplies by 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gennas.errors import GennasError


class ReLUConvBN(nn.Sequential):
    """ReLU, ``k x k`` convolution (no bias), BatchNorm. ``(B, c_in, H, W) -> (B, c_out, H/s, W/s)``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """Outputs zeros shaped like the input (a ``none`` edge)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class AvgPool(nn.Module):
    """``k x k`` average pooling, stride 1, padding not counted; 1x1 ReLUConvBN first if widths differ."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.pre = ReLUConvBN(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.pool = nn.AvgPool2d(kernel, stride=1, padding=kernel // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pre(x))


class MaxPool(nn.Module):
    """``k x k`` max pooling, stride 1; 1x1 ReLUConvBN first if widths differ."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.pre = ReLUConvBN(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.pool = nn.MaxPool2d(kernel, stride=1, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pre(x))


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block: two ReLUConvBN 3x3 (first with ``stride``) plus a
    shortcut (2x2 average pool and 1x1 conv when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        if stride == 2:
            self.shortcut: nn.Module = nn.Sequential(
                nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False)
            )
        elif c_in != c_out:
            self.shortcut = ReLUConvBN(c_in, c_out, 1)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


def _identity(c_in: int, c_out: int, **_: Any) -> nn.Module:
    return nn.Identity() if c_in == c_out else ReLUConvBN(c_in, c_out, 1)


#: op type name in a space spec -> builder(c_in, c_out, **params)
OP_TYPES: dict[str, Callable[..., nn.Module]] = {
    "zero": lambda c_in, c_out, **_: Zero(),
    "identity": _identity,
    "relu_conv_bn": lambda c_in, c_out, kernel, **_: ReLUConvBN(c_in, c_out, kernel),
    "avg_pool": lambda c_in, c_out, kernel=3, **_: AvgPool(c_in, c_out, kernel),
    "max_pool": lambda c_in, c_out, kernel=3, **_: MaxPool(c_in, c_out, kernel),
}


def build_op(spec: dict[str, Any], c_in: int, c_out: int) -> nn.Module:
    """Build one cell op from its spec entry ``{type: ..., **params}``."""
    params = dict(spec)
    kind = params.pop("type", None)
    if kind not in OP_TYPES:
        raise GennasError(f"op type {kind!r} is not one of {sorted(OP_TYPES)}")
    return OP_TYPES[kind](c_in, c_out, **params)
