"""Losses for learned MOT appearance and one-shot detection (FairMOT family).

* :func:`pairwise_ranking_loss`: source document 001 (one-shot MOT with a contrastive loss):
  anchors = embeddings at the ground-truth box centres of one frame; negative = the hardest
  other anchor of the same frame (smallest distance); positive = the embedding half a
  CenterNet Gaussian radius up, down, left or right of the centre. Loss per pair
  ``d(a, p)`` (positive) and ``max(0, m - d(a, n))`` (negative), mean over all pairs;
  ``d`` cosine (margin 0.5) or Euclidean (margin 10) — the document's settings.
* :func:`batch_hard_triplet_loss`: Hermans et al. 2017 (used by ReMOTS / FineTrack).
* :func:`id_classification_loss`: FairMOT's identity head: ``emb_scale * normalize(e)`` ->
  Linear -> cross entropy over track ids, ``emb_scale = sqrt(2) * log(nID - 1)``
  (ifzhang/FairMOT src/lib/trains/mot.py).
* :func:`focal_loss` (CenterNet ``_neg_loss``, alpha 2, beta 4) and :func:`reg_l1_loss`
  (masked L1 on size / offset; CenterNet ``RegL1Loss``).
* :class:`UncertaintyWeighting`: FairMOT's ``0.5 * (exp(-s_det) L_det + exp(-s_id) L_id + s_det + s_id)``,
  ``s_det = -1.85``, ``s_id = -1.05`` initially (FairMOT mot.py).

Maps are (C, H, W) torch tensors of one frame; centres are integer cells ``(x, y)`` on that map.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: document 001's margins per distance
MARGINS = {"cosine": 0.5, "euclidean": 10.0}
#: up, down, left, right as (dx, dy) cell steps
DIRECTIONS = ((0, -1), (0, 1), (-1, 0), (1, 0))


def gaussian_radius(h: float, w: float, min_overlap: float = 0.7) -> float:
    """CenterNet's Gaussian radius of an ``h`` x ``w`` box (cells), ``min_overlap`` 0.7
    (xingyizhou/CenterNet src/lib/utils/image.py ``gaussian_radius``; used by FairMOT)."""
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2 = 2 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 + math.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def distance(a: torch.Tensor, b: torch.Tensor, metric: str) -> torch.Tensor:
    """Row-wise distances (N,) between (N, C) ``a`` and ``b``: ``1 - cos`` or Euclidean."""
    if metric == "cosine":
        return 1.0 - F.cosine_similarity(a, b, dim=1, eps=1e-8)
    if metric == "euclidean":
        return (a - b).pow(2).sum(1).clamp_min(1e-12).sqrt()
    raise ValueError(f"metric must be 'cosine' or 'euclidean', not {metric!r}")


def positive_cells(centres: np.ndarray, radii: np.ndarray, hw, directions: np.ndarray) -> np.ndarray:
    """Cells half a radius (``max(1, round(r / 2))`` cells; toolkit choice: never the centre
    itself) from each centre in direction ``directions[k]`` (index into :data:`DIRECTIONS`),
    clipped to the (H, W) map: (K, 2) int ``(x, y)``."""
    h, w = hw
    step = np.maximum(1, np.round(np.asarray(radii, dtype=np.float64) / 2)).astype(np.int64)
    d = np.asarray(DIRECTIONS, dtype=np.int64)[np.asarray(directions, dtype=np.int64)]
    p = np.asarray(centres, dtype=np.int64) + d * step[:, None]
    p[:, 0] = np.clip(p[:, 0], 0, w - 1)
    p[:, 1] = np.clip(p[:, 1], 0, h - 1)
    return p


def pairwise_ranking_loss(emb: torch.Tensor, centres: np.ndarray, radii: np.ndarray, metric: str = "cosine",
                          margin: Optional[float] = None, directions: Optional[np.ndarray] = None,
                          generator: Optional[np.random.Generator] = None) -> torch.Tensor:
    """Document 001's pairwise ranking loss on one frame's embedding map ``emb`` (C, H, W).

    ``centres`` (K, 2) integer ``(x, y)`` cells of the ground-truth box centres, ``radii`` (K,)
    their CenterNet Gaussian radii (cells). ``directions`` (K,) indices into
    :data:`DIRECTIONS`, drawn from ``generator`` when None. Mean over the K positive pairs and
    the hardest-negative pair of every anchor that has a negative (K >= 2).
    """
    margin = MARGINS[metric] if margin is None else float(margin)
    centres = np.asarray(centres, dtype=np.int64).reshape(-1, 2)
    k = len(centres)
    if k == 0:
        return emb.sum() * 0.0
    if directions is None:
        directions = (generator or np.random.default_rng()).integers(0, 4, k)
    pos = positive_cells(centres, radii, emb.shape[1:], directions)
    a = emb[:, centres[:, 1], centres[:, 0]].T                     # (K, C)
    p = emb[:, pos[:, 1], pos[:, 0]].T
    terms = [distance(a, p, metric)]
    if k >= 2:
        ai, bi = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        off = ai != bi
        d = distance(a[ai[off]], a[bi[off]], metric).view(k, k - 1)   # (K, K-1): other anchors
        terms.append((margin - d.min(1).values).clamp_min(0))
    return torch.cat(terms).mean()


def batch_hard_triplet_loss(emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.3,
                            metric: str = "euclidean") -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al. 2017): for each anchor the farthest positive and
    the closest negative, ``max(0, m + d_ap - d_an)``, mean over anchors having both."""
    if metric == "euclidean":
        d = torch.cdist(emb, emb)
    else:
        e = F.normalize(emb, dim=1)
        d = 1.0 - e @ e.T
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    pos = same & ~eye
    neg = ~same
    ok = pos.any(1) & neg.any(1)
    if not bool(ok.any()):
        return emb.sum() * 0.0
    d_ap = torch.where(pos, d, torch.full_like(d, -float("inf"))).max(1).values
    d_an = torch.where(neg, d, torch.full_like(d, float("inf"))).min(1).values
    return (margin + d_ap - d_an).clamp_min(0)[ok].mean()


