"""VOT supervised ("baseline") protocol: run with failure detection and re-initialisation.

As in vot-toolkit ``SupervisedExperiment`` and pysot ``tools/test.py``:

* the tracker starts on frame 0 (result line ``1``);
* after each update the predicted box is compared with the ground truth region
  (VOT polygon or box) bounded by the image; an overlap of 0 is a **failure** (line ``2``);
* the tracker is re-initialised :attr:`VOTSettings.skip_initialize` = 5 frames after the
  failure (line ``1``); the frames in between are skipped (line ``0``). Frames whose
  ground truth is empty are never failures, and a re-initialisation waits for the
  next frame with a ground truth region;
* stochastic trackers (``is_deterministic = False``) run 15 repetitions, each reseeded
  (``seed + r``); deterministic trackers run once.

A run is returned as arrays: ``codes[i]`` is ``-1`` for a frame with a box
(``boxes[i]`` ``xywh``), else ``1`` / ``2`` / ``0`` (``boxes[i]`` NaN).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, List, Optional

import numpy as np

from ..core.sequence import SOTSequence
from ..core.tracker import SOTTracker
from .one_pass import check_box

BOX, INIT, FAILURE, SKIP = -1, 1, 2, 0

OverlapFn = Callable[[np.ndarray, np.ndarray, tuple], float]


@dataclasses.dataclass
class VOTSettings:
    """Protocol constants (vot-toolkit stacks vot2016..vot2019 ``baseline`` experiment)."""

    skip_initialize: int = 5          # re-init this many frames after a failure
    failure_overlap: float = 0.0      # overlap <= this is a failure
    repetitions_stochastic: int = 15  # runs of a tracker with is_deterministic False
    repetitions_deterministic: int = 1


@dataclasses.dataclass
class VOTRunResult:
    """One supervised run over one sequence."""

    boxes: np.ndarray   # (N, 4) xywh, NaN on special frames
    codes: np.ndarray   # (N,) int8: -1 box, 1 init, 2 failure, 0 skipped
    times: np.ndarray   # (N,) seconds of tracker time (0 on skipped frames)

    @property
    def failures(self) -> int:
        return int(np.sum(self.codes == FAILURE))

    @property
    def fps(self) -> float:
        ran = self.codes != SKIP
        total = float(np.sum(self.times[ran]))
        return int(np.sum(ran)) / total if total > 0 else float("inf")

    def lines(self) -> List[str]:
        """Result file lines in the VOT layout: ``1``, ``2``, ``0`` or ``x,y,w,h``."""
        out = []
        for code, b in zip(self.codes.tolist(), self.boxes):
            out.append(",".join(f"{v:.4f}" for v in b) if code == BOX else str(code))
        return out


def default_overlap(pred: np.ndarray, gt: np.ndarray, bounds: tuple) -> float:
    """Overlap of a predicted ``xywh`` box with a gt region (4 or 8 values) inside ``bounds = (W, H)``.

    Rasterised as vot-toolkit does (:func:`bench.core.regions.overlap`, the default
    convention), the overlap the supervised experiment's failure test uses.
    """
    from ..core.regions import overlap as region_overlap

    a = np.asarray(pred, dtype=np.float64).reshape(1, -1)
    b = np.asarray(gt, dtype=np.float64).reshape(1, -1)
    return float(region_overlap(a, b, bounds)[0])


def repetitions(tracker: SOTTracker, settings: VOTSettings = VOTSettings()) -> int:
    return (settings.repetitions_deterministic if getattr(tracker, "is_deterministic", True)
            else settings.repetitions_stochastic)


def _gt_region(seq: SOTSequence, i: int) -> np.ndarray:
    return seq.polygons[i] if seq.polygons is not None else seq.gt[i]


def run_supervised(tracker: SOTTracker, seq: SOTSequence, *, settings: VOTSettings = VOTSettings(),
                   overlap: Optional[OverlapFn] = None, frame_bar: Optional[object] = None) -> VOTRunResult:
    """One supervised run of ``tracker`` over ``seq`` (see the module docstring)."""
    overlap = overlap or default_overlap
    n = len(seq)
    boxes = np.full((n, 4), np.nan)
    codes = np.full(n, SKIP, dtype=np.int8)
    times = np.zeros(n)
    has_gt = np.all(np.isfinite(seq.gt), axis=1)
    init_at = 0
    for i in range(n):
        if i < init_at:
            if frame_bar is not None:
                frame_bar.update(1)
            continue
        if i == init_at and not has_gt[i]:
            init_at = i + 1  # wait for a frame with a ground truth region
            if frame_bar is not None:
                frame_bar.update(1)
            continue
        image = seq.frame(i)
        if i == init_at:
            t0 = time.perf_counter()
            tracker.init(image, np.asarray(seq.init_box_at(i), dtype=np.float64).copy())
            times[i] = time.perf_counter() - t0
            codes[i] = INIT
        else:
            t0 = time.perf_counter()
            box, _ = tracker.update(image)
            times[i] = time.perf_counter() - t0
            box = check_box(box, seq.name, i)
            bounds = (image.shape[1], image.shape[0])
            if has_gt[i] and overlap(box, _gt_region(seq, i), bounds) <= settings.failure_overlap:
                codes[i] = FAILURE
                init_at = i + settings.skip_initialize
            else:
                codes[i], boxes[i] = BOX, box
        if frame_bar is not None:
            frame_bar.update(1)
    return VOTRunResult(boxes, codes, times)


def run_vot(tracker: SOTTracker, seq: SOTSequence, *, seed: int = 0, settings: VOTSettings = VOTSettings(),
            overlap: Optional[OverlapFn] = None, frame_bar: Optional[object] = None) -> List[VOTRunResult]:
    """All repetitions of the supervised run (15 for stochastic trackers, 1 otherwise), reseeded ``seed + r``."""
    runs = []
    for r in range(repetitions(tracker, settings)):
        tracker.reseed(seed + r)
        runs.append(run_supervised(tracker, seq, settings=settings, overlap=overlap, frame_bar=frame_bar))
    return runs
