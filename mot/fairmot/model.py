"""The FairMOT one-shot network on a MobileNetV2 trunk, and its decoder.

* trunk: ImageNet MobileNetV2 (:mod:`sot.backbones.mobilenet`) tapped at strides 4, 8, 16
  (``features.3``, ``.6``, ``.13``: 24, 32, 96 channels);
* neck: upsampling to stride 4 (1x1 lateral convs to ``neck`` channels, nearest x2 upsampling
  and addition from stride 16 down to 4, one 3x3 conv) — toolkit choice in place of FairMOT's
  DLA-34 IDA-up, same output stride 4 (FairMOT ``down_ratio`` 4);
* heads as FairMOT ``src/lib/models/networks/pose_dla_dcn.py``: each a 3x3 conv (``head_conv``)
  + ReLU + 1x1 conv; ``hm`` (1, bias -2.19 as CenterNet), ``wh`` (2: width, height in stride-4
  cells; FairMOT's ``ltrb`` 4-channel variant not used), ``reg`` (2: centre offset), ``id``
  (128, FairMOT ``reid_dim``).

:func:`decode` is FairMOT's ``mot_decode``: sigmoid heatmap, 3x3 max-pool peak NMS, top ``K``
(500) peaks, boxes from offset + size; it returns ``xywh`` boxes in input pixels, scores and
the L2-normalised embeddings at the peaks.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

STRIDE = 4


def _head(cin: int, cout: int, head_conv: int, bias: float = 0.0) -> nn.Sequential:
    h = nn.Sequential(nn.Conv2d(cin, head_conv, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(head_conv, cout, 1))
    nn.init.constant_(h[-1].bias, bias)
    return h


class FairMOTNet(nn.Module):
    """MobileNetV2 trunk + stride-4 neck + hm / wh / reg / id heads (module docstring)."""

    def __init__(self, pretrained: str = "auto", neck: int = 64, head_conv: int = 64, reid_dim: int = 128):
        super().__init__()
        from sot.backbones import build_backbone

        self.trunk = build_backbone("mobilenet_v2", stride=16, out_indices=(3, 6, 13), pretrained=pretrained,
                                    channels_last=False)
        c4, c8, c16 = self.trunk.out_channels
        self.lat = nn.ModuleList([nn.Conv2d(c, neck, 1) for c in (c4, c8, c16)])
        self.smooth = nn.Sequential(nn.Conv2d(neck, neck, 3, padding=1), nn.BatchNorm2d(neck), nn.ReLU(inplace=True))
        self.heads = nn.ModuleDict({
            "hm": _head(neck, 1, head_conv, -2.19),       # CenterNet / FairMOT hm bias init
            "wh": _head(neck, 2, head_conv),
            "reg": _head(neck, 2, head_conv),
            "id": _head(neck, reid_dim, head_conv),
        })

    def detection_parameters(self):
        """Parameters of the detection branch (neck + hm/wh/reg heads): frozen in "fr.det." mode."""
        for m in (self.lat, self.smooth, self.heads["hm"], self.heads["wh"], self.heads["reg"]):
            yield from m.parameters()

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``x``: ImageNet-normalised RGB (N, 3, H, W), H and W multiples of 16 -> maps at stride 4."""
        f4, f8, f16 = self.trunk(x)
        y = self.lat[2](f16)
        y = F.interpolate(y, size=f8.shape[-2:], mode="nearest") + self.lat[1](f8)
        y = F.interpolate(y, size=f4.shape[-2:], mode="nearest") + self.lat[0](f4)
        y = self.smooth(y)
        return {k: h(y) for k, h in self.heads.items()}


def decode(out: Dict[str, torch.Tensor], K: int = 500, conf_thresh: float = 0.4, stride: int = STRIDE
           ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detections of image 0 of a forward pass: (``xywh`` pixel boxes (M, 4), scores (M,),
    L2-normalised embeddings (M, D)) for peaks with score > ``conf_thresh`` (FairMOT
    ``conf_thres`` 0.4, ``K`` 500)."""
    hm = torch.sigmoid(out["hm"][0:1])
    peaks = (F.max_pool2d(hm, 3, stride=1, padding=1) == hm).float() * hm
    _, _, h, w = hm.shape
    scores, idx = peaks.view(-1).topk(min(K, h * w))
    keep = scores > conf_thresh
    scores, idx = scores[keep], idx[keep]
    ys, xs = (idx // w), (idx % w)
    reg = out["reg"][0][:, ys, xs]
    wh = out["wh"][0][:, ys, xs]
    cx, cy = xs.float() + reg[0], ys.float() + reg[1]
    boxes = torch.stack([cx - wh[0] / 2, cy - wh[1] / 2, wh[0], wh[1]], 1) * stride
    emb = F.normalize(out["id"][0][:, ys, xs].T, dim=1)
    return boxes.detach().numpy().astype(np.float64), scores.detach().numpy().astype(np.float64), \
        emb.detach().numpy().astype(np.float32)
