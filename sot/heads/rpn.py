"""Region-proposal heads of SiamRPN.

Both heads split into three calls so trackers can cache, combine and batch kernels:

* ``template(zf) -> (cls_kernel, loc_kernel)``: per-target kernels (first axis = target);
  linear combinations of kernels (distractor-aware template, memory read) act on these.
* ``search(xf) -> (cls_feat, loc_feat)``: search-branch features.
* ``correlate(kernels, feats) -> (cls (n, 2A, S, S), loc (n, 4A, S, S))`` for ``n`` search
  maps; template ``i // (n // B)`` goes with search map ``i`` (one grouped conv for all).
* ``classify(cls_kernels, cls_feats) -> cls``: the classification half of ``correlate`` alone
  (DaSiamRPN scores distractor templates on a search region with it).

Output layout (DaSiamRPN / pysot): cls channels ``[0:A]`` background, ``[A:2A]`` foreground;
loc channels ``[0:A]`` dx, ``[A:2A]`` dy, ``[2A:3A]`` dw, ``[3A:4A]`` dh.

* :class:`UpChannelRPN`: DaSiamRPN ``SiamRPN`` head (``conv_r1``, ``conv_cls1``, ``conv_r2``,
  ``conv_cls2``, ``regress_adjust``; ``code/net.py``).
* :class:`DepthwiseRPN`: pysot ``DepthwiseRPN`` (``cls`` / ``loc`` ``DepthwiseXCorr`` branches).
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from .xcorr import _expand, grouped_conv, xcorr_depthwise

Kernels = Tuple[torch.Tensor, torch.Tensor]


class UpChannelRPN(nn.Module):
    """UP-channel RPN: the template feature is lifted to ``2A x F`` / ``4A x F`` kernels."""

    exact = False  # trackers set True: batch-size independent correlation (xcorr.grouped_conv)

    def __init__(self, feat_in: int = 256, feature_out: int = 256, anchor_num: int = 5):
        super().__init__()
        self.anchor_num, self.feature_out = anchor_num, feature_out
        a, f = anchor_num, feature_out
        self.conv_r1 = nn.Conv2d(feat_in, f * 4 * a, 3)
        self.conv_cls1 = nn.Conv2d(feat_in, f * 2 * a, 3)
        self.conv_r2 = nn.Conv2d(feat_in, f, 3)
        self.conv_cls2 = nn.Conv2d(feat_in, f, 3)
        self.regress_adjust = nn.Conv2d(4 * a, 4 * a, 1)

    def template(self, zf: torch.Tensor) -> Kernels:
        b = zf.shape[0]
        a, f = self.anchor_num, self.feature_out
        r1 = self.conv_r1(zf)
        c1 = self.conv_cls1(zf)
        k = r1.shape[-1]
        return (c1.reshape(b, 2 * a, f, k, k), r1.reshape(b, 4 * a, f, k, k))

    def search(self, xf: torch.Tensor) -> Kernels:
        return self.conv_cls2(xf), self.conv_r2(xf)

    def correlate(self, kernels: Kernels, feats: Kernels) -> Kernels:
        loc = self.regress_adjust(self._up_xcorr(kernels[1], feats[1]))
        return self.classify(kernels[0], feats[0]), loc

    def classify(self, cls_kernels: torch.Tensor, cls_feats: torch.Tensor) -> torch.Tensor:
        return self._up_xcorr(cls_kernels, cls_feats)

    def _up_xcorr(self, k: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Kernels (B, O, F, k, k) over search maps (n, F, H, W) -> (n, O, H-k+1, W-k+1)."""
        n = x.shape[0]
        k = _expand(k, x)
        out = grouped_conv(x.reshape(1, -1, x.shape[2], x.shape[3]),
                           k.reshape(-1, k.shape[2], k.shape[3], k.shape[4]), n, self.exact)
        return out.reshape(n, -1, out.shape[-2], out.shape[-1])

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> Kernels:
        return self.correlate(self.template(zf), self.search(xf))


class DepthwiseXCorr(nn.Module):
    """pysot ``DepthwiseXCorr``: conv_kernel / conv_search (conv-BN-ReLU), depthwise xcorr, 1x1 head."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.conv_kernel = nn.Sequential(nn.Conv2d(in_channels, hidden, kernel_size, bias=False),
                                         nn.BatchNorm2d(hidden), nn.ReLU(inplace=True))
        self.conv_search = nn.Sequential(nn.Conv2d(in_channels, hidden, kernel_size, bias=False),
                                         nn.BatchNorm2d(hidden), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Conv2d(hidden, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
                                  nn.ReLU(inplace=True), nn.Conv2d(hidden, out_channels, 1))


class DepthwiseRPN(nn.Module):
    """pysot ``DepthwiseRPN`` (``siamrpn_alex_dwxcorr``)."""

    exact = False  # trackers set True: batch-size independent correlation (xcorr.grouped_conv)

    def __init__(self, feat_in: int = 256, feature_out: int = 256, anchor_num: int = 5):
        super().__init__()
        self.anchor_num = anchor_num
        self.cls = DepthwiseXCorr(feat_in, feature_out, 2 * anchor_num)
        self.loc = DepthwiseXCorr(feat_in, feature_out, 4 * anchor_num)

    def template(self, zf: torch.Tensor) -> Kernels:
        return self.cls.conv_kernel(zf), self.loc.conv_kernel(zf)

    def search(self, xf: torch.Tensor) -> Kernels:
        return self.cls.conv_search(xf), self.loc.conv_search(xf)

    def correlate(self, kernels: Kernels, feats: Kernels) -> Kernels:
        loc = self.loc.head(xcorr_depthwise(kernels[1], feats[1], self.exact))
        return self.classify(kernels[0], feats[0]), loc

    def classify(self, cls_kernels: torch.Tensor, cls_feats: torch.Tensor) -> torch.Tensor:
        return self.cls.head(xcorr_depthwise(cls_kernels, cls_feats, self.exact))

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> Kernels:
        return self.correlate(self.template(zf), self.search(xf))


def build_rpn_head(kind: str, feat_in: int, feature_out: int, anchor_num: int) -> nn.Module:
    """``kind``: ``"upchannel"`` (DaSiamRPN) or ``"depthwise"`` (pysot)."""
    if kind == "upchannel":
        return UpChannelRPN(feat_in, feature_out, anchor_num)
    if kind == "depthwise":
        return DepthwiseRPN(feat_in, feature_out, anchor_num)
    from bench.core.errors import UnknownNameError

    raise UnknownNameError("RPN head", kind, ["upchannel", "depthwise"])
