"""KITTI tracking preprocessing (TrackEval 1.3.0 ``Kitti2DBox``), vectorised, per evaluated class.

:func:`prepare_kitti_sequence` turns a sequence's KITTI ground truth and tracker rows into
the :class:`~bench.metrics.mot_data.MOTEvalData` of one class (``car`` or ``pedestrian``),
on which CLEAR, Identity and HOTA run unchanged. The rules, from
``trackeval/datasets/kitti_2d_box.py`` (``_load_raw_file``, ``get_preprocessed_seq_data``):

1. gt of the class and of its distractor class (car: van; pedestrian: person, i.e. person
   sitting) and tracker boxes of the class take part; ``DontCare`` rows are don't-care
   regions; rows with a negative track id are not read (``remove_negative_ids``);
2. per frame, tracker boxes are Hungarian-matched to those gt boxes (IoU with entries below
   ``0.5 - eps`` zeroed, a match needs a score ``> eps``); tracker boxes matched to a
   distractor-class box, or to a box with ``occluded > 2`` or ``truncated > 0`` (both read
   as integers, ``astype(int)``), are removed;
3. unmatched tracker boxes are removed when their height ``y2 - y1 <= 25`` or when more than
   half of their area (``intersection / tracker box area > 0.5``) lies inside one don't-care
   region (``_calculate_box_ious(..., box_format='x0y0x1y1', do_ioa=True)``);
4. only gt of the class with ``occluded <= 2`` and ``truncated <= 0`` is kept; ids are
   relabelled to ``0..n-1``.

Boxes are the files' corners ``x1 y1 x2 y2`` (TrackEval's ``x0y0x1y1``), never converted,
so the IoU (:func:`bench.core.boxes.iou_pairs_xyxy`) sees the same numbers as TrackEval.
The overlapping pairs come from :func:`bench.metrics.mot_data.overlap_pairs`; frames whose
candidate pairs are one-to-one skip the Hungarian step, the others run the same
``linear_sum_assignment`` on the same matrix (rows: the frame's gt boxes of the class and
its distractors in file order; columns: its tracker boxes of the class in file order).

Arrays (frames 1-based, as every :class:`~bench.core.sequence.MOTSequence`):
gt ``(N, 9)`` ``frame, id, x1, y1, x2, y2, class, truncated, occluded``; tracker
``(M, 8)`` ``frame, id, x1, y1, x2, y2, class, score`` (class ids of
:data:`bench.core.kitti_text.CLASS_IDS`).
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.boxes import ioa_pairs_xyxy
from ..core.errors import DataError
from ..core.kitti_text import DONTCARE
from .mot_data import EPS, MOTEvalData, conflict_frames, kept_eval_data, offsets, overlap_pairs

GT_COLUMNS = ("frame", "id", "x1", "y1", "x2", "y2", "class", "truncated", "occluded")
TRACKER_COLUMNS = ("frame", "id", "x1", "y1", "x2", "y2", "class", "score")


@dataclasses.dataclass(frozen=True)
class KITTIClassRule:
    """How one class is evaluated (TrackEval ``Kitti2DBox`` constants and distractor classes)."""

    class_id: int
    distractor_ids: Tuple[int, ...]
    max_occlusion: float = 2
    max_truncation: float = 0
    min_height: float = 25
    dontcare_ioa: float = 0.5
    iou: float = 0.5


def _by_frame(frames: np.ndarray) -> np.ndarray:
    """Stable order by frame (file order inside a frame)."""
    return np.argsort(frames, kind="stable")


def prepare_kitti_sequence(gt: np.ndarray, tracker: np.ndarray, num_timesteps: int, rule: KITTIClassRule, *,
                           name: str = "") -> MOTEvalData:
    """The evaluation data of one class of one sequence (see the module docstring)."""
    T = int(num_timesteps)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, len(GT_COLUMNS))
    tracker = np.asarray(tracker, dtype=np.float64).reshape(-1, len(TRACKER_COLUMNS))
    for rows, what in ((gt, "ground truth"), (tracker, "tracker")):
        if len(rows) and (rows[:, 0].min() < 1 or rows[:, 0].max() > T):
            raise DataError(f"{name}: {what} frame outside the sequence (1..{T})")
    g_cls_all = gt[:, 6].astype(np.int64)
    use_ids = np.asarray((rule.class_id,) + tuple(rule.distractor_ids), dtype=np.int64)
    g_sel = np.isin(g_cls_all, use_ids) & (gt[:, 1] >= 0)
    g = gt[g_sel]
    g = g[_by_frame(g[:, 0])]
    t_sel = (tracker[:, 6].astype(np.int64) == rule.class_id) & (tracker[:, 1] >= 0)
    tr = tracker[t_sel]
    tr = tr[_by_frame(tr[:, 0])]
    dc = gt[(g_cls_all == DONTCARE)]
    dc = dc[_by_frame(dc[:, 0])]

    g_frame = g[:, 0].astype(np.int64) - 1
    t_frame = tr[:, 0].astype(np.int64) - 1
    g_xyxy = np.ascontiguousarray(g[:, 2:6])
    t_xyxy = np.ascontiguousarray(tr[:, 2:6])
    g_cnt = np.bincount(g_frame, minlength=T)
    t_cnt = np.bincount(t_frame, minlength=T)
    g_off = offsets(g_cnt)
    t_off = offsets(t_cnt)
    g_cls = g[:, 6].astype(np.int64)
    g_trunc = np.trunc(g[:, 7])  # TrackEval: time_data[:, 3].astype(int)
    g_occ = np.trunc(g[:, 8])

    # The IoU of every overlapping (gt, tracker) pair of a frame: computed once.
    pair_g, pair_t, sim = overlap_pairs(g_xyxy, g_frame, t_xyxy, t_frame, t_off)

    # Step 2: the Hungarian matching of TrackEval, on the candidate pairs (IoU >= 0.5 - eps).
    thr = rule.iou - EPS
    match_g = np.full(len(tr), -1, dtype=np.int64)
    cand = sim >= thr
    if cand.any():
        conflict = conflict_frames(g_frame, t_frame, pair_g[cand], pair_t[cand], T)
        simple = cand & ~conflict[g_frame[pair_g]]
        match_g[pair_t[simple]] = pair_g[simple]
        frames = np.flatnonzero(conflict)
        pf = g_frame[pair_g]
        lo = np.searchsorted(pf, frames, side="left").tolist()
        hi = np.searchsorted(pf, frames, side="right").tolist()
        for f, a, b in zip(frames.tolist(), lo, hi):
            g0, t0 = g_off[f], t_off[f]
            scores = np.zeros((g_cnt[f], t_cnt[f]))
            scores[pair_g[a:b] - g0, pair_t[a:b] - t0] = sim[a:b]
            scores[scores < thr] = 0
            rows, cols = linear_sum_assignment(-scores)
            ok = scores[rows, cols] > 0 + EPS
            match_g[t0 + cols[ok]] = g0 + rows[ok]
    matched = match_g >= 0
    g_remove_match = ((g_cls != rule.class_id) | (g_occ > rule.max_occlusion + EPS)
                      | (g_trunc > rule.max_truncation + EPS))
    t_remove = np.zeros(len(tr), dtype=bool)
    t_remove[matched] = g_remove_match[match_g[matched]]

    # Step 3: unmatched tracker boxes that are too small or inside a don't-care region.
    unmatched = np.flatnonzero(~matched)
    if len(unmatched):
        u_xyxy = t_xyxy[unmatched]
        small = (u_xyxy[:, 3] - u_xyxy[:, 1]) <= rule.min_height + EPS
        inside = np.zeros(len(unmatched), dtype=bool)
        if len(dc):
            d_frame = dc[:, 0].astype(np.int64) - 1
            d_off = offsets(np.bincount(d_frame, minlength=T))
            pu, _, ioa = overlap_pairs(u_xyxy, t_frame[unmatched], np.ascontiguousarray(dc[:, 2:6]), d_frame, d_off,
                                       measure=ioa_pairs_xyxy)
            inside[pu[ioa > rule.dontcare_ioa + EPS]] = True
        t_remove[unmatched[small | inside]] = True

    # Step 4: keep the class's unoccluded, untruncated gt and the surviving tracker boxes.
    g_keep = (g_occ <= rule.max_occlusion) & (g_trunc <= rule.max_truncation) & (g_cls == rule.class_id)
    return kept_eval_data(name, T, g_frame, g[:, 1], g_keep, t_frame, tr[:, 1], ~t_remove, pair_g, pair_t, sim)
