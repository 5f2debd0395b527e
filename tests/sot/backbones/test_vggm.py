"""VGG-M conv1-3 backbone (sot/backbones/vggm.py): shapes, LRN flavours, fast path == reference."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.sot.online_toy import one_torch_thread  # noqa: F401 (autouse fixture)
from sot.backbones import build_backbone
from sot.backbones.vggm import LRN, VGGM, _LRNFunction


def matconvnet_lrn(x: np.ndarray, n=5, kappa=2.0, alpha=1e-4, beta=0.75) -> np.ndarray:
    """vl_nnnormalize written out: y_c = x_c / (kappa + alpha * sum_{|j-c| <= 2} x_j^2)^beta (NCHW)."""
    c = x.shape[1]
    out = np.empty_like(x)
    for i in range(c):
        lo, hi = max(0, i - (n - 1) // 2), min(c, i + n // 2 + 1)
        s = (x[:, lo:hi] ** 2).sum(1)
        out[:, i] = x[:, i] / (kappa + alpha * s) ** beta
    return out


@pytest.mark.parametrize("size", [107, 112])
@pytest.mark.parametrize("width", [1.0, 0.5])
def test_output_shape(size, width):
    net = build_backbone("vggm", width=width, input_size=size)
    c3 = int(512 * width)
    assert net.out_hw == 3 and net.out_dim == 9 * c3
    y = net(torch.zeros(2, 3, size, size))
    assert tuple(y.shape) == (2, c3, 3, 3)
    assert tuple(net.features(torch.zeros(2, 3, size, size)).shape) == (2, 9 * c3)


def test_official_parameter_shapes():
    sd = VGGM(width=1.0).state_dict()
    assert tuple(sd["conv1.weight"].shape) == (96, 3, 7, 7)
    assert tuple(sd["conv2.weight"].shape) == (256, 96, 5, 5)
    assert tuple(sd["conv3.weight"].shape) == (512, 256, 3, 3)


def test_matconvnet_lrn_matches_formula():
    rng = np.random.default_rng(0)
    x = np.maximum(rng.normal(0, 40, (2, 9, 4, 3)), 0).astype(np.float64)
    ref = matconvnet_lrn(x)
    lrn = LRN(5, 1e-4, 0.75, 2.0, per_size=False)
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(lrn.reference(xt).numpy(), ref, rtol=1e-10)
    fast = lrn.fast(torch.from_numpy(x.astype(np.float32)).contiguous(memory_format=torch.channels_last))
    np.testing.assert_allclose(fast.numpy(), ref, rtol=2e-5)


def test_pytorch_lrn_matches_torch():
    x = torch.relu(torch.randn(3, 10, 5, 4) * 30)
    lrn = LRN(2, 1e-4, 0.75, 1.0, per_size=True)
    ref = F.local_response_norm(x, 2)
    torch.testing.assert_close(lrn.reference(x), ref)
    torch.testing.assert_close(lrn.fast(x.contiguous(memory_format=torch.channels_last)), ref, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("flavour", [(5, 1e-4, 0.75, 2.0, False), (2, 1e-4, 0.75, 1.0, True)])
def test_lrn_backward(flavour):
    size, alpha, beta, k, per = flavour
    lrn = LRN(size, alpha, beta, k, per)
    x = (torch.relu(torch.randn(5, 6, 3, 4, dtype=torch.float64)) * 40).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: _LRNFunction.apply(t, lrn.size, lrn.a, lrn.beta, lrn.k), (x,))
    torch.testing.assert_close(lrn(x), lrn.reference(x))


@pytest.mark.parametrize("lrn", ["matconvnet", "pytorch"])
def test_fast_features_equal_reference_forward(lrn):
    torch.manual_seed(0)
    net = build_backbone("vggm", width=0.5, lrn=lrn, input_size=107)
    x = torch.randn(5, 3, 107, 107) * 60
    ref = net(x).reshape(5, -1)  # plain differentiable path, C,H,W flatten
    fast = net.features(x, chunk=2)
    torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-4)


def test_bfloat16_features_close_to_float32():
    """precision=bfloat16 runs the convolutions in bfloat16 (LRN, pooling in float32): float32
    features come back, within about 1 % (relative norm) of the float32 path, but not equal."""
    torch.manual_seed(0)
    net = build_backbone("vggm", width=0.5, lrn="pytorch", input_size=107)
    x = torch.randn(6, 3, 107, 107) * 60
    ref = net.features(x, chunk=4)
    bf = net.features(x, chunk=4, dtype=torch.bfloat16)
    assert bf.dtype == torch.float32 and bf.shape == ref.shape
    rel = float((bf - ref).norm() / ref.norm())
    assert 0.0 < rel < 0.02, rel


def test_conv3_matrix_follows_weight_updates():
    net = build_backbone("vggm", width=0.25)
    x = torch.randn(2, 3, 107, 107) * 50
    a = net.features(x).clone()
    with torch.no_grad():
        net.conv3.weight.mul_(2.0)
        net.conv3.bias.zero_()
    b = net.features(x)
    assert not torch.allclose(a, b)
    torch.testing.assert_close(b, net(x).reshape(2, -1), rtol=1e-4, atol=1e-4)


def test_bad_lrn_name():
    with pytest.raises(ValueError, match="unknown lrn"):
        build_backbone("vggm", lrn="banded")
