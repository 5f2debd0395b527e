"""Bounding-box regression on conv3 features (MDNet; py-MDNet ``tracking/bbreg.py``).

Targets for a sample box ``b`` and the ground truth ``g`` (centres ``c``, sizes ``s``)::

    (dx, dy) = (c_g - c_b) / s_b,    (dw, dh) = log(s_g / s_b)

A ridge regression with intercept (scikit-learn ``Ridge(alpha=1000)``, the py-MDNet
choice) maps the conv3 features (N, D) to these 4 targets. It is solved in closed form
in float64, in the dual (N x N) when ``D > N`` (the same solution). Training keeps
samples with IoU in ``overlap`` and area ratio ``area(b) / area(g)`` in ``scale``.
Prediction applies the regressed deltas and clips as py-MDNet does (``x, y >= 0``,
``w, h <= image size - the input box's x, y``). Boxes are ``xywh`` floats.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
import torch

from bench.core.boxes import iou


def regression_targets(boxes: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(N, 4) ``dx, dy, log dw, log dh`` from ``xywh`` samples to one ``xywh`` gt."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gt, dtype=np.float64).reshape(1, 4)
    bc = b[:, :2] + b[:, 2:] / 2
    gc = g[:, :2] + g[:, 2:] / 2
    return np.concatenate([(gc - bc) / b[:, 2:], np.log(g[:, 2:] / b[:, 2:])], axis=1)


def apply_deltas(boxes: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Inverse of :func:`regression_targets`: move ``xywh`` boxes by (N, 4) deltas."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    c = b[:, :2] + b[:, 2:] / 2 + deltas[:, :2] * b[:, 2:]
    s = np.exp(deltas[:, 2:]) * b[:, 2:]
    return np.concatenate([c - s / 2, s], axis=1)


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> Tuple[np.ndarray, np.ndarray]:
    """Ridge with an unpenalised intercept: returns (W (D, K), b (K,)), float64."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xm, ym = x.mean(0), y.mean(0)
    xc, yc = x - xm, y - ym
    n, d = xc.shape
    if d > n:  # dual form: W = Xc^T (Xc Xc^T + a I)^-1 Yc
        k = xc @ xc.T
        k[np.diag_indices(n)] += alpha
        w = xc.T @ np.linalg.solve(k, yc)
    else:
        g = xc.T @ xc
        g[np.diag_indices(d)] += alpha
        w = np.linalg.solve(g, xc.T @ yc)
    return w, ym - xm @ w


class BBoxRegressor:
    """py-MDNet ``BBRegressor``; ``img_size = (W, H)``."""

    def __init__(self, img_size: Sequence[float], alpha: float = 1000.0,
                 overlap: Sequence[float] = (0.6, 1.0), scale: Sequence[float] = (1.0, 2.0)):
        self.img_size = np.asarray(img_size, dtype=np.float64).reshape(2)
        self.alpha = float(alpha)
        self.overlap = tuple(float(v) for v in overlap)
        self.scale = tuple(float(v) for v in scale)
        self.w: np.ndarray = np.zeros((0, 4))
        self.b: np.ndarray = np.zeros(4)

    @property
    def trained(self) -> bool:
        return self.w.size > 0

    def train(self, feats, boxes: np.ndarray, gt: np.ndarray) -> int:
        """Fit on conv3 ``feats`` (N, D) of ``boxes`` (N, 4) around ``gt``; returns the samples used."""
        x = feats.detach().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        gt = np.asarray(gt, dtype=np.float64).reshape(4)
        r = iou(boxes, np.broadcast_to(gt, boxes.shape))
        s = boxes[:, 2] * boxes[:, 3] / (gt[2] * gt[3])
        keep = (r >= self.overlap[0]) & (r <= self.overlap[1]) & (s >= self.scale[0]) & (s <= self.scale[1])
        if keep.sum() < 2:
            self.w, self.b = np.zeros((0, 4)), np.zeros(4)
            return int(keep.sum())
        self.w, self.b = ridge_fit(x[keep], regression_targets(boxes[keep], gt), self.alpha)
        return int(keep.sum())

    def predict(self, feats, boxes: np.ndarray) -> np.ndarray:
        """Regressed ``xywh`` boxes for ``boxes`` (N, 4) with conv3 ``feats`` (N, D)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not self.trained:
            return boxes.copy()
        x = feats.detach().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats)
        out = apply_deltas(boxes, x.astype(np.float64) @ self.w + self.b)
        out[:, :2] = np.maximum(out[:, :2], 0)
        out[:, 2:] = np.minimum(out[:, 2:], self.img_size - boxes[:, :2])
        return out
