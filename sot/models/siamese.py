"""The Siamese networks: SiamFC (Bertinetto et al., ECCV-W 2016) and SiamRPN (Li et al., CVPR 2018).

Both are a shared trunk from the backbone layer (``alexnet_siamfc`` / ``alexnet_rpn``) applied
to the exemplar ``z`` and the search crop ``x``, and a head comparing them: SiamFC's
``out_scale * xcorr`` (siamfc-pytorch ``siamfc/heads.py``) or an RPN head (DaSiamRPN
``code/net.py`` UP-channel, pysot ``models/head/rpn.py`` depthwise). Inputs are RGB 0-255
float crops (checkpoints trained on BGR are converted at load time).
"""
from __future__ import annotations

from typing import Any, Dict

import torch

from bench.core.errors import CheckpointError
from sot.backbones import build_backbone
from sot.heads.rpn import build_rpn_head
from sot.heads.xcorr import SiamFCHead


class SiamFCNet(torch.nn.Module):
    """SiamFC: ``alexnet_siamfc`` trunk + ``out_scale * xcorr`` head."""

    def __init__(self, width: float = 1.0, out_scale: float = 0.001):
        super().__init__()
        self.backbone = build_backbone("alexnet_siamfc", width=width)
        self.head = SiamFCHead(out_scale)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(z), self.backbone(x))


class SiamRPNNet(torch.nn.Module):
    """SiamRPN: ``alexnet_rpn`` trunk + RPN head (``upchannel`` DaSiamRPN or ``depthwise`` pysot)."""

    def __init__(self, width: float = 1.0, head: str = "upchannel", feature_out: int = 256, anchor_num: int = 5):
        super().__init__()
        self.backbone = build_backbone("alexnet_rpn", width=width)
        self.rpn = build_rpn_head(head, self.backbone.out_channels, feature_out, anchor_num)

    def forward(self, z: torch.Tensor, x: torch.Tensor):
        return self.rpn(self.backbone(z), self.backbone(x))


def build_net(arch: Dict[str, Any]) -> torch.nn.Module:
    """Network from an ``arch`` dict (as stored in weight files' meta)."""
    if arch.get("net") == "siamfc":
        return SiamFCNet(float(arch.get("width", 1.0)), float(arch.get("out_scale", 0.001)))
    if arch.get("net") == "siamrpn":
        return SiamRPNNet(float(arch.get("width", 1.0)), str(arch.get("head", "upchannel")),
                          int(arch.get("feature_out", 256)), int(arch.get("anchor_num", 5)))
    if arch.get("net") == "siamrpn_mobilenet":
        from .siamrpn_mobilenet import SiamRPNMobileNet

        return SiamRPNMobileNet(float(arch.get("width_mult", 1.4)), [int(i) for i in arch.get("used_layers", (3, 5, 7))],
                                [int(c) for c in arch.get("adjust_out", (256, 256, 256))], int(arch.get("anchor_num", 5)),
                                bool(arch.get("weighted", False)), str(arch.get("pretrained", "none")))
    raise CheckpointError(f"unknown Siamese network type {arch.get('net')!r}")
