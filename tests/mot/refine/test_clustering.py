"""Centroid-linkage clustering with infinite distances (ReMOTS §2.5)."""
import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist

from mot.refine.clustering import centroid_clusters
from mot.refine.tracklets import tracklet_distances


def test_matches_scipy_centroid_linkage_on_finite_points():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 3))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    _, merges = centroid_clusters(d, cut=np.inf)
    ref = linkage(pdist(x), method="centroid")
    assert np.allclose([m[2] for m in merges], ref[:, 2])
    assert [m[3] for m in merges] == ref[:, 3].astype(int).tolist()


def test_infinite_pairs_never_end_in_one_cluster():
    # a and c conflict (inf); b is close to both: b merges with one, and the other stays out
    d = np.array([[0, 0.1, np.inf], [0.1, 0, 0.12], [np.inf, 0.12, 0.0]])
    labels, merges = centroid_clusters(d, cut=1.0)
    assert labels[0] == labels[1] and labels[2] != labels[0]
    assert len(merges) == 1


def test_cut_threshold_stops_merging():
    d = np.array([[0, 0.2, 0.9], [0.2, 0, 0.8], [0.9, 0.8, 0]])
    labels, _ = centroid_clusters(d, cut=0.5)
    assert labels.tolist() == [0, 0, 1]


def test_tracklets_overlapping_or_far_apart_are_never_merged():
    # four tracklets with identical appearance: 0 frames 1-5, 1 frames 3-8 (overlaps 0),
    # 2 frames 10-12 (gap 5 after 0), 3 frames 40-45 (gap 28 after 2: > 15)
    spans = [(1, 5), (3, 8), (10, 12), (40, 45)]
    labels = np.concatenate([np.full(b - a + 1, k) for k, (a, b) in enumerate(spans)])
    frames = np.concatenate([np.arange(a, b + 1) for a, b in spans])
    feats = np.tile([1.0, 0.0], (len(labels), 1))
    d = tracklet_distances(labels, frames, feats, max_gap=15)
    assert np.isinf(d[0, 1]) and np.isinf(d[2, 3]) and np.isinf(d[0, 3])
    assert d[0, 2] == pytest.approx(0.0) and d[1, 2] == pytest.approx(0.0)
    clusters, _ = centroid_clusters(d, cut=0.5)
    assert clusters[0] != clusters[1]          # overlap
    assert clusters[3] not in (clusters[0], clusters[1], clusters[2])  # too far
    assert clusters[2] in (clusters[0], clusters[1])


def test_mean_pairwise_cosine_distance():
    f = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    d = tracklet_distances(np.array([0, 0, 1]), np.array([1, 2, 5]), f, max_gap=15)
    # pairs (f0, f2) distance 0 and (f1, f2) distance 1: mean 0.5
    assert d[0, 1] == pytest.approx(0.5)
