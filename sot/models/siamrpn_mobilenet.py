"""SiamRPN++ on MobileNetV2 as pysot builds it (``siamrpn_mobilev2_l234_dwxcorr``; Li et al., CVPR 2019).

pysot ``experiments/siamrpn_mobilev2_l234_dwxcorr/config.yaml``: backbone ``mobilenetv2``
(``used_layers [3, 5, 7]``, ``width_mult 1.4``; :mod:`sot.backbones.mobilenet_pysot`),
``AdjustAllLayer`` [44, 134, 448] -> [256, 256, 256] (``pysot/models/neck/neck.py``: 1x1 conv +
BN, template maps narrower than 20 cropped to their central 7 x 7), ``MultiRPN`` (5 anchors,
one ``DepthwiseRPN`` per tap with hidden = its input channels, ``weighted: False`` = the plain
average of the taps' outputs; ``pysot/models/head/rpn.py``).

Sizes: z 127 -> 15 x 15 -> 7 x 7 after the neck; x 255 -> 31 x 31; depthwise xcorr of the
5 x 5 kernels over 29 x 29 search maps gives cls (1, 10, 25, 25) and loc (1, 20, 25, 25).

For the trackers the taps travel as ONE tensor: ``backbone(x)`` (trunk + neck, :class:`TrunkNeck`)
returns the adjusted maps concatenated along channels, and :class:`MultiDepthwiseRPN` splits them
again; kernels are concatenated the same way, so SiamRPN's tracking code (template caching,
batching, DaSiamRPN's kernel arithmetic) works unchanged on this model.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from sot.backbones import build_backbone
from sot.heads.rpn import DepthwiseRPN, Kernels
from sot.heads.xcorr import xcorr_depthwise


class AdjustLayer(nn.Module):
    """pysot ``AdjustLayer``: 1x1 conv (no bias) + BN; maps narrower than 20 keep their central ``center_size``."""

    def __init__(self, in_channels: int, out_channels: int, center_size: int = 7):
        super().__init__()
        self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        self.center_size = center_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        if x.size(3) < 20:
            lo = (x.size(3) - self.center_size) // 2
            x = x[:, :, lo:lo + self.center_size, lo:lo + self.center_size]
        return x


class AdjustAllLayer(nn.Module):
    """pysot ``AdjustAllLayer``: one :class:`AdjustLayer` per tap, named ``downsample2``, ``downsample3``...
    (``downsample`` when there is one tap)."""

    def __init__(self, in_channels: Sequence[int], out_channels: Sequence[int], center_size: int = 7):
        super().__init__()
        self.num = len(out_channels)
        if self.num == 1:
            self.downsample = AdjustLayer(in_channels[0], out_channels[0], center_size)
        else:
            for i in range(self.num):
                self.add_module(f"downsample{i + 2}", AdjustLayer(in_channels[i], out_channels[i], center_size))

    def forward(self, feats):
        if self.num == 1:
            return [self.downsample(feats if torch.is_tensor(feats) else feats[0])]
        return [getattr(self, f"downsample{i + 2}")(f) for i, f in enumerate(feats)]


class TrunkNeck(nn.Module):
    """pysot MobileNetV2 (``body``) + ``AdjustAllLayer`` (``neck``): ``(N, 3, H, W)`` RGB 0-255 -> the adjusted
    taps concatenated along channels ``(N, sum(out_channels), S, S)``."""

    def __init__(self, width_mult: float, used_layers: Sequence[int], adjust_out: Sequence[int],
                 pretrained: str = "none", num_layers=None):
        super().__init__()
        self.body = build_backbone("mobilenet_v2_pysot", width_mult=width_mult, used_layers=list(used_layers),
                                   num_layers=num_layers, pretrained=pretrained)
        self.neck = AdjustAllLayer(self.body.out_channels, list(adjust_out))
        self.out_channels = int(sum(adjust_out))
        self.splits = [int(c) for c in adjust_out]

    def taps(self, x: torch.Tensor) -> List[torch.Tensor]:
        f = self.body(x)
        return self.neck([f] if torch.is_tensor(f) else f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.taps(x), dim=1)


class MultiDepthwiseRPN(nn.Module):
    """pysot ``MultiRPN``: ``rpn2``, ``rpn3``... (:class:`~sot.heads.rpn.DepthwiseRPN` each, hidden = input
    channels) averaged (``weighted``: softmax weights ``cls_weight`` / ``loc_weight``). Inputs, kernels and
    search features are the per-tap tensors concatenated along channels (module docstring)."""

    exact = False

    def __init__(self, in_channels: Sequence[int], anchor_num: int = 5, weighted: bool = False):
        super().__init__()
        self.splits = [int(c) for c in in_channels]
        self.anchor_num = anchor_num
        self.weighted = weighted
        for i, c in enumerate(self.splits):
            self.add_module(f"rpn{i + 2}", DepthwiseRPN(c, c, anchor_num))
        if weighted:
            self.cls_weight = nn.Parameter(torch.ones(len(self.splits)))
            self.loc_weight = nn.Parameter(torch.ones(len(self.splits)))

    def _rpns(self) -> List[DepthwiseRPN]:
        return [getattr(self, f"rpn{i + 2}") for i in range(len(self.splits))]

    def _split(self, t: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return torch.split(t, self.splits, dim=1)

    def _mix(self, outs: List[torch.Tensor], weight) -> torch.Tensor:
        if not self.weighted:
            return sum(outs) / len(outs)
        w = F.softmax(weight, 0)
        return sum(o * w[i] for i, o in enumerate(outs))

    def template(self, zf: torch.Tensor) -> Kernels:
        per = [r.template(z) for r, z in zip(self._rpns(), self._split(zf))]
        return torch.cat([p[0] for p in per], 1), torch.cat([p[1] for p in per], 1)

    def search(self, xf: torch.Tensor) -> Kernels:
        per = [r.search(x) for r, x in zip(self._rpns(), self._split(xf))]
        return torch.cat([p[0] for p in per], 1), torch.cat([p[1] for p in per], 1)

    def classify(self, cls_kernels: torch.Tensor, cls_feats: torch.Tensor) -> torch.Tensor:
        outs = [r.cls.head(xcorr_depthwise(k, f, r.exact))
                for r, k, f in zip(self._rpns(), self._split(cls_kernels), self._split(cls_feats))]
        return self._mix(outs, getattr(self, "cls_weight", None))

    def correlate(self, kernels: Kernels, feats: Kernels) -> Kernels:
        locs = [r.loc.head(xcorr_depthwise(k, f, r.exact))
                for r, k, f in zip(self._rpns(), self._split(kernels[1]), self._split(feats[1]))]
        return self.classify(kernels[0], feats[0]), self._mix(locs, getattr(self, "loc_weight", None))

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> Kernels:
        return self.correlate(self.template(zf), self.search(xf))


class SiamRPNMobileNet(nn.Module):
    """SiamRPN++ MobileNetV2: :class:`TrunkNeck` (``backbone``) + :class:`MultiDepthwiseRPN` (``rpn``).
    pysot's released model: ``width_mult`` 1.4, ``used_layers`` (3, 5, 7), ``adjust_out`` 256 each."""

    def __init__(self, width_mult: float = 1.4, used_layers: Sequence[int] = (3, 5, 7), adjust_out: Sequence[int] = (256, 256, 256),
                 anchor_num: int = 5, weighted: bool = False, pretrained: str = "none"):
        super().__init__()
        if len(adjust_out) != len(used_layers):
            from bench.core.errors import ConfigError

            raise ConfigError(f"siamrpn_mobilenet: {len(used_layers)} used_layers but {len(adjust_out)} adjust_out channels")
        self.backbone = TrunkNeck(width_mult, used_layers, adjust_out, pretrained)
        self.rpn = MultiDepthwiseRPN(adjust_out, anchor_num, weighted)

    def input_conv(self) -> nn.Conv2d:
        return self.backbone.body.input_conv()

    def forward(self, z: torch.Tensor, x: torch.Tensor):
        return self.rpn(self.backbone(z), self.backbone(x))
