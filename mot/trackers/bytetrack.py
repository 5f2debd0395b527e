"""ByteTrack (Zhang et al., ECCV 2022), as in ifzhang/ByteTrack ``yolox/tracker/byte_tracker.py``.

BYTE associates every detection box, in two stages:

1. detections scoring above ``track_thresh`` are matched to all tracked and lost
   tracks (Kalman-predicted, :class:`mot.kalman.ByteKalman`) on the IoU distance
   fused with the detection score, accepting pairs below ``match_thresh``;
2. detections between ``low_thresh`` and ``track_thresh`` are matched to the tracked
   tracks left over, on IoU alone (``second_match_thresh``); tracks still unmatched
   become *lost*.

Tracks born in the previous frame (unconfirmed) are matched to the remaining
high-score detections (``unconfirmed_match_thresh``) or removed; remaining detections
above ``new_track_thresh`` start tracks; lost tracks are removed after
``track_buffer`` frames (scaled by ``fps / 30``); duplicated tracked / lost pairs
(IoU distance < ``duplicate_iou_dist``) keep the older one. Only activated tracked
tracks are reported, with their filter state as box and last detection score.

``bytetrack-reid`` adds appearance: each track keeps an exponential moving average of
its features (:mod:`mot.reid`); in the first stage the distance becomes
``d = sqrt(d_feat~ * d_iou)`` with ``d_feat~`` the cosine distance gated by overlap
(:func:`mot.association.fused_reid_cost`). It needs the images.

All tracks are held in one table (:class:`mot.tracks.Tracks`); one predict / update call
serves every track.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np

from bench.core.registry import register_tracker
from bench.core.tracker import MOTTracker

from ..association import cosine_distance, fuse_score, fused_reid_cost, iou_cost, linear_assignment
from ..kalman import ByteKalman
from ..reid import AppearanceConfig, build_encoder
from ..tracks import Tracks

TRACKED, LOST, REMOVED = 1, 2, 3


@dataclasses.dataclass
class ByteTrackConfig:
    track_thresh: float = 0.6          # high / low split of detection scores
    low_thresh: float = 0.1            # detections at or below are dropped
    new_track_thresh: float = 0.7      # score needed to start a track
    match_thresh: float = 0.8          # first-stage cost limit (IoU distance fused with score)
    second_match_thresh: float = 0.5   # second-stage cost limit (IoU distance)
    unconfirmed_match_thresh: float = 0.7
    track_buffer: int = 30             # frames a lost track is kept (at 30 fps)
    frame_rate: float = 30.0           # used when the harness gives no fps
    fuse_det_score: bool = True        # ByteTrack fuses scores except on MOT20 (``--mot20``)
    duplicate_iou_dist: float = 0.15   # tracked/lost pairs closer than this are duplicates
    min_box_area: float = 0.0          # reported boxes smaller than this are not written
    max_aspect_ratio: float = 0.0      # reported boxes with w/h above this are not written (0 = off)


@dataclasses.dataclass
class ByteTrackReIDConfig(ByteTrackConfig):
    proximity_thresh: float = 0.5      # appearance used only where IoU distance <= this
    appearance_thresh: float = 0.25    # ... and cosine distance <= this
    feature_momentum: float = 0.9      # EMA of track features
    appearance: AppearanceConfig = dataclasses.field(default_factory=AppearanceConfig)


@register_tracker("bytetrack", kind="mot", config="trackers/bytetrack.yaml")
class ByteTrack(MOTTracker):
    """ByteTrack: two-stage association of high- and low-score detections (Zhang et al. 2022)."""

    Config = ByteTrackConfig
    needs_images = False

    def __init__(self, config=None, *, weights: Optional[str] = None, seed: int = 0):
        super().__init__(config, weights=weights, seed=seed)
        self.kf = ByteKalman()
        self.fps: Optional[float] = None
        self.reset()

    # -- state ------------------------------------------------------------
    def reset(self, fps: Optional[float] = None) -> None:
        """Forget all tracks; ``fps`` (frames per second of the next sequence) scales the buffer."""
        self.fps = fps
        self.frame = 0
        self._next_id = 1
        self.tracks = Tracks.empty(**self._columns())

    def _columns(self):
        """The track table's columns: ``name=dtype`` or ``name=(dtype, row shape)``."""
        return dict(mean=(np.float64, 8), cov=(np.float64, (8, 8)), ids=np.int64, state=np.int8, activated=bool,
                    frame_id=np.int64, start_frame=np.int64, score=np.float64, tracklet_len=np.int64)

    @property
    def max_time_lost(self) -> int:
        rate = self.fps if self.fps else self.config.frame_rate
        return int(rate / 30.0 * self.config.track_buffer)

    def _new_rows(self, dets: np.ndarray, feats: Optional[np.ndarray]):
        """Columns of new tracks started from ``dets`` (``STrack.activate``)."""
        n = len(dets)
        m, c = self.kf.initiate(dets[:, :4])
        f = np.full(n, self.frame, np.int64)
        return dict(mean=m, cov=c, ids=np.arange(self._next_id, self._next_id + n),
                    state=np.full(n, TRACKED, np.int8), activated=np.full(n, self.frame == 1), frame_id=f,
                    start_frame=f, score=dets[:, 4], tracklet_len=np.zeros(n, np.int64))

    def _append(self, dets: np.ndarray, feats: Optional[np.ndarray]) -> None:
        self.tracks.append(**self._new_rows(dets, feats))
        self._next_id += len(dets)

    # -- appearance hooks (overridden by bytetrack-reid) -------------------
    def _features(self, image, boxes: np.ndarray) -> Optional[np.ndarray]:
        return None

    def _first_cost(self, t_idx: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
                    feats: Optional[np.ndarray]) -> np.ndarray:
        cost = iou_cost(self._boxes(t_idx), boxes)
        if self.config.fuse_det_score:
            cost = fuse_score(cost, scores)
        return cost

    def _update_features(self, t_idx: np.ndarray, feats: Optional[np.ndarray]) -> None:
        pass

    # -- helpers ----------------------------------------------------------------
    def _boxes(self, idx: np.ndarray) -> np.ndarray:
        return self.kf.state_to_xywh(self.tracks.mean[idx])

    def _correct(self, t_idx: np.ndarray, dets: np.ndarray, feats: Optional[np.ndarray]) -> None:
        """``STrack.update`` / ``re_activate`` for the tracks ``t_idx`` with detections ``dets``."""
        if len(t_idx) == 0:
            return
        t = self.tracks
        t.mean[t_idx], t.cov[t_idx] = self.kf.update(t.mean[t_idx], t.cov[t_idx], dets[:, :4])
        was_tracked = t.state[t_idx] == TRACKED
        t.tracklet_len[t_idx] = np.where(was_tracked, t.tracklet_len[t_idx] + 1, 0)
        t.state[t_idx] = TRACKED
        t.activated[t_idx] = True
        t.frame_id[t_idx] = self.frame
        t.score[t_idx] = dets[:, 4]
        self._update_features(t_idx, feats)

    # -- one frame --------------------------------------------------------------
    def update(self, image, detections: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        self.frame += 1
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)
        s = dets[:, 4]
        high = dets[s > cfg.track_thresh]
        low = dets[(s > cfg.low_thresh) & (s < cfg.track_thresh)]
        f_high = self._features(image, high[:, :4])
        t = self.tracks

        # pools (indices into the track arrays)
        is_tracked = t.state == TRACKED
        unconfirmed = np.flatnonzero(is_tracked & ~t.activated)
        pool = np.flatnonzero((is_tracked & t.activated) | (t.state == LOST))

        # predict tracked and lost tracks (lost ones with zero height velocity)
        if len(pool):
            m = t.mean[pool]
            m[t.state[pool] != TRACKED, 7] = 0.0
            t.mean[pool], t.cov[pool] = self.kf.predict(m, t.cov[pool])

        # first association: high-score detections vs tracked + lost
        cost = self._first_cost(pool, high[:, :4], high[:, 4], f_high)
        matches, u_pool, u_high = linear_assignment(cost, cfg.match_thresh)
        if len(matches):
            self._correct(pool[matches[:, 0]], high[matches[:, 1]],
                          None if f_high is None else f_high[matches[:, 1]])

        # second association: low-score detections vs tracked tracks left over
        r_tracked = pool[u_pool]
        r_tracked = r_tracked[t.state[r_tracked] == TRACKED]
        matches2, u_r, _ = linear_assignment(iou_cost(self._boxes(r_tracked), low[:, :4]),
                                             cfg.second_match_thresh)
        if len(matches2):
            t2 = r_tracked[matches2[:, 0]]
            t.mean[t2], t.cov[t2] = self.kf.update(t.mean[t2], t.cov[t2], low[matches2[:, 1], :4])
            t.tracklet_len[t2] += 1
            t.activated[t2] = True
            t.frame_id[t2] = self.frame
            t.score[t2] = low[matches2[:, 1], 4]
        t.state[r_tracked[u_r]] = LOST

        # unconfirmed tracks vs the remaining high-score detections
        rest = high[u_high]
        f_rest = None if f_high is None else f_high[u_high]
        cost_u = iou_cost(self._boxes(unconfirmed), rest[:, :4])
        if cfg.fuse_det_score:
            cost_u = fuse_score(cost_u, rest[:, 4])
        matches3, u_unc, u_rest = linear_assignment(cost_u, cfg.unconfirmed_match_thresh)
        if len(matches3):
            self._correct(unconfirmed[matches3[:, 0]], rest[matches3[:, 1]],
                          None if f_rest is None else f_rest[matches3[:, 1]])
        t.state[unconfirmed[u_unc]] = REMOVED

        # lost tracks past the buffer are removed (before new tracks are appended)
        lost_old = (t.state == LOST) & (self.frame - t.frame_id > self.max_time_lost)
        # tracks lost in this very frame are checked from the next frame on, as in ByteTrack
        lost_old[r_tracked[u_r]] = False
        t.state[lost_old] = REMOVED

        # new tracks
        new = u_rest[rest[u_rest, 4] >= cfg.new_track_thresh]
        if len(new):
            self._append(rest[new], None if f_rest is None else f_rest[new])

        t.keep(t.state != REMOVED)
        self._remove_duplicates()

        out = np.flatnonzero((t.state == TRACKED) & t.activated)
        boxes = self._boxes(out)
        if cfg.min_box_area > 0 or cfg.max_aspect_ratio > 0:
            ok = boxes[:, 2] * boxes[:, 3] > cfg.min_box_area
            if cfg.max_aspect_ratio > 0:
                ok &= boxes[:, 2] / boxes[:, 3] <= cfg.max_aspect_ratio
            out, boxes = out[ok], boxes[ok]
        return boxes, t.ids[out].copy(), t.score[out].copy()

    def _remove_duplicates(self) -> None:
        """``remove_duplicate_stracks``: of a tracked/lost pair that nearly coincide, keep the older."""
        t = self.tracks
        tr = np.flatnonzero(t.state == TRACKED)
        lo = np.flatnonzero(t.state == LOST)
        if len(tr) == 0 or len(lo) == 0:
            return
        d = iou_cost(self._boxes(tr), self._boxes(lo))
        p, q = np.nonzero(d < self.config.duplicate_iou_dist)
        if len(p) == 0:
            return
        age_p = t.frame_id[tr[p]] - t.start_frame[tr[p]]
        age_q = t.frame_id[lo[q]] - t.start_frame[lo[q]]
        drop = np.concatenate([lo[q[age_p > age_q]], tr[p[age_p <= age_q]]])
        keep = np.ones(len(t), bool)
        keep[drop] = False
        t.keep(keep)


