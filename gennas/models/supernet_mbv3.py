"""Once-for-All style supernet of the MobileNetV3 block space (Cai et al., ICLR 2020).

One set of weights holds every subnet of :class:`~gennas.spaces.blocks.BlockSpace`:

* elastic kernel: each depthwise conv stores a ``max_kernel x max_kernel`` kernel and a
  subnet with kernel ``k`` uses its centre ``k x k`` crop (OFA adds small kernel-transform
  matrices; the plain centre crop is the simpler shared-kernel variant);
* elastic expansion: the expand / depthwise / SE / project convs and their BatchNorms store
  the widest block and a subnet uses the first ``make_divisible(c_in * e)`` hidden channels;
* elastic depth: a stage stores ``max_depth`` blocks and a subnet runs the first ``d``.

``forward(x, blocks)`` takes ``blocks[s] = [(kernel, expand), ...]`` (length = depth of stage
``s``). Input ``(B, C_in, H, W)``, output logits ``(B, num_classes)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from gennas.models.mobilenet import MBConv, MobileNetV3, activation, make_divisible


class DynamicBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm over the first ``C`` of ``num_features`` channels, ``C = x.shape[1]``.

    Running statistics of the slice are updated in place (slices are views of the buffers),
    so BN recalibration of a subnet touches only the channels it uses.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        if c == self.num_features:
            return super().forward(x)
        # Mirror nn.BatchNorm2d's momentum rule (momentum=None: cumulative average, used by recalibration).
        factor = 0.0 if self.momentum is None else self.momentum
        # built affine with running statistics (DynamicMBConv): none of these buffers and parameters is None
        mean, var, weight, bias, tracked = (cast(torch.Tensor, t) for t in (
            self.running_mean, self.running_var, self.weight, self.bias, self.num_batches_tracked))
        if self.training and self.track_running_stats:
            tracked.add_(1)
            factor = 1.0 / float(tracked) if self.momentum is None else self.momentum
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, mean[:c], var[:c], weight[:c], bias[:c], use_batch, factor, self.eps)


class DynamicSE(nn.Module):
    """Squeeze-excite whose reduced width follows the active channels: ``make_divisible(C / 4)``."""

    def __init__(self, max_channels: int) -> None:
        super().__init__()
        max_mid = make_divisible(max_channels // 4)
        self.reduce = nn.Conv2d(max_channels, max_mid, 1)
        self.expand = nn.Conv2d(max_mid, max_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        mid = make_divisible(c // 4)
        s = x.mean((2, 3), keepdim=True)
        reduce_bias, expand_bias = cast(torch.Tensor, self.reduce.bias), cast(torch.Tensor, self.expand.bias)  # biased
        s = F.relu(F.conv2d(s, self.reduce.weight[:mid, :c], reduce_bias[:mid]))
        s = F.hardsigmoid(F.conv2d(s, self.expand.weight[:c, :mid], expand_bias[:c]))
        return x * s


class DynamicMBConv(nn.Module):
    """Inverted residual with elastic kernel and expansion; ``forward(x, kernel, expand)``."""

    def __init__(self, c_in: int, c_out: int, kernels: Sequence[int], expands: Sequence[int],
                 stride: int, act: str, se: bool) -> None:
        super().__init__()
        self.c_in, self.stride = c_in, stride
        self.max_kernel = max(kernels)
        max_mid = make_divisible(c_in * max(expands))
        self.expand_conv = nn.Conv2d(c_in, max_mid, 1, bias=False)
        self.expand_bn = DynamicBatchNorm2d(max_mid)
        self.depthwise = nn.Conv2d(max_mid, max_mid, self.max_kernel, stride, self.max_kernel // 2,
                                   groups=max_mid, bias=False)
        self.depthwise_bn = DynamicBatchNorm2d(max_mid)
        self.se = DynamicSE(max_mid) if se else None
        self.project = nn.Conv2d(max_mid, c_out, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(c_out)
        self.act = activation(act)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor, kernel: int, expand: int) -> torch.Tensor:
        mid = make_divisible(self.c_in * expand)
        h = self.act(self.expand_bn(F.conv2d(x, self.expand_conv.weight[:mid])))
        start = (self.max_kernel - kernel) // 2  # centre crop of the shared largest kernel
        w = self.depthwise.weight[:mid, :, start:start + kernel, start:start + kernel]
        h = self.act(self.depthwise_bn(F.conv2d(h, w, None, self.stride, kernel // 2, 1, mid)))
        if self.se is not None:
            h = self.se(h)
        out = self.project_bn(F.conv2d(h, self.project.weight[:, :mid]))
        return x + out if self.residual else out

    @torch.no_grad()
    def copy_into(self, block: MBConv, kernel: int, expand: int) -> None:
        """Write this block's ``(kernel, expand)`` slice into a standalone :class:`MBConv`."""
        mid = make_divisible(self.c_in * expand)
        start = (self.max_kernel - kernel) // 2
        body: list[Any] = list(block.body)  # expand conv, BN, act, depthwise, BN, act, [SE], project, BN
        body[0].weight.copy_(self.expand_conv.weight[:mid])
        _copy_bn(self.expand_bn, body[1], mid)
        body[3].weight.copy_(self.depthwise.weight[:mid, :, start:start + kernel, start:start + kernel])
        _copy_bn(self.depthwise_bn, body[4], mid)
        if self.se is not None:
            se_mid = make_divisible(mid // 4)
            gate = body[6].gate  # pool, reduce conv, ReLU, expand conv, hard sigmoid
            gate[1].weight.copy_(self.se.reduce.weight[:se_mid, :mid])
            gate[1].bias.copy_(cast(torch.Tensor, self.se.reduce.bias)[:se_mid])  # bias=True
            gate[3].weight.copy_(self.se.expand.weight[:mid, :se_mid])
            gate[3].bias.copy_(cast(torch.Tensor, self.se.expand.bias)[:mid])
        body[-2].weight.copy_(self.project.weight[:, :mid])
        body[-1].load_state_dict(self.project_bn.state_dict())


def _copy_bn(src: nn.BatchNorm2d, dst: nn.BatchNorm2d, c: int) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(dst, name).copy_(getattr(src, name)[:c])
    cast(torch.Tensor, dst.num_batches_tracked).copy_(cast(torch.Tensor, src.num_batches_tracked))  # tracked: not None


class MobileNetV3Supernet(nn.Module):
    """Stem, fixed first block, ``max_depth`` dynamic blocks per stage, head (as MobileNetV3)."""

    def __init__(self, macro: dict[str, Any], kernels: Sequence[int], expands: Sequence[int],
                 max_depth: int, *, num_classes: int, in_channels: int, width_mult: float = 1.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        w = lambda c: make_divisible(c * width_mult)  # noqa: E731 - tiny local helper
        stem = macro["stem"]
        c = w(stem["channels"])
        first = macro["first_block"]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, stem["stride"], 1, bias=False), nn.BatchNorm2d(c), activation(stem["act"]),
            MBConv(c, w(first["channels"]), first["kernel"], first["expand"], 1, first["act"], first["se"]))
        c = w(first["channels"])
        self.stages = nn.ModuleList()
        for stage in macro["stages"]:
            blocks = nn.ModuleList()
            for i in range(max_depth):
                blocks.append(DynamicMBConv(c, w(stage["channels"]), kernels, expands,
                                            stage["stride"] if i == 0 else 1, stage["act"], stage["se"]))
                c = w(stage["channels"])
            self.stages.append(blocks)
        final, mix = w(macro["final_expand"]), w(macro["feature_mix"])
        self.final = nn.Sequential(nn.Conv2d(c, final, 1, bias=False), nn.BatchNorm2d(final), nn.Hardswish())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(final, mix, 1), nn.Hardswish(),
                                  nn.Flatten(), nn.Dropout(dropout))
        self.classifier = nn.Linear(mix, num_classes)

    def forward(self, x: torch.Tensor, blocks: Sequence[Sequence[tuple[int, int]]]) -> torch.Tensor:
        if len(blocks) != len(self.stages):
            raise ValueError(f"need blocks for {len(self.stages)} stages, got {len(blocks)}")
        x = self.stem(x)
        for stage, stage_blocks in zip(cast(Iterable[nn.ModuleList], self.stages), blocks):
            if not 1 <= len(stage_blocks) <= len(stage):
                raise ValueError(f"a stage holds 1..{len(stage)} blocks, got {len(stage_blocks)}")
            for block, (kernel, expand) in zip(stage, stage_blocks):  # elastic depth: the first d blocks
                x = block(x, int(kernel), int(expand))
        return self.classifier(self.head(self.final(x)))


