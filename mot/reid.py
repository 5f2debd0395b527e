"""Appearance features and re-identification.

* appearance encoders (``HistogramEncoder``, ``build_encoder``, ``AppearanceConfig``) live in
  :mod:`mot.appearance`; their names are re-exported here for compatibility.
* :class:`ClassifierReID`: re-identification with per-track classifiers fine-tuned
  online (Hecking-Veltman & Zieger, "Self-supervised fine-tuning of Tracktor", seed
  000 of the project): while a track is active, each frame adds its own feature
  (positive) and the features of the other people in the same frame (negatives), for
  at most the last ``history`` (40) frames. When the track becomes inactive, a copy of
  the classification head is fine-tuned with cross entropy on these samples
  (positives upsampled to balance the classes), stopping as soon as the lowest
  positive score and the gap to the highest negative pass their thresholds. A new
  detection re-identifies an inactive track when that track's classifier scores it
  ``>= min_score`` (0.95) and every other detection of the frame at least
  ``score_gap`` (0.2) lower; among several candidate tracks the highest score wins.
  Inactive tracks are forgotten after ``inactive_patience`` (10) frames.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np



# appearance features: moved to mot.appearance (names kept here for compatibility)
from .appearance import AppearanceConfig, build_encoder  # noqa: E402,F401
from .appearance.histogram import HistogramEncoder  # noqa: E402,F401


# ---------------------------------------------------------------------------
# per-track classifier re-identification
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class ClassifierReIDConfig:
    enabled: bool = True
    history: int = 40                 # frames of samples per track
    min_score: float = 0.95           # classifier score needed to re-identify
    score_gap: float = 0.2            # every other detection must score this much lower
    inactive_patience: int = 10       # frames an inactive track can be re-identified
    lr: float = 5e-4                  # fine-tuning learning rate
    hidden: int = 64                  # width of the classifier's hidden layers
    max_epochs: int = 500             # upper bound of fine-tuning steps (full batch)
    stop_min_positive: float = 0.95   # early stop: lowest positive score at least this
    stop_margin: float = 0.2          # early stop: lowest positive - highest negative at least this
    max_negatives: int = 400          # negatives kept per fine-tuning (the most recent)


@contextlib.contextmanager
def _torch_threads(n: int = 1):
    """Run small torch matrix products on ``n`` threads (restored afterwards).

    The classifier heads are tiny: multi-threaded BLAS on them is slower than one thread,
    and on a busy machine its spinning threads make each product 10-40x slower.
    """
    import torch

    old = torch.get_num_threads()
    if old != n:
        torch.set_num_threads(n)
    try:
        yield torch
    finally:
        if old != n:
            torch.set_num_threads(old)


class _Head:
    """The classification head: three linear layers (two hidden ReLU layers), one logit.

    float32 torch tensors, trained with hand-written backpropagation and Adam (no autograd
    graph per step), single-threaded; seeded and exactly reproducible.
    """

    def __init__(self, dim: int, hidden: int, seed: int):
        import torch

        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in ((dim, hidden), (hidden, hidden), (hidden, 1)):
            bound = 1.0 / np.sqrt(fan_in)  # torch.nn.Linear's default uniform initialisation
            self.params += [torch.from_numpy(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)),
                            torch.from_numpy(rng.uniform(-bound, bound, fan_out).astype(np.float32))]

    def copy(self) -> list:
        return [p.clone() for p in self.params]


def _forward(params, x, cache: bool = False):
    """Logits (N,) of the head ``params`` on features ``x`` (N, D) (torch float32)."""
    w1, b1, w2, b2, w3, b3 = params
    a1 = x @ w1.T + b1
    h1 = a1.clamp(min=0)
    a2 = h1 @ w2.T + b2
    h2 = a2.clamp(min=0)
    z = h2 @ w3[0] + b3[0]
    return (z, (x, a1, h1, a2, h2)) if cache else z


def finetune_classifier(params, pos: np.ndarray, neg: np.ndarray, cfg: ClassifierReIDConfig
                        ) -> Tuple[list, int, bool]:
    """Fine-tune a copy of head ``params`` on positives (label 1) vs negatives (label 0).

    Positives are repeated to match the number of negatives; the loss is the mean
    binary cross entropy (two-class cross entropy of a one-logit head); Adam with
    ``cfg.lr`` (torch defaults betas 0.9 / 0.999, eps 1e-8), full batch. Stops before a
    step once every positive scores at least ``stop_min_positive`` and the lowest positive
    beats the highest negative by ``stop_margin``. Returns (params, steps taken, separated).
    """
    with _torch_threads(1) as torch:
        params = [p.clone() for p in params]
        xp = torch.from_numpy(np.ascontiguousarray(pos, dtype=np.float32))
        xn = torch.from_numpy(np.ascontiguousarray(neg, dtype=np.float32))
        reps = max(1, int(np.ceil(len(xn) / max(len(xp), 1))))
        x = torch.cat([xp.repeat(reps, 1), xn])
        y = torch.cat([torch.ones(len(xp) * reps), torch.zeros(len(xn))])
        n_pos = len(xp) * reps
        m = [torch.zeros_like(p) for p in params]
        v = [torch.zeros_like(p) for p in params]
        b1, b2, eps = 0.9, 0.999, 1e-8
        separated = False
        steps = 0
        for it in range(cfg.max_epochs + 1):
            z, (x0, a1, h1, a2, h2) = _forward(params, x, cache=True)
            p = torch.sigmoid(z)
            lo = float(p[:n_pos].min())
            if lo >= cfg.stop_min_positive and lo - float(p[n_pos:].max()) >= cfg.stop_margin:
                separated = True
                break
            if it == cfg.max_epochs:
                break
            g = (p - y) / len(y)                        # d loss / d z
            w1, _, w2, _, w3, _ = params
            d2 = torch.outer(g, w3[0]) * (a2 > 0)
            d1 = (d2 @ w2) * (a1 > 0)
            grads = (d1.T @ x0, d1.sum(0), d2.T @ h1, d2.sum(0), (g @ h2)[None, :], g.sum().reshape(1))
            steps = it + 1
            c1, c2 = 1 - b1 ** steps, 1 - b2 ** steps
            for k, gk in enumerate(grads):
                m[k].mul_(b1).add_(gk, alpha=1 - b1)
                v[k].mul_(b2).addcmul_(gk, gk, value=1 - b2)
                params[k].sub_(cfg.lr * (m[k] / c1) / ((v[k] / c2).sqrt() + eps))
    return params, steps, separated


@dataclasses.dataclass
class _Inactive:
    params: list
    age: int = 0


class ClassifierReID:
    """Per-track classifier re-identification (see the module docstring).

    Usage per frame: :meth:`observe` for the active tracks that have a feature this
    frame, :meth:`deactivate` when a track becomes inactive, :meth:`match` on the
    frame's detections, :meth:`reactivate` for the matches, :meth:`step` at the end.
    """

    def __init__(self, cfg: ClassifierReIDConfig, dim: int, seed: int = 0):
        self.cfg = cfg
        self.dim = dim
        self.seed = seed
        self.base = _Head(dim, cfg.hidden, seed)
        self.samples: Dict[int, Deque[Tuple[np.ndarray, np.ndarray]]] = {}
        self.inactive: Dict[int, _Inactive] = {}
        self.stats = {"finetuned": 0, "separated": 0, "epochs": 0, "reidentified": 0}

    def reset(self) -> None:
        self.samples.clear()
        self.inactive.clear()

    def observe(self, track_ids: Sequence[int], own: np.ndarray, frame_feats: np.ndarray) -> None:
        """Record one frame: track ``track_ids[i]`` has feature ``frame_feats[own[i]]``; every
        other row of ``frame_feats`` (the other people of the frame) is one of its negatives."""
        if not self.cfg.enabled:
            return
        n = len(frame_feats)
        for tid, k in zip(track_ids, own):
            others = frame_feats[np.arange(n) != k]
            dq = self.samples.get(int(tid))
            if dq is None:
                dq = self.samples[int(tid)] = deque(maxlen=self.cfg.history)
            dq.append((frame_feats[k], others))

    def deactivate(self, track_id: int) -> bool:
        """Fine-tune the classifier of ``track_id`` on its samples; False when it has no negatives."""
        if not self.cfg.enabled:
            return False
        dq = self.samples.get(int(track_id))
        if not dq:
            return False
        pos = np.stack([p for p, _ in dq])
        negs = [n for _, n in dq if len(n)]
        if not negs:
            return False
        neg = np.concatenate(negs)[-self.cfg.max_negatives:]
        params, epochs, sep = finetune_classifier(self.base.copy(), pos, neg, self.cfg)
        self.inactive[int(track_id)] = _Inactive(params)
        self.stats["finetuned"] += 1
        self.stats["separated"] += int(sep)
        self.stats["epochs"] += epochs
        return True

    def scores(self, feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(inactive track ids (T,), scores (T, M)) of every inactive classifier on ``feats`` (M, D)."""
        ids = np.asarray(list(self.inactive), dtype=np.int64)
        if len(ids) == 0 or len(feats) == 0:
            return ids, np.zeros((len(ids), len(feats)))
        with _torch_threads(1) as torch:
            x = torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))
            # all classifiers at once: each layer's weights stacked over tracks
            w1, b1, w2, b2, w3, b3 = (torch.stack([self.inactive[int(t)].params[i] for t in ids]) for i in range(6))
            h = (torch.einsum("md,thd->tmh", x, w1) + b1[:, None, :]).clamp(min=0)
            h = (torch.einsum("tmh,tkh->tmk", h, w2) + b2[:, None, :]).clamp(min=0)
            z = torch.einsum("tmk,tk->tm", h, w3[:, 0, :]) + b3
            s = torch.sigmoid(z).numpy().astype(np.float64)
        return ids, s

    def match(self, feats: np.ndarray, candidates: Optional[np.ndarray] = None) -> List[Tuple[int, int]]:
        """Re-identifications ``(track_id, detection index)`` among the frame's detections ``feats``.

        ``candidates``: indices of the detections that may start or resume a track
        (others still count as "every other detection" in the gap test).
        """
        if not self.cfg.enabled or not self.inactive or len(feats) == 0:
            return []
        ids, s = self.scores(feats)
        return decide_reid(ids, s, self.cfg.min_score, self.cfg.score_gap, candidates)

    def reactivate(self, track_id: int) -> None:
        self.inactive.pop(int(track_id), None)
        self.stats["reidentified"] += 1

    def forget(self, track_id: int) -> None:
        self.inactive.pop(int(track_id), None)
        self.samples.pop(int(track_id), None)

    def step(self) -> List[int]:
        """End of frame: inactive tracks age by one; returns the ids dropped after the patience."""
        dropped = []
        for tid in list(self.inactive):
            rec = self.inactive[tid]
            rec.age += 1
            if rec.age > self.cfg.inactive_patience:
                dropped.append(tid)
                self.forget(tid)
        return dropped


def decide_reid(track_ids: np.ndarray, scores: np.ndarray, min_score: float, score_gap: float,
                candidates: Optional[np.ndarray] = None) -> List[Tuple[int, int]]:
    """The re-id decision rule on classifier scores (T tracks, M detections).

    Track ``t`` is a candidate for detection ``j`` when ``scores[t, j] >= min_score`` and
    every other detection scores at least ``score_gap`` lower. A detection with
    candidates resumes the one with the highest score. Returns ``(track_id, j)`` pairs.
    """
    T, M = scores.shape
    if T == 0 or M == 0:
        return []
    allowed = np.zeros(M, bool)
    allowed[np.arange(M) if candidates is None else np.asarray(candidates, dtype=np.int64)] = True
    best = scores.argmax(1)
    top = scores[np.arange(T), best]
    if M > 1:
        second = np.partition(scores, M - 2, axis=1)[:, M - 2]
    else:
        second = np.full(T, -np.inf)
    ok = (top >= min_score) & (top - second >= score_gap) & allowed[best]
    out = []
    for j in np.unique(best[ok]):
        ts = np.flatnonzero(ok & (best == j))
        t = ts[np.argmax(top[ts])]
        out.append((int(track_ids[t]), int(j)))
    return out
