"""ReMOTS thresholds from generated similarity distributions, against hand computations."""
import numpy as np
import pytest

from mot.refine.statistics import pair_similarities, theta_merge, theta_short


def test_theta_short_is_mean_minus_three_population_std():
    sims = np.array([0.1, 0.3, 0.5, 0.7])
    # mean 0.4; population variance ((0.3^2 + 0.1^2) * 2) / 4 = 0.05
    fit = theta_short(sims)
    assert fit.mu == pytest.approx(0.4)
    assert fit.sigma == pytest.approx(np.sqrt(0.05))
    assert fit.theta == pytest.approx(0.4 - 3 * np.sqrt(0.05))


def test_theta_short_from_a_normal_sample():
    rng = np.random.default_rng(1)
    sims = rng.normal(0.2, 0.1, 200000)
    assert theta_short(sims).theta == pytest.approx(0.2 - 0.3, abs=3e-3)
    assert theta_short(sims, k=2.0).theta == pytest.approx(0.0, abs=3e-3)


def test_theta_short_without_pairs_refuses_nothing():
    fit = theta_short(np.array([0.5]))
    assert fit.theta == -1.0 and fit.n == 1


def test_theta_merge_gap_midpoint():
    sep = theta_merge(np.array([0.1, 0.2, 0.4]), np.array([0.6, 0.9]))
    assert sep.method == "gap"
    assert sep.theta == pytest.approx(0.5)
    assert sep.negatives_above == 0 and sep.positives_below == 0


def test_theta_merge_overlap_fewest_balanced_errors():
    # negatives 0.1 0.2 0.3 0.65 ; positives 0.5 0.6 0.7 0.8
    # cut between 0.3 and 0.5: 1 negative above (1/4), 0 positives below -> 0.25
    # cut between 0.65 and 0.7: 0 negatives above, 2 positives below (2/4) -> 0.5
    # cut between 0.6 and 0.65: 1/4 + 2/4; so the minimum 0.25 spans (0.3, 0.5) only:
    # cuts at 0.4 (midpoint 0.3|0.5); the best run is the single candidate 0.4
    sep = theta_merge(np.array([0.1, 0.2, 0.3, 0.65]), np.array([0.5, 0.6, 0.7, 0.8]))
    assert sep.method == "fewest-errors"
    assert sep.theta == pytest.approx(0.4)
    assert (sep.negatives_above, sep.positives_below) == (1, 0)


def test_theta_merge_separates_two_normals_near_their_crossing():
    rng = np.random.default_rng(0)
    neg = rng.normal(0.2, 0.1, 20000)
    pos = rng.normal(0.8, 0.1, 5000)
    sep = theta_merge(neg, pos)
    assert sep.theta == pytest.approx(0.5, abs=0.03)  # equal spreads: the balanced-error optimum is the midpoint


def test_pair_similarities_only_within_groups():
    f = np.eye(3)[[0, 0, 1, 2]].astype(float)
    s = pair_similarities(f, np.array([1, 1, 2, 2]))
    assert sorted(s.tolist()) == [0.0, 1.0]  # (0,1) same vector -> 1; (2,3) orthogonal -> 0
