"""Baseline single-object trackers: reference points and smoke-test trackers.

* ``identity``: reports the initial box in every frame (the floor any tracker must beat).
* ``ncc``: normalised cross-correlation template matching (``cv2.matchTemplate`` with
  ``TM_CCOEFF_NORMED``) in a search window around the last position, over a few
  scales, with a running-average template update. A real tracker, fast on a CPU.
* ``opencv-mil``: OpenCV's ``TrackerMIL`` (Babenko et al., CVPR 2009), the usual
  comparison baseline on real sequences.

Images are ``H x W x 3`` uint8 RGB; boxes ``xywh`` floats, 0-based.
"""
from __future__ import annotations

import dataclasses
from typing import List, Tuple

import cv2
import numpy as np

from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker


@dataclasses.dataclass
class IdentityConfig:
    """The identity tracker has no hyperparameters."""


@register_tracker("identity", kind="sot", config="trackers/identity.yaml")
class IdentityTracker(SOTTracker):
    """Reports the initial box in every frame (score 1)."""

    Config = IdentityConfig

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        self.box = np.asarray(box, dtype=np.float64).reshape(4).copy()

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        return self.box.copy(), 1.0


@dataclasses.dataclass
class NCCConfig:
    """Hyperparameters of the NCC template tracker (all sizes relative to the target)."""

    template_size: int = 32          # longer template side in working pixels
    padding: float = 1.0             # search window = target size * (1 + 2 * padding)
    scales: List[float] = dataclasses.field(default_factory=lambda: [0.96, 1.0, 1.04])
    scale_penalty: float = 0.97      # multiplies the peak score of scales != 1
    scale_lr: float = 0.6            # damping of the size update
    window_influence: float = 0.2    # blend of a Hann window into the response (motion prior)
    learning_rate: float = 0.05      # template running-average rate
    update_threshold: float = 0.5    # update the template only when the peak NCC >= this
    min_size: float = 4.0            # smallest box side in image pixels


