"""Box sample generators of MDNet / ADNet (py-MDNet ``modules/sample_generator.py``), vectorised.

All boxes are ``xywh`` float (0-based). A generator draws ``n`` boxes around a
reference box ``bb``:

* ``gaussian``: centre ``+ trans * mean(w, h) * clip(0.5 * randn, -1, 1)``,
  size ``* scale ** clip(0.5 * randn, -1, 1)`` (candidates, positives).
* ``uniform``: centre ``+ trans * mean(w, h) * U(-1, 1)``, size ``* scale ** U(-1, 1)`` (negatives).
* ``whole``: centres on a ``2 sqrt(n)`` grid over the whole image, size ``* scale ** U(-1, 1)``
  (first-frame negatives).

``aspect`` (optional) first multiplies w and h by ``aspect ** U(-1, 1)`` independently
(bounding-box-regression samples). Sizes are clipped to ``[10, image - 10]`` and centres
to the image (``valid=True``: the whole box inside), as in py-MDNet.

``style="matlab"`` follows the MATLAB ``gen_samples.m`` of MDNet / ADNet instead: the
translation unit is ``round(mean(w, h))``, ``whole`` picks boxes from a grid with
stride ``(w/5, h/5)`` and sizes ``1.05 ** {-5..5}``, centres are clipped to the image
and the boxes are rounded to whole pixels. ``scale`` is the base of the exponent
(MATLAB ``opts.scale_factor ** scale_f``).

:meth:`SampleGenerator.__call__` with ``overlap_range`` / ``scale_range`` keeps only boxes
whose IoU with ``bb`` (and area ratio) fall in the closed ranges, drawing ``2x, 4x, 8x``
the missing count until ``n`` are found (py-MDNet's rejection loop; it may return fewer).
Randomness comes only from the ``numpy.random.Generator`` passed in.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from bench.core.boxes import iou

KINDS = ("gaussian", "uniform", "whole")
STYLES = ("pymdnet", "matlab")
MATLAB_WHOLE_SCALE = 1.05  # opts.scale_factor in gen_samples.m 'whole'


def overlap(boxes: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """IoU of every ``xywh`` row of ``boxes`` (N, 4) with one box ``ref`` (4,)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return iou(boxes, np.broadcast_to(np.asarray(ref, dtype=np.float64).reshape(1, 4), boxes.shape))


