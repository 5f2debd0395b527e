"""One-pass evaluation (OPE) run loop: OTB, LaSOT, GOT-10k, synthetic.

The tracker is initialised on frame 0 with ``seq.init_box`` and updated on every
other frame; no resets. Frame 0 is recorded as the initial box (the layout of the
OTB toolkit, got10k and pysot result files). Times are the tracker's own time per
frame in seconds (``init`` for frame 0, ``update`` after), excluding frame reading.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Optional

import numpy as np

from ..core.errors import BenchError
from ..core.sequence import SOTSequence
from ..core.tracker import SOTTracker


@dataclasses.dataclass
class OnePassResult:
    """One run of a tracker over one sequence.

    ``boxes`` (N, 4) ``xywh``; ``scores`` (N,) (1 on frame 0); ``times`` (N,) seconds.
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray

    @property
    def fps(self) -> float:
        """Frames per second of tracker time (all frames, ``init`` included)."""
        total = float(np.sum(self.times))
        return len(self.times) / total if total > 0 else float("inf")


def check_box(box, name: str, frame: int) -> np.ndarray:
    """The tracker's output as a finite (4,) float array, or a :class:`BenchError`."""
    try:
        b = np.asarray(box, dtype=np.float64).reshape(4)
    except (TypeError, ValueError):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned {box!r}, "
                         "expected an x, y, w, h box") from None
    if not np.all(np.isfinite(b)):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned a non-finite box {b.tolist()}")
    return b


def run_one_pass(tracker: SOTTracker, seq: SOTSequence, frame_bar: Optional[object] = None) -> OnePassResult:
    """Run ``tracker`` over ``seq`` once. ``frame_bar`` (a tqdm bar or None) is advanced per frame."""
    n = len(seq)
    boxes = np.empty((n, 4), dtype=np.float64)
    scores = np.empty(n, dtype=np.float64)
    times = np.empty(n, dtype=np.float64)
    for i in range(n):
        image = seq.frame(i)
        if i == 0:
            box0 = np.asarray(seq.init_box, dtype=np.float64).reshape(4)
            t0 = time.perf_counter()
            tracker.init(image, box0.copy())
            times[0] = time.perf_counter() - t0
            boxes[0], scores[0] = box0, 1.0
        else:
            t0 = time.perf_counter()
            box, score = tracker.update(image)
            times[i] = time.perf_counter() - t0
            boxes[i] = check_box(box, seq.name, i)
            scores[i] = float(score)
        if frame_bar is not None:
            frame_bar.update(1)
    return OnePassResult(boxes, scores, times)
