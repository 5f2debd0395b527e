"""Fused ReLU + LRN + max-pool C kernel (sot/backbones/native.py, lrn_pool.c) == the PyTorch path."""
import shutil

import pytest
import torch
import torch.nn.functional as F

from tests.sot.online_toy import one_torch_thread  # noqa: F401 (autouse fixture)
from sot.backbones import native
from sot.backbones.vggm import LRN, VGGM

needs_cc = pytest.mark.skipif(native._compiler() is None, reason="no C compiler ($CC, cc, gcc, clang) on this machine")
FLAVOURS = {"matconvnet": (5, 1e-4, 0.75, 2.0, False), "pytorch": (2, 1e-4, 0.75, 1.0, True),
            "beta-0.5": (3, 1e-3, 0.5, 1.0, False)}


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_state", {})
    k = native.lrn_pool_kernel()
    assert k is not None, "the C compiler is present but the kernel did not build"
    return k


def reference(x: torch.Tensor, lrn: LRN) -> torch.Tensor:
    return F.max_pool2d(lrn.reference(torch.relu(x.double())), 3, 2)


@needs_cc
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize("shape", [(3, 7, 11, 11), (2, 96, 51, 51), (1, 5, 8, 9)])
def test_kernel_matches_reference(kernel, flavour, shape):
    lrn = LRN(*FLAVOURS[flavour])
    x = (torch.randn(*shape, generator=torch.Generator().manual_seed(1)) * 60).contiguous(memory_format=torch.channels_last)
    x0 = x.clone()
    y = kernel(x, lrn.size // 2, (lrn.size - 1) // 2, lrn.a, lrn.k, lrn.beta)
    assert y.dtype == torch.float32 and y.shape == (shape[0], shape[1], (shape[2] - 3) // 2 + 1, (shape[3] - 3) // 2 + 1)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y.double(), reference(x, lrn), rtol=2e-6, atol=1e-5)
    assert torch.equal(x, x0) and bool((x0 < 0).any())  # the ReLU did not write into the input


@needs_cc
def test_kernel_reads_bfloat16(kernel):
    lrn = LRN(*FLAVOURS["pytorch"])
    x = (torch.randn(4, 16, 13, 13) * 50).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    y = kernel(x, 1, 0, lrn.a, lrn.k, lrn.beta)
    torch.testing.assert_close(y.double(), reference(x.float(), lrn), rtol=2e-6, atol=1e-5)


@needs_cc
def test_kernel_same_on_one_and_two_threads(kernel):
    lrn = LRN(*FLAVOURS["matconvnet"])
    x = (torch.randn(5, 24, 21, 21) * 40).contiguous(memory_format=torch.channels_last)
    torch.set_num_threads(2)
    y2 = kernel(x, 2, 2, lrn.a, lrn.k, lrn.beta)
    torch.set_num_threads(1)
    y1 = kernel(x, 2, 2, lrn.a, lrn.k, lrn.beta)
    assert torch.equal(y1, y2)
    torch.testing.assert_close(y1.double(), reference(x, lrn), rtol=2e-6, atol=1e-5)


@needs_cc
def test_kernel_rejects_maps_smaller_than_the_window(kernel):
    with pytest.raises(ValueError, match="2x5"):
        kernel(torch.zeros(1, 4, 2, 5).contiguous(memory_format=torch.channels_last), 1, 0, 1e-4, 1.0, 0.75)


@needs_cc
@pytest.mark.parametrize("lrn", ["matconvnet", "pytorch"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_vggm_features_same_with_and_without_kernel(kernel, monkeypatch, lrn, dtype):
    torch.manual_seed(0)
    net = VGGM(width=0.25, lrn=lrn).to_channels_last().eval()
    x = torch.rand(6, 3, 107, 107) * 255 - 128
    fused = net.features(x, dtype=dtype)
    monkeypatch.setenv("BENCH_NATIVE", "0")
    assert native.lrn_pool_kernel() is None
    plain = net.features(x, dtype=dtype)
    if dtype == torch.float32:
        torch.testing.assert_close(fused, plain, rtol=1e-4, atol=1e-4)
    else:  # 1e-6 differences of the pooled maps can flip a bfloat16 rounding before conv2
        assert ((fused - plain).norm() / plain.norm()).item() < 2e-3
    with torch.no_grad():
        ref = net(x).flatten(1)
    assert ((fused - ref).norm() / ref.norm()).item() < (2e-2 if dtype == torch.bfloat16 else 1e-5)


@needs_cc
def test_build_is_cached_by_source_hash(kernel, tmp_path):
    built = list(tmp_path.glob("lrn_pool-*.so"))
    assert len(built) == 1
    mtime = built[0].stat().st_mtime_ns
    assert native._build(native.SOURCE) == built[0] and built[0].stat().st_mtime_ns == mtime


def test_no_compiler_falls_back_to_pytorch(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_state", {})
    monkeypatch.setattr(native, "_compiler", lambda: None)
    assert native.lrn_pool_kernel() is None
    assert not list(tmp_path.glob("*.so"))
    net = VGGM(width=0.25).to_channels_last().eval()
    x = torch.rand(2, 3, 107, 107) * 255 - 128
    with torch.no_grad():
        torch.testing.assert_close(net.features(x), net(x).flatten(1), rtol=1e-4, atol=1e-4)


def test_broken_compiler_falls_back(tmp_path, monkeypatch):
    fake = tmp_path / "cc"
    fake.write_text("#!/bin/sh\necho 'cc: fatal error: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", str(fake))
    monkeypatch.setattr(native, "_state", {})
    assert shutil.which(str(fake))
    assert native.lrn_pool_kernel() is None
    assert not list((tmp_path / "cache").glob("*"))
