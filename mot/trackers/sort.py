"""SORT (Bewley, Ge, Ott, Ramos, Upcroft, ICIP 2016), as in abewley/sort ``sort.py``.

Per frame: every track's Kalman filter (:class:`mot.kalman.SortKalman`) predicts its
box; tracks whose prediction is invalid are dropped; detections and predictions are
matched by the Hungarian algorithm on IoU and matches below ``iou_threshold`` are
rejected; matched tracks are corrected, unmatched detections start tracks. A track is
reported while it was matched this frame and has ``min_hits`` consecutive matches
(or during the first ``min_hits`` frames of the sequence); it dies after ``max_age``
frames without a match. Reported boxes are the corrected filter states.

Runs on detections alone (``needs_images = False``). All tracks live in arrays and are
predicted and corrected together.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np

from bench.core.registry import register_tracker
from bench.core.tracker import MOTTracker

from ..association import hungarian_gated, iou_cost
from ..kalman import SortKalman


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
        self.mean = np.zeros((0, 7))
        self.cov = np.zeros((0, 7, 7))
        self.ids = np.zeros(0, np.int64)
        self.hits = np.zeros(0, np.int64)
        self.hit_streak = np.zeros(0, np.int64)
        self.age = np.zeros(0, np.int64)
        self.since_update = np.zeros(0, np.int64)
        self.score = np.zeros(0)

    def _keep(self, mask: np.ndarray) -> None:
        for name in ("mean", "cov", "ids", "hits", "hit_streak", "age", "since_update", "score"):
            setattr(self, name, getattr(self, name)[mask])

    def update(self, image, detections: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        self.frame_count += 1
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)
        if cfg.min_score > 0:
            dets = dets[dets[:, 4] >= cfg.min_score]

        # predict every track
        if len(self.ids):
            self.mean, self.cov = self.kf.predict(self.mean, self.cov)
            self.age += 1
            self.hit_streak[self.since_update > 0] = 0
            self.since_update += 1
            pred = self.kf.state_to_xywh(self.mean)
            valid = ~np.isnan(pred).any(axis=1)
            if not valid.all():
                self._keep(valid)
                pred = pred[valid]
        else:
            pred = np.zeros((0, 4))

        # associate (rows = detections, columns = tracks, as in SORT)
        matches, um_det, _ = hungarian_gated(iou_cost(dets[:, :4], pred), 1.0 - cfg.iou_threshold)
        if len(matches):
            d, t = matches[:, 0], matches[:, 1]
            self.mean[t], self.cov[t] = self.kf.update(self.mean[t], self.cov[t], dets[d, :4])
            self.since_update[t] = 0
            self.hits[t] += 1
            self.hit_streak[t] += 1
            self.score[t] = dets[d, 4]

        # new tracks from unmatched detections
        if len(um_det):
            n = len(um_det)
            m, c = self.kf.initiate(dets[um_det, :4])
            self.mean = np.concatenate([self.mean, m])
            self.cov = np.concatenate([self.cov, c])
            self.ids = np.concatenate([self.ids, np.arange(self._next_id, self._next_id + n)])
            self._next_id += n
            zeros = np.zeros(n, np.int64)
            self.hits = np.concatenate([self.hits, zeros])
            self.hit_streak = np.concatenate([self.hit_streak, zeros])
            self.age = np.concatenate([self.age, zeros])
            self.since_update = np.concatenate([self.since_update, zeros])
            self.score = np.concatenate([self.score, dets[um_det, 4]])

        # report, then remove dead tracks
        show = (self.since_update < 1) & ((self.hit_streak >= cfg.min_hits) | (self.frame_count <= cfg.min_hits))
        boxes = self.kf.state_to_xywh(self.mean[show])
        out = (boxes, self.ids[show].copy(), self.score[show].copy())
        alive = self.since_update <= cfg.max_age
        if not alive.all():
            self._keep(alive)
        return out
