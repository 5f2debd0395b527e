"""Constant-velocity Kalman filters for box tracks, vectorised over tracks.

Two published filters, each as a stateless set of array operations on all tracks at
once (``mean`` (N, d), ``cov`` (N, d, d)); the trackers keep the arrays:

* :class:`SortKalman`: SORT's filter (Bewley et al. 2016, abewley/sort ``sort.py``
  ``KalmanBoxTracker``) on the measurement ``z = [cx, cy, s, r]`` (centre, area
  ``s = w * h``, aspect ``r = w / h``) with state ``[cx, cy, s, r, vcx, vcy, vs]``.
  Noise as in the code: filterpy's identity defaults with ``R[2:, 2:] *= 10``,
  ``P[4:, 4:] *= 1000`` then ``P *= 10``, ``Q[-1, -1] *= 0.01`` and ``Q[4:, 4:] *= 0.01``.
  filterpy's update uses the Joseph form ``P = (I - KH) P (I - KH)^T + K R K^T``.
* :class:`ByteKalman`: the DeepSORT / ByteTrack filter (ifzhang/ByteTrack
  ``yolox/tracker/kalman_filter.py``) on ``[cx, cy, a, h]`` (``a = w / h``) with
  state ``[cx, cy, a, h, vcx, vcy, va, vh]`` and noise proportional to the height
  (``std_weight_position = 1/20``, ``std_weight_velocity = 1/160``).

Boxes enter and leave as ``xywh`` (top-left, size; :mod:`bench.core.boxes`).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

#: 0.95 quantiles of the chi-square distribution with 1..9 degrees of freedom
#: (MATLAB ``chi2inv``), the Mahalanobis gating thresholds of DeepSORT / ByteTrack.
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592,
             7: 14.067, 8: 15.507, 9: 16.919}


# ---------------------------------------------------------------------------
# SORT: [cx, cy, s, r] + velocities of cx, cy, s
# ---------------------------------------------------------------------------
class SortKalman:
    """SORT's 7-state constant-velocity filter; every method works on N tracks at once."""

    ndim_x = 7
    ndim_z = 4

    def __init__(self) -> None:
        F = np.eye(7)
        F[0, 4] = F[1, 5] = F[2, 6] = 1.0
        self.F = F
        self.H = np.eye(4, 7)
        self.R = np.diag([1.0, 1.0, 10.0, 10.0])
        P0 = np.eye(7)
        P0[4:, 4:] *= 1000.0
        P0 *= 10.0
        self.P0 = P0
        Q = np.eye(7)
        Q[-1, -1] *= 0.01
        Q[4:, 4:] *= 0.01
        self.Q = Q
        self._I = np.eye(7)

    # -- conversions ----------------------------------------------------
    @staticmethod
    def xywh_to_z(boxes: np.ndarray) -> np.ndarray:
        """``xywh`` (N, 4) -> ``[cx, cy, s, r]`` (N, 4)."""
        b = np.asarray(boxes, dtype=np.float64)
        z = np.empty((len(b), 4))
        z[:, 0] = b[:, 0] + b[:, 2] / 2.0
        z[:, 1] = b[:, 1] + b[:, 3] / 2.0
        z[:, 2] = b[:, 2] * b[:, 3]
        z[:, 3] = b[:, 2] / b[:, 3]
        return z

    @staticmethod
    def state_to_xywh(mean: np.ndarray) -> np.ndarray:
        """State (N, 7) -> ``xywh`` (N, 4); ``w = sqrt(s * r)`` (NaN where ``s * r < 0``, as in SORT)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.sqrt(mean[:, 2] * mean[:, 3])
            h = mean[:, 2] / w
        out = np.empty((len(mean), 4))
        out[:, 0] = mean[:, 0] - w / 2.0
        out[:, 1] = mean[:, 1] - h / 2.0
        out[:, 2] = w
        out[:, 3] = h
        return out

    # -- filter ---------------------------------------------------------
    def initiate(self, boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """New tracks from ``xywh`` boxes: state ``[z, 0, 0, 0]``, covariance ``P0``."""
        n = len(boxes)
        mean = np.zeros((n, 7))
        mean[:, :4] = self.xywh_to_z(boxes)
        cov = np.broadcast_to(self.P0, (n, 7, 7)).copy()
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """One step ahead. As in SORT, the area velocity is zeroed where ``s + vs <= 0``."""
        mean = mean.copy()
        mean[mean[:, 6] + mean[:, 2] <= 0, 6] = 0.0
        mean = mean @ self.F.T
        cov = self.F @ cov @ self.F.T + self.Q
        return mean, cov

    def update(self, mean: np.ndarray, cov: np.ndarray, boxes: np.ndarray
               ) -> Tuple[np.ndarray, np.ndarray]:
        """Correct N tracks with N ``xywh`` measurements (filterpy ``KalmanFilter.update``)."""
        z = self.xywh_to_z(boxes)
        PHT = cov[:, :, :4]                       # P H^T
        S = cov[:, :4, :4] + self.R               # H P H^T + R
        K = PHT @ np.linalg.inv(S)                # (N, 7, 4)
        y = z - mean[:, :4]
        mean = mean + np.einsum("nij,nj->ni", K, y)
        I_KH = self._I - K @ self.H
        cov = I_KH @ cov @ I_KH.transpose(0, 2, 1) + K @ self.R @ K.transpose(0, 2, 1)
        return mean, cov


# ---------------------------------------------------------------------------
# ByteTrack / DeepSORT: [cx, cy, a, h] + velocities
# ---------------------------------------------------------------------------
class ByteKalman:
    """The 8-state filter of DeepSORT and ByteTrack; every method works on N tracks at once."""

    ndim_x = 8
    ndim_z = 4

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        F = np.eye(8)
        for i in range(4):
            F[i, 4 + i] = 1.0
        self.F = F
        self.wp = std_weight_position
        self.wv = std_weight_velocity

    @staticmethod
    def xywh_to_xyah(boxes: np.ndarray) -> np.ndarray:
        b = np.asarray(boxes, dtype=np.float64)
        z = np.empty((len(b), 4))
        z[:, 0] = b[:, 0] + b[:, 2] / 2.0
        z[:, 1] = b[:, 1] + b[:, 3] / 2.0
        z[:, 2] = b[:, 2] / b[:, 3]
        z[:, 3] = b[:, 3]
        return z

    @staticmethod
    def state_to_xywh(mean: np.ndarray) -> np.ndarray:
        """State (N, 8) -> ``xywh`` (N, 4) (ByteTrack's ``STrack.tlwh``)."""
        out = np.empty((len(mean), 4))
        w = mean[:, 2] * mean[:, 3]
        out[:, 2] = w
        out[:, 3] = mean[:, 3]
        out[:, 0] = mean[:, 0] - w / 2.0
        out[:, 1] = mean[:, 1] - mean[:, 3] / 2.0
        return out

    def initiate(self, boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        z = self.xywh_to_xyah(boxes)
        n = len(z)
        mean = np.zeros((n, 8))
        mean[:, :4] = z
        h = z[:, 3]
        std = np.stack([2 * self.wp * h, 2 * self.wp * h, np.full(n, 1e-2), 2 * self.wp * h,
                        10 * self.wv * h, 10 * self.wv * h, np.full(n, 1e-5), 10 * self.wv * h], axis=1)
        cov = np.zeros((n, 8, 8))
        idx = np.arange(8)
        cov[:, idx, idx] = std ** 2
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``multi_predict``: motion noise from the current height, ``F P F^T + Q``."""
        n = len(mean)
        h = mean[:, 3]
        std = np.stack([self.wp * h, self.wp * h, np.full(n, 1e-2), self.wp * h,
                        self.wv * h, self.wv * h, np.full(n, 1e-5), self.wv * h], axis=1)
        mean = mean @ self.F.T
        cov = self.F @ cov @ self.F.T
        idx = np.arange(8)
        cov[:, idx, idx] += std ** 2
        return mean, cov

    def project(self, mean: np.ndarray, cov: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Measurement-space mean (N, 4) and innovation covariance (N, 4, 4)."""
        n = len(mean)
        h = mean[:, 3]
        std = np.stack([self.wp * h, self.wp * h, np.full(n, 1e-1), self.wp * h], axis=1)
        S = cov[:, :4, :4].copy()
        idx = np.arange(4)
        S[:, idx, idx] += std ** 2
        return mean[:, :4].copy(), S

    def update(self, mean: np.ndarray, cov: np.ndarray, boxes: np.ndarray
               ) -> Tuple[np.ndarray, np.ndarray]:
        """Correct N tracks with N ``xywh`` measurements: ``K = P H^T S^-1``, ``P - K S K^T``."""
        z = self.xywh_to_xyah(boxes)
        proj_mean, S = self.project(mean, cov)
        # K^T = S^-1 (H P)  (S symmetric positive definite; ByteTrack solves it by Cholesky)
        Kt = np.linalg.solve(S, cov[:, :4, :])
        K = Kt.transpose(0, 2, 1)
        mean = mean + np.einsum("nij,nj->ni", K, z - proj_mean)
        cov = cov - K @ S @ Kt
        return mean, cov

    def gating_distance(self, mean: np.ndarray, cov: np.ndarray, boxes: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distances (N tracks, M boxes) in measurement space.

        Compare with :data:`CHI2INV95` (4 degrees of freedom, 2 with ``only_position``).
        """
        z = self.xywh_to_xyah(boxes)
        pm, S = self.project(mean, cov)
        if only_position:
            pm, S, z = pm[:, :2], S[:, :2, :2], z[:, :2]
        d = z[None, :, :] - pm[:, None, :]                       # (N, M, k)
        L = np.linalg.cholesky(S)                                # (N, k, k)
        sol = np.linalg.solve(L[:, None], d[..., None])[..., 0]  # (N, M, k)
        return np.sum(sol * sol, axis=-1)
