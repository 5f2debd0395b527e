"""CFNet (Valmadre et al., CVPR 2017): a correlation filter solved in closed form inside the network.

The exemplar branch ends in a correlation-filter layer: the (cosine-windowed) exemplar
feature ``x`` (C, H, W) and a fixed Gaussian target ``y`` (H, W) give the filter ``w`` that
solves the ridge regression

    w = argmin_w  1/(2n) || sum_c w_c * x_c - y ||^2 + lambda/2 sum_c ||w_c||^2,   n = H W

(``*`` circular cross-correlation, ``(w * x)[u] = sum_t w[t] x[t + u]``). As in the official
code (bertinetto/cfnet ``src/util/corr_filter.m``) it is solved in the Fourier domain through
one dual variable ``a`` shared by the channels::

    k^ = 1/n sum_c conj(x^_c) x^_c + lambda        (the linear kernel of the channels)
    a^ = 1/n y^ / k^
    w^_c = conj(a^) x^_c                           (w_c = a * x_c)

which is the exact minimiser of the multi-channel problem above (the per-channel filters are
coupled only through ``k^``). Autograd differentiates through ``torch.fft`` (the hand-written
backward of ``corr_filter.m`` is the same derivative). The template is the central part of
``w`` (``CropMargin`` 16 cells, ``make_net.m``), cross-correlated with the search feature,
then a learned scale and bias (``fin_adjust``: init 1 and -0.5, ``make_net.m``).
"""
from __future__ import annotations

from typing import Any, Dict

import numpy as np
import torch
from torch import nn

from bench.core.errors import CheckpointError
from sot.backbones import build_backbone
from sot.heads.xcorr import xcorr

VARIANTS = ("conv1", "conv2", "conv5")


def solve_cf(x: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """Closed-form multi-channel correlation filter. ``x`` (B, C, H, W), ``y`` (H, W) -> ``w`` (B, C, H, W)."""
    if x.dim() != 4 or y.shape != x.shape[-2:]:
        raise ValueError(f"solve_cf: x must be (B, C, H, W) and y (H, W), got {tuple(x.shape)} and {tuple(y.shape)}")
    n = x.shape[-1] * x.shape[-2]
    xf = torch.fft.fft2(x)
    yf = torch.fft.fft2(y.to(xf.real.dtype))
    kf = (xf.real ** 2 + xf.imag ** 2).sum(dim=1, keepdim=True) / n + lam
    af = yf / (n * kf)
    return torch.fft.ifft2(torch.conj(af) * xf).real.to(x.dtype)


def circular_xcorr(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``sum_c (w_c * x_c)[u] = sum_c sum_t w_c[t] x_c[t + u]`` (circular), (B, C, H, W) x2 -> (B, H, W)."""
    return torch.fft.ifft2(torch.conj(torch.fft.fft2(w)) * torch.fft.fft2(x)).real.sum(dim=1)


def gaussian_target(size: int, sigma: float) -> np.ndarray:
    """(size, size) Gaussian ``exp(-d^2 / (2 sigma^2))`` centred on the map (``sigma`` in cells;
    cfnet ``gaussian_response.m``, ``sigma = 8 px / stride``)."""
    g = np.arange(size) - (size - 1) / 2
    d2 = g[:, None] ** 2 + g[None, :] ** 2
    return np.exp(-d2 / (2 * sigma ** 2))


def cosine_window(size: int) -> np.ndarray:
    """(size, size) cosine window (cfnet ``make_window.m`` 'cos': outer product of Hann windows)."""
    h = np.hanning(size)
    return np.outer(h, h)


class CorrFilterLayer(nn.Module):
    """Window -> closed-form filter -> central crop: exemplar feature (B, C, H, W) -> template (B, C, H-2m, W-2m)."""

    def __init__(self, size: int, stride: int, lam: float = 10.0, sigma_px: float = 8.0, margin: int = 16):
        super().__init__()
        if size - 2 * margin < 1:
            raise ValueError(f"CorrFilterLayer: feature {size} cells too small for a crop margin of {margin}")
        self.lam, self.margin = float(lam), int(margin)
        self.register_buffer("window", torch.from_numpy(cosine_window(size)).float())
        self.register_buffer("target", torch.from_numpy(gaussian_target(size, sigma_px / stride)).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = solve_cf(x * self.window, self.target, self.lam)
        m = self.margin
        return w[..., m:w.shape[-2] - m, m:w.shape[-1] - m]


class CFHead(nn.Module):
    """``scale * xcorr(template, x) + bias`` (cfnet ``fin_adjust``; scale 1, bias -0.5 at init)."""

    exact = False

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.bias = nn.Parameter(torch.full((), -0.5))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return xcorr(z, x, self.exact) * self.scale + self.bias


class CFNet(nn.Module):
    """CFNet-``variant`` (conv1 / conv2 / conv5): ``alexnet_cfnet`` trunk, CF layer on the exemplar branch.

    Exemplar and search crops are both 255 px (``tracker.m`` corrfilt); responses 33 x 33 at stride 4.
    """

    def __init__(self, variant: str = "conv2", width: float = 1.0, out_channels: int = 32, crop: int = 255,
                 lam: float = 10.0, sigma_px: float = 8.0, margin: int = 16):
        super().__init__()
        self.backbone = build_backbone("alexnet_cfnet", last_layer=variant, width=width, out_channels=out_channels)
        with torch.no_grad():
            size = int(self.backbone(torch.zeros(1, 3, crop, crop)).shape[-1])
        self.feature_size = size
        self.cf = CorrFilterLayer(size, self.backbone.stride, lam, sigma_px, margin)
        self.head = CFHead()

    def template(self, z: torch.Tensor) -> torch.Tensor:
        """Template (B, C, h, w) from exemplar crops (B, 3, 255, 255)."""
        return self.cf(self.backbone(z))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.template(z), self.backbone(x))


def build_cfnet(arch: Dict[str, Any]) -> CFNet:
    """CFNet from an ``arch`` dict (weight files' meta)."""
    if arch.get("net") != "cfnet":
        raise CheckpointError(f"not a CFNet architecture: {arch.get('net')!r}")
    variant = str(arch.get("variant", "conv2"))
    if variant not in VARIANTS:
        raise CheckpointError(f"unknown CFNet variant {variant!r} (one of {', '.join(VARIANTS)})")
    return CFNet(variant, float(arch.get("width", 1.0)), int(arch.get("out_channels", 32)), int(arch.get("crop", 255)),
                 float(arch.get("lambda", 10.0)), float(arch.get("sigma_px", 8.0)), int(arch.get("margin", 16)))
