"""CLEAR MOT metrics (MOTA, MOTP, FP, FN, IDSW, Frag, MT, PT, ML), as TrackEval computes them.

TrackEval ``metrics/clear.py``: per frame, a Hungarian assignment on
``1000 * [tracker id == the gt's match in the previous frame] + IoU`` with entries whose
IoU is below ``threshold - eps`` zeroed; matches need a positive score. An IDSW is a
match whose tracker id differs from the gt's last match at any earlier time; Frag counts
re-starts of a gt's matched run; MT / PT / ML: tracked ratio > 0.8 / >= 0.2 / below.
``MOTA = (TP - FP - IDSW) / max(1, TP + FN)``, ``MOTP = sum(IoU of matches) / TP``.

Vectorised: in frames where every gt and tracker box has at most one candidate (IoU >=
threshold), the candidates are the matches whatever the previous frame was, so the
Hungarian step only runs in the other frames, in order (they need the previous
"active" frame's matches); IDSW, Frag and MT/PT/ML come from the match list at once.
Results are TrackEval's field dicts (``CLR_TP``, ``MOTA``, ...).
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from .mot_data import EPS, MOTEvalData, candidate_conflicts, frames_of

INTEGER_FIELDS = ["CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames"]
FLOAT_FIELDS = ["MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA",
                "CLR_F1", "FP_per_frame", "MOTAL", "MOTP_sum"]
SUMMED_FIELDS = INTEGER_FIELDS + ["MOTP_sum"]


def _empty() -> Dict[str, float]:
    return {f: 0 for f in FLOAT_FIELDS + INTEGER_FIELDS}


def clear_matches(data: MOTEvalData, threshold: float = 0.5):
    """The CLEAR matches of a sequence as pair indices into ``data.sim`` (frame-ordered)."""
    sim = data.sim
    thr = threshold - EPS
    cand = sim >= thr
    conflict = candidate_conflicts(data, cand)
    pair_frame = frames_of(data.pair_off)
    simple = cand & ~conflict[pair_frame]
    frames = np.flatnonzero(conflict)
    if not len(frames):
        return np.flatnonzero(simple)
    gt_ids, tr_ids = data.gt_ids, data.tr_ids
    local = data.pair_local
    # candidates of the conflict frames, grouped by frame, and each frame's dense
    # (negated) score matrix without the continuation bonus, laid out in one buffer
    g_cnt, t_cnt = data.gt_counts[frames], data.tr_counts[frames]
    boff = np.zeros(len(frames) + 1, dtype=np.int64)
    np.cumsum(g_cnt * t_cnt, out=boff[1:])
    ci = np.flatnonzero(cand & conflict[pair_frame])
    cf = pair_frame[ci]
    c_lo = np.searchsorted(cf, frames, side="left").tolist()
    c_hi = np.searchsorted(cf, frames, side="right").tolist()
    slot = np.full(data.num_timesteps, -1, dtype=np.int64)
    slot[frames] = np.arange(len(frames))
    c_pos = boff[slot[cf]] + local[ci]
    c_gid, c_tid, c_sim = gt_ids[data.pair_gt[ci]], tr_ids[data.pair_tr[ci]], sim[ci]
    c_bonus = -(1000.0 + c_sim)  # TrackEval: 1000 * [tracker id == previous match] + IoU
    buf = np.zeros(int(boff[-1]))
    buf[c_pos] = -c_sim
    # matches of the previous "active" frame (with gt and tracker boxes) of each conflict frame
    si = np.flatnonzero(simple)
    sf = pair_frame[si]
    s_gid, s_tid = gt_ids[data.pair_gt[si]], tr_ids[data.pair_tr[si]]
    active = (data.gt_counts > 0) & (data.tr_counts > 0)
    active_frames = np.flatnonzero(active)
    rank = (np.cumsum(active) - 1)[frames]
    prev = np.where(rank > 0, active_frames[np.maximum(rank - 1, 0)], -1)
    p_lo = np.searchsorted(sf, prev, side="left").tolist()
    p_hi = np.searchsorted(sf, prev, side="right").tolist()
    need = np.zeros(len(frames), dtype=bool)
    need[:-1] = prev[1:] == frames[:-1]
    go, to, _ = data.offset_lists
    prev_ts = np.full(data.num_gt_ids, -1, dtype=np.int64)
    last_f, last_gid, last_tid = -2, s_gid[:0], s_tid[:0]
    rows_l, cols_l = [], []
    for f, pf, a, b, c0, c1, b0, b1, k, nxt in zip(frames.tolist(), prev.tolist(), p_lo, p_hi, c_lo, c_hi,
                                                    boff[:-1].tolist(), boff[1:].tolist(), t_cnt.tolist(),
                                                    need.tolist()):
        if pf == last_f:
            pg, pt = last_gid, last_tid
        else:
            pg, pt = s_gid[a:b], s_tid[a:b]
        if len(pg):
            prev_ts[pg] = pt
            bonus = (prev_ts[c_gid[c0:c1]] == c_tid[c0:c1]).nonzero()[0] + c0
            prev_ts[pg] = -1
            buf[c_pos[bonus]] = c_bonus[bonus]
        m = buf[b0:b1]
        rows, cols = linear_sum_assignment(m.reshape(-1, k))
        rows_l.append(rows)
        cols_l.append(cols)
        if nxt:
            hit = m[rows * k + cols] < 0
            last_f, last_gid, last_tid = f, gt_ids[go[f] + rows[hit]], tr_ids[to[f] + cols[hit]]
    n = np.array([len(r) for r in rows_l])
    flat = np.concatenate(rows_l) * np.repeat(t_cnt, n) + np.concatenate(cols_l)
    span = int((data.gt_counts * data.tr_counts).max()) + 1
    key = pair_frame * span + local
    want = np.repeat(frames, n) * span + flat
    idx = np.minimum(np.searchsorted(key, want), len(key) - 1)
    idx = idx[(key[idx] == want)]
    idx = idx[cand[idx]]
    return np.sort(np.concatenate([si, idx]))


def clear(data: MOTEvalData, threshold: float = 0.5) -> Dict[str, float]:
    """CLEAR metrics of one sequence (TrackEval ``CLEAR.eval_sequence``), fractions in [0, 1]."""
    res = _empty()
    if data.num_tracker_dets == 0:
        res["CLR_FN"] = data.num_gt_dets
        res["ML"] = data.num_gt_ids
        res["MLR"] = 1.0
        return res
    if data.num_gt_dets == 0:
        res["CLR_FP"] = data.num_tracker_dets
        res["MLR"] = 1.0
        return res
    idx = clear_matches(data, threshold)
    m_frame = frames_of(data.pair_off)[idx]
    gid = data.gt_ids[data.pair_gt[idx]]
    tid = data.tr_ids[data.pair_tr[idx]]
    m_sim = data.sim[idx]
    tp = len(gid)
    # IDSW: a gt's match differs from its previous match (at any earlier time).
    order = np.lexsort((m_frame, gid))
    gs, ts = gid[order], tid[order]
    same = gs[1:] == gs[:-1]
    idsw = int(np.count_nonzero(same & (ts[1:] != ts[:-1])))
    # Frag: matched runs over "active" frames (frames with gt and tracker boxes).
    active = (data.gt_counts > 0) & (data.tr_counts > 0)
    rank = (np.cumsum(active) - 1)[m_frame][order]
    starts = 1 + int(np.count_nonzero(~same | (rank[1:] != rank[:-1] + 1))) if tp else 0
    frag = starts - len(np.unique(gid)) if tp else 0
    # MT / PT / ML from the tracked ratio of every gt id.
    count = np.bincount(data.gt_ids, minlength=data.num_gt_ids)
    matched = np.bincount(gid, minlength=data.num_gt_ids)
    present = count > 0
    ratio = matched[present] / count[present]
    mt = int(np.count_nonzero(ratio > 0.8))
    pt = int(np.count_nonzero(ratio >= 0.2)) - mt
    res.update(CLR_TP=tp, CLR_FN=data.num_gt_dets - tp, CLR_FP=data.num_tracker_dets - tp, IDSW=idsw,
               MT=mt, PT=pt, ML=data.num_gt_ids - mt - pt, Frag=frag, MOTP_sum=float(np.sum(m_sim)),
               CLR_Frames=data.num_timesteps)
    return compute_final_fields(res)


def combine_clear(results: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """Combined CLEAR over sequences (TrackEval ``combine_sequences``: sum counts, recompute)."""
    res = {f: sum(r[f] for r in results) for f in SUMMED_FIELDS}
    return compute_final_fields(res)


def compute_final_fields(res: Dict[str, float]) -> Dict[str, float]:
    """TrackEval ``CLEAR._compute_final_fields``."""
    num_gt_ids = res["MT"] + res["ML"] + res["PT"]
    res["MTR"] = res["MT"] / max(1.0, num_gt_ids)
    res["MLR"] = res["ML"] / max(1.0, num_gt_ids)
    res["PTR"] = res["PT"] / max(1.0, num_gt_ids)
    tp, fn, fp, idsw = res["CLR_TP"], res["CLR_FN"], res["CLR_FP"], res["IDSW"]
    res["CLR_Re"] = tp / max(1.0, tp + fn)
    res["CLR_Pr"] = tp / max(1.0, tp + fp)
    res["MODA"] = (tp - fp) / max(1.0, tp + fn)
    res["MOTA"] = (tp - fp - idsw) / max(1.0, tp + fn)
    res["MOTP"] = res["MOTP_sum"] / max(1.0, tp)
    res["sMOTA"] = (res["MOTP_sum"] - fp - idsw) / max(1.0, tp + fn)
    res["CLR_F1"] = tp / max(1.0, tp + 0.5 * fn + 0.5 * fp)
    res["FP_per_frame"] = fp / max(1.0, res["CLR_Frames"])
    safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    res["MOTAL"] = (tp - fp - safe_log_idsw) / max(1.0, tp + fn)
    return res
