"""Agglomerative clustering with centroid linkage that keeps infinite distances infinite.

ReMOTS (§2.5) merges short-term tracklets by hierarchical clustering on a distance matrix
in which forbidden pairs (same tracklet, temporal overlap, gap above θ_t) are infinite, and
picks centroid linkage so that the constraints "hold in the whole process". The update is
Lance-Williams' centroid rule as SciPy's ``linkage(method="centroid")`` applies it to a
distance matrix::

    d(k, i∪j) = sqrt((n_i d(k,i)² + n_j d(k,j)²) / (n_i + n_j) - n_i n_j d(i,j)² / (n_i + n_j)²)

With ``d(k,i) = inf`` (or ``d(k,j) = inf``) the first term is infinite and ``d(i,j)`` is
finite (only finite pairs merge), so ``d(k, i∪j) = inf``: a cluster never absorbs a
tracklet that conflicts with any of its members. SciPy cannot be used directly: it refuses
non-finite distances. On finite inputs the merge order and heights equal SciPy's (tested).
A negative radicand (the distances need not be Euclidean) is clipped to 0.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np


def centroid_clusters(dist: np.ndarray, cut: float) -> Tuple[np.ndarray, List[Tuple[int, int, float, int]]]:
    """Merge clusters while the smallest finite linkage distance is ``<= cut``.

    ``dist`` (N, N) symmetric, ``inf`` for pairs that must never be in one cluster (the
    diagonal is ignored). Returns ``labels`` (N,) (0..K-1, numbered by first member) and the
    merges ``(i, j, height, size)`` in order (SciPy's linkage rows, with cluster ``i``
    keeping its index).
    """
    d = np.array(dist, dtype=np.float64, copy=True)
    n = d.shape[0]
    if d.shape != (n, n):
        raise ValueError(f"centroid_clusters: a square distance matrix is needed, got {d.shape}")
    if np.isnan(d).any():
        raise ValueError("centroid_clusters: NaN in the distance matrix")
    np.fill_diagonal(d, np.inf)
    size = np.ones(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    members = np.arange(n)
    merges: List[Tuple[int, int, float, int]] = []
    while True:
        flat = int(np.argmin(d))
        i, j = divmod(flat, n)
        h = d[i, j]
        if not np.isfinite(h) or h > cut:
            break
        if i > j:
            i, j = j, i
        ni, nj = size[i], size[j]
        nij = ni + nj
        with np.errstate(invalid="ignore"):
            sq = (ni * d[i] ** 2 + nj * d[j] ** 2) / nij - (ni * nj * h * h) / (nij * nij)
        new = np.sqrt(np.maximum(sq, 0.0))
        new[~np.isfinite(d[i]) | ~np.isfinite(d[j])] = np.inf
        new[~active] = np.inf
        d[i, :] = new
        d[:, i] = new
        d[i, i] = np.inf
        d[j, :] = np.inf
        d[:, j] = np.inf
        active[j] = False
        size[i] = nij
        members[members == j] = i
        merges.append((int(i), int(j), float(h), int(nij)))
    _, labels = np.unique(members, return_inverse=True)
    # number clusters by their first member so labels are stable
    first = {}
    out = np.empty(n, dtype=np.int64)
    for idx, lab in enumerate(labels):
        out[idx] = first.setdefault(int(lab), len(first))
    return out, merges
