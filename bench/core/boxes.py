"""Box formats, conversions, IoU and centre errors: the one place for box geometry.

Conventions (the field's majority, see README "Conventions"):

* ``xywh``: ``x, y`` = top-left corner, ``w, h`` = size, floats, 0-based pixel origin.
  Arrays of shape (N, 4), float64. A box covers the continuous interval
  ``[x, x + w) x [y, y + h)`` (no ``+1``), as in got10k, pysot and TrackEval.
* ``xyxy``: ``x1, y1, x2, y2`` with ``x2 = x + w``.
* ``cxcywh``: centre and size, centre = ``x + w / 2``.
* OTB centre (for the precision metric) = ``x + (w - 1) / 2`` (pysot, got10k, pytracking).
* Polygons (VOT regions): (N, 8) ``x1, y1, ..., x4, y4``.

Rasterised VOT region overlaps live in :mod:`bench.core.regions`.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

_EPS = np.finfo(float).eps


def as_boxes(boxes, ndim: int = 4) -> np.ndarray:
    """Return ``boxes`` as a float64 array of shape (N, ndim) (a single box becomes (1, ndim))."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != ndim:
        raise ValueError(f"expected boxes of shape (N, {ndim}), got {arr.shape}")
    return arr


def xywh_to_xyxy(b) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def xyxy_to_xywh(b) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def xywh_to_cxcywh(b) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] + b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def cxcywh_to_xywh(b) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] - b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def otb_centers(b) -> np.ndarray:
    """OTB centre ``x + (w - 1) / 2, y + (h - 1) / 2`` of ``xywh`` boxes, shape (..., 2)."""
    b = np.asarray(b, dtype=np.float64)
    return b[..., :2] + (b[..., 2:4] - 1) / 2


