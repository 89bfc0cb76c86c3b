"""Cell operations, built by name from a space spec (``{type: relu_conv_bn, kernel: 3}``).

The NAS-Bench-201 ops follow its reference implementation so that a built network is the one
the benchmark trained: ReLU -> Conv -> BN, average pooling that ignores padding, a zero op
that multiplies by 0. The DARTS ops (``sep_conv``, ``dil_conv``, a factorized reduction for a
strided identity) follow Liu et al.'s ``operations.py``; ``mbconv`` is MobileNetV3's block
(:class:`gennas.models.mobilenet.MBConv`). Every op maps ``(B, c_in, H, W)`` to
``(B, c_out, H / stride, W / stride)``; the parameters each type takes are listed, and checked
at load, in :data:`gennas.spaces.schema.OP_PARAMS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gennas.errors import GennasError
from gennas.models.mobilenet import MBConv


class ReLUConvBN(nn.Sequential):
    """ReLU, ``k x k`` convolution (no bias, optional dilation), BatchNorm.
    ``(B, c_in, H, W) -> (B, c_out, H/s, W/s)``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=dilation * (kernel - 1) // 2,
                      dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out),
        )


class DilConv(nn.Sequential):
    """DARTS dilated separable conv: ReLU, depthwise ``k x k`` (dilation, stride), pointwise 1x1, BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 2) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride, dilation * (kernel - 1) // 2, dilation=dilation,
                      groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )


class SepConv(nn.Sequential):
    """DARTS separable conv: two DilConv of dilation 1 (the first strided, keeping ``c_in``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(DilConv(c_in, c_in, kernel, stride, dilation=1), DilConv(c_in, c_out, kernel, 1, dilation=1))


class FactorizedReduce(nn.Module):
    """DARTS's strided identity: ReLU, two 1x1 stride-2 convs on ``x`` and ``x`` shifted by one
    pixel, concatenated, BN (halves H and W; ``c_out`` even)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise GennasError(f"a factorized reduction needs an even width, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        # The shift makes the two halves see different pixels; padding keeps odd sizes aligned.
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Zero(nn.Module):
    """Outputs zeros shaped like the op's output (a ``none`` edge): ``c_out`` channels, ``H/stride``."""

    def __init__(self, c_out: int | None = None, stride: int = 1) -> None:
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        if self.c_out is None or self.c_out == x.shape[1]:
            return x.mul(0.0)
        return x.new_zeros(x.shape[0], self.c_out, x.shape[2], x.shape[3])


class AvgPool(nn.Module):
    """``k x k`` average pooling, padding not counted; 1x1 ReLUConvBN first if widths differ."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pre = ReLUConvBN(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.pool = nn.AvgPool2d(kernel, stride=stride, padding=kernel // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pre(x))


class MaxPool(nn.Module):
    """``k x k`` max pooling; 1x1 ReLUConvBN first if widths differ."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pre = ReLUConvBN(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.pool = nn.MaxPool2d(kernel, stride=stride, padding=kernel // 2)

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


def _identity(c_in: int, c_out: int, stride: int = 1) -> nn.Module:
    if stride == 1:
        return nn.Identity() if c_in == c_out else ReLUConvBN(c_in, c_out, 1)
    return FactorizedReduce(c_in, c_out)


def _zero(c_in: int, c_out: int, stride: int = 1) -> nn.Module:
    # NAS-Bench-201's zero keeps the input's shape (c_out None) so its networks stay the benchmark's
    return Zero(None if c_in == c_out else c_out, stride)


def _mbconv(c_in: int, c_out: int, stride: int = 1, *, kernel: int, expand: int, se: bool = False,
            act: str = "relu") -> nn.Module:
    return MBConv(c_in, c_out, kernel, expand, stride, act, se)


#: op type name in a space spec -> builder(c_in, c_out, stride, **params)
OP_TYPES: dict[str, Callable[..., nn.Module]] = {
    "zero": _zero,
    "identity": _identity,
    "relu_conv_bn": lambda c_in, c_out, stride=1, *, kernel, dilation=1: ReLUConvBN(c_in, c_out, kernel, stride,
                                                                                    dilation),
    "avg_pool": lambda c_in, c_out, stride=1, *, kernel=3: AvgPool(c_in, c_out, kernel, stride),
    "max_pool": lambda c_in, c_out, stride=1, *, kernel=3: MaxPool(c_in, c_out, kernel, stride),
    "sep_conv": lambda c_in, c_out, stride=1, *, kernel: SepConv(c_in, c_out, kernel, stride),
    "dil_conv": lambda c_in, c_out, stride=1, *, kernel, dilation=2: DilConv(c_in, c_out, kernel, stride, dilation),
    "mbconv": _mbconv,
}


def build_op(spec: dict[str, Any], c_in: int, c_out: int, stride: int = 1) -> nn.Module:
    """Build one cell op from its spec entry ``{type: ..., **params}`` (checked at load by the
    space's schema); ``stride`` 2 halves the feature map (reduction cells)."""
    params = dict(spec)
    kind = params.pop("type", None)
    if kind not in OP_TYPES:
        raise GennasError(f"op type {kind!r} is not one of {sorted(OP_TYPES)}")
    try:
        return OP_TYPES[kind](c_in, c_out, stride, **params)
    except TypeError as exc:  # a spec built in Python, not checked by the schema
        raise GennasError(f"op {spec!r}: {exc}") from None
