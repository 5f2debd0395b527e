"""SiamRPN anchors: generation, decoding, and training targets.

Anchors are ``(cx, cy, w, h)`` in search-patch pixels relative to the patch centre,
ordered ``a * S * S + y * S + x`` (DaSiamRPN ``generate_anchor``, pysot ``Anchors``).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np


def anchor_shapes(stride: int, ratios: Sequence[float], scales: Sequence[float]) -> np.ndarray:
    """(A, 2) anchor ``w, h``: ``ws = int(sqrt(stride^2 / r))``, ``hs = int(ws * r)``, times scale.

    stride 8, ratios (0.33, 0.5, 1, 2, 3), scale 8 -> (104,32) (88,40) (64,64) (40,80) (32,96).
    """
    size = stride * stride
    out = []
    for r in ratios:
        ws = int(np.sqrt(size / r))
        hs = int(ws * r)
        for s in scales:
            out.append((ws * s, hs * s))
    return np.asarray(out, dtype=np.float32)


def generate_anchors(stride: int, ratios: Sequence[float], scales: Sequence[float],
                     score_size: int) -> np.ndarray:
    """(A*S*S, 4) anchors ``cx, cy, w, h``; grid origin ``-(S // 2) * stride`` (centred grid;
    DaSiamRPN's Python-2 integer division, pysot ``-(S // 2) * stride``)."""
    shapes = anchor_shapes(stride, ratios, scales)
    a = len(shapes)
    ori = -(score_size // 2) * stride
    g = ori + stride * np.arange(score_size, dtype=np.float32)
    xx, yy = np.meshgrid(g, g)  # xx varies along x (columns)
    out = np.empty((a, score_size * score_size, 4), dtype=np.float32)
    out[:, :, 0] = xx.reshape(-1)[None]
    out[:, :, 1] = yy.reshape(-1)[None]
    out[:, :, 2] = shapes[:, 0:1]
    out[:, :, 3] = shapes[:, 1:2]
    return out.reshape(-1, 4)


MAX_LOG = 10.0  # |dw|, |dh| clip before exp (only guards untrained nets against overflow)


def decode(delta: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Decode (..., 4, K) deltas ``dx, dy, dw, dh`` on (K, 4) anchors into ``cx, cy, w, h`` (..., 4, K)."""
    out = np.empty_like(delta)
    aw, ah = anchors[:, 2], anchors[:, 3]
    out[..., 0, :] = delta[..., 0, :] * aw + anchors[:, 0]
    out[..., 1, :] = delta[..., 1, :] * ah + anchors[:, 1]
    out[..., 2, :] = np.exp(np.clip(delta[..., 2, :], -MAX_LOG, MAX_LOG)) * aw
    out[..., 3, :] = np.exp(np.clip(delta[..., 3, :], -MAX_LOG, MAX_LOG)) * ah
    return out


def encode(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Regression targets (4, K) for one ``cx, cy, w, h`` box (4,) on (K, 4) anchors (pysot)."""
    t = np.empty((4, len(anchors)), dtype=np.float32)
    t[0] = (boxes[0] - anchors[:, 0]) / anchors[:, 2]
    t[1] = (boxes[1] - anchors[:, 1]) / anchors[:, 3]
    t[2] = np.log(boxes[2] / anchors[:, 2])
    t[3] = np.log(boxes[3] / anchors[:, 3])
    return t


def _iou_cxcywh(anchors: np.ndarray, box: np.ndarray) -> np.ndarray:
    ax0 = anchors[:, 0] - anchors[:, 2] / 2
    ay0 = anchors[:, 1] - anchors[:, 3] / 2
    ax1 = anchors[:, 0] + anchors[:, 2] / 2
    ay1 = anchors[:, 1] + anchors[:, 3] / 2
    bx0, by0 = box[0] - box[2] / 2, box[1] - box[3] / 2
    bx1, by1 = box[0] + box[2] / 2, box[1] + box[3] / 2
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    return inter / (anchors[:, 2] * anchors[:, 3] + box[2] * box[3] - inter)


def anchor_targets(anchors: np.ndarray, box: np.ndarray, rng: np.random.Generator, *,
                   pos_iou: float = 0.6, neg_iou: float = 0.3, max_pos: int = 16, total: int = 64,
                   negative_pair: bool = False, score_size: int = 17, neg_window: int = 7,
                   hard: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pysot ``AnchorTarget``: labels (K,) 1 / 0 / -1 (ignore), loc targets (4, K), loc weights (K,).

    ``box`` is the target ``cx, cy, w, h`` in anchor coordinates. IoU > ``pos_iou`` positive,
    < ``neg_iou`` negative; at most ``max_pos`` positives, negatives fill to ``total``.
    A negative pair labels ``max_pos`` random anchors inside the ``neg_window`` cells
    around the box centre negative, the rest ignored.
    ``hard`` (M, 4) ``cx, cy, w, h``: look-alike objects in the search crop (DaSiamRPN's
    distractor-aware training). Negative anchors with IoU > ``pos_iou`` with one of them are
    sampled first (at most ``max_pos``), the random negatives fill the rest; without ``hard``
    the draws are exactly pysot's.
    """
    k = len(anchors)
    labels = -np.ones(k, dtype=np.int64)
    w = np.zeros(k, dtype=np.float32)
    if negative_pair:
        a = k // (score_size * score_size)
        stride = (anchors[1, 0] - anchors[0, 0]) if score_size > 1 else 8.0
        ori = anchors[0, 0]
        cx = int(np.round((box[0] - ori) / stride))
        cy = int(np.round((box[1] - ori) / stride))
        half = neg_window // 2
        ys = np.arange(max(cy - half, 0), min(cy + half + 1, score_size))
        xs = np.arange(max(cx - half, 0), min(cx + half + 1, score_size))
        if len(ys) and len(xs):
            cells = (ys[:, None] * score_size + xs[None, :]).reshape(-1)
            idx = (np.arange(a)[:, None] * score_size * score_size + cells[None, :]).reshape(-1)
            pick = rng.choice(idx, size=min(max_pos, len(idx)), replace=False)
            labels[pick] = 0
        return labels, np.zeros((4, k), dtype=np.float32), w
    overlap = _iou_cxcywh(anchors, box)
    pos = np.flatnonzero(overlap > pos_iou)
    neg = np.flatnonzero(overlap < neg_iou)
    if len(pos) > max_pos:
        pos = rng.choice(pos, size=max_pos, replace=False)
    n_neg = total - len(pos)
    if hard is not None and len(hard) and len(neg):
        on = np.zeros(len(neg), dtype=bool)
        for b in np.asarray(hard, dtype=np.float64).reshape(-1, 4):
            on |= _iou_cxcywh(anchors[neg], b) > pos_iou
        hn = neg[on]
        if len(hn) > min(max_pos, n_neg):
            hn = rng.choice(hn, size=min(max_pos, n_neg), replace=False)
        rest = np.setdiff1d(neg, hn)
        n_rest = n_neg - len(hn)
        neg = np.concatenate([hn, rng.choice(rest, size=n_rest, replace=False) if len(rest) > n_rest else rest])
    elif len(neg) > n_neg:
        neg = rng.choice(neg, size=n_neg, replace=False)
    labels[pos] = 1
    labels[neg] = 0
    if len(pos):
        w[pos] = 1.0 / len(pos)
    return labels, encode(box, anchors), w
