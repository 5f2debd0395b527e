"""ReMOTS's thresholds from the video's own similarity statistics (Yang et al. 2020, §2.3 and §2.5).

* ``θ_short`` (Eq. 2, Fig. 4): the cosine similarities between boxes of the *same frame*
  (different people, since boxes of one frame are exclusive after NMS) are approximated by
  a normal distribution ``N(μ, σ²)`` (maximum-likelihood fit: mean and population standard
  deviation); the threshold is ``μ - k σ`` with ``k = 3`` ("within three standard deviations
  is 99.7% of the observation pairs").
* ``θ_merge`` (Fig. 5): where the intra-frame similarity histogram (different identities)
  and the within-tracklet histogram (pairs of observations of one short-term tracklet: the
  same identity) separate. When they do not overlap, the midpoint of the gap; when they
  overlap, the threshold with the fewest misplaced pairs, each histogram weighted by its
  size (balanced error), the midpoint of the best interval on ties.

Similarities are cosine similarities of L2-normalised features, in [-1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np


def pair_similarities(features: np.ndarray, groups: np.ndarray, same: bool = True,
                      max_pairs: Optional[int] = None, rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """Cosine similarities of every pair ``i < j`` with ``groups[i] == groups[j]`` (``same``).

    ``features`` (N, D) L2-normalised; ``groups`` (N,) integer labels (frames for the
    intra-frame histogram, tracklet ids for the within-tracklet one). ``max_pairs`` keeps a
    uniform random subset (``rng``) when there are more pairs.
    """
    f = np.asarray(features, dtype=np.float64)
    g = np.asarray(groups)
    if f.ndim != 2 or g.shape != (f.shape[0],):
        raise ValueError(f"pair_similarities: features (N, D) and groups (N,), got {f.shape} and {g.shape}")
    order = np.argsort(g, kind="stable")
    f, g = f[order], g[order]
    cuts = np.flatnonzero(np.diff(g)) + 1
    out = []
    for idx in np.split(np.arange(len(g)), cuts):
        if len(idx) < 2:
            continue
        s = f[idx] @ f[idx].T
        iu = np.triu_indices(len(idx), 1)
        out.append(s[iu])
    sims = np.concatenate(out) if out else np.zeros(0)
    if max_pairs is not None and sims.size > max_pairs:
        rng = rng if rng is not None else np.random.default_rng(0)
        sims = sims[np.sort(rng.choice(sims.size, max_pairs, replace=False))]
    return np.clip(sims, -1.0, 1.0)


@dataclass(frozen=True)
class NormalThreshold:
    """``θ = μ - k σ`` of a normal fit (μ mean, σ population std) to ``n`` similarities."""

    mu: float
    sigma: float
    k: float
    n: int

    @property
    def theta(self) -> float:
        return self.mu - self.k * self.sigma

    def as_dict(self) -> Dict[str, float]:
        return {"theta": self.theta, "mu": self.mu, "sigma": self.sigma, "k": self.k, "pairs": self.n}


def theta_short(intra_frame: np.ndarray, k: float = 3.0) -> NormalThreshold:
    """θ_short of ReMOTS Eq. 2: mean minus ``k`` standard deviations of the intra-frame similarities.

    With fewer than two pairs there is nothing to fit: ``μ = -1, σ = 0`` (no pair is
    refused on appearance), which the report shows.
    """
    s = np.asarray(intra_frame, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size < 2:
        return NormalThreshold(-1.0, 0.0, float(k), int(s.size))
    return NormalThreshold(float(s.mean()), float(s.std()), float(k), int(s.size))


@dataclass(frozen=True)
class Separation:
    """Where two similarity histograms separate: ``theta`` and the errors on each side."""

    theta: float
    method: str          # "gap" (no overlap) or "fewest-errors"
    negatives_above: int  # intra-frame pairs with similarity > theta
    positives_below: int  # within-tracklet pairs with similarity < theta
    n_negative: int
    n_positive: int

    def as_dict(self) -> Dict[str, object]:
        return {"theta": self.theta, "method": self.method, "negatives_above": self.negatives_above,
                "positives_below": self.positives_below, "negative_pairs": self.n_negative,
                "positive_pairs": self.n_positive}


def theta_merge(negative: np.ndarray, positive: np.ndarray) -> Separation:
    """θ_merge (ReMOTS Fig. 5): the similarity separating intra-frame pairs (``negative``,
    different people) from within-tracklet pairs (``positive``, one person).

    No overlap (``max(negative) < min(positive)``): the gap's midpoint. Otherwise the
    threshold ``t`` minimising ``#{neg > t} / n_neg + #{pos < t} / n_pos`` over the
    candidate cuts between sorted values; the midpoint of the range of minimisers.
    Without pairs on one side the other side's extreme is used (all merges allowed
    down to the lowest positive, or none above the highest negative).
    """
    neg = np.sort(np.asarray(negative, dtype=np.float64).ravel())
    pos = np.sort(np.asarray(positive, dtype=np.float64).ravel())
    neg, pos = neg[np.isfinite(neg)], pos[np.isfinite(pos)]
    if neg.size == 0 and pos.size == 0:
        return Separation(1.0, "no-pairs", 0, 0, 0, 0)
    if neg.size == 0:
        return Separation(float(pos[0]), "no-negatives", 0, 0, 0, int(pos.size))
    if pos.size == 0:
        return Separation(float(neg[-1]), "no-positives", 0, 0, int(neg.size), 0)
    if neg[-1] < pos[0]:
        return Separation(float((neg[-1] + pos[0]) / 2), "gap", 0, 0, int(neg.size), int(pos.size))
    values = np.unique(np.concatenate([neg, pos]))
    # candidate cuts: midpoints between consecutive distinct values (plus both ends)
    cuts = np.concatenate([[values[0] - 1e-9], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-9]])
    neg_above = neg.size - np.searchsorted(neg, cuts, side="right")
    pos_below = np.searchsorted(pos, cuts, side="left")
    err = neg_above / neg.size + pos_below / pos.size
    best = np.flatnonzero(np.isclose(err, err.min(), rtol=0, atol=1e-12))
    lo, hi = _longest_run(best)
    theta = float((cuts[lo] + cuts[hi]) / 2)
    na = int(neg.size - np.searchsorted(neg, theta, side="right"))
    pb = int(np.searchsorted(pos, theta, side="left"))
    return Separation(theta, "fewest-errors", na, pb, int(neg.size), int(pos.size))


def _longest_run(idx: np.ndarray) -> Tuple[int, int]:
    """First and last index of the longest run of consecutive integers in sorted ``idx``."""
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(idx) - 1]])
    k = int(np.argmax(ends - starts))
    return int(idx[starts[k]]), int(idx[ends[k]])


def histogram(values: np.ndarray, bins: int = 50) -> Dict[str, list]:
    """A JSON-ready histogram of similarities on [-1, 1]: ``{"edges", "counts"}``."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins, range=(-1.0, 1.0))
    return {"edges": edges.tolist(), "counts": counts.tolist()}
