"""AlexNet-style Siamese trunks (no padding anywhere, total stride 8).

* ``alexnet_siamfc``: siamfc-pytorch ``AlexNetV1``: conv -> BN -> ReLU -> pool, grouped
  (``groups=2``) conv2/4/5, BN ``eps=1e-6, momentum=0.05``, conv5 without BN/ReLU.
* ``alexnet_rpn``: the SiamRPN / DaSiamRPN / pysot ``AlexNetLegacy`` trunk: conv -> BN ->
  pool -> ReLU, plain convs, conv5 followed by BN (no ReLU). ``width=2`` is DaSiamRPN-BIG.

Both take ``width`` (a channel multiplier: 1 = official, 0.25 = the small shipped
models) and expose blocks ``conv1..conv5``, each with ``.conv`` and ``.bn``
submodules, so checkpoint converters map keys onto one naming scheme.
Input: float ``(N, 3, H, W)`` raw 0-255 pixels (channel order set by the tracker).
127 -> 6x6, 255 -> 22x22, 271 -> 24x24, 287 -> 26x26.
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn

from . import register_backbone

BASE_CHANNELS = (96, 256, 384, 384, 256)


def channels(width: float) -> List[int]:
    """Channel counts of conv1..conv5 for a width multiplier (even, for the grouped convs)."""
    out = []
    for c in BASE_CHANNELS:
        v = int(round(c * width))
        out.append(max(2, v + (v % 2)))
    return out


class Block(nn.Module):
    """conv (+ BN) (+ ReLU) (+ 3x3/2 max-pool) in the order the variant prescribes."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, bn: bool = True,
                 relu: bool = True, pool: bool = False, pool_first: bool = False,
                 bn_eps: float = 1e-5, bn_momentum: float = 0.1, pool_stride: int = 2):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, groups=groups, bias=True)
        self.bn = nn.BatchNorm2d(cout, eps=bn_eps, momentum=bn_momentum) if bn else None
        self.relu, self.pool, self.pool_first = relu, pool, pool_first
        self.pool_stride = pool_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.pool and self.pool_first:
            x = nn.functional.max_pool2d(x, 3, self.pool_stride)
        if self.relu:
            x = nn.functional.relu(x, inplace=True)
        if self.pool and not self.pool_first:
            x = nn.functional.max_pool2d(x, 3, self.pool_stride)
        return x


class AlexNetSiamFC(nn.Module):
    """SiamFC's BN AlexNet (siamfc-pytorch ``AlexNetV1``)."""

    stride = 8

    def __init__(self, width: float = 1.0):
        super().__init__()
        c = channels(width)
        kw = dict(bn_eps=1e-6, bn_momentum=0.05)
        self.conv1 = Block(3, c[0], 11, 2, pool=True, **kw)
        self.conv2 = Block(c[0], c[1], 5, groups=2, pool=True, **kw)
        self.conv3 = Block(c[1], c[2], 3, **kw)
        self.conv4 = Block(c[2], c[3], 3, groups=2, **kw)
        self.conv5 = Block(c[3], c[4], 3, groups=2, bn=False, relu=False, **kw)
        self.out_channels = c[4]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))


class AlexNetRPN(nn.Module):
    """SiamRPN AlexNet (DaSiamRPN ``featureExtract``, pysot ``AlexNetLegacy``)."""

    stride = 8

    def __init__(self, width: float = 1.0):
        super().__init__()
        c = channels(width)
        self.conv1 = Block(3, c[0], 11, 2, pool=True, pool_first=True)
        self.conv2 = Block(c[0], c[1], 5, pool=True, pool_first=True)
        self.conv3 = Block(c[1], c[2], 3)
        self.conv4 = Block(c[2], c[3], 3)
        self.conv5 = Block(c[3], c[4], 3, relu=False)
        self.out_channels = c[4]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))


class AlexNetCFNet(nn.Module):
    """CFNet's truncated BN AlexNet (bertinetto/cfnet ``run_experiment_cfnet_conv{1,2,5}.m``).

    ``last_layer`` conv1: conv 11/4 + BN + ReLU (no pool); conv2: conv1 11/2 + pool 3/2, conv2
    5/1 + BN + ReLU (no pool); conv5: conv1 11/2 + pool 3/2, conv2 + pool 3/**1**, conv3-5
    (conv5 without BN/ReLU). Total stride 4 in all three; on a 255 px crop the maps are
    62 / 57 / 49 cells. ``out_channels`` is the last layer's width (32 in all official variants);
    the inner layers are AlexNet x ``width``.
    """

    stride = 4

    def __init__(self, last_layer: str = "conv2", width: float = 1.0, out_channels: int = 32):
        super().__init__()
        if last_layer not in ("conv1", "conv2", "conv5"):
            raise ValueError(f"alexnet_cfnet: last_layer must be conv1, conv2 or conv5, not {last_layer!r}")
        c = channels(width)
        kw = dict(bn_eps=1e-5, bn_momentum=0.1)
        layers: List[nn.Module] = []
        if last_layer == "conv1":
            layers.append(Block(3, out_channels, 11, 4, **kw))
        else:
            layers.append(Block(3, c[0], 11, 2, pool=True, **kw))
            if last_layer == "conv2":
                layers.append(Block(c[0], out_channels, 5, groups=2, **kw))
            else:
                layers += [Block(c[0], c[1], 5, groups=2, pool=True, pool_stride=1, **kw),
                           Block(c[1], c[2], 3, **kw), Block(c[2], c[3], 3, groups=2, **kw),
                           Block(c[3], out_channels, 3, groups=2, bn=False, relu=False, **kw)]
        self.layers = nn.Sequential(*layers)
        self.last_layer = last_layer
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@register_backbone("alexnet_cfnet")
def alexnet_cfnet(last_layer: str = "conv2", width: float = 1.0, out_channels: int = 32) -> AlexNetCFNet:
    return AlexNetCFNet(last_layer, width, out_channels)


@register_backbone("alexnet_siamfc")
def alexnet_siamfc(width: float = 1.0) -> AlexNetSiamFC:
    return AlexNetSiamFC(width)


@register_backbone("alexnet_rpn")
def alexnet_rpn(width: float = 1.0) -> AlexNetRPN:
    return AlexNetRPN(width)


def conv_flops(module: nn.Module, x: torch.Tensor) -> int:
    """Multiply-add FLOPs (2 per MAC) of every Conv2d / Linear in one forward of ``x``."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
            total[0] += 2 * out.numel() * k
        elif isinstance(m, nn.Linear):
            total[0] += 2 * out.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.inference_mode():
            module(x)
    finally:
        for h in hs:
            h.remove()
    return total[0]