class SampleGenerator:
    """Draw ``xywh`` boxes around a reference box; ``img_size = (W, H)``."""

    def __init__(self, kind: str, img_size: Sequence[float], trans: float = 1.0, scale: float = 1.0,
                 aspect: Optional[float] = None, valid: bool = False, style: str = "pymdnet"):
        if kind not in KINDS:
            raise ValueError(f"sample kind must be one of {KINDS}, not {kind!r}")
        if style not in STYLES:
            raise ValueError(f"sample style must be one of {STYLES}, not {style!r}")
        self.kind, self.style = kind, style
        self.img_size = np.asarray(img_size, dtype=np.float64).reshape(2)
        self.trans, self.scale, self.aspect, self.valid = float(trans), float(scale), aspect, valid

    def set_trans(self, trans: float) -> None:
        self.trans = float(trans)

    def expand_trans(self, limit: float, factor: float = 1.1) -> None:
        """py-MDNet's search widening on failure: ``trans = min(1.1 trans, limit)``."""
        self.trans = min(self.trans * factor, float(limit))

    def draw(self, bb: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` boxes without any filtering, (n, 4) ``xywh``."""
        bb = np.asarray(bb, dtype=np.float64).reshape(4)
        if self.style == "matlab":
            return self._draw_matlab(bb, n, rng)
        s = np.empty((n, 4))
        s[:, 0] = bb[0] + bb[2] / 2
        s[:, 1] = bb[1] + bb[3] / 2
        s[:, 2:] = bb[2:]
        if self.aspect is not None:
            s[:, 2:] *= float(self.aspect) ** (rng.random((n, 2)) * 2 - 1)
        mean_wh = bb[2:].mean()
        if self.kind == "gaussian":
            s[:, :2] += self.trans * mean_wh * np.clip(0.5 * rng.standard_normal((n, 2)), -1, 1)
            s[:, 2:] *= self.scale ** np.clip(0.5 * rng.standard_normal((n, 1)), -1, 1)
        elif self.kind == "uniform":
            s[:, :2] += self.trans * mean_wh * (rng.random((n, 2)) * 2 - 1)
            s[:, 2:] *= self.scale ** (rng.random((n, 1)) * 2 - 1)
        else:  # whole
            m = int(2 * np.sqrt(n))
            gx, gy = np.meshgrid(np.linspace(0, 1, m), np.linspace(0, 1, m))
            xy = np.stack([gx.ravel(), gy.ravel()], 1)
            xy = xy[rng.permutation(len(xy))[:n]]
            if len(xy) < n:  # tiny n: the grid has fewer than n points
                xy = np.concatenate([xy, rng.random((n - len(xy), 2))])
            s[:, :2] = bb[2:] / 2 + xy * (self.img_size - bb[2:] / 2 - 1)
            s[:, 2:] *= self.scale ** (rng.random((n, 1)) * 2 - 1)
        lo = np.minimum(10.0, self.img_size - 10.0)
        s[:, 2:] = np.clip(s[:, 2:], lo, np.maximum(self.img_size - 10.0, lo))
        if self.valid:
            s[:, :2] = np.clip(s[:, :2], s[:, 2:] / 2, self.img_size - s[:, 2:] / 2 - 1)
        else:
            s[:, :2] = np.clip(s[:, :2], 0, self.img_size)
        s[:, :2] -= s[:, 2:] / 2
        return s

    def _draw_matlab(self, bb: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """MATLAB ``gen_samples.m`` (0-based boxes)."""
        w_img, h_img = self.img_size
        s = np.empty((n, 4))
        s[:, 0] = bb[0] + bb[2] / 2
        s[:, 1] = bb[1] + bb[3] / 2
        s[:, 2:] = bb[2:]
        unit = np.round(bb[2:].mean())
        if self.kind == "gaussian":
            s[:, :2] += self.trans * unit * np.clip(0.5 * rng.standard_normal((n, 2)), -1, 1)
            s[:, 2:] *= self.scale ** np.clip(0.5 * rng.standard_normal((n, 1)), -1, 1)
        elif self.kind == "uniform":
            s[:, :2] += self.trans * unit * (rng.random((n, 2)) * 2 - 1)
            s[:, 2:] *= self.scale ** (rng.random((n, 1)) * 2 - 1)
        else:  # whole: a grid over the image at 11 scales
            lo = np.round(bb[2:] / 2)
            hi = np.round(self.img_size - bb[2:] / 2)
            stride = np.maximum(np.round(bb[2:] / 5), 1)
            xs = np.arange(lo[0], hi[0] + 1e-9, stride[0]) if hi[0] >= lo[0] else lo[:1]
            ys = np.arange(lo[1], hi[1] + 1e-9, stride[1]) if hi[1] >= lo[1] else lo[1:2]
            gx, gy, gs = np.meshgrid(xs, ys, np.arange(-5, 6), indexing="ij")
            win = np.stack([gx.ravel(), gy.ravel(), bb[2] * MATLAB_WHOLE_SCALE ** gs.ravel(),
                            bb[3] * MATLAB_WHOLE_SCALE ** gs.ravel()], 1)
            reps = -(-n // len(win))
            s = np.concatenate([win[rng.permutation(len(win))] for _ in range(reps)])[:n]
        s[:, 2] = np.clip(s[:, 2], 10, max(w_img - 10, 10))
        s[:, 3] = np.clip(s[:, 3], 10, max(h_img - 10, 10))
        out = np.concatenate([s[:, :2] - s[:, 2:] / 2, s[:, 2:]], 1)
        out[:, 0] = np.clip(out[:, 0], -out[:, 2] / 2, w_img - 1 - out[:, 2] / 2)
        out[:, 1] = np.clip(out[:, 1], -out[:, 3] / 2, h_img - 1 - out[:, 3] / 2)
        return np.round(out)

    def __call__(self, bb: np.ndarray, n: int, rng: np.random.Generator,
                 overlap_range: Optional[Tuple[float, float]] = None,
                 scale_range: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """Up to ``n`` boxes with IoU(box, bb) in ``overlap_range`` and area ratio in ``scale_range``."""
        if overlap_range is None and scale_range is None:
            return self.draw(bb, n, rng)
        bb = np.asarray(bb, dtype=np.float64).reshape(4)
        out = []
        remain, factor = n, 2
        while remain > 0 and factor < 16:
            cand = self.draw(bb, remain * factor, rng)
            keep = np.ones(len(cand), dtype=bool)
            if overlap_range is not None:
                r = overlap(cand, bb)
                keep &= (r >= overlap_range[0]) & (r <= overlap_range[1])
            if scale_range is not None:
                a = cand[:, 2] * cand[:, 3] / (bb[2] * bb[3])
                keep &= (a >= scale_range[0]) & (a <= scale_range[1])
            cand = cand[keep][:remain]
            out.append(cand)
            remain -= len(cand)
            factor *= 2
        return np.concatenate(out) if out else np.zeros((0, 4))


def select_random(samples: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows drawn without replacement (all of them, shuffled, if fewer): MATLAB ``randsample``."""
    idx = rng.permutation(len(samples))[:n]
    return samples[idx]
