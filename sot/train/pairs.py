"""Training pairs for the Siamese trackers, sampled from any registered video dataset.

A pair is an exemplar crop ``z`` (``exemplar_size``, context 0.5 around the target, as the
trackers crop it) and a search crop ``x`` (``search_size``) whose target box is known in crop
pixels. Sources (all from :class:`~bench.core.sequence.Sequence` objects, so any dataset
opened with ``open_dataset`` works: ``synthetic`` train split, ``got10k-train``...):

* video pairs: two annotated frames at most ``frame_range`` apart (SiamFC / SiamRPN);
* still-image pairs (DaSiamRPN's detection data): both crops from ONE frame, each with its
  own shift / scale augmentation;
* negative pairs (DaSiamRPN's semantic negatives): the search crop is centred on another
  object: a look-alike distractor of the same scene when the dataset records them
  (``meta['distractor_boxes']``, "same category"), else the target of another sequence
  ("different category").

With ``hard_negatives`` a positive pair also carries the recorded look-alikes of the search
frame (``Pair.others``, in search-crop pixels), so the loss can label the anchors on them
negative: the distractor-aware training of DaSiamRPN applied inside the search region.

Crops are affine warps with continuous coordinates (``cv2.warpAffine``, mean-colour border):
a crop of side ``s`` image pixels centred at ``c`` maps to ``out`` pixels with the centre at
``(out - 1) / 2 + 0.5``... i.e. continuous ``out / 2``. Boxes are ``cx, cy, w, h``.
Every draw comes from the ``numpy.random.Generator`` passed in (deterministic).
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from bench.core.errors import DataError


@dataclasses.dataclass
class PairConfig:
    exemplar_size: int = 127
    search_size: int = 255
    context: float = 0.5
    frame_range: int = 100
    z_shift: float = 4.0        # max shift of the exemplar crop, output pixels
    z_scale: float = 0.05       # max relative scale jitter of the exemplar crop
    x_shift: float = 64.0       # max shift of the search crop, output pixels
    x_scale: float = 0.18       # max relative scale jitter of the search crop
    stretch: float = 0.05       # max independent aspect stretch (x and y)
    gray_prob: float = 0.0      # probability to convert both crops to gray
    brightness: float = 0.0     # each crop's intensity x U(1 - b, 1 + b), drawn per crop (0 = off)
    neg_prob: float = 0.0       # probability of a negative pair
    neg_semantic: bool = True   # negatives on look-alike distractors of the same scene when recorded
    still_prob: float = 0.0     # probability of a still-image pair
    hard_negatives: bool = False  # positive pairs carry the look-alikes in the search crop (Pair.others)
    min_size: float = 4.0       # skip annotations smaller than this (pixels)
    pool_size: int = 16         # sequences drawn from at a time (0 = all); see PairSampler.set_pool
    pool_iters: int = 25        # training iterations between pool changes


@dataclasses.dataclass
class Pair:
    z: np.ndarray               # (E, E, 3) uint8 RGB
    x: np.ndarray               # (S, S, 3) uint8 RGB
    box: np.ndarray             # (4,) target cx, cy, w, h in x-crop pixels (continuous)
    negative: bool
    others: Optional[np.ndarray] = None   # (M, 4) look-alike cx, cy, w, h in x-crop pixels (hard negatives)


def warp_crop(image: np.ndarray, center: Sequence[float], side: Tuple[float, float], out: int,
              pad: Sequence[float]) -> np.ndarray:
    """Crop a ``side = (sw, sh)`` image-pixel window centred at ``center`` (continuous) to ``out`` x ``out``."""
    sx, sy = out / side[0], out / side[1]
    m = np.array([[sx, 0, out / 2 - sx * center[0]], [0, sy, out / 2 - sy * center[1]]], dtype=np.float64)
    # cv2 samples pixel centres: output pixel j (centre j + 0.5) <- input (j + 0.5 - t) / s - 0.5
    m[0, 2] += 0.5 * sx - 0.5
    m[1, 2] += 0.5 * sy - 0.5
    return cv2.warpAffine(image, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=tuple(float(v) for v in pad))


class PairSampler:
    """Draws :class:`Pair` s from video sequences (lazy frames)."""

    def __init__(self, sequences: Sequence[object], cfg: PairConfig):
        self.cfg = cfg
        self.seqs = list(sequences)
        self.valid: List[np.ndarray] = []
        for s in self.seqs:
            gt = np.asarray(s.gt, dtype=np.float64)
            self.valid.append(np.flatnonzero(self._usable(gt)))
        self.usable = [i for i, v in enumerate(self.valid) if len(v) >= 1]
        if not self.usable:
            raise DataError("no sequence with an annotated target large enough to make training pairs")
        self.pool = list(self.usable)

    def set_pool(self, rng: np.random.Generator) -> None:
        """Restrict sampling to ``pool_size`` random sequences. Lazily rendered or decoded
        frames (synthetic scenes keep their textures for the last few scenes only; image files
        stay in the OS cache) are then reused instead of rebuilt for every pair."""
        n = self.cfg.pool_size
        if n <= 0 or n >= len(self.usable):
            self.pool = list(self.usable)
        else:
            self.pool = [self.usable[int(i)] for i in rng.choice(len(self.usable), size=n, replace=False)]

    # -- geometry -------------------------------------------------------------------
    def _side(self, w: float, h: float) -> float:
        p = self.cfg.context * (w + h)
        return float(np.sqrt((w + p) * (h + p)))

    def _crop(self, image, box_xywh, out, context_out, shift, scale, rng, others=None):
        """Crop ``out`` px around the box (the box's context square maps to ``context_out`` px)
        with random shift / scale / stretch; returns (crop, box cx cy w h in crop pixels), plus
        the ``others`` boxes (M, 4) ``xywh`` mapped the same way when given."""
        c = self.cfg
        x, y, w, h = box_xywh
        cx, cy = x + w / 2, y + h / 2
        s_z = self._side(w, h)
        side = s_z * out / context_out
        sc = 1.0 + rng.uniform(-scale, scale)
        st = 1.0 + rng.uniform(-c.stretch, c.stretch, size=2)
        sw, sh = side * sc * st[0], side * sc * st[1]
        dx, dy = rng.uniform(-shift, shift, size=2)
        # crop centre in image coordinates so that the target lands (dx, dy) output px off centre
        ccx = cx - dx * sw / out
        ccy = cy - dy * sh / out
        pad = self._mean(image)
        crop = warp_crop(image, (ccx, ccy), (sw, sh), out, pad)

        def to_crop(b):
            b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
            return np.stack([out / 2 + (b[:, 0] + b[:, 2] / 2 - ccx) * out / sw,
                             out / 2 + (b[:, 1] + b[:, 3] / 2 - ccy) * out / sh,
                             b[:, 2] * out / sw, b[:, 3] * out / sh], axis=1)

        box = to_crop(box_xywh)[0]
        if others is None:
            return crop, box
        return crop, box, to_crop(others)

    @staticmethod
    def _mean(image):
        return image.reshape(-1, 3).mean(axis=0)

    # -- sampling ---------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Pair:
        c = self.cfg
        r = rng.random()
        if r < c.neg_prob:
            return self._negative(rng)
        if r < c.neg_prob + c.still_prob:
            return self._still(rng)
        return self._video(rng)

    def _pick(self, rng):
        si = self.pool[int(rng.integers(len(self.pool)))]
        v = self.valid[si]
        fz = int(v[int(rng.integers(len(v)))])
        return si, fz

    def _video(self, rng) -> Pair:
        c = self.cfg
        si, fz = self._pick(rng)
        v = self.valid[si]
        near = v[np.abs(v - fz) <= c.frame_range]
        fx = int(near[int(rng.integers(len(near)))])
        seq = self.seqs[si]
        z, _ = self._crop(seq.frame(fz), seq.gt[fz], c.exemplar_size, c.exemplar_size, c.z_shift, c.z_scale, rng)
        return self._positive(z, seq, fx, seq.frame(fx), rng)

    def _positive(self, z, seq, f, image, rng) -> Pair:
        """The search crop of frame ``f`` (``image``) around the target; with ``hard_negatives`` the
        pair also carries the look-alikes whose centres fall inside the crop."""
        c = self.cfg
        others = self._lookalikes(seq, f) if c.hard_negatives else None
        x, box, mapped = self._crop(image, seq.gt[f], c.search_size, c.exemplar_size, c.x_shift, c.x_scale, rng,
                                    others if others is not None else np.zeros((0, 4)))
        pair = self._finish(z, x, box, False, rng)
        if others is not None:
            inside = ((mapped[:, :2] > 0) & (mapped[:, :2] < c.search_size)).all(axis=1)
            pair.others = mapped[inside].astype(np.float32)
        return pair

    def _still(self, rng) -> Pair:
        c = self.cfg
        si, f = self._pick(rng)
        seq = self.seqs[si]
        img = seq.frame(f)
        z, _ = self._crop(img, seq.gt[f], c.exemplar_size, c.exemplar_size, c.z_shift, c.z_scale, rng)
        return self._positive(z, seq, f, img, rng)

    def _negative(self, rng) -> Pair:
        c = self.cfg
        si, fz = self._pick(rng)
        seq = self.seqs[si]
        z, _ = self._crop(seq.frame(fz), seq.gt[fz], c.exemplar_size, c.exemplar_size, c.z_shift, c.z_scale, rng)
        other = self._distractor_box(seq, rng) if c.neg_semantic else None
        if other is not None:
            f, box_xywh = other
            img = seq.frame(f)
        else:
            sj = self.pool[int(rng.integers(len(self.pool)))]
            vj = self.valid[sj]
            f = int(vj[int(rng.integers(len(vj)))])
            img, box_xywh = self.seqs[sj].frame(f), self.seqs[sj].gt[f]
        x, box = self._crop(img, box_xywh, c.search_size, c.exemplar_size, c.x_shift, c.x_scale, rng)
        return self._finish(z, x, box, True, rng)

    def _usable(self, boxes: np.ndarray) -> np.ndarray:
        """Row mask of ``xywh`` boxes (..., 4) that are finite and at least ``min_size`` wide and high."""
        b = np.asarray(boxes, dtype=np.float64)
        m = self.cfg.min_size
        return np.isfinite(b).all(axis=-1) & (b[..., 2] >= m) & (b[..., 3] >= m)

    @staticmethod
    def _lookalike_tracks(seq) -> List[np.ndarray]:
        """The look-alike objects' per-frame boxes (T, 4) ``xywh`` the dataset records, if any."""
        boxes = (getattr(seq, "meta", None) or {}).get("distractor_boxes")
        tracks = [] if boxes is None else [np.asarray(b, dtype=np.float64) for b in boxes]
        return [b for b in tracks if b.ndim == 2 and b.shape[1] == 4]

    def _lookalikes(self, seq, f: int) -> Optional[np.ndarray]:
        """Recorded look-alike boxes (M, 4) ``xywh`` usable in frame ``f``, or None."""
        rows = np.array([b[f] for b in self._lookalike_tracks(seq) if f < len(b)]).reshape(-1, 4)
        rows = rows[self._usable(rows)]
        return rows if len(rows) else None

    def _distractor_box(self, seq, rng) -> Optional[Tuple[int, np.ndarray]]:
        """A random look-alike object box ``(frame, xywh)`` recorded by the dataset, or None."""
        cand = [(b, np.flatnonzero(self._usable(b))) for b in self._lookalike_tracks(seq)]
        cand = [(b, fr) for b, fr in cand if len(fr)]
        if not cand:
            return None
        b, fr = cand[int(rng.integers(len(cand)))]
        f = int(fr[int(rng.integers(len(fr)))])
        return f, b[f]

    def _finish(self, z, x, box, negative, rng) -> Pair:
        if self.cfg.gray_prob and rng.random() < self.cfg.gray_prob:
            z = np.repeat(cv2.cvtColor(z, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
            x = np.repeat(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        if self.cfg.brightness > 0:
            b = self.cfg.brightness
            z = _scale_intensity(z, rng.uniform(1.0 - b, 1.0 + b))
            x = _scale_intensity(x, rng.uniform(1.0 - b, 1.0 + b))
        return Pair(z, x, box.astype(np.float32), negative)


def _scale_intensity(img: np.ndarray, gain: float) -> np.ndarray:
    """uint8 image times ``gain``, saturated to 0-255 (a global illumination change)."""
    return cv2.convertScaleAbs(img, alpha=float(gain))


def batch_tensors(pairs: Sequence[Pair]):
    """Stack pairs into float (B, 3, E, E) / (B, 3, S, S) 0-255 tensors (channels_last)."""
    import torch

    z = torch.from_numpy(np.stack([p.z for p in pairs])).permute(0, 3, 1, 2).float()
    x = torch.from_numpy(np.stack([p.x for p in pairs])).permute(0, 3, 1, 2).float()
    return z.contiguous(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
