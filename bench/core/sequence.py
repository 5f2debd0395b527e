"""The data contract between datasets, protocols and metrics.

* :class:`SOTSequence` (single object): frames, ground truth ``(N, 4)`` ``xywh`` with NaN
  rows where the target is absent or unannotated, optional VOT polygons ``(N, 8)``,
  per-frame boolean flags (``occlusion``, ``out_of_view``, ``absent``, VOT tags such as
  ``camera_motion``), OTB-style attribute names, and the image size ``(W, H)``.
* :class:`MOTSequence` (multi object): frames, ground-truth and detection rows in the
  MOTChallenge column layout, and the ``seqinfo.ini`` fields.

Frames are read lazily; a frame source returns RGB ``uint8`` images.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .boxes import poly_to_init_xywh
from .errors import DataError


class ImageFiles:
    """Frames stored as image files; ``frames[i]`` reads frame ``i`` as RGB uint8."""

    def __init__(self, paths: Sequence[str]):
        self.paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:
        import cv2

        path = self.paths[i]
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            why = "file not found" if not Path(path).exists() else "unreadable image"
            raise DataError(f"{why} (frame {i + 1})", path=path)
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def check(self) -> None:
        """Raise a :class:`DataError` naming the first missing frame file."""
        for i, p in enumerate(self.paths):
            if not Path(p).is_file():
                raise DataError(f"frame {i + 1} of {len(self.paths)} is missing", path=p)


class GeneratedFrames:
    """Frames produced on demand by ``render(i) -> RGB uint8`` (synthetic data)."""

    def __init__(self, n: int, render: Callable[[int], np.ndarray]):
        self.n, self.render = n, render

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> np.ndarray:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.render(i)


@dataclasses.dataclass
class SOTSequence:
    """One single-object sequence.

    ``gt`` is (N, 4) ``xywh`` float64 with NaN rows where the target is absent or not
    annotated. ``polygons`` (N, 8) holds VOT regions when the dataset has them (``gt``
    is then their bounding boxes). ``frames`` may be None for annotation-only roots
    (evaluation needs no images).
    """

    name: str
    gt: np.ndarray
    frames: Optional[object] = None
    polygons: Optional[np.ndarray] = None
    flags: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    attributes: Tuple[str, ...] = ()
    image_size: Optional[Tuple[int, int]] = None
    meta: Dict[str, object] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.gt)

    @property
    def init_box(self) -> np.ndarray:
        """Box given to the tracker at frame 0 (for polygons, pysot's area-preserving box)."""
        return self.init_box_at(0)

    def init_box_at(self, i: int) -> np.ndarray:
        if self.polygons is not None:
            return poly_to_init_xywh(self.polygons[i])
        return np.asarray(self.gt[i], dtype=np.float64)

    def frame(self, i: int) -> np.ndarray:
        if self.frames is None:
            raise DataError(f"sequence '{self.name}' has no images (annotation-only root); "
                            "running a tracker needs the frames")
        return self.frames[i]


@dataclasses.dataclass
class MOTSequence:
    """One multi-object sequence in MOTChallenge terms.

    ``gt`` rows: ``frame, id, x, y, w, h, conf/zero_marked, class, visibility`` (1-based
    frames). ``detections`` rows: ``frame, -1, x, y, w, h, score``. Either may be None.
    """

    name: str
    length: int
    frames: Optional[object] = None
    gt: Optional[np.ndarray] = None
    detections: Optional[np.ndarray] = None
    image_size: Optional[Tuple[int, int]] = None
    fps: float = 30.0
    meta: Dict[str, object] = dataclasses.field(default_factory=dict)
    _det_index: Optional[List[np.ndarray]] = dataclasses.field(default=None, repr=False)

    def __len__(self) -> int:
        return self.length

    def detections_at(self, t: int) -> np.ndarray:
        """Detections of 0-based frame ``t`` as (M, 5) ``x, y, w, h, score``."""
        if self.detections is None:
            return np.zeros((0, 5))
        if self._det_index is None:
            d = self.detections
            frames = d[:, 0].astype(np.int64)
            order = np.argsort(frames, kind="stable")
            d, frames = d[order], frames[order]
            cuts = np.searchsorted(frames, np.arange(1, self.length + 2))
            self._det_index = [d[cuts[i]:cuts[i + 1]][:, [2, 3, 4, 5, 6]] for i in range(self.length)]
        return self._det_index[t]

    def frame(self, i: int) -> np.ndarray:
        if self.frames is None:
            raise DataError(f"sequence '{self.name}' has no images; this tracker needs frames")
        return self.frames[i]
