"""SORT (Bewley, Ge, Ott, Ramos, Upcroft, ICIP 2016), as in abewley/sort ``sort.py``.

Per frame: every track's Kalman filter (:class:`mot.kalman.SortKalman`) predicts its
box; tracks whose prediction is invalid are dropped; detections and predictions are
matched by the Hungarian algorithm on IoU and matches below ``iou_threshold`` are
rejected; matched tracks are corrected, unmatched detections start tracks. A track is
reported while it was matched this frame and has ``min_hits`` consecutive matches
(or during the first ``min_hits`` frames of the sequence); it dies after ``max_age``
frames without a match. Reported boxes are the corrected filter states.

Runs on detections alone (``needs_images = False``). All tracks live in one table
(:class:`mot.tracks.Tracks`) and are predicted and corrected together.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np

from bench.core.registry import register_tracker
from bench.core.tracker import MOTTracker

from ..association import hungarian_gated, iou_cost
from ..kalman import SortKalman
from ..tracks import Tracks


@dataclasses.dataclass
class SortConfig:
    max_age: int = 1            # frames a track survives without a match
    min_hits: int = 3           # consecutive matches before a track is reported
    iou_threshold: float = 0.3  # minimum IoU of a match
    min_score: float = 0.0      # detections below this score are ignored (0 = all, as in SORT)


@register_tracker("sort", kind="mot", config="trackers/sort.yaml")
class Sort(MOTTracker):
    """SORT: Kalman filter + Hungarian matching on IoU (Bewley et al. 2016)."""

    Config = SortConfig
    needs_images = False

    def __init__(self, config: Optional[SortConfig] = None, *, weights: Optional[str] = None, seed: int = 0):
        super().__init__(config, weights=weights, seed=seed)
        self.kf = SortKalman()
        self.reset()

    def reset(self, fps: Optional[float] = None) -> None:
        self.frame_count = 0
        self._next_id = 1
        self.tracks = Tracks.empty(mean=(np.float64, 7), cov=(np.float64, (7, 7)), ids=np.int64, hits=np.int64,
                                   hit_streak=np.int64, age=np.int64, since_update=np.int64, score=np.float64)

    def update(self, image, detections: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        self.frame_count += 1
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)
        if cfg.min_score > 0:
            dets = dets[dets[:, 4] >= cfg.min_score]

        # predict every track
        t = self.tracks
        if len(t):
            t.mean, t.cov = self.kf.predict(t.mean, t.cov)
            t.age += 1
            t.hit_streak[t.since_update > 0] = 0
            t.since_update += 1
            pred = self.kf.state_to_xywh(t.mean)
            valid = ~np.isnan(pred).any(axis=1)
            if not valid.all():
                t.keep(valid)
                pred = pred[valid]
        else:
            pred = np.zeros((0, 4))

        # associate (rows = detections, columns = tracks, as in SORT)
        matches, um_det, _ = hungarian_gated(iou_cost(dets[:, :4], pred), 1.0 - cfg.iou_threshold)
        if len(matches):
            d, k = matches[:, 0], matches[:, 1]
            t.mean[k], t.cov[k] = self.kf.update(t.mean[k], t.cov[k], dets[d, :4])
            t.since_update[k] = 0
            t.hits[k] += 1
            t.hit_streak[k] += 1
            t.score[k] = dets[d, 4]

        # new tracks from unmatched detections
        if len(um_det):
            n = len(um_det)
            m, c = self.kf.initiate(dets[um_det, :4])
            zeros = np.zeros(n, np.int64)
            t.append(mean=m, cov=c, ids=np.arange(self._next_id, self._next_id + n), hits=zeros, hit_streak=zeros,
                     age=zeros, since_update=zeros, score=dets[um_det, 4])
            self._next_id += n

        # report, then remove dead tracks
        show = (t.since_update < 1) & ((t.hit_streak >= cfg.min_hits) | (self.frame_count <= cfg.min_hits))
        boxes = self.kf.state_to_xywh(t.mean[show])
        out = (boxes, t.ids[show].copy(), t.score[show].copy())
        alive = t.since_update <= cfg.max_age
        if not alive.all():
            t.keep(alive)
        return out
