"""Image crops: the one place where trackers cut patches out of frames.

* :func:`crop_square`: a square window of side ``size`` (rounded to whole pixels)
  centred at ``center``, padded with ``pad_value`` outside the image, resized to
  ``out_size`` (pysot's / DaSiamRPN's ``get_subwindow``: window start
  ``floor(c - (size + 1) / 2 + 0.5)``). Used by the Siamese trackers.
* :func:`crop_boxes`: many ``xywh`` boxes, each warped to ``out_size x out_size`` with
  an optional context margin (py-MDNet's ``crop_image2`` for MDNet, the 1.4x
  enlargement for ADNet). One affine warp per box, no full-image copies.
* :func:`crop_many` (many squares into one buffer) and :func:`exemplar_size` (the
  Siamese context square).

Images are HxWx3 arrays (any channel order; crops keep it). Results can be written
into preallocated buffers (``out=``) to avoid per-frame allocations in hot loops.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np


def crop_square(image: np.ndarray, center: Sequence[float], size: float, out_size: int,
                pad_value, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Crop a ``round(size)`` square centred at ``center = (cx, cy)`` and resize it to ``out_size``.

    Pixels outside the image take ``pad_value`` (per-channel, e.g. the image mean).
    Returns (out_size, out_size, 3) in ``image``'s dtype, or writes into ``out``.
    """
    sz = int(round(float(size)))
    sz = max(sz, 1)
    h, w = image.shape[:2]
    c = (sz + 1) / 2
    x0 = int(np.floor(center[0] - c + 0.5))
    y0 = int(np.floor(center[1] - c + 0.5))
    x1, y1 = x0 + sz, y0 + sz  # exclusive
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if ix0 == x0 and iy0 == y0 and ix1 == x1 and iy1 == y1:
        patch = image[y0:y1, x0:x1]
    else:
        patch = np.empty((sz, sz, image.shape[2]), dtype=image.dtype)
        patch[...] = np.asarray(pad_value, dtype=image.dtype)
        if ix1 > ix0 and iy1 > iy0:
            patch[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = image[iy0:iy1, ix0:ix1]
    if sz != out_size:
        if out is not None:
            cv2.resize(patch, (out_size, out_size), dst=out, interpolation=cv2.INTER_LINEAR)
            return out
        return cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)
    if out is not None:
        out[...] = patch
        return out
    return np.ascontiguousarray(patch)


def _wh(out_size: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    """``out_size`` as ``(width, height)``: an int is a square."""
    if isinstance(out_size, (tuple, list)):
        return int(out_size[0]), int(out_size[1])
    return int(out_size), int(out_size)


def box_warp_matrices(boxes: np.ndarray, out_size: Union[int, Tuple[int, int]], context: float = 0.0,
                      scale: float = 1.0) -> np.ndarray:
    """Affine matrices (N, 2, 3) mapping each ``xywh`` box to an ``out_size`` square
    (or an ``(out_w, out_h)`` rectangle, e.g. 64 x 128 person crops for re-identification).

    The box is first enlarged by ``scale`` about its centre, then by a margin of
    ``context`` output pixels on each side (py-MDNet: ``w += 2 * padding * w / out_size``).
    """
    ow, oh = _wh(out_size)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cx = b[:, 0] + b[:, 2] / 2
    cy = b[:, 1] + b[:, 3] / 2
    w = b[:, 2] * scale
    h = b[:, 3] * scale
    if context:
        w = w + 2 * context * w / ow
        h = h + 2 * context * h / oh
    sx = ow / np.maximum(w, 1e-6)
    sy = oh / np.maximum(h, 1e-6)
    m = np.zeros((len(b), 2, 3))
    m[:, 0, 0] = sx
    m[:, 0, 2] = ow / 2 - sx * cx
    m[:, 1, 1] = sy
    m[:, 1, 2] = oh / 2 - sy * cy
    return m


def enlarged_clipped(boxes: np.ndarray, scale: float, image_wh: Sequence[float]) -> np.ndarray:
    """Boxes (N, 4) ``xywh`` enlarged ``scale`` x about their centres, then clipped to the image
    ``(width, height)``; width and height at least 1 px (ADNet's ``get_extract_regions.m``)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    c = b[:, :2] + b[:, 2:] / 2
    s = b[:, 2:] * scale
    x0 = np.clip(c - s / 2, 0, image_wh)
    x1 = np.clip(c + s / 2, 0, image_wh)
    return np.concatenate([x0, np.maximum(x1 - x0, 1.0)], axis=1)


def crop_boxes(image: np.ndarray, boxes: np.ndarray, out_size: Union[int, Tuple[int, int]], *, context: float = 0.0,
               scale: float = 1.0, border: str = "replicate", pad_value=0,
               out: Optional[np.ndarray] = None) -> np.ndarray:
    """Warp every ``xywh`` box of ``boxes`` (N, 4) to an ``out_size`` square, or an
    ``(out_w, out_h)`` rectangle (bilinear).

    ``border``: ``"replicate"`` (py-MDNet) or ``"constant"`` (``pad_value``).
    Returns (N, out_h, out_w, C) in ``image``'s dtype, or fills ``out``.
    """
    mats = box_warp_matrices(boxes, out_size, context, scale)
    n = len(mats)
    ow, oh = _wh(out_size)
    if out is None:
        out = np.empty((n, oh, ow, image.shape[2]), dtype=image.dtype)
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    val = tuple(float(v) for v in np.broadcast_to(np.asarray(pad_value, dtype=np.float64), (image.shape[2],)))
    for i in range(n):
        cv2.warpAffine(image, mats[i], (ow, oh), dst=out[i], flags=cv2.INTER_LINEAR,
                       borderMode=mode, borderValue=val)
    return out


def exemplar_size(w: float, h: float, context: float) -> float:
    """Side ``sqrt((w + p)(h + p))``, ``p = context * (w + h)``, of the exemplar crop in image pixels
    (SiamFC / SiamRPN: context 0.5)."""
    p = context * (w + h)
    return float(np.sqrt((w + p) * (h + p)))


def crop_many(image: np.ndarray, centers: np.ndarray, sizes: np.ndarray, out_size: int,
              pads: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``crop_square`` for every row: centres (M, 2), sides (M,), pad colours (M, 3) -> ``out`` (M, S, S, 3)."""
    for i in range(len(sizes)):
        crop_square(image, centers[i], sizes[i], out_size, pads[i], out=out[i])
    return out
