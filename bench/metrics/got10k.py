"""GOT-10k metrics: AO, SR0.50, SR0.75, pooled over frames (got10k ``ExperimentGOT10k``).

Per sequence (and per repetition) the IoUs of frames ``1:`` (the first frame is the
given initialisation) whose ``cover`` label is > 0 (target visible) are kept, with
both boxes clipped to the image (``rect_iou(..., bound=resolution)``). The dataset
values pool the IoUs of all frames of all sequences: ``ao = mean(iou)``,
``sr_50 = mean(iou > 0.5)``, ``sr_75 = mean(iou > 0.75)``; the success curve is read at
``linspace(0, 1, 101)`` with ``>``. Per-sequence values are the same on that sequence's
frames. ``fps``: frames / tracker seconds.
"""
from __future__ import annotations

from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.boxes import iou as box_iou
from . import register

CURVE_THRESHOLDS = np.linspace(0, 1, 101)

for _name, _desc in [
    ("ao", "GOT-10k: average overlap pooled over all scored frames"),
    ("sr_50", "GOT-10k: success rate, fraction of scored frames with IoU > 0.5"),
    ("sr_75", "GOT-10k: success rate, fraction of scored frames with IoU > 0.75"),
]:
    register(_name, "got10k", _desc)


def frame_ious(pred, gt, cover: Optional[np.ndarray] = None,
               resolution: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """IoUs of the scored frames of one run: frames ``1:`` with ``cover > 0``, boxes clipped
    to ``resolution = (W, H)`` when given. A NaN prediction scores 0."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if pred.shape != gt.shape:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} differ in length")
    ious = box_iou(pred[1:], gt[1:], bound=resolution)
    ious = np.where(np.isnan(ious), 0.0, ious)
    if cover is not None:
        ious = ious[np.asarray(cover)[1:] > 0]
    return ious


def summarize(ious: np.ndarray) -> Dict[str, object]:
    ious = np.asarray(ious, dtype=np.float64)
    if ious.size == 0:
        return {"ao": float("nan"), "sr_50": float("nan"), "sr_75": float("nan"),
                "success_curve": np.zeros(len(CURVE_THRESHOLDS)), "n_scored": 0}
    return {"ao": float(np.mean(ious)), "sr_50": float(np.mean(ious > 0.5)), "sr_75": float(np.mean(ious > 0.75)),
            "success_curve": np.mean(np.greater(ious[:, None], CURVE_THRESHOLDS[None, :]), axis=0),
            "n_scored": int(ious.size)}


def sequence_metrics(runs: Sequence[np.ndarray], gt, *, cover: Optional[np.ndarray] = None,
                     resolution: Optional[Tuple[float, float]] = None,
                     times: Optional[np.ndarray] = None) -> Dict[str, object]:
    """Per-sequence AO / SR over the scored frames of all runs (repetitions concatenated)."""
    ious = np.concatenate([frame_ious(r, gt, cover, resolution) for r in runs]) if runs else np.zeros(0)
    out = summarize(ious)
    out["n_frames"] = int(len(np.asarray(gt)))
    out["_ious"] = ious
    t = None if times is None else np.asarray(times, dtype=np.float64).ravel()
    if t is not None:
        t = t[np.isfinite(t) & (t > 0)]
    out["_seconds"] = float(t.sum()) if t is not None else 0.0
    out["_timed_frames"] = int(t.size) if t is not None else 0
    out["fps"] = out["_timed_frames"] / out["_seconds"] if out["_seconds"] > 0 else None
    return out


def combine(per_sequence: Iterable[Mapping[str, object]]) -> Dict[str, object]:
    """Pool the scored IoUs of all sequences (got10k's frame-pooled AO / SR)."""
    items = list(per_sequence)
    if not items:
        return {}
    out = summarize(np.concatenate([np.asarray(s["_ious"]) for s in items]))
    out["n_sequences"] = len(items)
    out["n_frames"] = int(sum(int(s["n_frames"]) for s in items))
    sec = sum(float(s.get("_seconds", 0.0)) for s in items)
    frames = sum(int(s.get("_timed_frames", 0)) for s in items)
    out["fps"] = frames / sec if sec > 0 else None
    return out
