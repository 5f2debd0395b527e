"""Identity metrics (IDF1, IDP, IDR), as TrackEval computes them.

TrackEval ``metrics/identity.py``: a gt id and a tracker id may be matched in a frame
where their IoU is >= ``threshold`` (no eps); one global bipartite assignment of gt ids
to tracker ids maximises the number of such frames (TrackEval's (G + T)^2 cost matrix
``fn + fp`` is equivalent to a maximum-weight matching on the count matrix, which is
solved here on the ids that have any potential match). IDTP is that maximum;
``IDF1 = IDTP / max(1, IDTP + 0.5 IDFP + 0.5 IDFN)``.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from .mot_data import MOTEvalData

INTEGER_FIELDS = ["IDTP", "IDFN", "IDFP"]
FLOAT_FIELDS = ["IDF1", "IDR", "IDP"]


def identity(data: MOTEvalData, threshold: float = 0.5) -> Dict[str, float]:
    """Identity metrics of one sequence (TrackEval ``Identity.eval_sequence``)."""
    res: Dict[str, float] = {f: 0 for f in FLOAT_FIELDS + INTEGER_FIELDS}
    if data.num_tracker_dets == 0:
        res["IDFN"] = data.num_gt_dets
        return res
    if data.num_gt_dets == 0:
        res["IDFP"] = data.num_tracker_dets
        return res
    ok = data.sim >= threshold
    nt = data.num_tracker_ids
    cells = data.gt_ids[data.pair_gt[ok]] * nt + data.tr_ids[data.pair_tr[ok]]
    idtp = 0
    if len(cells):
        u, cnt = np.unique(cells, return_counts=True)
        ur, ri = np.unique(u // nt, return_inverse=True)
        uc, ci = np.unique(u % nt, return_inverse=True)
        counts = np.zeros((len(ur), len(uc)))
        counts[ri, ci] = cnt
        rows, cols = linear_sum_assignment(counts, maximize=True)
        idtp = int(round(counts[rows, cols].sum()))
    res["IDTP"] = idtp
    res["IDFN"] = data.num_gt_dets - idtp
    res["IDFP"] = data.num_tracker_dets - idtp
    return compute_final_fields(res)


def combine_identity(results: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """Combined Identity over sequences (TrackEval: sum IDTP / IDFN / IDFP, recompute)."""
    res = {f: sum(r[f] for r in results) for f in INTEGER_FIELDS}
    return compute_final_fields(res)


def compute_final_fields(res: Dict[str, float]) -> Dict[str, float]:
    """TrackEval ``Identity._compute_final_fields``."""
    tp, fn, fp = res["IDTP"], res["IDFN"], res["IDFP"]
    res["IDR"] = tp / max(1.0, tp + fn)
    res["IDP"] = tp / max(1.0, tp + fp)
    res["IDF1"] = tp / max(1.0, tp + 0.5 * fp + 0.5 * fn)
    return res