@register_tracker("ncc", kind="sot", config="trackers/ncc.yaml")
class NCCTracker(SOTTracker):
    """Normalised cross-correlation template matching with scale search and template update."""

    Config = NCCConfig

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        c = self.config
        x, y, w, h = np.asarray(box, dtype=np.float64).reshape(4)
        w, h = max(w, c.min_size), max(h, c.min_size)
        self.center = np.array([x + w / 2.0, y + h / 2.0])
        self.size = np.array([w, h])
        k = c.template_size / max(w, h)
        self.tsize = (max(3, int(round(w * k))), max(3, int(round(h * k))))  # (tw, th)
        pad = 1.0 + 2.0 * c.padding
        self.ssize = (int(round(self.tsize[0] * pad)), int(round(self.tsize[1] * pad)))
        gray = self._gray(image)
        self.template = self._sample(gray, self.center, k, self.tsize)
        rw = self.ssize[0] - self.tsize[0] + 1
        rh = self.ssize[1] - self.tsize[1] + 1
        self.window = np.outer(np.hanning(rh + 2)[1:-1], np.hanning(rw + 2)[1:-1]).astype(np.float32)
        self._img_size = image.shape[1], image.shape[0]

    @staticmethod
    def _gray(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)

    @staticmethod
    def _sample(gray: np.ndarray, center: np.ndarray, k: float, size: Tuple[int, int]) -> np.ndarray:
        """Patch of ``size = (w, h)`` working pixels centred at ``center``, image scaled by ``k``."""
        # continuous coordinates: u = k * (X - c) + size / 2; pixel index = coordinate - 0.5
        ox = (size[0] - 1) / 2.0 - k * (center[0] - 0.5)
        oy = (size[1] - 1) / 2.0 - k * (center[1] - 0.5)
        m = np.array([[k, 0.0, ox], [0.0, k, oy]])
        return cv2.warpAffine(gray, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        c = self.config
        gray = self._gray(image)
        k0 = c.template_size / max(self.size)
        best = (-np.inf, 0.0, 0.0, 1.0, -np.inf)  # (penalised, dx, dy, scale, raw score)
        for s in c.scales:
            k = k0 / s
            search = self._sample(gray, self.center, k, self.ssize)
            resp = cv2.matchTemplate(search, self.template, cv2.TM_CCOEFF_NORMED)
            resp = np.nan_to_num(resp, nan=0.0)
            score_map = (1.0 - c.window_influence) * resp + c.window_influence * self.window
            iy, ix = np.unravel_index(int(np.argmax(score_map)), score_map.shape)
            pen = 1.0 if s == 1.0 else c.scale_penalty
            val = float(score_map[iy, ix]) * pen
            if val > best[0]:
                dx = (ix - (resp.shape[1] - 1) / 2.0) / k
                dy = (iy - (resp.shape[0] - 1) / 2.0) / k
                best = (val, dx, dy, s, float(resp[iy, ix]))
        _, dx, dy, s, raw = best
        self.center = self.center + np.array([dx, dy])
        self.center[0] = np.clip(self.center[0], 0, self._img_size[0])
        self.center[1] = np.clip(self.center[1], 0, self._img_size[1])
        self.size = np.maximum(self.size * (1.0 + c.scale_lr * (s - 1.0)), c.min_size)
        if raw >= c.update_threshold and c.learning_rate > 0:
            k = c.template_size / max(self.size)
            new = self._sample(gray, self.center, k, self.tsize)
            cv2.addWeighted(self.template, 1.0 - c.learning_rate, new, c.learning_rate, 0.0, dst=self.template)
        box = np.array([self.center[0] - self.size[0] / 2.0, self.center[1] - self.size[1] / 2.0,
                        self.size[0], self.size[1]])
        return box, raw


@dataclasses.dataclass
class MILConfig:
    """``cv2.TrackerMIL_Params`` fields (OpenCV defaults)."""

    sampler_init_in_radius: float = 3.0
    sampler_init_max_neg_num: int = 65
    sampler_search_win_size: float = 25.0
    sampler_track_in_radius: float = 4.0
    sampler_track_max_neg_num: int = 65
    sampler_track_max_pos_num: int = 100000
    feature_set_num_features: int = 250


@register_tracker("opencv-mil", kind="sot", config="trackers/opencv-mil.yaml")
class OpenCVMIL(SOTTracker):
    """OpenCV's Multiple Instance Learning tracker (``cv2.TrackerMIL``); seeded through ``cv2.setRNGSeed``."""

    Config = MILConfig
    is_deterministic = False  # random Haar features and samples; reseeded per VOT repetition

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        c = self.config
        p = cv2.TrackerMIL_Params()
        p.samplerInitInRadius = float(c.sampler_init_in_radius)
        p.samplerInitMaxNegNum = int(c.sampler_init_max_neg_num)
        p.samplerSearchWinSize = float(c.sampler_search_win_size)
        p.samplerTrackInRadius = float(c.sampler_track_in_radius)
        p.samplerTrackMaxNegNum = int(c.sampler_track_max_neg_num)
        p.samplerTrackMaxPosNum = int(c.sampler_track_max_pos_num)
        p.featureSetNumFeatures = int(c.feature_set_num_features)
        cv2.setRNGSeed(int(self.seed))
        self._tracker = cv2.TrackerMIL.create(p)
        b = np.asarray(box, dtype=np.float64).reshape(4)
        rect = tuple(int(round(v)) for v in (b[0], b[1], max(b[2], 1.0), max(b[3], 1.0)))
        self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        self.box = np.array(rect, dtype=np.float64)

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return self.box.copy(), 1.0 if ok else 0.0

    def spawn(self) -> "OpenCVMIL":
        """A fresh, not yet initialised copy (the OpenCV object cannot be deep-copied)."""
        return type(self)(self.config, weights=self.weights, seed=self.seed)
