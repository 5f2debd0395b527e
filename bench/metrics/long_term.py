"""VOT long-term measures: tracking precision, tracking recall and F-score (VOT2018-LT, VOT2019-LT / LTB50).

Lukezic et al., "Now you see me: evaluating performance in long-term visual tracking"
(arXiv 1804.07056) and the VOT2018 results paper define, per frame ``t``, the tracker's
region ``A_t`` (or none) with a confidence ``c_t``, the ground truth ``G_t`` (or none when
the target is absent) and their overlap ``o_t``; for a confidence threshold ``tau``

* tracking precision ``Pr(tau)`` = mean overlap over the frames whose confidence is
  ``>= tau``,
* tracking recall ``Re(tau)`` = sum of those overlaps / number of frames with a visible
  target ``N_g``,
* ``F(tau) = 2 Pr(tau) Re(tau) / (Pr(tau) + Re(tau))``, and the reported F-score is
  ``max_tau F(tau)`` with ``Pr`` and ``Re`` at that ``tau``.

Everything below follows vot-toolkit 0.9.0 (the Python VOT toolkit, ``vot/analysis/longterm.py``)
exactly; each function names the toolkit function it reproduces. The rules, including the
quirks, are:

1. **Overlaps** (``compute_tpr_curves``: ``calculate_overlaps(trajectory, groundtruth,
   sequence.size)``): the rasterised VOT overlap inside the image (``bounded=True``,
   :func:`bench.core.regions.overlap` "vot-toolkit"). A special region (``1`` on the
   initialisation frame, ``0`` for a frame the tracker reports no target) rasterises to
   nothing; an absent target (NaN ground truth) is a special region too. Two empty regions
   have overlap **1** ("by definition"), an empty and a non-empty one 0. So a box reported
   while the target is absent adds 0, and "no target" reported while it is absent adds 1
   wherever its confidence passes the threshold.
2. **Frames counted at** ``tau``: every frame with ``confidence >= tau``, the
   initialisation frame included (its region is the special ``1``: overlap 0; its
   confidence is the empty first line of the confidence file, read as 0 because
   ``trajectory.properties(i).get('confidence', 0)`` defaults a missing value to 0).
   A NaN confidence is never counted (``NaN >= tau`` is false).
3. **Per sequence** (``compute_tpr_curves``): ``Pr = mean(o[c >= tau])``,
   ``Re = sum(o[c >= tau]) / N_g`` with ``N_g`` the frames whose ground truth is not a
   special region; where no frame passes, ``Pr = 1`` and ``Re = 0``. Repetitions are
   averaged per threshold (``PrecisionRecallCurves.subcompute``).
4. **Thresholds** (``determine_thresholds``, ``_Thresholds`` with ``resolution = 100``):
   the confidences of *all* frames of all sequences and repetitions of the tracker, NaN
   removed, sorted in decreasing order (duplicates kept, not unique values); if there
   are more than ``resolution - 2`` of them, ``delta = floor(n / (resolution - 2))`` and the
   thresholds are ``scores[round(linspace(delta, n - delta, resolution - 2))]`` (0-based
   indices, numpy's round half to even), else all the scores; then ``+inf`` is put first
   and ``-inf`` last. The same thresholds serve every sequence.
5. **Dataset curves** (``PrecisionRecallCurve.aggregate``): precision and recall are
   averaged over sequences at each threshold (every sequence weighs the same, whatever its
   length); the curve holds ``(Re, Pr)`` pairs.
6. **F** (``FScoreCurve.compute``, ``beta = 1``): ``F = (1 + b^2) a b / (b^2 a + b)`` with
   ``(a, b)`` the curve's ``(Re, Pr)`` pairs: for ``beta = 1`` the usual
   ``2 Pr Re / (Pr + Re)``; for another ``beta`` the toolkit weighs *precision*
   ``beta`` times as much (its loop names the pair ``pr_, re_`` but gets ``(Re, Pr)``).
   ``Pr + Re = 0`` gives NaN (numpy 0 / 0).
7. **Score** (``PrecisionRecall.compute``): ``F = max(F curve)`` with Python's ``max``
   (the first maximum; NaN entries are passed over unless the first entry is NaN) and
   ``Pr``, ``Re`` at the first index of that maximum.

The legacy MATLAB toolkit (``votchallenge/toolkit-legacy`` ``analysis/analyze_precision_recall.m``,
``report/report_precision_recall.m``), which produced the published VOT2018-LT numbers,
differs: it pools the frames of all sequences into one curve when the report uses tags,
subsamples the confidences sorted increasingly at MATLAB's 1-based indices once there are
more than ``resolution`` of them, and (as far as we can tell from ``estimate_accuracy``,
whose NaN overlaps become 0) scores an empty region against an absent target as 0. Those
rules are not implemented here; see ``docs/sot-eval.md``.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.regions import as_regions, overlap
from ..core.registry import register_metric
from . import MetricInfo

RESOLUTION = 100
BETA = 1.0

register_metric("f_score", kind="vot-lt", description="VOT-LT: max over thresholds of F = 2 Pr Re / (Pr + Re) "
                "of the sequence-averaged precision / recall curves (vot-toolkit PrecisionRecall)")(
    MetricInfo("f_score", "vot-lt", "VOT-LT F-score"))
register_metric("precision", kind="vot-lt", description="VOT-LT: tracking precision at the F-score's threshold "
                "(mean overlap of the frames reported with confidence >= threshold)")(
    MetricInfo("precision", "vot-lt", "VOT-LT tracking precision"))
register_metric("recall", kind="vot-lt", description="VOT-LT: tracking recall at the F-score's threshold "
                "(sum of those overlaps / frames with a visible target)")(
    MetricInfo("recall", "vot-lt", "VOT-LT tracking recall"))
register_metric("pr_curve", kind="vot-lt", description="VOT-LT: (recall, precision) at each confidence threshold "
                "(+inf first, -inf last)")(MetricInfo("pr_curve", "vot-lt", "VOT-LT precision-recall curve"))
register_metric("f_curve", kind="vot-lt", description="VOT-LT: F-score at each confidence threshold")(
    MetricInfo("f_curve", "vot-lt", "VOT-LT F-score curve"))


def determine_thresholds(scores: Iterable[float], resolution: int = RESOLUTION) -> np.ndarray:
    """Confidence thresholds, ``+inf`` first and ``-inf`` last (vot-toolkit ``determine_thresholds``).

    NaN scores are dropped, the rest sorted in decreasing order (duplicates kept); more than
    ``resolution - 2`` scores are subsampled at the 0-based indices
    ``round(linspace(delta, n - delta, resolution - 2))``, ``delta = floor(n / (resolution - 2))``.
    """
    s = np.asarray([float(v) for v in scores], dtype=np.float64).ravel()
    s = np.sort(s[~np.isnan(s)])[::-1]
    if len(s) > resolution - 2:
        delta = math.floor(len(s) / (resolution - 2))
        idxs = np.round(np.linspace(delta, len(s) - delta, num=resolution - 2)).astype(int)
        s = s[idxs]
    return np.concatenate([[math.inf], s, [-math.inf]])


def sequence_overlaps(trajectory, groundtruth, bounds: Optional[Tuple[float, float]]) -> np.ndarray:
    """Per-frame overlap of a long-term trajectory with the ground truth (vot-toolkit ``calculate_overlaps``).

    Both are region lists (:func:`bench.core.regions.as_regions`: special codes, ``xywh``
    rectangles, polygons; NaN rows are the special ``0``); ``bounds`` the image size
    ``(W, H)`` or None (``bounded=False``). Two special regions overlap 1, a special and a
    shape 0."""
    return overlap(as_regions(trajectory), as_regions(groundtruth), bounds, convention="vot-toolkit")


def visible_frames(groundtruth) -> int:
    """Frames whose ground truth is a region, not a special code / NaN row (``n_visible``)."""
    return int(np.sum(~as_regions(groundtruth).is_special))


def tpr_curves(overlaps: np.ndarray, confidence: np.ndarray, n_visible: int,
               thresholds: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of one run at each threshold (vot-toolkit ``compute_tpr_curves``).

    ``precision = mean(o[c >= t])``, ``recall = sum(o[c >= t]) / n_visible``; ``(1, 0)`` where no
    frame passes. ``confidence`` NaN never passes."""
    o = np.asarray(overlaps, dtype=np.float64).ravel()
    c = np.asarray(confidence, dtype=np.float64).ravel()
    if o.shape != c.shape:
        raise ValueError(f"{len(o)} overlaps for {len(c)} confidences")
    pr = np.zeros(len(thresholds))
    re = np.zeros(len(thresholds))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, t in enumerate(np.asarray(thresholds, dtype=np.float64)):
            subset = c >= t
            if not subset.any():
                pr[i], re[i] = 1.0, 0.0
            else:
                pr[i] = np.mean(o[subset])
                re[i] = np.sum(o[subset]) / np.float64(n_visible)
    return pr, re


