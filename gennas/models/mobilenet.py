"""MobileNetV3 built from per-stage lists of ``(kernel, expand)`` blocks (OFA's layout).

stem conv (stride 2) -> fixed first MBConv -> searched stages -> 1x1 expand -> global pool ->
1x1 feature mix -> classifier. Input ``(B, C_in, H, W)``, output logits ``(B, num_classes)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    # Channel counts rounded to multiples of 8 as in MobileNetV2/V3 (hardware-friendly widths).
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU, "hswish": nn.Hardswish}[name]()


class SqueezeExcite(nn.Module):
    """Channel attention with a hard-sigmoid gate, reduction 4."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        mid = make_divisible(channels // 4)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, mid, 1), nn.ReLU(),
                                  nn.Conv2d(mid, channels, 1), nn.Hardsigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, ``k x k`` depthwise (stride), optional SE, 1x1 project;
    residual when the shape is kept."""

    def __init__(self, c_in: int, c_out: int, kernel: int, expand: int, stride: int, act: str, se: bool) -> None:
        super().__init__()
        mid = make_divisible(c_in * expand)
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), activation(act)]
        layers += [nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False),
                   nn.BatchNorm2d(mid), activation(act)]
        if se:
            layers.append(SqueezeExcite(mid))
        layers += [nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class MobileNetV3(nn.Module):
    def __init__(self, macro: dict[str, Any], blocks: Sequence[Sequence[tuple[int, int]]], *,
                 num_classes: int, in_channels: int, width_mult: float = 1.0, dropout: float = 0.0) -> None:
        super().__init__()
        w = lambda c: make_divisible(c * width_mult)  # noqa: E731 - tiny local helper
        stem = macro["stem"]
        c = w(stem["channels"])
        layers: list[nn.Module] = [nn.Conv2d(in_channels, c, 3, stem["stride"], 1, bias=False),
                                   nn.BatchNorm2d(c), activation(stem["act"])]
        first = macro["first_block"]
        layers.append(MBConv(c, w(first["channels"]), first["kernel"], first["expand"], 1, first["act"], first["se"]))
        c = w(first["channels"])
        for stage, stage_blocks in zip(macro["stages"], blocks):
            for i, (kernel, expand) in enumerate(stage_blocks):
                stride = stage["stride"] if i == 0 else 1
                layers.append(MBConv(c, w(stage["channels"]), kernel, expand, stride, stage["act"], stage["se"]))
                c = w(stage["channels"])
        final = w(macro["final_expand"])
        layers += [nn.Conv2d(c, final, 1, bias=False), nn.BatchNorm2d(final), nn.Hardswish()]
        self.features = nn.Sequential(*layers)
        mix = w(macro["feature_mix"])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(final, mix, 1), nn.Hardswish(),
                                  nn.Flatten(), nn.Dropout(dropout))
        self.classifier = nn.Linear(mix, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.features(x)))
