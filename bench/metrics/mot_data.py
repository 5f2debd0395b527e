"""Per-sequence MOT evaluation data: MOTChallenge preprocessing and the shared IoU.

:func:`prepare_sequence` turns ground-truth rows and tracker rows into
:class:`MOTEvalData`, TrackEval's per-sequence ``data`` dict in flat arrays: per frame
the gt ids, the tracker ids and their IoU matrix, computed once and shared by CLEAR,
Identity and HOTA. The IoU matrices are stored sparsely: only the (gt box, tracker box)
pairs of a frame whose boxes overlap (IoU > 0) are kept, found with a sort on ``x``
instead of testing every pair; :meth:`MOTEvalData.similarity` rebuilds frame ``t``'s
dense ``(G_t, K_t)`` matrix (gt rows and tracker columns in file order), equal to the
``similarity_scores[t]`` TrackEval hands its metrics.

MOTChallenge preprocessing (TrackEval ``MotChallenge2DBox.get_preprocessed_seq_data``):

1. tracker rows of a class other than pedestrian (column 8, when present) are an error;
2. per frame, tracker boxes are Hungarian-matched to *all* gt boxes with IoU >= 0.5
   (``linear_sum_assignment`` on the IoU with entries below ``0.5 - eps`` zeroed); those
   matched to a distractor class (person_on_vehicle 2, static_person 7, distractor 8,
   reflection 12, and non_mot_vehicle 6 for MOT20) are removed;
3. only gt of the pedestrian class with ``zero_marked != 0`` is kept;
4. ids are relabelled to ``0..n-1`` in sorted order.

With ``preprocess=None`` (plain evaluation: TrackEval ``DO_PREPROC=False``, and MOT15)
steps 2 and the class filter of 3 are skipped; gt rows with ``zero_marked == 0`` are
still dropped, as TrackEval and the devkit do.

Where the candidate pairs of a frame are one-to-one (no box has two), every optimal
assignment contains exactly those pairs, so the Hungarian step is skipped; elsewhere the
same ``linear_sum_assignment`` runs on the same dense matrix as in TrackEval.

Boxes are ``xywh``; frames are 1-based in the rows and 0-based timesteps in the data.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.boxes import iou_pairs_xyxy
from ..core.errors import DataError

EPS = float(np.finfo(float).eps)
VALID_CLASSES = np.arange(1, 14)
_BLOCK = 1 << 15
PathLike = Union[str, Path]


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """MOTChallenge preprocessing settings (defaults: MOT16/MOT17; MOT20 adds class 6)."""

    distractor_classes: Tuple[int, ...] = (2, 7, 8, 12)
    eval_class: int = 1
    iou: float = 0.5


@dataclasses.dataclass
class MOTEvalData:
    """One sequence ready for the metrics (TrackEval's preprocessed ``data``, flattened).

    ``gt_ids`` / ``tr_ids``: contiguous ids of the gt / tracker boxes, ordered by frame
    (file order inside a frame), split by ``gt_off`` / ``tr_off`` (T + 1 offsets).
    ``pair_gt``, ``pair_tr``, ``sim``: the overlapping (IoU > 0) pairs of boxes of one
    frame (box indices and IoU), sorted by gt box then tracker box (frame-major, row-major),
    split by ``pair_off``. Every other pair of a frame has IoU 0.
    """

    name: str
    num_timesteps: int
    gt_ids: np.ndarray
    tr_ids: np.ndarray
    gt_off: np.ndarray
    tr_off: np.ndarray
    pair_gt: np.ndarray
    pair_tr: np.ndarray
    pair_off: np.ndarray
    sim: np.ndarray
    num_gt_ids: int
    num_tracker_ids: int
    removed_tracker_dets: int = 0
    #: row index (in the rows given to :func:`prepare_sequence`) of each kept gt / tracker box
    gt_rows: Optional[np.ndarray] = dataclasses.field(default=None, repr=False)
    tr_rows: Optional[np.ndarray] = dataclasses.field(default=None, repr=False)
    _local: Optional[np.ndarray] = dataclasses.field(default=None, repr=False)
    _lists: Optional[tuple] = dataclasses.field(default=None, repr=False)

    @property
    def num_gt_dets(self) -> int:
        return int(len(self.gt_ids))

    @property
    def num_tracker_dets(self) -> int:
        return int(len(self.tr_ids))

    @property
    def gt_counts(self) -> np.ndarray:
        """Gt boxes per frame (T,)."""
        return np.diff(self.gt_off)

    @property
    def tr_counts(self) -> np.ndarray:
        """Tracker boxes per frame (T,)."""
        return np.diff(self.tr_off)

    @property
    def pair_local(self) -> np.ndarray:
        """Flat index of each pair inside its frame's dense matrix: ``row * K_t + column``
        (increasing inside a frame)."""
        if self._local is None:
            k = np.repeat(self.tr_counts, np.diff(self.pair_off))
            row = self.pair_gt - np.repeat(self.gt_off[:-1], np.diff(self.pair_off))
            col = self.pair_tr - np.repeat(self.tr_off[:-1], np.diff(self.pair_off))
            self._local = row * k + col
        return self._local

    @property
    def offset_lists(self) -> tuple:
        """(gt_off, tr_off, pair_off) as Python lists (fast scalar access in frame loops)."""
        if self._lists is None:
            self._lists = (self.gt_off.tolist(), self.tr_off.tolist(), self.pair_off.tolist())
        return self._lists

    def dense(self, values: np.ndarray, t: int) -> np.ndarray:
        """The per-pair ``values`` of frame ``t`` as its dense (G_t, K_t) matrix (0 elsewhere)."""
        go, to, po = self.offset_lists
        g, k = go[t + 1] - go[t], to[t + 1] - to[t]
        m = np.zeros(g * k)
        m[self.pair_local[po[t]:po[t + 1]]] = values[po[t]:po[t + 1]]
        return m.reshape(g, k)

    def similarity(self, t: int) -> np.ndarray:
        """IoU matrix (G_t, K_t) of frame ``t`` (0-based), TrackEval's ``similarity_scores[t]``."""
        return self.dense(self.sim, t)


class _Rows:
    """Where rows came from, for error messages naming file and line."""

    def __init__(self, path: Optional[PathLike], row_index: Optional[np.ndarray] = None, what: str = ""):
        self.path, self.row_index, self.what = path, row_index, what

    def error(self, msg: str, row: int) -> DataError:
        from ..core.mot_text import line_of_row

        if self.path is None:
            return DataError(f"{self.what} row {row + 1}: {msg}")
        r = int(self.row_index[row]) if self.row_index is not None else row
        return DataError(msg, self.path, line_of_row(self.path, r))


def _xyxy(rows: np.ndarray) -> np.ndarray:
    """Columns 2:6 (``xywh``) of MOT rows as ``xyxy`` (``x2 = x + w``, as :func:`xywh_to_xyxy`)."""
    out = np.array(rows[:, 2:6], dtype=np.float64, order="C")
    out[:, 2:] += out[:, :2]
    return out


def offsets(counts: np.ndarray) -> np.ndarray:
    """Offsets (n + 1,) of consecutive groups of sizes ``counts``."""
    off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def frames_of(off: np.ndarray) -> np.ndarray:
    """0-based frame of each item given per-frame offsets."""
    return np.repeat(np.arange(len(off) - 1), np.diff(off))


def overlap_pairs(g_xyxy: np.ndarray, g_frame: np.ndarray, t_xyxy: np.ndarray, t_frame: np.ndarray,
                  t_off: np.ndarray, measure: Callable[[np.ndarray, np.ndarray], np.ndarray] = iou_pairs_xyxy
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (gt box, tracker box) pairs of one frame with IoU > 0, and their IoU.

    Boxes ``xyxy`` with 0-based frames; both sets sorted by frame, tracker boxes of frame
    ``f`` at ``t_off[f]:t_off[f+1]``. Tracker boxes are sorted by ``(frame, x1)``; for
    each gt box, the trackers whose ``x1`` lies in ``[gx1 - W_f - 1, gx2 + 1]`` (``W_f``
    the widest tracker box of the frame) are the only ones that can overlap it, and their
    IoU (:func:`bench.core.boxes.iou_pairs_xyxy`, TrackEval arithmetic) decides.
    Returns (pair_gt, pair_tr, iou) sorted by gt box, then tracker box.

    ``measure(a, b)`` replaces the IoU by another element-wise overlap that is positive
    only where two boxes intersect (KITTI's don't-care test uses
    :func:`bench.core.boxes.ioa_pairs_xyxy`, intersection over the first box's area).
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(g_xyxy) == 0 or len(t_xyxy) == 0:
        return empty
    T = len(t_off) - 1
    tx0 = t_xyxy[:, 0]
    tw = np.maximum(t_xyxy[:, 2] - tx0, 0)
    cnt = np.diff(t_off)
    wmax = np.zeros(T)
    nz = cnt > 0
    wmax[nz] = np.maximum.reduceat(tw, t_off[:-1][nz])
    gw = wmax[g_frame]
    base = min(float(tx0.min()), float((g_xyxy[:, 0] - gw).min())) - 4.0
    span = max(float(tx0.max()), float(g_xyxy[:, 2].max())) - base + 8.0
    order = np.lexsort((tx0, t_frame))
    key = t_frame[order] * span + (tx0[order] - base)
    gbase = g_frame * span - base
    lo = np.searchsorted(key, gbase + (g_xyxy[:, 0] - gw - 1.0), side="left")
    hi = np.searchsorted(key, gbase + (g_xyxy[:, 2] + 1.0), side="right")
    reps = np.maximum(hi - lo, 0)
    total = int(reps.sum())
    if total == 0:
        return empty
    # IoU of the candidates in blocks of about _BLOCK pairs (temporaries stay in cache)
    ends = np.cumsum(reps)
    cuts = np.searchsorted(ends, np.arange(_BLOCK, total, _BLOCK), side="left").tolist()
    out_g, out_t, out_iou = [], [], []
    for a, b in zip([0] + cuts, cuts + [len(reps)]):
        if b <= a:
            continue
        r = reps[a:b]
        n = int(r.sum())
        if n == 0:
            continue
        pg = np.repeat(np.arange(a, b, dtype=np.int64), r)
        pt = order[np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(r) - r - lo[a:b], r)]
        iou = measure(g_xyxy[pg], t_xyxy[pt])
        keep = np.flatnonzero(iou > 0)
        out_g.append(pg[keep])
        out_t.append(pt[keep])
        out_iou.append(iou[keep])
    pair_g = np.concatenate(out_g) if out_g else empty[0]
    pair_t = np.concatenate(out_t) if out_t else empty[1]
    iou = np.concatenate(out_iou) if out_iou else empty[2]
    order = np.argsort(pair_g * len(t_xyxy) + pair_t, kind="stable")
    return pair_g[order], pair_t[order], iou[order]


def conflict_frames(g_frame: np.ndarray, t_frame: np.ndarray, cg: np.ndarray, ct: np.ndarray,
                    num_frames: int) -> np.ndarray:
    """Boolean (T,): frames where a gt box or a tracker box has more than one candidate pair.

    ``cg`` / ``ct``: gt / tracker box index of each candidate pair; ``g_frame`` /
    ``t_frame``: 0-based frame of every box. Elsewhere the candidates are disjoint and
    every optimal assignment contains all of them.
    """
    bad = np.zeros(num_frames, dtype=bool)
    if len(cg):
        bad[g_frame[np.flatnonzero(np.bincount(cg, minlength=len(g_frame)) > 1)]] = True
        bad[t_frame[np.flatnonzero(np.bincount(ct, minlength=len(t_frame)) > 1)]] = True
    return bad


def prepare_sequence(gt: np.ndarray, tracker: np.ndarray, num_timesteps: int, *,
                     preprocess: Optional[Preprocess] = Preprocess(), name: str = "",
                     gt_path: Optional[PathLike] = None, tracker_path: Optional[PathLike] = None,
                     gt_row_index: Optional[np.ndarray] = None, check: bool = True) -> MOTEvalData:
    """Build :class:`MOTEvalData` from raw rows.

    ``gt``: (N, >=7) ``frame, id, x, y, w, h, zero_marked, [class], ...`` (no class
    column: pedestrian). ``tracker``: (M, >=7) ``frame, id, x, y, w, h, conf, [class], ...``.
    ``preprocess``: :class:`Preprocess` settings, or None for plain evaluation.
    ``check`` validates frames, ids and boxes (the file readers already do).
    Paths (and ``gt_row_index``, the file row of each ``gt`` row) only serve error messages.
    """
    from ..core.mot_text import check_rows

    T = int(num_timesteps)
    gt = np.asarray(gt, dtype=np.float64)
    tracker = np.asarray(tracker, dtype=np.float64)
    if gt.size == 0:
        gt = np.zeros((0, 9))
    if tracker.size == 0:
        tracker = np.zeros((0, 7))
    src_g = _Rows(gt_path, gt_row_index, "ground truth")
    src_t = _Rows(tracker_path, None, "tracker")
    if gt.ndim != 2 or gt.shape[1] < 7:
        raise DataError(f"ground truth rows must be (N, >=7), got {gt.shape}", gt_path)
    if tracker.ndim != 2 or tracker.shape[1] < 7:
        raise DataError(f"tracker rows must be (N, >=7), got {tracker.shape}", tracker_path)
    if check:
        if gt_row_index is None:
            check_rows(gt, gt_path, what="ground truth", length=T)
        check_rows(tracker, tracker_path, what="tracker results", length=T)
    for rows, src in ((gt, src_g), (tracker, src_t)):
        if len(rows):
            f = rows[:, 0]
            bad = (f < 1) | (f > T)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise src.error(f"frame {int(f[i])} is outside the sequence (1..{T})", i)

    # Tracker class column: TrackEval refuses anything but pedestrians (class <= 1).
    if tracker.shape[1] >= 8 and len(tracker):
        bad = tracker[:, 7].astype(np.int64) > 1
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise src_t.error(f"class {int(tracker[i, 7])} in column 8: evaluation is only valid for the "
                              "pedestrian class (1, or -1 when unused)", i)

    # Frame-major order, file order inside a frame (TrackEval groups rows the same way).
    gf_raw = gt[:, 0].astype(np.int64) - 1
    tf_raw = tracker[:, 0].astype(np.int64) - 1
    og = np.argsort(gf_raw, kind="stable") if np.any(gf_raw[1:] < gf_raw[:-1]) else None
    ot = np.argsort(tf_raw, kind="stable") if np.any(tf_raw[1:] < tf_raw[:-1]) else None
    gt_s = gt if og is None else gt[og]
    tr_s = tracker if ot is None else tracker[ot]
    g_frame = gf_raw if og is None else gf_raw[og]
    t_frame = tf_raw if ot is None else tf_raw[ot]
    g_zero = gt_s[:, 6].astype(np.int64)
    g_cls = gt_s[:, 7].astype(np.int64) if gt.shape[1] >= 8 else np.ones(len(gt), np.int64)
    g_xyxy = _xyxy(gt_s)
    t_xyxy = _xyxy(tr_s)
    g_cnt = np.bincount(g_frame, minlength=T)
    t_cnt = np.bincount(t_frame, minlength=T)
    g_off_all = offsets(g_cnt)
    t_off_all = offsets(t_cnt)

    if preprocess is not None:
        g_keep = (g_zero != 0) & (g_cls == preprocess.eval_class)
        g_dis = np.isin(g_cls, np.asarray(preprocess.distractor_classes, dtype=np.int64))
        invalid = ~np.isin(g_cls, VALID_CLASSES) & (t_cnt > 0)[g_frame]
        if invalid.any():
            i = int(np.flatnonzero(invalid)[0])
            raise src_g.error(f"class {int(g_cls[i])} is not a MOTChallenge class (1..13); evaluate "
                              "without preprocessing for such data", i if og is None else int(og[i]))
        g_use = np.ones(len(gt_s), dtype=bool)  # every gt box takes part in the distractor matching
    else:
        g_keep = g_zero != 0
        g_dis = np.zeros(len(gt_s), dtype=bool)
        g_use = g_keep

    # The IoU of every overlapping (gt, tracker) pair: computed once.
    use = np.flatnonzero(g_use)
    pg, pair_t, sim = overlap_pairs(g_xyxy[use], g_frame[use], t_xyxy, t_frame, t_off_all)
    pair_g = use[pg]

    t_keep = np.ones(len(tr_s), dtype=bool)
    if preprocess is not None and g_dis.any() and len(pair_g):
        thr = preprocess.iou - EPS
        cand = sim >= thr
        dis_pair = cand & g_dis[pair_g]
        if dis_pair.any():
            flagged = np.zeros(T, dtype=bool)
            flagged[g_frame[pair_g[dis_pair]]] = True
            cand &= flagged[g_frame[pair_g]]
            conflict = conflict_frames(g_frame, t_frame, pair_g[cand], pair_t[cand], T)
            simple = dis_pair & ~conflict[g_frame[pair_g]]
            t_keep[pair_t[simple]] = False
            frames = np.flatnonzero(conflict)
            pf = g_frame[pair_g]
            lo = np.searchsorted(pf, frames, side="left").tolist()
            hi = np.searchsorted(pf, frames, side="right").tolist()
            for f, a, b in zip(frames.tolist(), lo, hi):
                g0, t0 = g_off_all[f], t_off_all[f]
                # TrackEval's matching matrix: the frame's IoU with entries below 0.5 - eps zeroed
                scores = np.zeros((g_cnt[f], t_cnt[f]))
                scores[pair_g[a:b] - g0, pair_t[a:b] - t0] = sim[a:b]
                scores[scores < thr] = 0
                rows, cols = linear_sum_assignment(-scores)
                ok = scores[rows, cols] > 0 + EPS
                rows, cols = rows[ok], cols[ok]
                t_keep[t0 + cols[g_dis[g0 + rows]]] = False

    # Keep pedestrian, non-zero-marked gt and the surviving tracker boxes.
    return kept_eval_data(name, T, g_frame, gt_s[:, 1], g_keep, t_frame, tr_s[:, 1], t_keep, pair_g, pair_t, sim,
                          og, ot)


def kept_eval_data(name: str, num_timesteps: int, g_frame: np.ndarray, g_ids: np.ndarray, g_keep: np.ndarray,
                   t_frame: np.ndarray, t_ids: np.ndarray, t_keep: np.ndarray, pair_g: np.ndarray,
                   pair_t: np.ndarray, sim: np.ndarray, g_order: Optional[np.ndarray] = None,
                   t_order: Optional[np.ndarray] = None) -> MOTEvalData:
    """:class:`MOTEvalData` of the kept boxes (the last step of every preprocessing).

    ``g_frame`` / ``t_frame``: 0-based frames of all gt / tracker boxes, sorted (frame-major,
    file order inside a frame); ``g_ids`` / ``t_ids`` their raw ids; ``g_keep`` / ``t_keep``
    which survive; ``pair_g``, ``pair_t``, ``sim``: the overlapping pairs (indices into all
    boxes) sorted by gt then tracker box. Ids are relabelled to ``0..n-1`` in sorted order
    over the kept boxes, as TrackEval does after preprocessing. ``g_order`` / ``t_order``: the
    input row of each sorted box (None: already in input order), kept as ``gt_rows`` / ``tr_rows``.
    """
    T = int(num_timesteps)
    keep_pair = g_keep[pair_g] & t_keep[pair_t]
    g_new = np.cumsum(g_keep) - 1
    t_new = np.cumsum(t_keep) - 1
    gk_cnt = np.bincount(g_frame[g_keep], minlength=T)
    tk_cnt = np.bincount(t_frame[t_keep], minlength=T)
    pair_g = pair_g[keep_pair]
    gt_uids, gt_ids = np.unique(np.asarray(g_ids)[g_keep].astype(np.int64), return_inverse=True)
    tr_uids, tr_ids = np.unique(np.asarray(t_ids)[t_keep].astype(np.int64), return_inverse=True)
    return MOTEvalData(
        name=name, num_timesteps=T,
        gt_ids=gt_ids.astype(np.int64).ravel(), tr_ids=tr_ids.astype(np.int64).ravel(),
        gt_off=offsets(gk_cnt), tr_off=offsets(tk_cnt),
        pair_gt=g_new[pair_g], pair_tr=t_new[pair_t[keep_pair]],
        pair_off=offsets(np.bincount(g_frame[pair_g], minlength=T)), sim=sim[keep_pair],
        num_gt_ids=int(len(gt_uids)), num_tracker_ids=int(len(tr_uids)),
        removed_tracker_dets=int(len(t_keep) - t_keep.sum()),
        gt_rows=(np.arange(len(g_keep)) if g_order is None else np.asarray(g_order))[g_keep],
        tr_rows=(np.arange(len(t_keep)) if t_order is None else np.asarray(t_order))[t_keep])


def candidate_conflicts(data: MOTEvalData, cand: np.ndarray) -> np.ndarray:
    """Boolean (T,): frames where the candidate pairs ``cand`` (mask over pairs) are not one-to-one."""
    return conflict_frames(frames_of(data.gt_off), frames_of(data.tr_off), data.pair_gt[cand],
                           data.pair_tr[cand], data.num_timesteps)


def as_preprocess(enabled: bool, distractor_classes: Sequence[int] = (2, 7, 8, 12), eval_class: int = 1,
                  iou: float = 0.5) -> Optional[Preprocess]:
    """:class:`Preprocess` settings, or None for plain evaluation."""
    if not enabled:
        return None
    return Preprocess(tuple(int(c) for c in distractor_classes), int(eval_class), float(iou))
