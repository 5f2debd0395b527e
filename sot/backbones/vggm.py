"""VGG-M conv1-3 (Chatfield et al. 2014) as used by MDNet and ADNet.

Layout (MatConvNet ``imagenet-vgg-m-conv1-3.mat``, py-MDNet ``modules/model.py``)::

    conv1 7x7/2 (3 -> 96)   ReLU  LRN  maxpool 3/2
    conv2 5x5/2 (96 -> 256) ReLU  LRN  maxpool 3/2
    conv3 3x3/1 (256 -> 512) ReLU

No padding anywhere: a 107x107 input (MDNet) and a 112x112 input (ADNet) both give
3x3x512. ``width`` scales the three channel counts (1.0 = the official 96/256/512,
needed to load official checkpoints; the shipped CPU models are narrower).

Two LRN flavours exist in the official code:

* ``"matconvnet"``: VGG-M's ``norm`` layer, ``y = x / (k + alpha * sum_{5 channels} x^2)^beta``
  with ``(n, k, alpha, beta) = (5, 2, 1e-4, 0.75)`` (MATLAB MDNet, ADNet, old py-MDNet ``LRN``).
* ``"pytorch"``: ``torch.nn.LocalResponseNorm(2)`` of py-MDNet 1.0 (``n = 2``, ``k = 1``,
  ``alpha / n`` per element, window = the channel and the one before it).

Inputs are float NCHW tensors of RGB pixels minus 128 (both trackers). Inference goes
through :meth:`VGGM.features`, which runs chunks of crops in ``channels_last``
memory with ReLU + LRN + pooling fused in one C loop (:mod:`sot.backbones.native`; a
buffered PyTorch LRN without a C compiler) and conv3 as one GEMM; training uses the plain
differentiable :meth:`VGGM.forward`. Both give the same numbers.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import native, register_backbone

CHANNELS = (96, 256, 512)
LRN_PRESETS: Dict[str, Tuple[int, float, float, float, bool]] = {
    # name: (size, alpha, beta, k, alpha_divided_by_size)
    "matconvnet": (5, 1e-4, 0.75, 2.0, False),
    "pytorch": (2, 1e-4, 0.75, 1.0, True),
}


class LRN(nn.Module):
    """Cross-channel local response normalisation over ``size`` channels.

    ``y_c = x_c / (k + a * sum_{j in W(c)} x_j^2)^beta`` with ``W(c) = [c - size//2, c + (size-1)//2]``
    and ``a = alpha / size`` if ``per_size`` (PyTorch) else ``alpha`` (MatConvNet).
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 per_size: bool = False):
        super().__init__()
        self.size, self.beta, self.k = int(size), float(beta), float(k)
        self.a = float(alpha) / size if per_size else float(alpha)
        self._bufs: Dict[Tuple[int, ...], Tuple[torch.Tensor, ...]] = {}

    def extra_repr(self) -> str:
        return f"size={self.size}, a={self.a:g}, beta={self.beta}, k={self.k}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return _LRNFunction.apply(x, self.size, self.a, self.beta, self.k)
        return self.fast(x)

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable version (plain tensor ops)."""
        c = x.shape[1]
        lo, hi = self.size // 2, (self.size - 1) // 2
        sq = F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, lo, hi)).squeeze(1)
        s = sq[:, 0:c]
        for i in range(1, self.size):
            s = s + sq[:, i:i + c]
        return x * (self.k + self.a * s).pow(-self.beta)

    def fast(self, x: torch.Tensor) -> torch.Tensor:
        """No-grad version on ``channels_last`` memory with reused buffers.

        Uses ``(k + a s)^-b = a^-b (k/a + s)^-b``: the constant ``k/a`` is spread over the
        padded squared-input buffer so that the window sum already contains it. The result
        lives in a buffer that the next call with the same shape overwrites: consume it first.
        """
        xl = x.permute(0, 2, 3, 1)  # N, H, W, C (a contiguous view for channels_last input)
        if not xl.is_contiguous():
            xl = xl.contiguous()
        n, h, w, c = xl.shape
        key = (n, h, w, c)
        bufs = self._bufs.get(key)
        size, lo = self.size, self.size // 2
        base = self.k / self.a / size
        if bufs is None:
            if len(self._bufs) > 8:
                self._bufs.clear()
            pad = torch.full((n, h, w, c + size - 1), base)
            bufs = (pad, torch.empty(n, h, w, c), torch.empty(n, h, w, c), torch.tensor(base), torch.zeros(()))
            self._bufs[key] = bufs
        pad, s, out, base_t, zero = bufs
        torch.addcmul(base_t, xl, xl, out=pad[..., lo:lo + c])
        torch.add(pad[..., 0:c], pad[..., 1:c + 1], out=s)
        for i in range(2, size):
            s.add_(pad[..., i:c + i])
        if self.beta == 0.75:  # s^-0.75 = rsqrt(s * sqrt(s)), three cheap passes instead of pow
            torch.sqrt(s, out=out)
            out.mul_(s).rsqrt_()
        else:
            torch.pow(s, -self.beta, out=out)
        torch.addcmul(zero, out, xl, value=self.a ** -self.beta, out=s)
        return s.permute(0, 3, 1, 2)


def _window_sum(t: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """``out[..., c] = sum_{j = c - lo}^{c + hi} t[..., j]`` (zero outside), last axis."""
    c = t.shape[-1]
    p = F.pad(t, (lo, hi))
    out = p[..., 0:c].clone()
    for i in range(1, lo + hi + 1):
        out += p[..., i:i + c]
    return out


def _pow_neg(s: torch.Tensor, beta: float) -> torch.Tensor:
    """``s ** -beta``; for 0.75 as ``rsqrt(s * sqrt(s))`` (much faster than ``pow`` on CPU)."""
    if beta == 0.75:
        return torch.sqrt(s).mul_(s).rsqrt_()
    return s.pow(-beta)


class _LRNFunction(torch.autograd.Function):
    """LRN with a hand-written backward on NHWC memory, in small batch chunks that stay in cache.

    ``y = x s^-b``, ``s = k + a W(x^2)``;  ``dx = g s^-b - 2 a b x W^T(g y / s)``.
    """

    CHUNK = 4

    @staticmethod
    def forward(ctx, x, size, a, beta, k):
        xl = x.permute(0, 2, 3, 1)
        if not xl.is_contiguous():
            xl = xl.contiguous()
        lo, hi = size // 2, (size - 1) // 2
        s_all = torch.empty_like(xl)
        y = torch.empty_like(xl)
        for i in range(0, xl.shape[0], _LRNFunction.CHUNK):
            xc = xl[i:i + _LRNFunction.CHUNK]
            s = _window_sum(xc * xc, lo, hi).mul_(a).add_(k)
            s_all[i:i + len(xc)] = s
            torch.mul(xc, _pow_neg(s, beta), out=y[i:i + len(xc)])
        ctx.save_for_backward(xl, s_all, y)
        ctx.lrn = (lo, hi, a, beta)
        return y.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        xl, s_all, y = ctx.saved_tensors
        lo, hi, a, beta = ctx.lrn
        gl = g.permute(0, 2, 3, 1)
        gx = torch.empty_like(xl)
        c2 = 2.0 * a * beta
        for i in range(0, xl.shape[0], _LRNFunction.CHUNK):
            sl = slice(i, i + _LRNFunction.CHUNK)
            s, gc, xc = s_all[sl], gl[sl], xl[sl]
            u = _window_sum(gc * y[sl] / s, hi, lo)  # transposed window
            out = gx[sl]
            torch.mul(gc, _pow_neg(s, beta), out=out)
            out.addcmul_(xc, u, value=-c2)
        return gx.permute(0, 3, 1, 2), None, None, None, None


class VGGM(nn.Module):
    """VGG-M conv1-3 trunk; output (N, c3, 3, 3) for 107 or 112 inputs."""

    def __init__(self, width: float = 1.0, lrn: str = "matconvnet", input_size: int = 107,
                 channels: Optional[Tuple[int, int, int]] = None):
        super().__init__()
        if lrn not in LRN_PRESETS:
            raise ValueError(f"vggm: unknown lrn '{lrn}' (one of {', '.join(LRN_PRESETS)})")
        c1, c2, c3 = channels or tuple(max(1, int(round(c * width))) for c in CHANNELS)
        self.channels = (c1, c2, c3)
        self.width, self.lrn_kind, self.input_size = width, lrn, int(input_size)
        size, alpha, beta, k, per = LRN_PRESETS[lrn]
        self.conv1 = nn.Conv2d(3, c1, 7, stride=2)
        self.norm1 = LRN(size, alpha, beta, k, per)
        self.conv2 = nn.Conv2d(c1, c2, 5, stride=2)
        self.norm2 = LRN(size, alpha, beta, k, per)
        self.conv3 = nn.Conv2d(c2, c3, 3, stride=1)
        self.out_hw = self._out_hw(self.input_size)
        self.out_dim = c3 * self.out_hw * self.out_hw
        self._w3: Optional[Tuple[object, Dict[str, torch.Tensor]]] = None

    @staticmethod
    def _out_hw(s: int) -> int:
        s = (s - 7) // 2 + 1
        s = (s - 3) // 2 + 1
        s = (s - 5) // 2 + 1
        s = (s - 3) // 2 + 1
        return s - 2

    def to_channels_last(self) -> "VGGM":
        return self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) float (pixel - 128) -> (N, c3, 3, 3); differentiable."""
        x = F.max_pool2d(self.norm1(F.relu(self.conv1(x))), 3, 2)
        x = F.max_pool2d(self.norm2(F.relu(self.conv2(x))), 3, 2)
        return F.relu(self.conv3(x))

    # -- fast inference -------------------------------------------------------------
    def _weights(self, dtype: torch.dtype) -> Dict[str, torch.Tensor]:
        """Conv weights in ``dtype`` (conv3 as a (kh*kw*Cin, Cout) matrix for an NHWC im2col GEMM),
        cached until a weight changes."""
        key = (dtype, tuple(p._version for p in self.parameters()))
        if self._w3 is None or self._w3[0] != key:
            with torch.no_grad():
                w3 = self.conv3.weight.detach()
                ws = {"w1": self.conv1.weight.detach().to(dtype), "b1": self.conv1.bias.detach().to(dtype),
                      "w2": self.conv2.weight.detach().to(dtype), "b2": self.conv2.bias.detach().to(dtype),
                      "w3": w3.permute(2, 3, 1, 0).reshape(-1, w3.shape[0]).contiguous().to(dtype),
                      "b3": self.conv3.bias.detach().to(dtype)}
            self._w3 = (key, ws)
        return self._w3[1]

    @staticmethod
    def _relu_norm_pool(norm: "LRN", x: torch.Tensor, sub: int) -> torch.Tensor:
        """ReLU, LRN and 3x3/2 max pooling of a conv output: the fused C kernel
        (:mod:`sot.backbones.native`) when it is available, else :meth:`_norm_pool`."""
        kern = native.lrn_pool_kernel()
        if kern is not None:
            return kern(x, norm.size // 2, (norm.size - 1) // 2, norm.a, norm.k, norm.beta)
        return VGGM._norm_pool(norm, x.relu_(), sub)

    @staticmethod
    def _norm_pool(norm: "LRN", x: torch.Tensor, sub: int) -> torch.Tensor:
        """LRN then 3x3/2 max pooling, ``sub`` crops at a time so that the float32 maps stay in L2."""
        n, c, h, w = x.shape
        ho, wo = (h - 3) // 2 + 1, (w - 3) // 2 + 1
        out = torch.empty(n, c, ho, wo, memory_format=torch.channels_last)
        for i in range(0, n, sub):
            xi = x[i:i + sub]
            if xi.dtype != torch.float32:
                xi = xi.float()
            out[i:i + sub] = F.max_pool2d(norm.fast(xi), 3, 2)
        return out

    @torch.no_grad()
    def _chunk(self, x: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        w = self._weights(dtype)
        x = self._relu_norm_pool(self.norm1, F.conv2d(x.to(dtype), w["w1"], w["b1"], stride=2), 1)
        x = self._relu_norm_pool(self.norm2, F.conv2d(x.to(dtype), w["w2"], w["b2"], stride=2), len(x))
        # conv3 as one GEMM over an NHWC im2col (faster than the conv primitive here)
        xl = x.to(dtype).permute(0, 2, 3, 1)  # N, h, w, C
        n, h, wd, c = xl.shape
        o = h - 2
        cols = torch.empty(n, o, o, 3, 3, c, dtype=dtype)
        for i in range(3):
            for j in range(3):
                cols[:, :, :, i, j] = xl[:, i:i + o, j:j + o]
        y = torch.addmm(w["b3"], cols.view(n * o * o, 9 * c), w["w3"]).relu_()
        return y.float().view(n, o, o, -1).permute(0, 3, 1, 2)  # N, C3, o, o (channels_last memory)

    @torch.no_grad()
    def features(self, x: torch.Tensor, chunk: int = 16, out: Optional[torch.Tensor] = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """conv3 features flattened in C, H, W order (py-MDNet ``x.view(N, -1)``): (N, c3*3*3) float32.

        ``x`` is (N, 3, S, S) float, preferably ``channels_last``; crops are processed
        ``chunk`` at a time so that the intermediate maps stay in cache. ``dtype=torch.bfloat16``
        runs the convolutions in bfloat16 (AMX / AVX512-BF16 CPUs: several times faster; about
        0.5 % relative error), LRN and pooling stay float32.
        """
        n = x.shape[0]
        if out is None:
            out = torch.empty(n, self.out_dim)
        x = x.contiguous(memory_format=torch.channels_last)
        s = 0
        for size in _chunk_sizes(n, chunk):
            out[s:s + size] = self._chunk(x[s:s + size], dtype).reshape(size, -1)
            s += size
        return out


def _chunk_sizes(n: int, chunk: int):
    """``n`` split into ``chunk``-sized pieces and a remainder in powers of two (13 -> 8, 4, 1), so
    that oneDNN sees only a handful of batch shapes (each new shape costs a kernel JIT)."""
    sizes = [chunk] * (n // chunk)
    rem = n % chunk
    bit = 1 << max(rem.bit_length() - 1, 0)
    while rem:
        if rem >= bit:
            sizes.append(bit)
            rem -= bit
        bit >>= 1
    return sizes


@register_backbone("vggm")
def build_vggm(width: float = 1.0, lrn: str = "matconvnet", input_size: int = 107,
               channels: Optional[Tuple[int, int, int]] = None, channels_last: bool = True) -> VGGM:
    """VGG-M conv1-3; ``input_size`` 107 (MDNet) or 112 (ADNet); ``channels`` overrides ``width``
    (the conv1-3 output channels of a checkpoint)."""
    net = VGGM(width=width, lrn=lrn, input_size=input_size, channels=channels)
    return net.to_channels_last() if channels_last else net
