"""ReMOTS's short-term tracker (§2.3, Eq. 1-2): reliable tracklets from adjacent frames only.

For each pair of consecutive frames ``t-1, t`` the previous boxes are warped to ``t``
(dense flow, :mod:`.flow`), and the distance is::

    W = inf                      if IoU(warp(box_prev), box_curr) = 0
        1 - cos(f_prev, f_curr)  otherwise                                (Eq. 1)
    W = inf                      if W > 1 - θ_short                       (Eq. 2)

then a linear assignment links the finite pairs. With ``keep_input_ids`` (the refinement of
a tracker's result) a link also needs the input tracker to have given both boxes the same
identity, so each tracklet is a piece of one input track that the short-term tracker
confirms: tracklets break at every doubt. A frame without boxes, or a box missing for a
frame, ends the tracklet (the merge step bridges gaps up to θ_t frames).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from bench.core.boxes import iou_matrix
from mot.association import linear_assignment

_INF_COST = 3.0  # any cost >= the gate: cosine distances lie in [0, 2]
_GATE = 2.5


def link_frames(prev_boxes: np.ndarray, prev_feat: np.ndarray, curr_boxes: np.ndarray, curr_feat: np.ndarray,
                theta_short: float, prev_ids: Optional[np.ndarray] = None,
                curr_ids: Optional[np.ndarray] = None) -> np.ndarray:
    """Matches (K, 2) ``(prev index, curr index)`` of Eq. 1-2 between two frames.

    ``prev_boxes`` are already warped to the current frame (``xywh``); features are
    L2-normalised rows. ``prev_ids`` / ``curr_ids`` (input identities) forbid links between
    different input tracks when given.
    """
    if len(prev_boxes) == 0 or len(curr_boxes) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    cos = np.asarray(prev_feat, np.float64) @ np.asarray(curr_feat, np.float64).T
    w = 1.0 - cos
    forbid = iou_matrix(prev_boxes, curr_boxes) <= 0.0
    forbid |= w > 1.0 - theta_short
    if prev_ids is not None and curr_ids is not None:
        forbid |= np.asarray(prev_ids)[:, None] != np.asarray(curr_ids)[None, :]
    w = np.where(forbid, _INF_COST, w)
    matches, _, _ = linear_assignment(w, _GATE)
    return matches


def short_tracklets(rows: np.ndarray, features: np.ndarray, theta_short: float, *,
                    warped: Optional[np.ndarray] = None, keep_input_ids: bool = True,
                    bridge_input_gaps: bool = True) -> np.ndarray:
    """Short-term tracklet label (0..K-1) of every row.

    ``rows`` (N, >=6) ``frame, id, x, y, w, h`` (1-based frames, any order); ``features``
    (N, D) L2-normalised, row-aligned; ``warped`` (N, 4) each row's box moved to the next
    frame by the flow (None: no motion compensation).

    ``keep_input_ids``: links only within an input track (Eq. 1-2 between adjacent frames).
    ``bridge_input_gaps`` (with ``keep_input_ids``): where the input tracker itself bridged a
    gap (its track skips frames), the link is kept when the appearance passes θ_short (no
    flow exists across the gap); off, every gap ends the tracklet as in the paper.
    """
    rows = np.asarray(rows, dtype=np.float64)
    n = len(rows)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    frames = rows[:, 0].astype(np.int64)
    order = np.lexsort((rows[:, 1], frames))
    uniq, starts = np.unique(frames[order], return_index=True)
    groups = np.split(order, starts[1:])
    next_label = 0
    prev_frame, prev_idx = None, np.zeros(0, dtype=np.int64)
    last_of_id: dict = {}
    for f, idx in zip(uniq.tolist(), groups):
        if prev_frame is not None and f == prev_frame + 1 and len(prev_idx):
            pb = rows[prev_idx, 2:6] if warped is None else warped[prev_idx]
            ids = rows[:, 1] if keep_input_ids else None
            m = link_frames(pb, features[prev_idx], rows[idx, 2:6], features[idx], theta_short,
                            None if ids is None else ids[prev_idx], None if ids is None else ids[idx])
            labels[idx[m[:, 1]]] = labels[prev_idx[m[:, 0]]]
        if keep_input_ids and bridge_input_gaps:
            for i in idx[labels[idx] < 0].tolist():
                j = last_of_id.get(rows[i, 1])
                if j is not None and frames[j] < f - 1 and float(features[j] @ features[i]) >= theta_short:
                    labels[i] = labels[j]
        for i in idx:
            if labels[i] < 0:
                labels[i] = next_label
                next_label += 1
        if keep_input_ids:
            for i in idx.tolist():
                last_of_id[rows[i, 1]] = i
        prev_frame, prev_idx = f, idx
    return labels


def tracklet_distances(labels: np.ndarray, frames: np.ndarray, features: np.ndarray, max_gap: int) -> np.ndarray:
    """ReMOTS's ``W^long`` (§2.5): (K, K) mean pairwise cosine distance between tracklets.

    Infinite on the diagonal, for temporally overlapping tracklets and for a gap
    (first frame of the later minus last frame of the earlier) above ``max_gap`` (θ_t).
    The mean of ``1 - f_i·f_j`` over all pairs equals ``1 - c_a·c_b`` with ``c`` the mean of
    each tracklet's normalised features, which is how it is computed.
    """
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if len(labels) else 0
    f = np.asarray(features, dtype=np.float64)
    centroid = np.zeros((k, f.shape[1]))
    np.add.at(centroid, labels, f)
    count = np.bincount(labels, minlength=k).astype(np.float64)
    centroid /= np.maximum(count, 1)[:, None]
    first = np.full(k, np.iinfo(np.int64).max)
    last = np.full(k, np.iinfo(np.int64).min)
    fr = np.asarray(frames, dtype=np.int64)
    np.minimum.at(first, labels, fr)
    np.maximum.at(last, labels, fr)
    d = 1.0 - centroid @ centroid.T
    overlap = (first[:, None] <= last[None, :]) & (first[None, :] <= last[:, None])
    gap = np.maximum(first[None, :] - last[:, None], first[:, None] - last[None, :])
    d[overlap | (gap > max_gap)] = np.inf
    np.fill_diagonal(d, np.inf)
    return d
