"""Cosine (Hann) windows that penalise large displacements."""
from __future__ import annotations

import numpy as np


def hann2d(n: int, normalize: bool = False) -> np.ndarray:
    """Outer product of two ``np.hanning(n)`` windows; ``normalize`` makes it sum to 1 (SiamFC)."""
    w = np.outer(np.hanning(n), np.hanning(n)).astype(np.float64)
    if normalize:
        w /= w.sum()
    return w


def anchor_window(score_size: int, anchor_num: int) -> np.ndarray:
    """SiamRPN window: the Hann window tiled once per anchor (``a * S * S + y * S + x`` order)."""
    return np.tile(hann2d(score_size).reshape(-1), anchor_num)
