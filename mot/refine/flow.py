"""Dense optical flow (OpenCV Farneback) and the warp of boxes by it (ReMOTS §2.3).

ReMOTS warps the previous frame's masks to the current frame with OpenCV's dense flow
before computing IoU; for boxes the warp is a translation by the mean flow inside the box
(computed from an integral image of the flow field, so any number of boxes cost O(1) each).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FarnebackParams:
    """``cv2.calcOpticalFlowFarneback`` arguments; the defaults are OpenCV's own sample
    (``samples/python/opt_flow.py``: 0.5, 3, 15, 3, 5, 1.2, 0). ``max_side`` downsizes the
    frames first (flow scaled back to full resolution); 0 keeps the full size."""

    pyr_scale: float = 0.5
    levels: int = 3
    winsize: int = 15
    iterations: int = 3
    poly_n: int = 5
    poly_sigma: float = 1.2
    max_side: int = 640


def gray(image: np.ndarray, max_side: int = 0) -> np.ndarray:
    """uint8 grey image of an HxWx3 RGB frame, downsized so its longer side is ``<= max_side``."""
    g = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    h, w = g.shape[:2]
    if max_side and max(h, w) > max_side:
        s = max_side / max(h, w)
        g = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return g


def farneback(prev_gray: np.ndarray, curr_gray: np.ndarray, full_size: tuple, p: FarnebackParams) -> np.ndarray:
    """Flow (H, W, 2) in full-resolution pixels from ``prev`` to ``curr`` (``full_size`` = (W, H))."""
    flow = cv2.calcOpticalFlowFarneback(prev_gray, curr_gray, None, p.pyr_scale, p.levels, p.winsize,
                                        p.iterations, p.poly_n, p.poly_sigma, 0)
    h, w = prev_gray.shape[:2]
    W, H = int(full_size[0]), int(full_size[1])
    if (w, h) != (W, H):
        flow = cv2.resize(flow, (W, H), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= W / w
        flow[..., 1] *= H / h
    return flow


def warp_boxes(boxes: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Translate ``xywh`` boxes (N, 4) by the mean flow inside each (clipped to the image).

    A box entirely outside the image keeps its position. Returns a new (N, 4) array.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(b) == 0:
        return b.copy()
    H, W = flow.shape[:2]
    integral = np.zeros((H + 1, W + 1, 2))
    integral[1:, 1:] = np.cumsum(np.cumsum(flow.astype(np.float64), axis=0), axis=1)
    x0 = np.clip(np.floor(b[:, 0]), 0, W).astype(np.int64)
    y0 = np.clip(np.floor(b[:, 1]), 0, H).astype(np.int64)
    x1 = np.clip(np.ceil(b[:, 0] + b[:, 2]), 0, W).astype(np.int64)
    y1 = np.clip(np.ceil(b[:, 1] + b[:, 3]), 0, H).astype(np.int64)
    area = (x1 - x0) * (y1 - y0)
    s = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    mean = np.where(area[:, None] > 0, s / np.maximum(area, 1)[:, None], 0.0)
    out = b.copy()
    out[:, :2] += mean
    return out
