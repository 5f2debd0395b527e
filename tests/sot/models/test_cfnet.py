"""CFNet's closed-form correlation filter against a direct least-squares solve (spatial domain)."""
import numpy as np
import torch

from sot.models.cfnet import VARIANTS, CFNet, circular_xcorr, solve_cf

torch.set_num_threads(1)


def _corr_matrix(x: np.ndarray) -> np.ndarray:
    """Matrix A (n, C n) with A @ vec(w) = sum_c (w_c * x_c) (circular cross-correlation), built in the spatial domain."""
    c, h, w = x.shape
    n = h * w
    a = np.zeros((n, c * n))
    for ch in range(c):
        for ty in range(h):
            for tx in range(w):
                # column of w_c[ty, tx]: out[uy, ux] += x_c[(ty + uy) % h, (tx + ux) % w]
                col = np.roll(np.roll(x[ch], -ty, axis=0), -tx, axis=1)
                a[:, ch * n + ty * w + tx] = col.reshape(-1)
    return a


def test_closed_form_filter_matches_direct_least_squares():
    rng = np.random.default_rng(0)
    c, h, w, lam = 3, 5, 6, 0.7
    x = rng.normal(size=(c, h, w))
    y = rng.normal(size=(h, w))
    n = h * w
    a = _corr_matrix(x)
    # argmin 1/(2n) ||A w - y||^2 + lam/2 ||w||^2  ->  (A^T A / n + lam I) w = A^T y / n
    direct = np.linalg.solve(a.T @ a / n + lam * np.eye(c * n), a.T @ y.reshape(-1) / n).reshape(c, h, w)
    fourier = solve_cf(torch.from_numpy(x)[None], torch.from_numpy(y), lam)[0].numpy()
    assert np.abs(fourier - direct).max() < 1e-10
    # the spatial operator and the Fourier correlation agree
    resp = circular_xcorr(torch.from_numpy(direct)[None], torch.from_numpy(x)[None])[0].numpy()
    assert np.allclose(resp.reshape(-1), a @ direct.reshape(-1), atol=1e-10)


def test_filter_is_differentiable():
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    y = torch.randn(8, 8, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: solve_cf(t, y, 0.5), (x,), eps=1e-6, atol=1e-6)


def test_variants_give_33x33_responses():
    for v in VARIANTS:
        net = CFNet(v, width=0.125, out_channels=8).eval()
        with torch.no_grad():
            r = net(torch.rand(1, 3, 255, 255) * 255, torch.rand(2, 3, 255, 255) * 255)
        assert r.shape == (2, 1, 33, 33), v
