"""Tracker interfaces: the only thing the harness knows about a tracker.

Images are ``H x W x 3`` ``uint8`` arrays in **RGB** order (the harness converts
from OpenCV's BGR when it reads frames; a tracker whose weights expect BGR flips
channels itself). Boxes are ``xywh`` floats with a 0-based pixel origin
(:mod:`bench.core.boxes`). A tracker knows nothing of datasets or files.

* :class:`SOTTracker`: ``init(image, box)`` then ``update(image) -> (box, score)``.
  Its batched form (:class:`BatchSOT`, from ``tracker.batch()``) follows many targets
  at once: ``add(image, boxes) -> keys``, ``update(image) -> (keys, boxes, scores)``,
  ``remove(keys)``. The default batch loops over independent copies; trackers with a
  shared network override ``batch()`` to run one forward pass per frame for all targets.
* :class:`MOTTracker`: ``update(image_or_None, detections) -> (boxes, ids, scores)``
  with detections ``(M, 5)`` = ``x, y, w, h, score``; ``reset()`` between sequences.
"""
from __future__ import annotations

import abc
import copy
import dataclasses
from typing import Any, ClassVar, Dict, Optional, Tuple

import numpy as np


@dataclasses.dataclass
class NoConfig:
    """Placeholder config for trackers without hyperparameters."""


class SOTTracker(abc.ABC):
    """Single-object tracker. Subclasses set ``Config`` (a dataclass) and implement
    :meth:`init` and :meth:`update`.

    ``is_deterministic`` tells the VOT protocol whether to run 15 repetitions (False)
    or one (True). ``seed`` seeds every random draw the tracker makes.
    """

    kind: ClassVar[str] = "sot"
    Config: ClassVar[type] = NoConfig
    is_deterministic: ClassVar[bool] = True

    def __init__(self, config: Any = None, *, weights: Optional[str] = None, seed: int = 0):
        self.config = config if config is not None else self.Config()
        self.weights = weights
        self.seed = seed

    @abc.abstractmethod
    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        """Start tracking the target ``box`` (``xywh``) in RGB ``image``."""

    @abc.abstractmethod
    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        """Locate the target in the next frame: returns (``xywh`` box (4,), confidence score)."""

    def reseed(self, seed: int) -> None:
        """Set the seed used by the next :meth:`init` (VOT repetitions of stochastic trackers)."""
        self.seed = seed

    def spawn(self) -> "SOTTracker":
        """A fresh tracker with the same config and (shared) weights. Default: a deep copy."""
        return copy.deepcopy(self)

    def batch(self) -> "BatchSOT":
        """A multi-target form of this tracker. Default: one independent copy per target."""
        return LoopedBatch(self)


class BatchSOT(abc.ABC):
    """Many single-object targets in one image stream, each with an integer key."""

    def init(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Drop all targets and start ``boxes`` (N, 4); returns their keys (N,)."""
        self.remove(self.keys())
        return self.add(image, boxes)

    @abc.abstractmethod
    def add(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Start new targets ``boxes`` (N, 4) ``xywh`` on ``image``; returns their keys (N,)."""

    @abc.abstractmethod
    def remove(self, keys) -> None:
        """Stop following the targets ``keys``."""

    @abc.abstractmethod
    def keys(self) -> np.ndarray:
        """Keys of the active targets, in the order :meth:`update` reports them."""

    @abc.abstractmethod
    def update(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Track every active target into ``image``: (keys (N,), boxes (N, 4), scores (N,))."""

    def __len__(self) -> int:
        return len(self.keys())


class LoopedBatch(BatchSOT):
    """Batched interface over independent single-target copies (works for any tracker)."""

    def __init__(self, template: SOTTracker):
        self.template = template
        self.trackers: Dict[int, SOTTracker] = {}
        self._next = 0

    def add(self, image, boxes):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        keys = []
        for b in boxes:
            t = self.template.spawn()
            t.init(image, b)
            self.trackers[self._next] = t
            keys.append(self._next)
            self._next += 1
        return np.asarray(keys, dtype=np.int64)

    def remove(self, keys):
        for k in np.atleast_1d(np.asarray(keys, dtype=np.int64)).tolist():
            self.trackers.pop(int(k), None)

    def keys(self):
        return np.asarray(list(self.trackers), dtype=np.int64)

    def update(self, image):
        keys = self.keys()
        boxes = np.zeros((len(keys), 4))
        scores = np.zeros(len(keys))
        for i, k in enumerate(keys.tolist()):
            b, s = self.trackers[k].update(image)
            boxes[i], scores[i] = b, s
        return keys, boxes, scores


class MOTTracker(abc.ABC):
    """Multi-object tracker over a frame stream.

    Capabilities the run loop reads (class attributes, declared here for every tracker):

    * ``needs_images``: False for trackers that run on detections alone (SORT, ByteTrack);
      the harness then passes ``None`` and skips reading frames;
    * ``needs_detections``: False for trackers with their own detector (Tracktor, FairMOT);
      a sequence without public detections is then run with empty detection arrays.

    :meth:`reset` receives the frame rate of the next sequence (None when unknown): trackers
    whose time constants are in frames at 30 fps (ByteTrack's lost-track buffer) scale them.
    """

    kind: ClassVar[str] = "mot"
    Config: ClassVar[type] = NoConfig
    needs_images: ClassVar[bool] = False
    needs_detections: ClassVar[bool] = True
    is_deterministic: ClassVar[bool] = True

    def __init__(self, config: Any = None, *, weights: Optional[str] = None, seed: int = 0):
        self.config = config if config is not None else self.Config()
        self.weights = weights
        self.seed = seed

    @abc.abstractmethod
    def reset(self, fps: Optional[float] = None) -> None:
        """Forget all tracks (called before each sequence); ``fps``: its frame rate, if known."""

    @abc.abstractmethod
    def update(self, image: Optional[np.ndarray], detections: np.ndarray
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Process one frame. ``detections`` (M, 5): ``x, y, w, h, score``.

        Returns (boxes (K, 4) ``xywh``, ids (K,) positive ints, scores (K,)) of the
        tracks reported in this frame.
        """
