"""Cross-correlation heads.

* :func:`xcorr`: full cross-correlation of each template ``z`` (B, C, h, w) over its
  search maps ``x`` (B*S, C, H, W) (S search maps per template, e.g. SiamFC scales),
  done as ONE grouped ``conv2d`` -> (B*S, 1, H-h+1, W-w+1).
* :func:`xcorr_depthwise`: channel-wise correlation (pysot) -> (B*S, C, H-h+1, W-w+1).
* :class:`SiamFCHead`: ``out_scale * xcorr`` (siamfc-pytorch ``heads.SiamFC``, no parameters).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _expand(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    b, s = z.shape[0], x.shape[0]
    if s % b:
        raise ValueError(f"search batch {s} is not a multiple of template batch {b}")
    rep = s // b
    return z if rep == 1 else z.repeat_interleave(rep, dim=0)


def grouped_conv(x: torch.Tensor, w: torch.Tensor, groups: int, exact: bool = False) -> torch.Tensor:
    """``conv2d(x, w, groups)``; ``exact`` computes in float64 and rounds back, so the result does
    not depend on the number of groups (a batch of N targets == N single targets to ~1e-7;
    float32 grouped convs pick different kernels for different group counts)."""
    if exact and x.dtype == torch.float32:
        return F.conv2d(x.double(), w.double(), groups=groups).float()
    return F.conv2d(x, w, groups=groups)


def xcorr(z: torch.Tensor, x: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """Full xcorr: template ``i // (len(x) // len(z))`` is correlated with search map ``i``."""
    z = _expand(z, x)
    n, c, h, w = x.shape
    out = grouped_conv(x.reshape(1, n * c, h, w), z.contiguous(), n, exact)
    return out.reshape(n, 1, out.shape[-2], out.shape[-1])


def xcorr_depthwise(z: torch.Tensor, x: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """Depthwise xcorr (pysot ``xcorr_depthwise``): one output channel per feature channel."""
    z = _expand(z, x)
    n, c, h, w = x.shape
    out = grouped_conv(x.reshape(1, n * c, h, w), z.reshape(n * c, 1, z.shape[2], z.shape[3]), n * c, exact)
    return out.reshape(n, c, out.shape[-2], out.shape[-1])


class SiamFCHead(nn.Module):
    """SiamFC response ``out_scale * (z * x)``; ``out_scale`` 0.001 (the MATLAB "adjust" gain)."""

    exact = False  # trackers set True: batch-size independent results (see grouped_conv)

    def __init__(self, out_scale: float = 0.001):
        super().__init__()
        self.out_scale = out_scale

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return xcorr(z, x, self.exact) * self.out_scale
