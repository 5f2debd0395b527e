"""DaSiamRPN distractor-aware scoring (Zhu et al., ECCV 2018, Sec. 3.2; Eq. 2 and 4).

* :func:`select_distractors`: NMS over the RPN proposals with the chosen target box put
  first; the top-k survivors other than the target whose score exceeds
  ``threshold * target score`` are the distractors.
* :class:`DistractorBank`: the running, learning-rate weighted average of distractor
  kernels ``D``; the corrected template is ``K(z) - alpha_hat * D`` (Eq. 2 with all
  ``alpha_i = 1``; Eq. 4's beta_t weights realised as an exponential average with rate
  ``eta``, bias-corrected so the first set of distractors counts in full).
* :class:`DistractorSet`: the same average taken on scores instead of kernels: it keeps
  the last distractors' classification kernels with their weights, and the tracker scores
  each proposal ``f(z, p) - alpha_hat * sum_j w_j f(d_j, p) / sum_j w_j`` (Eq. 2 / 4 as
  written, ``f`` = the RPN's foreground log-odds; the tracker maps the result back to a
  probability with a sigmoid).

The kernel form acts on the head's kernels. For the UP-channel head the correlation is
linear in the kernel, so it is Eq. 2 exactly up to the softmax: ``(K(z) - a * mean K(d_i))
* phi(x) = f(z, x) - a * mean f(d_i, x)`` on the logits. For pysot's depthwise head the
correlation is followed by BatchNorm / ReLU / 1x1 convolutions, the score is not linear in
the kernel, and only the score form computes Eq. 2.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.boxes import iou_matrix


def nms(boxes_xywh: np.ndarray, order: np.ndarray, iou_threshold: float, top_k: int) -> np.ndarray:
    """Greedy NMS visiting ``boxes_xywh`` in ``order``; keeps at most ``top_k`` indices."""
    keep = []
    cand = np.asarray(order)
    while len(cand) and len(keep) < top_k:
        i = int(cand[0])
        keep.append(i)
        if len(cand) == 1:
            break
        ov = iou_matrix(boxes_xywh[i:i + 1], boxes_xywh[cand[1:]])[0]
        cand = cand[1:][ov <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def select_distractors(boxes_xywh: np.ndarray, scores: np.ndarray, target_index: int, *,
                       iou_threshold: float, top_k: int, threshold: float,
                       pre_nms: int = 200) -> np.ndarray:
    """Indices of distractor proposals. ``boxes_xywh`` (K, 4), ``scores`` (K,) raw RPN scores.

    The ``pre_nms`` best proposals (plus the target) go through NMS, target first; of the
    ``top_k`` survivors, those other than the target with ``score > threshold *
    scores[target_index]`` are distractors.
    """
    order = np.argsort(-scores, kind="stable")[:pre_nms]
    order = np.concatenate([[target_index], order[order != target_index]])
    keep = nms(boxes_xywh, order, iou_threshold, top_k)
    rest = keep[1:]
    return rest[scores[rest] > threshold * scores[target_index]]


class DistractorBank:
    """Learning-rate weighted average of distractor kernels (tuples of tensors, one per head branch)."""

    def __init__(self, eta: float):
        self.eta = eta
        self.avg: Optional[Tuple[torch.Tensor, ...]] = None
        self._w = 0.0  # bias correction: total weight of the exponential average

    def update(self, kernels: Sequence[torch.Tensor]) -> None:
        """Add one frame's distractors: ``kernels`` are tensors with a leading distractor axis."""
        mean = tuple(k.mean(dim=0) for k in kernels)
        if self.avg is None:
            self.avg, self._w = mean, 1.0
            return
        w_new = (1 - self.eta) * self._w + self.eta
        a = (1 - self.eta) * self._w / w_new
        self.avg = tuple(a * d + (1 - a) * m for d, m in zip(self.avg, mean))
        self._w = w_new

    def correct(self, kernels: Sequence[torch.Tensor], alpha_hat: float,
                branches: Sequence[bool]) -> Tuple[torch.Tensor, ...]:
        """``K - alpha_hat * D`` on the branches flagged True (e.g. only the classification kernel)."""
        if self.avg is None:
            return tuple(kernels)
        return tuple(k - alpha_hat * d if use else k for k, d, use in zip(kernels, self.avg, branches))


class DistractorSet:
    """Distractor classification kernels with learning-rate weights (score form of Eq. 2 / 4).

    Each frame with distractors multiplies the old weights by ``1 - eta`` and adds its ``n``
    distractors with ``eta / n`` each (Eq. 2's mean over the frame's distractors, Eq. 4's
    beta_t over frames); the first frame's get ``1 / n`` each, as in :class:`DistractorBank`'s
    bias-corrected average, so both forms weight the same distractors alike. Only the
    ``capacity`` heaviest kernels are kept; :meth:`normalized` weights sum to 1.
    """

    def __init__(self, eta: float, capacity: int):
        if capacity < 1:
            raise ValueError(f"distractor bank capacity must be >= 1, got {capacity}")
        self.eta = eta
        self.capacity = capacity
        self.kernels: Optional[torch.Tensor] = None     # (M, ...) classification kernels
        self.weights = np.zeros(0)

    def __len__(self) -> int:
        return len(self.weights)

    def update(self, cls_kernels: torch.Tensor) -> None:
        n = len(cls_kernels)
        if not n:
            return
        new = np.full(n, (self.eta if len(self.weights) else 1.0) / n)
        w = np.concatenate([self.weights * (1 - self.eta), new])
        k = cls_kernels if self.kernels is None else torch.cat([self.kernels, cls_kernels])
        if len(w) > self.capacity:
            keep = np.sort(np.argsort(-w, kind="stable")[:self.capacity])
            w, k = w[keep], k[torch.from_numpy(keep)]
        self.weights, self.kernels = w, k.contiguous()

    def normalized(self) -> np.ndarray:
        return self.weights / self.weights.sum()
