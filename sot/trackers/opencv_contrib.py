"""OpenCV's correlation-filter baselines from the contrib ``tracking`` module: ``opencv-csrt`` (CSR-DCF,
Lukezic et al., CVPR 2017, ``cv2.TrackerCSRT``) and ``opencv-kcf`` (KCF, Henriques et al., TPAMI 2015,
``cv2.TrackerKCF``), run by the same harness as ``opencv-mil`` (:mod:`sot.trackers.baselines`).

They exist only in OpenCV builds with the contrib modules (``opencv-contrib-python[-headless]``:
``cv2.TrackerCSRT`` / ``cv2.TrackerKCF``). The plain ``opencv-python`` wheel
the toolkit installs does not have them: building either tracker there raises a
:class:`~bench.core.errors.ConfigError` saying so (:func:`available` tells beforehand). Both are
deterministic. Images are RGB uint8 (converted to BGR for OpenCV), boxes ``xywh`` 0-based; OpenCV
takes and returns integer rectangles.
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

import cv2
import numpy as np

from bench.core.errors import ConfigError
from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker

INSTALL_HINT = ("pip install opencv-contrib-python-headless of the installed OpenCV's version "
                f"({cv2.__version__}); the plain opencv-python wheel has no contrib tracking module")


def _factory(name: str):
    """``cv2.Tracker<name>`` (the class with ``create``, OpenCV >= 4.5 contrib builds); None when absent."""
    cls = getattr(cv2, f"Tracker{name}", None)
    if cls is not None and hasattr(cls, "create"):
        return cls
    return None


def available(name: str) -> bool:
    """Whether the installed OpenCV has ``Tracker<name>`` (``"CSRT"``, ``"KCF"``)."""
    return _factory(name) is not None


class _OpenCVTracker(SOTTracker):
    """Shared init / update of the two contrib trackers."""

    kind_name = ""

    def _params(self):
        raise NotImplementedError

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        cls = _factory(self.kind_name)
        if cls is None:
            raise ConfigError(f"opencv-{self.kind_name.lower()}: this OpenCV ({cv2.__version__}, {cv2.__file__}) has no "
                              f"cv2.Tracker{self.kind_name}; {INSTALL_HINT}")
        self._tracker = cls.create(self._params())
        b = np.asarray(box, dtype=np.float64).reshape(4)
        rect = tuple(int(round(v)) for v in (b[0], b[1], max(b[2], 1.0), max(b[3], 1.0)))
        self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        self.box = np.array(rect, dtype=np.float64)

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return self.box.copy(), 1.0 if ok else 0.0

    def spawn(self):
        """A fresh, not yet initialised copy (OpenCV objects cannot be deep-copied)."""
        return type(self)(self.config, weights=self.weights, seed=self.seed)


@dataclasses.dataclass
class CSRTConfig:
    """``cv2.TrackerCSRT_Params`` fields (OpenCV defaults, opencv_contrib ``tracking/src/trackerCSRT.cpp``)."""

    use_hog: bool = True
    use_color_names: bool = True
    use_gray: bool = True
    use_rgb: bool = False
    use_channel_weights: bool = True
    use_segmentation: bool = True
    window_function: str = "hann"
    padding: float = 3.0
    template_size: float = 200.0
    filter_lr: float = 0.02
    number_of_scales: int = 33
    scale_step: float = 1.02
    psr_threshold: float = 0.035


@register_tracker("opencv-csrt", kind="sot", config="trackers/opencv-csrt.yaml")
class OpenCVCSRT(_OpenCVTracker):
    """OpenCV's CSR-DCF (``cv2.TrackerCSRT``; needs the contrib build)."""

    Config = CSRTConfig
    kind_name = "CSRT"

    def _params(self):
        c = self.config
        p = cv2.TrackerCSRT_Params()
        for f in dataclasses.fields(c):
            setattr(p, f.name, getattr(c, f.name))
        return p


@dataclasses.dataclass
class KCFConfig:
    """``cv2.TrackerKCF_Params`` fields (OpenCV defaults, opencv_contrib ``tracking/src/trackerKCF.cpp``)."""

    detect_thresh: float = 0.5
    sigma: float = 0.2
    lambda_: float = 0.0001
    interp_factor: float = 0.075
    output_sigma_factor: float = 0.0625
    pca_learning_rate: float = 0.15
    resize: bool = True
    max_patch_size: int = 6400
    compress_feature: bool = True
    compressed_size: int = 2


@register_tracker("opencv-kcf", kind="sot", config="trackers/opencv-kcf.yaml")
class OpenCVKCF(_OpenCVTracker):
    """OpenCV's KCF (``cv2.TrackerKCF``, gray + colour-names features; needs the contrib build)."""

    Config = KCFConfig
    kind_name = "KCF"

    def _params(self):
        c = self.config
        p = cv2.TrackerKCF_Params()
        for f in dataclasses.fields(c):
            setattr(p, f.name, getattr(c, f.name))
        return p
