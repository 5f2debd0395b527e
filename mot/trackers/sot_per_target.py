"""SOT-per-target multi-object tracking: ``sot-<name>`` for every registered SOT tracker.

Per frame (boxes ``xywh``, detections ``x, y, w, h, score``):

1. **Propagate**: every active target is tracked into the frame by its single-object
   tracker, all at once (``tracker.batch().update(image)``: one batched forward for
   the Siamese trackers).
2. **Associate**: SOT predictions and confident detections (``score >= det_thresh``)
   are matched by the Hungarian algorithm on ``1 - IoU * sot_score`` (the SOT score
   clipped to [0, 1] weighs the overlap, ``fuse_sot_score``), pairs below
   ``match_iou`` excluded. A matched detection *supports* its target: the reported box
   becomes the detection, and the SOT target is moved onto it to stop drift (the
   batch's optional ``set_boxes(keys, boxes)``; otherwise the target is re-initialised
   on the detection when the two overlap less than ``reinit_iou``).
3. **Confirm / end**: a track is reported once it has ``min_hits`` supported frames
   (or during the first ``min_hits`` frames, as SORT does); unsupported targets keep
   following their SOT prediction (reported while its score is at least
   ``min_sot_score``) and become *inactive* after ``patience`` frames without support.
   Of two active targets overlapping by more than ``track_nms_iou`` (two SOT trackers
   on one person) the less supported one becomes inactive.
4. **Start / re-identify**: a confident detection (``>= new_track_thresh``) that
   overlaps no active target by more than ``new_track_iou`` first tries to
   re-identify an inactive track with its per-track classifier
   (:class:`mot.reid.ClassifierReID`: fine-tuned on the track's last <= 40 frames of own
   boxes vs the other people of the same frames, early stop once separated; re-id at
   score >= 0.95 with every other detection >= 0.2 lower; inactive patience 10);
   otherwise it starts a new track.

All thresholds are in ``configs/trackers/sot-per-target.yaml``. The SOT tracker is
built from its own config (``sot_config`` / ``sot_overrides`` add to it) and takes the
``--weights`` file.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import List, Optional, Tuple

import numpy as np

from bench.core.boxes import iou, iou_matrix
from bench.core.errors import BenchError
from bench.core.registry import TRACKERS, Family
from bench.core.tracker import MOTTracker, SOTTracker

from ..association import linear_assignment
from ..reid import AppearanceConfig, ClassifierReID, ClassifierReIDConfig, build_encoder
from ..tracks import Tracks


@dataclasses.dataclass
class SOTPerTargetConfig:
    det_thresh: float = 0.5          # detections below this score are ignored
    new_track_thresh: float = 0.5    # score needed to start (or resume) a track
    match_iou: float = 0.5           # minimum IoU between a SOT prediction and its detection
    fuse_sot_score: bool = True      # weigh the IoU by the SOT score in the assignment cost
    reinit_iou: float = 0.7          # re-initialise a matched target whose prediction overlaps less
    new_track_iou: float = 0.3       # a detection overlapping an active target more starts nothing
    track_nms_iou: float = 0.6       # overlapping active targets: the weaker becomes inactive
    min_hits: int = 2                # supported frames before a track is reported
    patience: int = 5                # frames without support before a target becomes inactive
    min_sot_score: float = 0.0       # unsupported predictions below this score are not reported
    sot_config: str = ""             # extra YAML for the SOT tracker ("" = its default config)
    sot_overrides: List[str] = dataclasses.field(default_factory=list)
    appearance: AppearanceConfig = dataclasses.field(default_factory=AppearanceConfig)
    reid: ClassifierReIDConfig = dataclasses.field(default_factory=ClassifierReIDConfig)


class SOTPerTarget(MOTTracker):
    """Detections start targets, a batched SOT tracker follows them, detections correct them."""

    Config = SOTPerTargetConfig
    needs_images = True
    base: str = ""

    def __init__(self, config: Optional[SOTPerTargetConfig] = None, *, weights: Optional[str] = None,
                 seed: int = 0, sot: Optional[SOTTracker] = None):
        super().__init__(config, weights=weights, seed=seed)
        cfg = self.config
        if sot is None:
            if not self.base:
                raise BenchError("SOT-per-target needs a SOT tracker: use the name sot-<tracker>, e.g. sot-siamfc")
            from bench.core.build import build_tracker

            sot = build_tracker(self.base, config_file=cfg.sot_config or None, overrides=cfg.sot_overrides,
                                weights=weights, seed=seed)
        self.sot = sot
        self.encoder = build_encoder(cfg.appearance, seed=seed) if cfg.reid.enabled else None
        self.reid = ClassifierReID(cfg.reid, self.encoder.dim, seed=seed) if self.encoder is not None else None
        self.timing = {"sot": 0.0, "frames": 0}
        self.reset()

    def reset(self, fps: Optional[float] = None) -> None:
        self.batch = self.sot.batch()
        self.frame = 0
        self._next_id = 1
        # active targets: SOT key, track id, supported frames, frames without support, box, score,
        # supported by a detection in this frame, index of that detection (-1 = none)
        self.tracks = Tracks.empty(keys=np.int64, ids=np.int64, hits=np.int64, misses=np.int64,
                                   box=(np.float64, 4), score=np.float64, matched=bool, det_of=np.int64)
        if self.reid is not None:
            self.reid.reset()

    # -- helpers --------------------------------------------------------------
    def _deactivate(self, mask: np.ndarray) -> None:
        if not mask.any():
            return
        t = self.tracks
        self.batch.remove(t.keys[mask])
        if self.reid is not None:
            for tid in t.ids[mask]:
                self.reid.deactivate(int(tid))
        t.keep(~mask)

    def _start(self, image, boxes, scores, ids, hits, det_idx) -> None:
        keys = self.batch.add(image, boxes)
        self.tracks.append(keys=keys, ids=ids, hits=hits, misses=np.zeros(len(keys), np.int64), box=boxes,
                           score=scores, matched=np.ones(len(keys), bool), det_of=det_idx)

    # -- one frame ------------------------------------------------------------------
    def update(self, image, detections: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        import time

        cfg = self.config
        if image is None:
            raise BenchError(f"{self.base and 'sot-' + self.base or 'sot-per-target'} needs the frames; got no image")
        self.frame += 1
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)
        conf = dets[dets[:, 4] >= cfg.det_thresh]
        feats = self.encoder(image, conf[:, :4]) if self.encoder is not None else None
        tr = self.tracks

        # 1. propagate all targets in one batched step
        sot_score = np.zeros(len(tr.keys))
        if len(tr.keys):
            t0 = time.perf_counter()
            keys, boxes, scores = self.batch.update(image)
            self.timing["sot"] += time.perf_counter() - t0
            row = {int(k): i for i, k in enumerate(keys.tolist())}
            order = np.array([row[int(k)] for k in tr.keys], dtype=np.int64)
            tr.box = np.asarray(boxes, dtype=np.float64)[order]
            sot_score = np.asarray(scores, dtype=np.float64)[order]
            tr.score = sot_score.copy()
        self.timing["frames"] += 1

        # 2. associate SOT predictions with confident detections
        tr.matched = np.zeros(len(tr.keys), bool)
        tr.det_of = np.full(len(tr.keys), -1, np.int64)
        if len(tr.keys) and len(conf):
            ov = iou_matrix(tr.box, conf[:, :4])
            w = np.clip(sot_score, 0.0, 1.0)[:, None] if cfg.fuse_sot_score else 1.0
            cost = np.where(ov >= cfg.match_iou, 1.0 - ov * w, 10.0)
            m, _, _ = linear_assignment(cost, 1.0 + 1e-9)
            if len(m):
                t, d = m[:, 0], m[:, 1]
                tr.matched[t] = True
                tr.det_of[t] = d
                before = tr.box[t].copy()
                tr.box[t] = conf[d, :4]
                tr.score[t] = conf[d, 4]
                tr.hits[t] += 1
                tr.misses[t] = 0
                self._correct(image, t, before)
        tr.misses[~tr.matched] += 1

        # 3. end unsupported targets, then suppress duplicated targets
        self._deactivate(tr.misses > cfg.patience)
        self._deactivate(self._duplicates())

        # 4. re-identify or start tracks from the remaining confident detections
        free = conf[:, 4] >= cfg.new_track_thresh
        free[tr.det_of[tr.det_of >= 0]] = False
        if len(tr.keys) and free.any():
            cover = iou_matrix(conf[free, :4], tr.box).max(1) > cfg.new_track_iou
            free[np.flatnonzero(free)[cover]] = False
        cand = np.flatnonzero(free)
        if len(cand) and self.reid is not None:
            for tid, j in self.reid.match(feats, candidates=cand):
                self.reid.reactivate(tid)
                self._start(image, conf[j:j + 1, :4], conf[j:j + 1, 4], np.array([tid]),
                            np.array([max(cfg.min_hits, 1)]), np.array([j]))
                free[j] = False
        new = np.flatnonzero(free)
        if len(new):
            ids = np.arange(self._next_id, self._next_id + len(new))
            self._next_id += len(new)
            self._start(image, conf[new, :4], conf[new, 4], ids, np.ones(len(new), np.int64), new)

        # re-id samples: every supported target vs the other people of this frame
        if self.reid is not None:
            sup = np.flatnonzero(tr.det_of >= 0)
            if len(sup):
                self.reid.observe(tr.ids[sup], tr.det_of[sup], feats)
            self.reid.step()

        show = ((tr.hits >= cfg.min_hits) | (self.frame <= cfg.min_hits)) & \
               (tr.matched | (tr.score >= cfg.min_sot_score))
        return tr.box[show].copy(), tr.ids[show].copy(), tr.score[show].copy()

    def _correct(self, image, t: np.ndarray, before: np.ndarray) -> None:
        """Move matched targets ``t`` onto their detections (``tracks.box[t]``)."""
        tr = self.tracks
        setter = getattr(self.batch, "set_boxes", None)
        if setter is not None:
            setter(tr.keys[t], tr.box[t])
            return
        drift = iou(before, tr.box[t]) < self.config.reinit_iou
        if drift.any():
            rows = t[drift]
            self.batch.remove(tr.keys[rows])
            tr.keys[rows] = self.batch.add(image, tr.box[rows])

    def _duplicates(self) -> np.ndarray:
        """Greedy NMS among active targets: supported first, then more hits; True = suppressed."""
        tr = self.tracks
        n = len(tr)
        out = np.zeros(n, bool)
        if n < 2:
            return out
        ov = iou_matrix(tr.box, tr.box)
        order = np.lexsort((-tr.hits, -tr.matched.astype(np.int64)))
        for a_pos, a in enumerate(order):
            if out[a]:
                continue
            rest = order[a_pos + 1:]
            out[rest[ov[a, rest] > self.config.track_nms_iou]] = True
        return out


@functools.lru_cache(maxsize=None)
def sot_per_target_class(base: str) -> type:
    """The ``sot-<base>`` tracker class (built once per SOT tracker name)."""
    return type(f"SOTPerTarget_{base.replace('-', '_')}", (SOTPerTarget,),
                {"base": base, "__doc__": f"SOT-per-target MOT tracker around the SOT tracker '{base}'.",
                 "__module__": __name__})


TRACKERS.add_family(Family(prefix="sot-", kind="mot", base_kind="sot", factory=sot_per_target_class,
                           config="trackers/sot-per-target.yaml",
                           description="SOT-per-target MOT: detections start targets, a batched SOT tracker follows them"))
