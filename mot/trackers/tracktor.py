"""Tracktor (Bergmann, Meinhardt, Leal-Taixe, ICCV 2019), as in phil-bergmann/tracking_wo_bnw.

Tracking by the detector's box head: each frame the image goes once through a
torchvision Faster R-CNN backbone; every active track's previous box is a proposal
that the RoI head (``roi_heads.box_roi_pool`` -> ``box_head`` -> ``box_predictor``)
regresses onto the person in the new frame (``FRCNN_FPN.predict_boxes``). Tracks
are deactivated when their person score falls to ``regression_person_thresh`` or
below, or when NMS among tracks (``regression_nms_thresh``) suppresses them. Public
detections are regressed the same way, kept above ``detection_person_thresh``,
NMS-ed (``detection_nms_thresh``), and those not covered by a track start new
tracks. Camera motion is compensated by an ECC warp between consecutive frames
(``do_align``), as in the official configuration.

Re-identification of inactive tracks (instead of the official Siamese network, whose
weights are not available here) uses per-track classifiers on the RoI head's
``box_head`` features, fine-tuned online (:class:`mot.reid.ClassifierReID`, the
self-supervised fine-tuned re-id of Hecking-Veltman & Zieger on top of Tracktor).

Weights: ``--weights FILE`` (a torchvision Faster R-CNN state dict, loaded with
``weights_only=True``), else torchvision's COCO weights (``weights: DEFAULT`` in the
config, downloaded once when online and then read from the torch hub cache). With
neither, a :class:`bench.core.errors.CheckpointError` says what to do.

Boxes are ``xywh`` at the interface, ``xyxy`` inside (torchvision's convention).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np

from bench.core.boxes import iou_matrix, xywh_to_xyxy, xyxy_to_xywh
from bench.core.errors import BenchError, CheckpointError
from bench.core.registry import register_tracker
from bench.core.tracker import MOTTracker

from ..appearance import AppearanceConfig, build_encoder
from ..reid import ClassifierReID, ClassifierReIDConfig
from ..tracks import Tracks


@dataclasses.dataclass
class TracktorConfig:
    arch: str = "fasterrcnn_resnet50_fpn"   # torchvision detection model builder
    weights: str = "DEFAULT"                 # torchvision weights enum name, or "none" (needs --weights)
    num_classes: int = 91                    # 91 for COCO weights, 2 for a person-only detector
    person_class: int = 1                    # index of "person" in the classifier output
    detection_person_thresh: float = 0.5
    regression_person_thresh: float = 0.5
    detection_nms_thresh: float = 0.3
    regression_nms_thresh: float = 0.6
    public_detections: bool = True
    do_align: bool = True
    number_of_iterations: int = 100
    termination_eps: float = 1e-5
    min_size: int = 800                      # detector input resize (torchvision default)
    max_size: int = 1333
    threads: int = 0                         # torch threads (0 = leave as is)
    reid: ClassifierReIDConfig = dataclasses.field(default_factory=ClassifierReIDConfig)
    # re-id features: "box-head" = the detector's box_head features (tracking_wo_bnw); any
    # mot.appearance encoder name (e.g. "cnn") = that encoder on the image crops
    appearance: AppearanceConfig = dataclasses.field(default_factory=lambda: AppearanceConfig(encoder="box-head"))


class _Detector:
    """A torchvision Faster R-CNN used as in ``FRCNN_FPN``: cached features + RoI-head box regression."""

    def __init__(self, model, person_class: int):
        self.model = model.eval()
        self.cls = person_class
        self.features = None
        self.orig_size = None
        self.image_size = None
        self.feat_dim = 0          # box_head output size, known after the first non-empty call

    def load_image(self, image: np.ndarray) -> None:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        with torch.no_grad():
            images, _ = self.model.transform([x], None)
            feats = self.model.backbone(images.tensors)
        if isinstance(feats, torch.Tensor):
            from collections import OrderedDict
            feats = OrderedDict([("0", feats)])
        self.features = feats
        self.orig_size = tuple(image.shape[:2])
        self.image_size = images.image_sizes[0]

    def predict_boxes(self, boxes_xyxy: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Regress ``xyxy`` proposals: (person boxes ``xyxy`` (N, 4), person scores (N,), box_head features (N, D))."""
        import torch
        import torch.nn.functional as F
        from torchvision.models.detection.transform import resize_boxes

        rh = self.model.roi_heads
        if len(boxes_xyxy) == 0:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, self.feat_dim), np.float32)
        with torch.no_grad():
            b = torch.as_tensor(boxes_xyxy, dtype=torch.float32)
            b = resize_boxes(b, self.orig_size, self.image_size)
            feats = rh.box_roi_pool(self.features, [b], [self.image_size])
            feats = rh.box_head(feats)
            logits, reg = rh.box_predictor(feats)
            pred = rh.box_coder.decode(reg, [b])[:, self.cls]
            scores = F.softmax(logits, -1)[:, self.cls]
            pred = resize_boxes(pred, self.image_size, self.orig_size)
            h, w = self.orig_size
            pred[:, 0::2] = pred[:, 0::2].clamp(0, w)
            pred[:, 1::2] = pred[:, 1::2].clamp(0, h)
        self.feat_dim = int(feats.shape[1])
        return pred.numpy().astype(np.float64), scores.numpy().astype(np.float64), feats.numpy()


