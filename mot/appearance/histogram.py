"""Stripe-wise HSV histograms: the weight-free appearance encoder ``hsv-hist``.

Each ``xywh`` box is warped to a ``crop_size`` square (:func:`sot.parts.crop.crop_boxes`),
converted to HSV and described by a joint H x S x V histogram per horizontal stripe
(Hellinger normalised per stripe, L2 normalised overall): ``(N, stripes * prod(bins))``
float32. Moved here from ``mot/reid.py`` (which still re-exports it).
"""
from __future__ import annotations

import numpy as np

from bench.core.errors import ConfigError

from . import AppearanceConfig, Encoder, register_encoder


@register_encoder("hsv-hist")
class HistogramEncoder(Encoder):
    """Stripe-wise HSV histograms of ``xywh`` boxes in an RGB uint8 image; rows L2-normalised."""

    def __init__(self, cfg: AppearanceConfig, seed: int = 0):
        if len(cfg.bins) != 3 or min(cfg.bins) < 1:
            raise ConfigError(f"appearance.bins must be three positive ints (H, S, V), got {cfg.bins}")
        if cfg.stripes < 1 or cfg.crop_size < cfg.stripes:
            raise ConfigError("appearance.stripes must be >= 1 and <= appearance.crop_size")
        self.cfg = cfg
        self.bh, self.bs, self.bv = (int(b) for b in cfg.bins)
        self.nbins = self.bh * self.bs * self.bv
        self.dim = cfg.stripes * self.nbins
        s = cfg.crop_size
        self._stripe = (np.arange(s) * cfg.stripes // s).astype(np.int64)  # row -> stripe

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        import cv2

        from sot.parts.crop import crop_boxes

        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        n, s = len(boxes), self.cfg.crop_size
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = crop_boxes(image, boxes, s)                                   # (N, S, S, 3) RGB
        hsv = cv2.cvtColor(crops.reshape(n * s, s, 3), cv2.COLOR_RGB2HSV).reshape(n, s, s, 3)
        h = hsv[..., 0].astype(np.int64) * self.bh // 180                     # OpenCV H in [0, 180)
        sat = hsv[..., 1].astype(np.int64) * self.bs // 256
        val = hsv[..., 2].astype(np.int64) * self.bv // 256
        cell = (h * self.bs + sat) * self.bv + val                            # (N, S, S)
        stripe = self._stripe[None, :, None]
        idx = (np.arange(n)[:, None, None] * self.cfg.stripes + stripe) * self.nbins + cell
        hist = np.bincount(idx.ravel(), minlength=n * self.dim).reshape(n, self.cfg.stripes, self.nbins)
        hist = hist / np.maximum(hist.sum(-1, keepdims=True), 1)
        feat = np.sqrt(hist).reshape(n, self.dim)
        feat /= np.maximum(np.linalg.norm(feat, axis=1, keepdims=True), 1e-12)
        return feat.astype(np.float32)