def id_classification_loss(emb: torch.Tensor, ids: torch.Tensor, classifier: nn.Linear) -> torch.Tensor:
    """FairMOT's identity loss: cross entropy of ``classifier(emb_scale * normalize(emb))``."""
    n_id = classifier.out_features
    scale = math.sqrt(2) * math.log(max(n_id - 1, 2))
    return F.cross_entropy(classifier(scale * F.normalize(emb, dim=1)), ids)


def focal_loss(pred: torch.Tensor, gt: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on heatmap probabilities ``pred`` (clamped to
    [1e-4, 1 - 1e-4] as CenterNet's ``_sigmoid``) against the Gaussian heatmap ``gt``."""
    pred = pred.clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1.0 - pos
    pos_loss = (torch.log(pred) * (1 - pred).pow(alpha) * pos).sum()
    neg_loss = (torch.log(1 - pred) * pred.pow(alpha) * (1 - gt).pow(beta) * neg).sum()
    n = pos.sum()
    return -neg_loss if n == 0 else -(pos_loss + neg_loss) / n


def reg_l1_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked L1 (CenterNet ``RegL1Loss``): ``pred``/``target`` (K, C), ``mask`` (K,) -> sum / (mask * C + 1e-4)."""
    m = mask.float()[:, None].expand_as(pred)
    return F.l1_loss(pred * m, target * m, reduction="sum") / (m.sum() + 1e-4)


class UncertaintyWeighting(nn.Module):
    """FairMOT's learned task weighting of the detection and identity losses."""

    def __init__(self, s_det: float = -1.85, s_id: float = -1.05):
        super().__init__()
        self.s_det = nn.Parameter(torch.tensor(float(s_det)))
        self.s_id = nn.Parameter(torch.tensor(float(s_id)))

    def forward(self, det_loss: torch.Tensor, id_loss: torch.Tensor) -> torch.Tensor:
        return 0.5 * (torch.exp(-self.s_det) * det_loss + torch.exp(-self.s_id) * id_loss + self.s_det + self.s_id)
