"""One-pass evaluation (OTB / LaSOT / synthetic): success, precision, normalised precision.

Conventions (pysot ``toolkit/evaluation/ope_benchmark.py``, got10k ``experiments/otb.py`` and
pytracking ``analysis/extract_results.py`` agree):

* IoU of continuous ``xywh`` boxes (no ``+1``; got10k ``rect_iou`` arithmetic,
  :func:`bench.core.boxes.iou`);
* success curve at the 21 thresholds ``0, 0.05, ..., 1`` with ``iou > t``;
  ``success_auc`` = mean of the curve; ``success_rate_50`` = the curve at 0.5;
* centre ``x + (w - 1) / 2``; precision curve at 0..50 px with ``dist <= t``;
  ``precision_20`` = the curve at 20 px;
* ``norm_precision_20``: pysot / pytracking normalised precision (both centres divided by
  the gt size, thresholds 0..0.5 step 0.01, value at 0.2);
  ``norm_precision_auc``: got10k's variant (difference divided by ``max(1, gt wh)``,
  mean of the curve over ``linspace(0, 0.5, 51)``);
* a sequence's curves are fractions of its frames; the dataset curves are the mean over
  sequences (each sequence weighs the same); scores are read off the mean curves.

Frames whose ground truth is missing (NaN), has ``w <= 0`` or ``h <= 0``, or is flagged
absent (LaSOT full occlusion / out of view), follow ``invalid_gt``:

``"fail"`` (default; got10k OTB, pytracking, mmtracking)
    the frame stays in the denominator and fails every threshold of every curve;
``"pysot"``
    pysot's masks: success fails when gt ``w, h`` are not both > 0; precision and
    normalised precision count the frame as a hit when the gt centre is not > 0 in both
    coordinates; frames flagged absent fail everything (pysot's LaSOT filter);
``"exclude"``
    the frame leaves the denominator (got10k LaSOT / UAV NaN rule, pytracking
    ``exclude_invalid_frames``).

``first_frame="gt"`` (default; got10k, pytracking) replaces the first predicted box with
the ground truth; ``"result"`` keeps the file's row (pysot).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from ..core.boxes import iou as box_iou, normalized_center_error, otb_centers
from . import register

SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS = np.arange(0, 51).astype(np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51) / 100.0
NORM_PRECISION_GOT10K_THRESHOLDS = np.linspace(0, 0.5, 51)
INVALID_GT_RULES = ("fail", "pysot", "exclude")
FIRST_FRAME_RULES = ("gt", "result")

CURVES = ("success_curve", "precision_curve", "norm_precision_curve", "norm_precision_curve_got10k")

for _name, _desc in [
    ("success_auc", "one-pass: mean of the success curve over IoU thresholds 0:0.05:1 (iou > t)"),
    ("precision_20", "one-pass: fraction of frames with centre error <= 20 px"),
    ("norm_precision_20", "one-pass: normalised precision at 0.2 (pysot / pytracking)"),
    ("norm_precision_auc", "one-pass: got10k normalised precision, mean of the curve over [0, 0.5]"),
    ("success_rate_50", "one-pass: fraction of frames with IoU > 0.5"),
    ("success_curve", "one-pass: success rate at the 21 IoU thresholds 0:0.05:1"),
    ("precision_curve", "one-pass: precision at 0..50 px"),
]:
    register(_name, "ope", _desc)
register("fps", "sot", "frames per second of tracking (timed frames / total tracker seconds), every SOT protocol")


def frame_errors(pred, gt, absent: Optional[np.ndarray] = None, invalid_gt: str = "fail",
                 first_frame: str = "gt") -> Dict[str, np.ndarray]:
    """Per-frame IoU, centre error and normalised centre errors with the ``invalid_gt`` rule applied.

    ``pred``, ``gt``: (N, 4) ``xywh``. Returns arrays ``iou``, ``center``, ``norm_center``,
    ``norm_center_got10k`` (N,) and ``keep`` (N,) bool (frames in the denominator).
    A failing frame gets ``iou = -1`` and errors ``+inf``; a pysot precision hit gets ``-1``.
    """
    if invalid_gt not in INVALID_GT_RULES:
        raise ValueError(f"invalid_gt must be one of {INVALID_GT_RULES}, not {invalid_gt!r}")
    if first_frame not in FIRST_FRAME_RULES:
        raise ValueError(f"first_frame must be one of {FIRST_FRAME_RULES}, not {first_frame!r}")
    pred = np.array(pred, dtype=np.float64, copy=True).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if pred.shape != gt.shape:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} differ in length")
    n = len(gt)
    if n and first_frame == "gt":
        pred[0] = gt[0]
    absent = np.zeros(n, dtype=bool) if absent is None else np.asarray(absent, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ious = box_iou(pred, gt)
        ce = np.sqrt(np.sum((otb_centers(pred) - otb_centers(gt)) ** 2, axis=-1))
        nce = normalized_center_error(pred, gt, "pysot")
        nce_g = normalized_center_error(pred, gt, "got10k")
    ious = np.where(np.isnan(ious), -1.0, ious)  # a NaN prediction fails every threshold
    ce, nce, nce_g = (np.where(np.isnan(e), np.inf, e) for e in (ce, nce, nce_g))
    valid = np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0) & ~absent
    keep = np.ones(n, dtype=bool)
    if invalid_gt == "fail":
        ious[~valid] = -1.0
        ce[~valid] = nce[~valid] = nce_g[~valid] = np.inf
    elif invalid_gt == "exclude":
        keep = valid
    else:  # pysot
        with np.errstate(invalid="ignore"):
            ok_size = (gt[:, 2] > 0) & (gt[:, 3] > 0)
            c = otb_centers(gt)
            ok_c = (c[:, 0] > 0) & (c[:, 1] > 0)
            cn = c / (gt[:, 2:4] + 1e-16)
            ok_cn = (cn[:, 0] > 0) & (cn[:, 1] > 0)
        ious[~ok_size] = -1.0
        ce[~ok_c] = -1.0
        nce[~ok_cn] = -1.0
        nce_g[~ok_c] = -1.0
        ious[absent] = -1.0
        ce[absent] = nce[absent] = nce_g[absent] = np.inf
    return {"iou": ious, "center": ce, "norm_center": nce, "norm_center_got10k": nce_g, "keep": keep}


def curves(errors: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The four curves of one sequence from :func:`frame_errors` output (fractions of kept frames)."""
    keep = errors["keep"]
    n = int(keep.sum())

    def frac(hit: np.ndarray) -> np.ndarray:
        return hit[keep].sum(0) / n if n else np.zeros(hit.shape[1])

    return {
        "success_curve": frac(np.greater(errors["iou"][:, None], SUCCESS_THRESHOLDS[None, :])),
        "precision_curve": frac(np.less_equal(errors["center"][:, None], PRECISION_THRESHOLDS[None, :])),
        "norm_precision_curve": frac(np.less_equal(errors["norm_center"][:, None],
                                                   NORM_PRECISION_THRESHOLDS[None, :])),
        "norm_precision_curve_got10k": frac(np.less_equal(errors["norm_center_got10k"][:, None],
                                                          NORM_PRECISION_GOT10K_THRESHOLDS[None, :])),
    }


