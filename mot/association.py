"""Data association: cost matrices, gating, fused costs and the assignment step.

All boxes are ``xywh`` (N, 4); IoUs come from :func:`bench.core.boxes.iou_matrix`.
Costs are distances in [0, 1] (``1 - similarity``) unless stated otherwise.

Two assignment rules are used in the published trackers:

* :func:`hungarian_gated` (SORT): the optimal assignment on the whole matrix, then
  matches above the threshold are rejected (``associate_detections_to_trackers``).
* :func:`linear_assignment` (ByteTrack, DeepSORT): ``lap.lapjv(cost,
  extend_cost=True, cost_limit=thresh)``: the optimal assignment in which a pair
  may only be matched when its cost is below ``thresh`` (leaving both unmatched
  costs ``thresh``). This is solved exactly with scipy by assigning the clipped
  matrix ``min(cost - thresh, 0)`` and keeping the pairs whose cost is below ``thresh``.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from bench.core.boxes import iou_matrix

Matches = Tuple[np.ndarray, np.ndarray, np.ndarray]
"""(matches (K, 2) int rows ``(row, col)``, unmatched rows (R,), unmatched cols (C,))."""


def _empty(n: int, m: int) -> Matches:
    return np.empty((0, 2), dtype=np.int64), np.arange(n), np.arange(m)


def _split(n: int, m: int, rows: np.ndarray, cols: np.ndarray) -> Matches:
    matches = np.stack([rows, cols], axis=1).astype(np.int64) if len(rows) else np.empty((0, 2), np.int64)
    um_r = np.ones(n, bool)
    um_r[rows] = False
    um_c = np.ones(m, bool)
    um_c[cols] = False
    return matches, np.flatnonzero(um_r), np.flatnonzero(um_c)


def iou_cost(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - IoU`` between ``xywh`` boxes ``a`` (N, 4) and ``b`` (M, 4): (N, M)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return 1.0 - iou_matrix(a, b)


def linear_assignment(cost: np.ndarray, thresh: float) -> Matches:
    """Optimal assignment where only pairs with ``cost < thresh`` may match (lapjv ``cost_limit``)."""
    n, m = cost.shape
    if n == 0 or m == 0:
        return _empty(n, m)
    clipped = np.minimum(cost - thresh, 0.0)
    if not np.any(clipped < 0):
        return _empty(n, m)
    rows, cols = linear_sum_assignment(clipped)
    keep = cost[rows, cols] < thresh
    return _split(n, m, rows[keep], cols[keep])


def hungarian_gated(cost: np.ndarray, max_cost: float) -> Matches:
    """SORT's rule: optimal assignment on ``cost``, then drop matches with ``cost > max_cost``.

    When every row and column has at most one pair within the gate, those pairs are
    taken directly (the short-cut of ``associate_detections_to_trackers``).
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        return _empty(n, m)
    ok = cost <= max_cost
    if ok.sum(1).max() == 1 and ok.sum(0).max() == 1:
        rows, cols = np.nonzero(ok)
    else:
        rows, cols = linear_sum_assignment(cost)
        keep = cost[rows, cols] <= max_cost
        rows, cols = rows[keep], cols[keep]
    return _split(n, m, rows, cols)


def fuse_score(cost: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ByteTrack's ``fuse_score``: ``1 - (1 - cost) * det_score`` (columns are detections)."""
    if cost.size == 0:
        return cost
    return 1.0 - (1.0 - cost) * np.asarray(scores, dtype=np.float64)[None, :]


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine distance (N, M) between feature rows of ``a`` (N, D) and ``b`` (M, D), clipped at 0."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.maximum(0.0, 1.0 - an @ bn.T)


def gated_appearance(d_feat: np.ndarray, d_iou: np.ndarray, proximity: float,
                     appearance: float) -> np.ndarray:
    """Appearance distance gated by overlap (BoT-SORT's gating).

    Pairs whose IoU distance exceeds ``proximity`` (too little overlap) or whose
    appearance distance exceeds ``appearance`` get distance 1; the others keep ``d_feat``.
    """
    out = d_feat.copy()
    out[(d_iou > proximity) | (d_feat > appearance)] = 1.0
    return out


def fused_reid_cost(d_iou: np.ndarray, d_feat: np.ndarray, proximity: float,
                    appearance: float) -> np.ndarray:
    """Fused motion + appearance distance ``d = sqrt(d_feat~ * d_iou)``.

    ``d_feat~`` is :func:`gated_appearance`; where appearance is gated out the result
    is ``sqrt(d_iou)``, never below the IoU-only evidence, so appearance only helps
    pairs that overlap and look alike.
    """
    if d_iou.size == 0:
        return d_iou
    return np.sqrt(gated_appearance(d_feat, d_iou, proximity, appearance) * d_iou)


def gate_cost(cost: np.ndarray, gate: np.ndarray, value: float = np.inf) -> np.ndarray:
    """``cost`` with ``value`` where ``gate`` (same shape, bool) is False."""
    out = cost.copy()
    out[~gate] = value
    return out
