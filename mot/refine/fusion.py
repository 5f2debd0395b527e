"""ReMOTS's detection fusion (§2.1) for boxes: NMS on IoM (intersection over the smaller box).

Several detection or result sets of one frame are pooled and suppressed greedily by
confidence with IoM instead of IoU ("heavily overlapped masks may also have low IoU
values"); for boxes, the paper's "only the most confident keeps each overlapping area"
means the less confident of two boxes whose IoM exceeds the threshold is dropped.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from bench.core.boxes import iom_matrix


def iom_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS on IoM (``xywh`` boxes, higher score first, stable on ties)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-scores, kind="stable")
    m = iom_matrix(boxes[order], boxes[order])
    keep: list = []
    for a in range(len(order)):
        if all(m[a, b] <= threshold for b in keep):
            keep.append(a)
    return np.sort(order[keep]) if keep else np.zeros(0, dtype=np.int64)


def fuse_rows(sets: Sequence[np.ndarray], threshold: float) -> np.ndarray:
    """Fuse MOTChallenge row sets (``frame, id, x, y, w, h, conf, ...``) frame by frame.

    Returns rows ``frame, -1, x, y, w, h, conf`` (identities are rebuilt by the refinement);
    sorted by frame, then by the original order.
    """
    parts = [np.asarray(s, dtype=np.float64)[:, :7] for s in sets if len(s)]
    if not parts:
        return np.zeros((0, 7))
    rows = np.concatenate(parts)
    out = []
    for f in np.unique(rows[:, 0]):
        r = rows[rows[:, 0] == f]
        out.append(r[iom_nms(r[:, 2:6], r[:, 6], threshold)])
    fused = np.concatenate(out)
    fused[:, 1] = -1
    return fused
