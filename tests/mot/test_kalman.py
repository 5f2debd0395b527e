"""The vectorised Kalman filters against the published per-track equations."""
import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import mahalanobis

from mot.kalman import CHI2INV95, ByteKalman, SortKalman


def _boxes(rng, n):
    xy = rng.uniform(0, 500, (n, 2))
    wh = rng.uniform(20, 120, (n, 2))
    return np.c_[xy, wh]


# -- SORT: abewley/sort KalmanBoxTracker on filterpy, written out for one track ------------------
def _sort_reference_track(first_box, measurements):
    """One track, filterpy KalmanFilter semantics as configured in sort.py."""
    F = np.array([[1, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0],
                  [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1]], float)
    H = np.array([[1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]], float)
    R = np.eye(4)
    R[2:, 2:] *= 10.
    P = np.eye(7)
    P[4:, 4:] *= 1000.
    P *= 10.
    Q = np.eye(7)
    Q[-1, -1] *= 0.01
    Q[4:, 4:] *= 0.01

    def z_of(b):  # xywh -> [x, y, s, r] (convert_bbox_to_z on x1y1x2y2)
        x1, y1, x2, y2 = b[0], b[1], b[0] + b[2], b[1] + b[3]
        w, h = x2 - x1, y2 - y1
        return np.array([x1 + w / 2., y1 + h / 2., w * h, w / float(h)]).reshape(4, 1)

    x = np.zeros((7, 1))
    x[:4] = z_of(first_box)
    states = []
    for z in measurements:
        if x[6] + x[2] <= 0:
            x[6] *= 0.0
        x = F @ x
        P = F @ P @ F.T + Q
        if z is not None:
            y = z_of(z) - H @ x
            S = H @ P @ H.T + R
            K = P @ H.T @ np.linalg.inv(S)
            x = x + K @ y
            I_KH = np.eye(7) - K @ H
            P = I_KH @ P @ I_KH.T + K @ R @ K.T
        states.append((x.ravel().copy(), P.copy()))
    return states


def test_sort_kalman_matches_published_equations():
    rng = np.random.default_rng(0)
    kf = SortKalman()
    n, T = 5, 12
    first = _boxes(rng, n)
    meas = [first + rng.normal(0, 3, first.shape) + t * 2.0 for t in range(1, T + 1)]
    mean, cov = kf.initiate(first)
    ref = [_sort_reference_track(first[i], [m[i] if (t % 4) else None for t, m in enumerate(meas, 1)])
           for i in range(n)]
    for t, m in enumerate(meas, 1):
        mean, cov = kf.predict(mean, cov)
        if t % 4:
            mean, cov = kf.update(mean, cov, m)
        for i in range(n):
            np.testing.assert_allclose(mean[i], ref[i][t - 1][0], rtol=1e-10, atol=1e-9)
            np.testing.assert_allclose(cov[i], ref[i][t - 1][1], rtol=1e-10, atol=1e-9)


def test_sort_kalman_zeroes_shrinking_area_velocity_and_gives_nan_boxes():
    kf = SortKalman()
    mean, cov = kf.initiate(np.array([[0, 0, 10, 10.0]]))
    mean[0, 6] = -150.0                      # s + vs <= 0: SORT zeroes vs before predicting
    m2, _ = kf.predict(mean, cov)
    assert m2[0, 6] == 0 and m2[0, 2] == 100.0
    mean[0, 2] = -1.0                        # negative area -> NaN box (SORT then drops the track)
    assert np.isnan(kf.state_to_xywh(mean)).any()
    # round trip xywh -> z -> xywh
    b = np.array([[3.0, 4.0, 30.0, 60.0]])
    m, _ = kf.initiate(b)
    np.testing.assert_allclose(kf.state_to_xywh(m), b)


# -- ByteTrack: yolox/tracker/kalman_filter.py, one track -------------------------------------------
class _ByteRef:
    wp, wv = 1. / 20, 1. / 160
    F = np.eye(8)
    for i in range(4):
        F[i, 4 + i] = 1.
    H = np.eye(4, 8)

    def initiate(self, z):
        mean = np.r_[z, np.zeros(4)]
        std = [2 * self.wp * z[3], 2 * self.wp * z[3], 1e-2, 2 * self.wp * z[3],
               10 * self.wv * z[3], 10 * self.wv * z[3], 1e-5, 10 * self.wv * z[3]]
        return mean, np.diag(np.square(std))

    def predict(self, mean, cov):
        std_pos = [self.wp * mean[3], self.wp * mean[3], 1e-2, self.wp * mean[3]]
        std_vel = [self.wv * mean[3], self.wv * mean[3], 1e-5, self.wv * mean[3]]
        Q = np.diag(np.square(np.r_[std_pos, std_vel]))
        return np.dot(mean, self.F.T), np.linalg.multi_dot((self.F, cov, self.F.T)) + Q

    def project(self, mean, cov):
        std = [self.wp * mean[3], self.wp * mean[3], 1e-1, self.wp * mean[3]]
        return self.H @ mean, np.linalg.multi_dot((self.H, cov, self.H.T)) + np.diag(np.square(std))

    def update(self, mean, cov, z):
        pm, pc = self.project(mean, cov)
        c, lower = scipy.linalg.cho_factor(pc, lower=True, check_finite=False)
        K = scipy.linalg.cho_solve((c, lower), np.dot(cov, self.H.T).T, check_finite=False).T
        mean = mean + np.dot(z - pm, K.T)
        return mean, cov - np.linalg.multi_dot((K, pc, K.T))


def test_byte_kalman_matches_published_equations():
    rng = np.random.default_rng(1)
    kf, ref = ByteKalman(), _ByteRef()
    n = 4
    boxes = _boxes(rng, n)
    mean, cov = kf.initiate(boxes)
    refs = [ref.initiate(kf.xywh_to_xyah(boxes[i:i + 1])[0]) for i in range(n)]
    for t in range(10):
        mean, cov = kf.predict(mean, cov)
        refs = [ref.predict(*r) for r in refs]
        if t % 3 != 2:
            meas = boxes + rng.normal(0, 2, boxes.shape) + t
            mean, cov = kf.update(mean, cov, meas)
            refs = [ref.update(*refs[i], kf.xywh_to_xyah(meas[i:i + 1])[0]) for i in range(n)]
        for i in range(n):
            np.testing.assert_allclose(mean[i], refs[i][0], rtol=1e-10, atol=1e-8)
            np.testing.assert_allclose(cov[i], refs[i][1], rtol=1e-9, atol=1e-8)


def test_byte_kalman_gating_distance_is_squared_mahalanobis():
    rng = np.random.default_rng(2)
    kf = ByteKalman()
    tracks = _boxes(rng, 3)
    mean, cov = kf.initiate(tracks)
    mean, cov = kf.predict(mean, cov)
    meas = _boxes(rng, 5)
    d = kf.gating_distance(mean, cov, meas)
    pm, S = kf.project(mean, cov)
    z = kf.xywh_to_xyah(meas)
    for i in range(3):
        for j in range(5):
            assert d[i, j] == pytest.approx(mahalanobis(z[j], pm[i], np.linalg.inv(S[i])) ** 2, rel=1e-9)
    dp = kf.gating_distance(mean, cov, meas, only_position=True)
    assert dp.shape == (3, 5) and np.all(dp <= d + 1e-9)
    assert CHI2INV95[4] == 9.4877
