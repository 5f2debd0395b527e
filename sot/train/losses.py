"""Losses and label maps of the Siamese training recipes.

* :func:`siamfc_labels` / :func:`balanced_bce`: SiamFC's logistic loss. A response cell is
  positive when its L1 ("block") distance to the target cell is at most ``r_pos / stride``
  (r_pos = 16 px -> 2 cells), else negative; positives and negatives each get half the
  weight (siamfc-pytorch ``BalancedLoss``; MATLAB ``rPos=16, rNeg=0``, balanced weights).
* :func:`rpn_loss`: pysot's SiamRPN loss: ``0.5 NLL(pos) + 0.5 NLL(neg)`` on the
  log-softmax over (background, foreground), plus ``loc_weight`` x smooth-L1 on the
  ``dx, dy, log dw, log dh`` targets weighted ``1 / n_pos`` (SiamRPN paper: smooth L1).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F


def siamfc_labels(centers: np.ndarray, size: int, search_size: int, stride: int, r_pos: float
                  ) -> np.ndarray:
    """(B, 1, size, size) float labels; ``centers`` (B, 2) target centres in search-crop pixels.

    Cell ``(i, j)`` of a ``size`` map sits at search pixel ``search/2 + (j - (size-1)/2) * stride``.
    """
    g = np.arange(size) - (size - 1) / 2
    cells = (np.asarray(centers, dtype=np.float64) - search_size / 2) / stride      # (B, 2)
    dx = np.abs(g[None, None, :] - cells[:, 0, None, None])
    dy = np.abs(g[None, :, None] - cells[:, 1, None, None])
    return ((dx + dy) <= r_pos / stride).astype(np.float32)[:, None]


def balanced_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """BCE-with-logits with weights 1/(2 n_pos) on positives and 1/(2 n_neg) on negatives (per batch)."""
    pos = labels == 1
    neg = ~pos
    w = torch.zeros_like(labels)
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    if n_pos:
        w[pos] = 0.5 / n_pos
    if n_neg:
        w[neg] = 0.5 / n_neg
    w = w / w.sum()
    return F.binary_cross_entropy_with_logits(logits, labels, w, reduction="sum")


def rpn_loss(cls: torch.Tensor, loc: torch.Tensor, labels: torch.Tensor, loc_t: torch.Tensor,
             loc_w: torch.Tensor, loc_weight: float = 1.2) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``cls`` (B, 2A, S, S), ``loc`` (B, 4A, S, S); ``labels`` (B, K) 1/0/-1, ``loc_t`` (B, 4, K),
    ``loc_w`` (B, K), K = A*S*S in ``a*S*S + y*S + x`` order. Returns (total, cls loss, loc loss)."""
    b = cls.shape[0]
    logp = F.log_softmax(cls.reshape(b, 2, -1), dim=1)          # (B, 2, K)
    pos = labels == 1
    neg = labels == 0
    zero = cls.sum() * 0
    l_pos = -logp[:, 1][pos].mean() if pos.any() else zero
    l_neg = -logp[:, 0][neg].mean() if neg.any() else zero
    cls_loss = 0.5 * l_pos + 0.5 * l_neg
    d = loc.reshape(b, 4, -1)
    sl1 = F.smooth_l1_loss(d, loc_t, reduction="none", beta=1.0 / 9).sum(dim=1)   # (B, K)
    loc_loss = (sl1 * loc_w).sum() / b
    return cls_loss + loc_weight * loc_loss, cls_loss, loc_loss