def valid_mask(b) -> np.ndarray:
    """True where a ``xywh`` box is finite with ``w > 0`` and ``h > 0``."""
    b = np.asarray(b, dtype=np.float64)
    return np.all(np.isfinite(b), axis=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


def clip_boxes(b, width: float, height: float) -> np.ndarray:
    """Clip ``xywh`` boxes to the image ``[0, width] x [0, height]`` (got10k's ``bound`` rule)."""
    b = np.array(b, dtype=np.float64, copy=True)
    b[..., 0] = np.clip(b[..., 0], 0, width)
    b[..., 1] = np.clip(b[..., 1], 0, height)
    b[..., 2] = np.clip(b[..., 2], 0, width - b[..., 0])
    b[..., 3] = np.clip(b[..., 3], 0, height - b[..., 1])
    return b


def iou(a, b, bound: Optional[Sequence[float]] = None) -> np.ndarray:
    """Element-wise IoU of two (N, 4) ``xywh`` arrays, in [0, 1].

    Same arithmetic as got10k's ``rect_iou`` (areas from ``w * h``, ``eps`` in the
    denominator, result clipped to [0, 1]). ``bound = (W, H)`` first clips both boxes
    to the image. Rows with NaN give NaN.
    """
    a = np.array(a, dtype=np.float64, copy=True)
    b = np.array(b, dtype=np.float64, copy=True)
    if a.shape != b.shape:
        raise ValueError(f"iou: shapes differ {a.shape} vs {b.shape}")
    if bound is not None:
        a = clip_boxes(a, bound[0], bound[1])
        b = clip_boxes(b, bound[0], bound[1])
    x1 = np.maximum(a[..., 0], b[..., 0])
    y1 = np.maximum(a[..., 1], b[..., 1])
    x2 = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    y2 = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    with np.errstate(invalid="ignore"):
        out = np.clip(inter / (union + _EPS), 0.0, 1.0)
    nan = np.isnan(a).any(-1) | np.isnan(b).any(-1)
    if np.any(nan):
        out = np.where(nan, np.nan, out)
    return out


def iou_matrix(a, b) -> np.ndarray:
    """Pairwise IoU (N, M) between ``xywh`` boxes ``a`` (N, 4) and ``b`` (M, 4).

    Same arithmetic as TrackEval's ``_calculate_box_ious(box_format='xywh')``: boxes
    go to ``xyxy`` first, areas come from the corners, zero-area unions give 0.
    """
    a = xywh_to_xyxy(as_boxes(a)) if len(a) else np.zeros((0, 4))
    b = xywh_to_xyxy(as_boxes(b)) if len(b) else np.zeros((0, 4))
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(ix1 - ix0, 0) * np.maximum(iy1 - iy0, 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    inter[area_a <= 0 + _EPS, :] = 0
    inter[:, area_b <= 0 + _EPS] = 0
    inter[union <= 0 + _EPS] = 0
    union[union <= 0 + _EPS] = 1
    return inter / union


def iom_matrix(a, b) -> np.ndarray:
    """Pairwise intersection over the smaller area (N, M) of ``xywh`` boxes (ReMOTS's IoM, §2.1).

    The intersection as in :func:`iou_matrix`; 0 where the smaller area is ``<= eps``.
    """
    a = xywh_to_xyxy(as_boxes(a)) if len(a) else np.zeros((0, 4))
    b = xywh_to_xyxy(as_boxes(b)) if len(b) else np.zeros((0, 4))
    iw = np.maximum(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0)
    ih = np.maximum(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0)
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    small = np.minimum(area_a[:, None], area_b[None, :])
    out = np.zeros_like(inter)
    ok = small > _EPS
    out[ok] = inter[ok] / small[ok]
    return out


def iou_pairs_xyxy(a, b) -> np.ndarray:
    """Element-wise IoU (N,) of ``xyxy`` boxes ``a`` (N, 4) and ``b`` (N, 4).

    The arithmetic of :func:`iou_matrix` (TrackEval's ``_calculate_box_ious``) applied
    to matched rows instead of all pairs: the same value, bit for bit, as the
    corresponding entry of ``iou_matrix`` on the ``xywh`` boxes. Used by the MOT
    metrics, which evaluate only the pairs of boxes that share a frame.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"iou_pairs_xyxy: expected two (N, 4) arrays, got {a.shape} and {b.shape}")
    iw = np.minimum(a[:, 2], b[:, 2])
    iw -= np.maximum(a[:, 0], b[:, 0])
    np.maximum(iw, 0, out=iw)
    ih = np.minimum(a[:, 3], b[:, 3])
    ih -= np.maximum(a[:, 1], b[:, 1])
    np.maximum(ih, 0, out=ih)
    inter = iw
    inter *= ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a + area_b
    union -= inter
    inter[(area_a <= _EPS) | (area_b <= _EPS) | (union <= _EPS)] = 0
    union[union <= _EPS] = 1
    inter /= union
    return inter


def ioa_pairs_xyxy(a, b) -> np.ndarray:
    """Element-wise intersection over the area of ``a`` (N,) for ``xyxy`` boxes ``a`` and ``b`` (N, 4).

    TrackEval's ``_calculate_box_ious(..., do_ioa=True)`` on matched rows (the share of a
    tracker box inside a crowd / don't-care region): the same intersection arithmetic as
    :func:`iou_pairs_xyxy`, divided by ``a``'s area; 0 where that area is ``<= eps``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"ioa_pairs_xyxy: expected two (N, 4) arrays, got {a.shape} and {b.shape}")
    iw = np.minimum(a[:, 2], b[:, 2])
    iw -= np.maximum(a[:, 0], b[:, 0])
    np.maximum(iw, 0, out=iw)
    ih = np.minimum(a[:, 3], b[:, 3])
    ih -= np.maximum(a[:, 1], b[:, 1])
    np.maximum(ih, 0, out=ih)
    inter = iw
    inter *= ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    out = np.zeros(len(a))
    ok = area_a > _EPS
    out[ok] = inter[ok] / area_a[ok]
    return out


def center_error(a, b) -> np.ndarray:
    """Euclidean distance in pixels between OTB centres of ``xywh`` boxes (element-wise)."""
    d = otb_centers(a) - otb_centers(b)
    return np.sqrt(np.sum(d * d, axis=-1))


def normalized_center_error(pred, gt, variant: str = "pysot") -> np.ndarray:
    """Centre error normalised by the ground-truth size (LaSOT / TrackingNet).

    ``variant="pysot"`` (pysot, pytracking, mmtracking): both centres divided by the
    gt ``(w, h)`` (+1e-16). ``variant="got10k"``: the difference divided by
    ``max(1, gt_wh)`` per axis.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if variant == "pysot":
        wh = gt[..., 2:4] + 1e-16
        d = otb_centers(pred) / wh - otb_centers(gt) / wh
    elif variant == "got10k":
        d = (otb_centers(pred) - otb_centers(gt)) / np.maximum(1.0, gt[..., 2:4])
    else:
        raise ValueError(f"unknown normalized precision variant '{variant}' (pysot, got10k)")
    return np.sqrt(np.sum(d * d, axis=-1))


def poly_to_xywh(poly) -> np.ndarray:
    """Axis-aligned bounding box (min/max of the vertices) of (N, 8) polygons, as ``xywh``."""
    p = np.asarray(poly, dtype=np.float64)
    xs, ys = p[..., 0::2], p[..., 1::2]
    x1, y1 = xs.min(-1), ys.min(-1)
    return np.stack([x1, y1, xs.max(-1) - x1, ys.max(-1) - y1], axis=-1)


def poly_to_init_xywh(poly) -> np.ndarray:
    """pysot's ``get_axis_aligned_bbox``: an area-preserving axis-aligned box for a rotated polygon.

    Used to initialise a tracker on a VOT region: centre = vertex mean, the min/max
    box scaled by ``sqrt(A_poly / A_box)`` and ``+1``; returned as ``xywh`` with
    ``x = cx - (w - 1) / 2``.
    """
    p = np.asarray(poly, dtype=np.float64)
    xs, ys = p[..., 0::2], p[..., 1::2]
    cx, cy = xs.mean(-1), ys.mean(-1)
    x1, x2, y1, y2 = xs.min(-1), xs.max(-1), ys.min(-1), ys.max(-1)
    a1 = np.linalg.norm(p[..., 0:2] - p[..., 2:4], axis=-1) * np.linalg.norm(p[..., 2:4] - p[..., 4:6], axis=-1)
    a2 = (x2 - x1) * (y2 - y1)
    s = np.sqrt(a1 / np.maximum(a2, _EPS))
    w = s * (x2 - x1) + 1
    h = s * (y2 - y1) + 1
    return np.stack([cx - (w - 1) / 2, cy - (h - 1) / 2, w, h], axis=-1)


def xywh_to_poly(b) -> np.ndarray:
    """Rectangle ``xywh`` as a 4-vertex polygon (N, 8), clockwise from the top-left."""
    b = np.asarray(b, dtype=np.float64)
    x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([x, y, x + w, y, x + w, y + h, x, y + h], axis=-1)