@register_tracker("bytetrack-reid", kind="mot", config="trackers/bytetrack-reid.yaml")
class ByteTrackReID(ByteTrack):
    """ByteTrack with appearance: first-stage distance sqrt(d_feat~ * d_iou), appearance gated by IoU."""

    Config = ByteTrackReIDConfig
    needs_images = True

    def __init__(self, config=None, *, weights: Optional[str] = None, seed: int = 0):
        config = config if config is not None else ByteTrackReIDConfig()
        self.encoder = build_encoder(config.appearance, weights=weights, seed=seed)
        super().__init__(config, weights=weights, seed=seed)

    def _columns(self):
        return dict(super()._columns(), feat=(np.float32, self.encoder.dim))   # EMA of appearance features

    def _new_rows(self, dets, feats):
        rows = super()._new_rows(dets, feats)
        rows["feat"] = (np.zeros((len(dets), self.encoder.dim), np.float32) if feats is None
                        else feats.astype(np.float32))
        return rows

    def _features(self, image, boxes):
        if image is None:
            from bench.core.errors import BenchError
            raise BenchError("bytetrack-reid needs the frames (appearance features); got no image")
        return self.encoder(image, boxes)

    def _first_cost(self, t_idx, boxes, scores, feats):
        d_iou = iou_cost(self._boxes(t_idx), boxes)
        if self.config.fuse_det_score:
            d_iou = fuse_score(d_iou, scores)
        if d_iou.size == 0:
            return d_iou
        d_feat = cosine_distance(self.tracks.feat[t_idx], feats)
        return fused_reid_cost(d_iou, d_feat, self.config.proximity_thresh, self.config.appearance_thresh)

    def _update_features(self, t_idx, feats):
        if feats is None:
            return
        a = self.config.feature_momentum
        f = a * self.tracks.feat[t_idx] + (1 - a) * feats
        self.tracks.feat[t_idx] = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
