"""Triplet samplers of ReMOTS (Fig. 2 and Fig. 3) over a :class:`~.encoder.CropBank`.

* :class:`IntraFrameSampler` (§2.2, target video, no labels): anchor and negative are two
  boxes of one frame (boxes of a frame are different people after NMS), the positive an
  augmented copy of the anchor.
* :class:`GroupedSampler` (§2.4 and the labelled set of §2.2): a frame holding at least two
  groups is drawn, two of its groups; anchor and negative are their boxes there, the positive
  the anchor's group in another frame. Groups are short-term tracklets (pseudo labels of the
  target video) or ground-truth identities (a labelled training set).
* :func:`mixed`: a mini-batch from two samplers in a given ratio (ReMOTS: 1:1).
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import numpy as np

from .encoder import CropBank

Triplets = Tuple[np.ndarray, np.ndarray, np.ndarray]
Sampler = Callable[[int, np.random.Generator], Triplets]


def _empty(bank: CropBank) -> Triplets:
    cw, ch = bank.s.crop_size
    z = np.zeros((0, ch, cw, 3), np.uint8)
    return z, z, z


class IntraFrameSampler:
    """Fig. 2: anchor / negative from one frame, positive = augmented anchor."""

    def __init__(self, bank: CropBank, frames: np.ndarray):
        self.bank = bank
        frames = np.asarray(frames)
        self.groups = [np.flatnonzero(frames == f) for f in np.unique(frames)]
        self.groups = [g for g in self.groups if len(g) >= 2]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def __call__(self, k: int, rng: np.random.Generator) -> Triplets:
        if not self.groups or k <= 0:
            return _empty(self.bank)
        a = np.empty(k, np.int64)
        n = np.empty(k, np.int64)
        for i in range(k):
            g = self.groups[int(rng.integers(len(self.groups)))]
            a[i], n[i] = rng.choice(g, 2, replace=False)
        return self.bank.anchors(a), self.bank.augmented(a, rng), self.bank.anchors(n)


class GroupedSampler:
    """Fig. 3: two groups present in one frame; the positive is the anchor's group elsewhere."""

    def __init__(self, bank: CropBank, frames: np.ndarray, groups: np.ndarray):
        self.bank = bank
        frames = np.asarray(frames)
        groups = np.asarray(groups)
        sizes = np.bincount(groups - groups.min()) if len(groups) else np.zeros(0, np.int64)
        ok = sizes[groups - groups.min()] >= 2 if len(groups) else np.zeros(0, bool)  # the anchor needs another frame
        self.members = {int(g): np.flatnonzero(groups == g) for g in np.unique(groups[ok])}
        self.frames_of = []
        for f in np.unique(frames):
            idx = np.flatnonzero(frames == f)
            if len(np.unique(groups[idx])) >= 2 and ok[idx].any():
                self.frames_of.append(idx)
        self.groups = groups
        self.ok = ok

    def __bool__(self) -> bool:
        return bool(self.frames_of)

    def __call__(self, k: int, rng: np.random.Generator) -> Triplets:
        if not self.frames_of or k <= 0:
            return _empty(self.bank)
        a = np.empty(k, np.int64)
        p = np.empty(k, np.int64)
        n = np.empty(k, np.int64)
        for i in range(k):
            idx = self.frames_of[int(rng.integers(len(self.frames_of)))]
            anchors = idx[self.ok[idx]]
            ai = int(rng.choice(anchors))
            others = idx[self.groups[idx] != self.groups[ai]]
            ni = int(rng.choice(others))
            same = self.members[int(self.groups[ai])]
            same = same[same != ai]
            a[i], p[i], n[i] = ai, int(rng.choice(same)), ni
        return self.bank.anchors(a), self.bank.anchors(p), self.bank.anchors(n)


def mixed(first: Optional[Sampler], second: Optional[Sampler], share_second: float) -> Sampler:
    """Batches with ``round(k * share_second)`` triplets from ``second``, the rest from ``first``
    (either may be None or empty: the other fills the batch)."""

    def sample(k: int, rng: np.random.Generator) -> Triplets:
        use1 = first is not None and bool(first)
        use2 = second is not None and bool(second)
        k2 = int(round(k * share_second)) if use1 and use2 else (k if use2 else 0)
        parts = []
        if use1 and k - k2 > 0:
            parts.append(first(k - k2, rng))
        if use2 and k2 > 0:
            parts.append(second(k2, rng))
        if not parts:
            raise ValueError("no triplets: neither sampler has a frame with two boxes")
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))  # type: ignore[return-value]

    return sample