@torch.no_grad()
def copy_into_standalone(supernet: MobileNetV3Supernet, blocks: Sequence[Sequence[tuple[int, int]]],
                         net: nn.Module) -> nn.Module:
    """Load subnet ``blocks`` of ``supernet`` into ``net``, the standalone
    :class:`~gennas.models.mobilenet.MobileNetV3` of the same architecture. Returns ``net``."""
    standalone = cast(MobileNetV3, net)
    features: list[Any] = list(standalone.features)  # stem conv, BN, act, first block, searched blocks, conv, BN, act
    for std, sup in zip(features[:4], supernet.stem):
        std.load_state_dict(sup.state_dict())
    i = 4
    for stage, stage_blocks in zip(cast(Iterable[nn.ModuleList], supernet.stages), blocks):
        for block, (kernel, expand) in zip(cast(Iterable[DynamicMBConv], stage), stage_blocks):
            block.copy_into(features[i], int(kernel), int(expand))
            i += 1
    features[i].load_state_dict(supernet.final[0].state_dict())
    features[i + 1].load_state_dict(supernet.final[1].state_dict())
    standalone.head.load_state_dict(supernet.head.state_dict())
    standalone.classifier.load_state_dict(supernet.classifier.state_dict())
    return net


def parse_block_op(op: str) -> tuple[int, int]:
    """``"k5e4"`` -> ``(5, 4)``."""
    return int(op[1:op.index("e")]), int(op[op.index("e") + 1:])


def build_mbv3_supernet(space: Any, num_classes: int, in_channels: int, **options: Any) -> MobileNetV3Supernet:
    """Supernet for a :class:`~gennas.spaces.blocks.BlockSpace`; options as ``space.build``:
    ``width_mult`` (1.0), ``dropout`` (0.0)."""
    options = space.checked_build_options(options)
    return MobileNetV3Supernet(space.macro, space.kernels, space.expand_ratios, space.max_depth,
                               num_classes=num_classes, in_channels=in_channels,
                               width_mult=float(options.get("width_mult", 1.0)),
                               dropout=float(options.get("dropout", 0.0)))
