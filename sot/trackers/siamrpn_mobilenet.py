"""SiamRPN++ MobileNetV2 (``siamrpn-mobilenet``): pysot's ``siamrpn_mobilev2_l234_dwxcorr`` with pysot's
tracking code (``pysot/tracker/siamrpn_tracker.py``), i.e. :class:`sot.trackers.siamrpn.SiamRPN` on
the network of :mod:`sot.models.siamrpn_mobilenet`.

Tracking (pysot ``SiamRPNTracker``, the code SiamRPN already follows): exemplar 127 with context
0.5, search ``s_x = s_z * 255 / 127`` resized to 255, 5 anchors (ratios 0.33 0.5 1 2 3, scale 8,
stride 8) on the 25 x 25 score map (``(255 - 127) // 8 + 1 + BASE_SIZE 8``, origin ``-(25 // 2) * 8``),
softmax foreground score, penalty ``exp(-(r_c s_c - 1) * 0.04)``, cosine window 0.4, box learning
rate ``penalty * score * 0.5``, centre clipped to the image and size to [10, image size]
(``experiments/siamrpn_mobilev2_l234_dwxcorr/config.yaml``; ``configs/trackers/siamrpn-mobilenet.yaml``).

Without ``--weights`` the shipped ``sot/weights/siamrpn_mobilenet.pth`` (ImageNet MobileNetV2 trunk,
width 1.0, taps [3, 5], 64-channel neck and heads, trained by ``configs/train/siamrpn_mobilenet.yaml``);
with pysot's released ``model.pth`` the architecture and settings of that checkpoint.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import torch

from bench.core.registry import register_tracker
from sot.checkpoints.detect import load_siamese_net
from sot.checkpoints.files import resolve_weights

from .siamrpn import SiamRPN, SiamRPNConfig


@dataclasses.dataclass
class SiamRPNMobileNetConfig(SiamRPNConfig):
    """SiamRPN settings (pysot siamrpn_mobilev2 values) plus the network without a weight file."""

    width_mult: float = 1.4
    used_layers: List[int] = dataclasses.field(default_factory=lambda: [3, 5, 7])
    adjust_out: List[int] = dataclasses.field(default_factory=lambda: [256, 256, 256])
    weighted: bool = False
    pretrained: str = "none"         # ImageNet trunk when no weight file is given (width 1.0 only)
    instance_size: int = 255
    penalty_k: float = 0.04
    window_influence: float = 0.4
    lr: float = 0.5
    default_weights: str = "siamrpn_mobilenet.pth"


@register_tracker("siamrpn-mobilenet", kind="sot", config="trackers/siamrpn-mobilenet.yaml")
class SiamRPNMobileNetTracker(SiamRPN):
    """SiamRPN++ MobileNetV2 (pysot siamrpn_mobilev2_l234_dwxcorr), pysot's SiamRPN tracking code."""

    Config = SiamRPNMobileNetConfig
    expects = "siamrpn_mobilenet"

    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        c = self.config
        path = resolve_weights(weights, c.default_weights)
        arch = {"net": "siamrpn_mobilenet", "width_mult": c.width_mult, "used_layers": list(c.used_layers),
                "adjust_out": list(c.adjust_out), "anchor_num": len(c.anchor_ratios) * len(c.anchor_scales),
                "weighted": c.weighted, "pretrained": c.pretrained}
        net, self.loaded = load_siamese_net(path, arch, "siamrpn_mobilenet", c.checkpoint_variant)
        if self.loaded is not None and self.loaded.settings and c.checkpoint_settings:
            self.config = dataclasses.replace(c, **self.loaded.settings)
        self._grids = {}
        self._kcache = (None, None)
        return net