def sequence_curves(overlaps: Sequence[np.ndarray], confidences: Sequence[np.ndarray], n_visible: int,
                    thresholds: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of a sequence: its runs averaged per threshold (``PrecisionRecallCurves.subcompute``)."""
    if not len(overlaps):
        raise ValueError("a sequence needs at least one run")
    pr = np.zeros(len(thresholds))
    re = np.zeros(len(thresholds))
    for o, c in zip(overlaps, confidences):
        p, r = tpr_curves(o, c, n_visible, thresholds)
        pr, re = pr + p, re + r
    return pr / len(overlaps), re / len(overlaps)


def f_curve(precision: np.ndarray, recall: np.ndarray, beta: float = BETA) -> np.ndarray:
    """F at each threshold as vot-toolkit ``FScoreCurve.compute`` evaluates it.

    ``(1 + b^2) Re Pr / (b^2 Re + Pr)`` (the toolkit's pair is ``(Re, Pr)``): the usual
    ``2 Pr Re / (Pr + Re)`` for ``beta = 1``; NaN where ``Pr + Re = 0``."""
    b2 = beta * beta
    a = np.asarray(recall, dtype=np.float64)
    b = np.asarray(precision, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((1 + b2) * a * b) / (b2 * a + b)


def best_index(f: Sequence[float]) -> int:
    """Index of ``max(f)`` in ``f`` with Python's ``max`` and ``list.index`` (``PrecisionRecall.compute``):
    the first maximum; NaN entries never win, but a NaN first entry stays."""
    f = np.asarray(f, dtype=np.float64)
    best = 0
    for i in range(1, len(f)):
        if f[i] > f[best]:
            best = i
    return best


def curves_metrics(precision: np.ndarray, recall: np.ndarray, thresholds: np.ndarray,
                   beta: float = BETA) -> Dict[str, Any]:
    """F-score, precision, recall and threshold at the best F of (averaged) curves, plus the curves."""
    f = f_curve(precision, recall, beta)
    k = best_index(f)
    return {"f_score": float(f[k]), "precision": float(precision[k]), "recall": float(recall[k]),
            "threshold": float(thresholds[k]), "threshold_index": int(k),
            "pr_curve": np.stack([recall, precision], 1).tolist(), "f_curve": f.tolist(),
            "thresholds": np.asarray(thresholds, dtype=np.float64).tolist()}


def combine(sequences: Sequence[Mapping[str, Any]], resolution: int = RESOLUTION,
            beta: float = BETA) -> Dict[str, Any]:
    """Dataset measures from per-sequence data (the vot-toolkit ``average_tpr`` / ``pr_curve`` / ``f_curve`` analyses).

    Each item of ``sequences`` holds ``overlaps`` and ``confidence`` (one array per run) and
    ``n_visible``. Thresholds from all confidences (:func:`determine_thresholds`), per-sequence
    curves (:func:`sequence_curves`), their mean over sequences, F and its maximum
    (:func:`curves_metrics`). Returns ``f_score``, ``precision``, ``recall``, ``threshold``,
    ``threshold_index``, ``pr_curve`` (``[recall, precision]`` per threshold), ``f_curve``,
    ``thresholds``, ``n_sequences``."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("no sequences to combine")
    thresholds = determine_thresholds((v for s in sequences for c in s["confidence"]
                                       for v in np.asarray(c, dtype=np.float64).ravel()), resolution)
    pr_sum: Optional[np.ndarray] = None
    re_sum: Optional[np.ndarray] = None
    for s in sequences:
        pr, re = sequence_curves(s["overlaps"], s["confidence"], int(s["n_visible"]), thresholds)
        if pr_sum is None:
            pr_sum, re_sum = pr, re
        else:
            pr_sum, re_sum = pr_sum + pr, re_sum + re
    out = curves_metrics(pr_sum / len(sequences), re_sum / len(sequences), thresholds, beta)
    out["n_sequences"] = len(sequences)
    return out


def sequence_metrics(overlaps: Sequence[np.ndarray], confidences: Sequence[np.ndarray], n_visible: int,
                     resolution: int = RESOLUTION, beta: float = BETA) -> Dict[str, Any]:
    """The measures of one sequence alone (its own thresholds): what the toolkit reports for a
    one-sequence dataset."""
    return combine([{"overlaps": list(overlaps), "confidence": list(confidences), "n_visible": n_visible}],
                   resolution, beta)


def measures(trajectories: Sequence[Tuple[Any, Any]], groundtruths: Sequence[Any],
             sizes: Sequence[Optional[Tuple[float, float]]], resolution: int = RESOLUTION,
             beta: float = BETA) -> Dict[str, Any]:
    """Convenience: ``trajectories[i] = (regions, confidence)`` of sequence ``i`` (one run),
    ``groundtruths[i]`` its regions (NaN rows = absent), ``sizes[i]`` its ``(W, H)`` (None:
    unbounded) -> :func:`combine`."""
    data: List[Dict[str, Any]] = []
    for (traj, conf), gt, size in zip(trajectories, groundtruths, sizes):
        data.append({"overlaps": [sequence_overlaps(traj, gt, size)],
                     "confidence": [np.asarray(conf, dtype=np.float64)], "n_visible": visible_frames(gt)})
    return combine(data, resolution, beta)