def build_detector(cfg: TracktorConfig, weights: Optional[str] = None):
    """The torchvision Faster R-CNN of ``cfg.arch`` with ``weights`` (file) or ``cfg.weights`` (torchvision)."""
    import torchvision.models.detection as tvd

    builder = getattr(tvd, cfg.arch, None)
    if builder is None or not callable(builder):
        raise BenchError(f"tracktor: unknown torchvision detection model '{cfg.arch}'")
    kw = dict(min_size=cfg.min_size, max_size=cfg.max_size, box_detections_per_img=300)
    if weights:
        from sot.checkpoints.common import load_strict, unwrap
        from sot.checkpoints.files import read_torch_file

        model = builder(weights=None, weights_backbone=None, num_classes=cfg.num_classes, **kw)
        load_strict(model, unwrap(read_torch_file(weights), weights), weights)
        return model
    if cfg.weights.lower() == "none":
        raise CheckpointError("tracktor needs Faster R-CNN weights: pass --weights FILE (a torchvision "
                              f"{cfg.arch} state dict) or set weights=DEFAULT to use torchvision's COCO weights")
    try:
        return builder(weights=cfg.weights, **kw)
    except Exception as exc:  # offline, no cached file, bad enum name
        raise CheckpointError(
            f"tracktor: cannot get torchvision '{cfg.arch}' weights '{cfg.weights}' ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Run once with internet access (torchvision "
            "caches them under ~/.cache/torch/hub/checkpoints) or pass --weights FILE with a state dict "
            "saved from the same architecture.") from None


