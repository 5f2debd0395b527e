"""HOTA (HOTA, DetA, AssA, LocA, DetRe, DetPr, AssRe, AssPr), as TrackEval computes it.

TrackEval ``metrics/hota.py`` (Luiten et al., IJCV 2020):

1. a global alignment score between every gt id and tracker id: the per-frame soft
   Jaccard ``IoU / (row sum + column sum - IoU)`` accumulated over the sequence, divided
   by ``count_gt + count_tracker - accumulated``;
2. per frame, a Hungarian assignment maximising ``alignment * IoU``; a match counts at
   level alpha when its IoU >= ``alpha - eps``, alpha = 0.05, 0.10, ..., 0.95;
3. ``DetA = TP / (TP + FN + FP)``, ``AssA = sum over matches of A(c) / TP`` with
   ``A = TPA / (TPA + FNA + FPA)`` per (gt id, tracker id), ``HOTA = sqrt(DetA AssA)``,
   ``LocA`` = mean IoU of the matches; each an array over the 19 alphas. The reported
   value is the mean over alphas.

The row and column sums of each frame's IoU matrix are numpy's (same shapes, same
summation order) and the alignment is accumulated in frame order, so the assignment
inputs equal TrackEval's bit for bit. Frames whose positive scores are one-to-one need
no Hungarian step (all those pairs are in every optimal assignment); the others run the
same ``linear_sum_assignment`` on the same matrix as TrackEval.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from .mot_data import EPS, MOTEvalData, candidate_conflicts, frames_of

ALPHAS = np.arange(0.05, 0.99, 0.05)
INTEGER_ARRAY_FIELDS = ["HOTA_TP", "HOTA_FN", "HOTA_FP"]
FLOAT_ARRAY_FIELDS = ["HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA"]
FLOAT_FIELDS = ["HOTA(0)", "LocA(0)", "HOTALocA(0)"]
_DENSE_CELLS = 1 << 21


def _empty() -> Dict[str, object]:
    n = len(ALPHAS)
    res: Dict[str, object] = {f: np.zeros(n) for f in FLOAT_ARRAY_FIELDS + INTEGER_ARRAY_FIELDS}
    res.update({f: 0 for f in FLOAT_FIELDS})
    return res


def _frame_sums(data: MOTEvalData):
    """Row sums (per gt box) and column sums (per tracker box) of every frame's IoU matrix,
    bit for bit as numpy sums TrackEval's dense matrices.

    Column sums add the rows in order (numpy's axis-0 reduction), which ``bincount`` does.
    Row sums use numpy's pairwise summation, whose rounding depends on the row length and
    the position of each value: the rows of all frames with the same number ``K`` of
    tracker boxes are laid out densely in one (R, K) array and summed along axis 1.
    """
    cs = np.bincount(data.pair_tr, weights=data.sim, minlength=data.num_tracker_dets)
    rs = np.zeros(data.num_gt_dets)
    if len(data.sim) == 0:
        return rs, cs
    k_of_gt = np.repeat(data.tr_counts, data.gt_counts)
    rows = np.flatnonzero(np.bincount(data.pair_gt, minlength=data.num_gt_dets))
    order = rows[np.argsort(k_of_gt[rows], kind="stable")]
    k_sorted = k_of_gt[order]
    slot = np.zeros(data.num_gt_dets, dtype=np.int64)
    row_start = np.concatenate([[0], np.cumsum(k_sorted)[:-1]])
    slot[order] = row_start
    col = data.pair_tr - np.repeat(data.tr_off[:-1], np.diff(data.pair_off))
    buf = np.zeros(int(k_sorted.sum()))
    buf[slot[data.pair_gt] + col] = data.sim
    cuts = np.flatnonzero(np.diff(k_sorted)) + 1
    for a, b in zip(np.concatenate([[0], cuts]).tolist(), np.concatenate([cuts, [len(order)]]).tolist()):
        k = int(k_sorted[a])
        s0 = int(row_start[a])
        rs[order[a:b]] = buf[s0:s0 + (b - a) * k].reshape(b - a, k).sum(1)
    return rs, cs


def _cell_sums(cells: np.ndarray, weights: np.ndarray, n_cells: int) -> np.ndarray:
    """Per-entry total of ``weights`` over equal ``cells``, summed in input order."""
    if n_cells <= _DENSE_CELLS:
        return np.bincount(cells, weights=weights, minlength=n_cells)[cells]
    _, inv = np.unique(cells, return_inverse=True)
    return np.bincount(inv, weights=weights)[inv]


def hota_matches(data: MOTEvalData):
    """HOTA matches (gt box index, tracker box index, IoU) with IoU >= 0.05 - eps."""
    ng, nt = data.num_gt_ids, data.num_tracker_ids
    gcount = np.bincount(data.gt_ids, minlength=ng).astype(np.float64)
    tcount = np.bincount(data.tr_ids, minlength=nt).astype(np.float64)
    rs, cs = _frame_sums(data)
    s = data.sim
    pg, pt = data.pair_gt, data.pair_tr
    denom = (cs[pt] + rs[pg]) - s
    sim_iou = np.zeros_like(s)
    ok = denom > 0 + EPS
    sim_iou[ok] = s[ok] / denom[ok]
    gid, tid = data.gt_ids[pg], data.tr_ids[pt]
    pmc = _cell_sums(gid * nt + tid, sim_iou, ng * nt)
    gas = pmc / ((gcount[gid] + tcount[tid]) - pmc)
    score = gas * s
    positive = score > 0
    conflict = candidate_conflicts(data, positive)
    simple = positive & ~conflict[frames_of(data.pair_off)]
    frames = np.flatnonzero(conflict)
    match = [np.flatnonzero(simple)]
    if len(frames):
        # every conflict frame's dense score matrix, negated, laid out in one buffer
        g_cnt, t_cnt = data.gt_counts[frames], data.tr_counts[frames]
        boff = np.zeros(len(frames) + 1, dtype=np.int64)
        np.cumsum(g_cnt * t_cnt, out=boff[1:])
        pair_frame = frames_of(data.pair_off)
        slot = np.full(data.num_timesteps, -1, dtype=np.int64)
        slot[frames] = np.arange(len(frames))
        local = data.pair_local
        sel = np.flatnonzero(slot[pair_frame] >= 0)
        buf = np.zeros(int(boff[-1]))
        buf[boff[slot[pair_frame[sel]]] + local[sel]] = -score[sel]
        rows_l, cols_l = [], []
        for a, b, k in zip(boff[:-1].tolist(), boff[1:].tolist(), t_cnt.tolist()):
            rows, cols = linear_sum_assignment(buf[a:b].reshape(-1, k))
            rows_l.append(rows)
            cols_l.append(cols)
        # back from (frame, row, column) to pair indices: pairs are sorted by (frame, local)
        n = np.array([len(r) for r in rows_l])
        flat = np.concatenate(rows_l) * np.repeat(t_cnt, n) + np.concatenate(cols_l)
        span = int((data.gt_counts * data.tr_counts).max()) + 1
        key = pair_frame * span + local
        want = np.repeat(frames, n) * span + flat
        idx = np.minimum(np.searchsorted(key, want), len(key) - 1)
        idx = idx[key[idx] == want]
        match.append(idx[positive[idx] & (s[idx] >= ALPHAS[0] - EPS)])
    idx = np.concatenate(match)
    return pg[idx], pt[idx], s[idx], gcount, tcount


def hota(data: MOTEvalData) -> Dict[str, object]:
    """HOTA of one sequence (TrackEval ``HOTA.eval_sequence``): arrays over the 19 alphas."""
    n = len(ALPHAS)
    res = _empty()
    if data.num_tracker_dets == 0:
        res["HOTA_FN"] = data.num_gt_dets * np.ones(n)
        res["LocA"] = np.ones(n)
        res["LocA(0)"] = 1.0
        return res
    if data.num_gt_dets == 0:
        res["HOTA_FP"] = data.num_tracker_dets * np.ones(n)
        res["LocA"] = np.ones(n)
        res["LocA(0)"] = 1.0
        return res
    m_g, m_t, m_s, gcount, tcount = hota_matches(data)
    nt = data.num_tracker_ids
    # level reached by each match: the number of alphas with alpha - eps <= IoU
    level = np.searchsorted(ALPHAS - EPS, m_s, side="right")
    hist = np.bincount(level, minlength=n + 1)
    tp = np.cumsum(hist[::-1])[::-1][1:].astype(np.float64)
    loc = np.cumsum(np.bincount(level, weights=m_s, minlength=n + 1)[::-1])[::-1][1:]
    cells = data.gt_ids[m_g] * nt + data.tr_ids[m_t]
    u, inv = np.unique(cells, return_inverse=True)
    per = np.bincount(inv.ravel() * (n + 1) + level, minlength=len(u) * (n + 1)).reshape(len(u), n + 1)
    mc = np.cumsum(per[:, ::-1], axis=1)[:, ::-1][:, 1:].astype(np.float64)  # (cells, alphas)
    gc = gcount[u // nt][:, None]
    tc = tcount[u % nt][:, None]
    denom_tp = np.maximum(1, tp)
    res["AssA"] = np.sum(mc * (mc / np.maximum(1, gc + tc - mc)), axis=0) / denom_tp
    res["AssRe"] = np.sum(mc * (mc / np.maximum(1, gc)), axis=0) / denom_tp
    res["AssPr"] = np.sum(mc * (mc / np.maximum(1, tc)), axis=0) / denom_tp
    res["HOTA_TP"] = tp
    res["HOTA_FN"] = data.num_gt_dets - tp
    res["HOTA_FP"] = data.num_tracker_dets - tp
    res["LocA"] = np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    return compute_final_fields(res)


def combine_hota(results: Sequence[Dict[str, object]]) -> Dict[str, object]:
    """Combined HOTA over sequences (TrackEval ``combine_sequences``): counts summed,
    AssA / AssRe / AssPr and LocA weighted by ``HOTA_TP``."""
    res: Dict[str, object] = {f: sum(r[f] for r in results) for f in INTEGER_ARRAY_FIELDS}
    w = np.maximum(1.0, res["HOTA_TP"])
    for f in ("AssRe", "AssPr", "AssA"):
        res[f] = sum(r[f] * r["HOTA_TP"] for r in results) / w
    loca = sum(r["LocA"] * r["HOTA_TP"] for r in results)
    res["LocA"] = np.maximum(1e-10, loca) / np.maximum(1e-10, res["HOTA_TP"])
    return compute_final_fields(res)


def compute_final_fields(res: Dict[str, object]) -> Dict[str, object]:
    """TrackEval ``HOTA._compute_final_fields``."""
    tp, fn, fp = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"]
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["OWTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    res["HOTA(0)"] = res["HOTA"][0]
    res["LocA(0)"] = res["LocA"][0]
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    return res