def scores(c: Mapping[str, np.ndarray]) -> Dict[str, float]:
    """Headline numbers read off the curves."""
    return {
        "success_auc": float(np.mean(c["success_curve"])),
        "precision_20": float(c["precision_curve"][20]),
        "norm_precision_20": float(c["norm_precision_curve"][20]),
        "norm_precision_auc": float(np.mean(c["norm_precision_curve_got10k"])),
        "success_rate_50": float(c["success_curve"][10]),
    }


def sequence_metrics(pred, gt, *, absent: Optional[np.ndarray] = None, invalid_gt: str = "fail",
                     first_frame: str = "gt", times: Optional[np.ndarray] = None) -> Dict[str, object]:
    """Per-sequence one-pass metrics: curves (numpy arrays), scores, ``n_frames``, ``fps``.

    ``times``: per-frame tracker seconds (optional); ``fps`` = frames / total time."""
    e = frame_errors(pred, gt, absent=absent, invalid_gt=invalid_gt, first_frame=first_frame)
    out: Dict[str, object] = dict(curves(e))
    out.update(scores(out))
    out["n_frames"] = int(len(e["iou"]))
    out["n_scored"] = int(e["keep"].sum())
    out["fps"] = fps(times)
    out["_seconds"], out["_timed_frames"] = _time_totals(times)
    return out


def combine(per_sequence: Iterable[Mapping[str, object]]) -> Dict[str, object]:
    """Dataset metrics from per-sequence results: mean curves over sequences, scores from them,
    ``fps`` = all timed frames / all tracker seconds."""
    items = list(per_sequence)
    if not items:
        return {}
    out: Dict[str, object] = {k: np.mean([np.asarray(s[k]) for s in items], axis=0) for k in CURVES}
    out.update(scores(out))
    out["n_sequences"] = len(items)
    out["n_frames"] = int(sum(int(s["n_frames"]) for s in items))
    sec = sum(float(s.get("_seconds", 0.0)) for s in items)
    frames = sum(int(s.get("_timed_frames", 0)) for s in items)
    out["fps"] = frames / sec if sec > 0 else None
    return out


def by_attribute(per_sequence: Mapping[str, Mapping[str, object]],
                 attributes: Mapping[str, Sequence[str]]) -> Dict[str, Dict[str, object]]:
    """:func:`combine` over the sequences carrying each attribute (``{seq: attrs}``)."""
    groups: Dict[str, List[str]] = {}
    for seq, attrs in attributes.items():
        if seq in per_sequence:
            for a in attrs:
                groups.setdefault(a, []).append(seq)
    return {a: combine(per_sequence[s] for s in seqs) for a, seqs in sorted(groups.items())}


def fps(times: Optional[np.ndarray]) -> Optional[float]:
    sec, n = _time_totals(times)
    return n / sec if sec > 0 else None


def _time_totals(times: Optional[np.ndarray]):
    if times is None:
        return 0.0, 0
    t = np.asarray(times, dtype=np.float64).ravel()
    t = t[np.isfinite(t) & (t > 0)]
    return float(t.sum()), int(t.size)