@register_tracker("tracktor", kind="mot", config="trackers/tracktor.yaml")
class Tracktor(MOTTracker):
    """Tracktor: regress each track's previous box with the Faster R-CNN box head (Bergmann et al. 2019)."""

    Config = TracktorConfig
    needs_images = True
    is_deterministic = True

    def __init__(self, config: Optional[TracktorConfig] = None, *, weights: Optional[str] = None,
                 seed: int = 0, model=None):
        super().__init__(config, weights=weights, seed=seed)
        cfg = self.config
        if cfg.threads > 0:
            import torch
            torch.set_num_threads(cfg.threads)
        self.det = _Detector(model if model is not None else build_detector(cfg, weights), cfg.person_class)
        self.reid: Optional[ClassifierReID] = None
        self.encoder = (build_encoder(cfg.appearance, seed=seed)
                        if cfg.reid.enabled and cfg.appearance.name != "box-head" else None)
        self.reset()

    def reset(self, fps: Optional[float] = None) -> None:
        self.tracks = Tracks.empty(pos=(np.float64, 4), ids=np.int64, score=np.float64)  # active tracks, xyxy
        self.inactive_pos = {}               # id -> xyxy, for alignment and re-id bookkeeping
        self._next_id = 1
        self.last_gray = None
        if self.reid is not None:
            self.reid.reset()

    # -- steps --------------------------------------------------------------
    def _align(self, image: np.ndarray) -> None:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        prev, self.last_gray = self.last_gray, gray
        if prev is None or (len(self.tracks.pos) == 0 and not self.inactive_pos):
            return
        warp = np.eye(2, 3, dtype=np.float32)
        crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, self.config.number_of_iterations,
                self.config.termination_eps)
        try:
            _, warp = cv2.findTransformECC(prev, gray, warp, cv2.MOTION_EUCLIDEAN, crit, None, 5)
        except cv2.error:  # ECC did not converge: keep positions (identity warp)
            return
        self.tracks.pos = _warp(self.tracks.pos, warp)
        for k in list(self.inactive_pos):
            self.inactive_pos[k] = _warp(self.inactive_pos[k][None], warp)[0]

    def _deactivate(self, mask: np.ndarray) -> None:
        for tid, p in zip(self.tracks.ids[mask], self.tracks.pos[mask]):
            if self.reid is not None and self.reid.deactivate(int(tid)):
                self.inactive_pos[int(tid)] = p      # re-identifiable until the inactive patience
        self.tracks.keep(~mask)

    def update(self, image, detections: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        import torch
        from torchvision.ops import nms

        cfg = self.config
        if image is None:
            raise BenchError("tracktor needs the frames (it regresses boxes with the detector); got no image")
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)
        self.det.load_image(image)

        # public detections, regressed by the box head
        if cfg.public_detections:
            d_pos, d_score, d_feat = self.det.predict_boxes(xywh_to_xyxy(dets[:, :4]))
        else:
            raise BenchError("tracktor: only public_detections=true is supported (give det/det.txt)")
        keep = d_score > cfg.detection_person_thresh
        d_pos, d_score, d_feat = d_pos[keep], d_score[keep], d_feat[keep]

        # tracks: align, regress, kill on low score, NMS among tracks
        if cfg.do_align:
            self._align(image)
        t_feat = np.zeros((0, self.det.feat_dim), np.float32)
        if len(self.tracks.pos):
            pos, score, feat = self.det.predict_boxes(self.tracks.pos)
            low = score <= cfg.regression_person_thresh
            self.tracks.pos = np.where(low[:, None], self.tracks.pos, pos)
            self.tracks.score = score
            self._deactivate(low)
            feat = feat[~low]
            if len(self.tracks.pos):
                k = nms(torch.as_tensor(self.tracks.pos, dtype=torch.float32),
                        torch.as_tensor(self.tracks.score, dtype=torch.float32), cfg.regression_nms_thresh).numpy()
                sup = np.ones(len(self.tracks.pos), bool)
                sup[k] = False
                self._deactivate(sup)
                feat = feat[~sup]
            t_feat = feat

        # new detections: NMS, then drop those covered by a track
        if len(d_pos):
            k = nms(torch.as_tensor(d_pos, dtype=torch.float32), torch.as_tensor(d_score, dtype=torch.float32),
                    cfg.detection_nms_thresh).numpy()
            d_pos, d_score, d_feat = d_pos[k], d_score[k], d_feat[k]
            if len(self.tracks.pos) and len(d_pos):
                cov = iou_matrix(xyxy_to_xywh(d_pos), xyxy_to_xywh(self.tracks.pos)).max(1) > cfg.detection_nms_thresh
                d_pos, d_score, d_feat = d_pos[~cov], d_score[~cov], d_feat[~cov]

        # re-identification, then new tracks
        if self.encoder is not None:                  # appearance encoder instead of box_head features
            d_feat = self.encoder(image, xyxy_to_xywh(d_pos))
        if self.reid is None and cfg.reid.enabled and (self.encoder is not None or self.det.feat_dim):
            dim = self.encoder.dim if self.encoder is not None else self.det.feat_dim
            self.reid = ClassifierReID(cfg.reid, dim, seed=self.seed)
        new = np.ones(len(d_pos), bool)
        if self.reid is not None and len(d_pos):
            for tid, j in self.reid.match(d_feat):
                self.reid.reactivate(tid)
                self.inactive_pos.pop(tid, None)
                self.tracks.append(pos=d_pos[j:j + 1], ids=[tid], score=d_score[j:j + 1])
                t_feat = _cat(t_feat, d_feat[j:j + 1])
                new[j] = False
        n = int(new.sum())
        if n:
            self.tracks.append(pos=d_pos[new], ids=np.arange(self._next_id, self._next_id + n), score=d_score[new])
            self._next_id += n
            t_feat = _cat(t_feat, d_feat[new])

        # re-id samples: each active track vs the other tracks of this frame
        if self.reid is not None:
            if len(self.tracks.ids):
                if self.encoder is not None:
                    t_feat = self.encoder(image, xyxy_to_xywh(self.tracks.pos))
                self.reid.observe(self.tracks.ids, np.arange(len(self.tracks.ids)), t_feat)
            for tid in self.reid.step():
                self.inactive_pos.pop(tid, None)

        return xyxy_to_xywh(self.tracks.pos), self.tracks.ids.copy(), self.tracks.score.copy()


def _cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-concatenate feature blocks; an empty block of unknown width takes the other's."""
    if len(a) == 0:
        return b.copy()
    if len(b) == 0:
        return a
    return np.concatenate([a, b])


def _warp(pos: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine ``warp`` to the corners of ``xyxy`` boxes (tracking_wo_bnw ``warp_pos``)."""
    if len(pos) == 0:
        return pos
    p1 = np.c_[pos[:, 0:2], np.ones(len(pos))] @ warp.T.astype(np.float64)
    p2 = np.c_[pos[:, 2:4], np.ones(len(pos))] @ warp.T.astype(np.float64)
    return np.c_[p1, p2]
