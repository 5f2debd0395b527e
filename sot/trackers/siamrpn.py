"""SiamRPN (Li et al., CVPR 2018) as in DaSiamRPN ``code/run_SiamRPN.py`` and pysot
``tracker/siamrpn_tracker.py``.

Per frame and target: a search crop of side ``s_x = s_z * instance_size / exemplar_size``
(``s_z = sqrt((w + p)(h + p))``, ``p = context (w + h)``) resized to ``instance_size``; one
backbone pass for all targets of the same instance size; RPN scores (softmax over
background / foreground) and box deltas on ``A * S * S`` anchors; size / ratio change
penalty ``exp(-(r_c s_c - 1) k)``; cosine window; best proposal; box learning rate
``penalty * score * lr``; centre clipped to the image, size to [``min_size``, image size].
"Adaptive" (DaSiamRPN-BIG): targets smaller than ``adaptive_area`` of the image use
``adaptive_instance_size`` (287).
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.registry import register_tracker
from sot.checkpoints.detect import load_siamese_net
from sot.checkpoints.files import resolve_weights
from sot.parts.anchors import decode, generate_anchors
from sot.parts.crop import crop_many, exemplar_size
from sot.parts.windows import anchor_window

from .siamese import SiameseTracker

_uid = itertools.count()


@dataclasses.dataclass
class SiamRPNConfig:
    """SiamRPN hyperparameters (sizes in network-input pixels unless stated)."""

    width: float = 1.0               # backbone width without a weight file (1; 2 = BIG)
    head: str = "upchannel"          # "upchannel" (DaSiamRPN) or "depthwise" (pysot)
    feature_out: int = 256           # RPN hidden channels without a weight file
    anchor_stride: int = 8
    anchor_ratios: List[float] = dataclasses.field(default_factory=lambda: [0.33, 0.5, 1.0, 2.0, 3.0])
    anchor_scales: List[float] = dataclasses.field(default_factory=lambda: [8.0])
    exemplar_size: int = 127
    instance_size: int = 271
    context: float = 0.5
    penalty_k: float = 0.055
    window_influence: float = 0.42
    lr: float = 0.295
    adaptive: bool = False
    adaptive_area: float = 0.004     # target area / image area below which the larger search is used
    adaptive_instance_size: int = 287
    min_size: float = 10.0           # smallest box side in image pixels
    default_weights: str = "siamrpn.pth"
    checkpoint_settings: bool = True  # apply the settings that belong to an official checkpoint
    checkpoint_variant: str = "auto"  # DaSiamRPN settings: auto (from file name), big, vot, otb


@dataclasses.dataclass
class RPNTarget:
    """Per-target state. ``kernels``: the initial template's head kernels (each (1, ...))."""

    center: np.ndarray
    size: np.ndarray
    avg: np.ndarray
    inst: int
    base_inst: int
    image_wh: Tuple[int, int]
    kernels: Tuple[torch.Tensor, ...]
    zfeat: torch.Tensor
    uid: int = dataclasses.field(default_factory=lambda: next(_uid))
    version: int = 0                 # bumped whenever the frame kernel changes
    lost: bool = False
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)


@register_tracker("siamrpn", kind="sot", config="trackers/siamrpn.yaml")
class SiamRPN(SiameseTracker):
    """SiamRPN: Siamese region-proposal tracker (DaSiamRPN repo / pysot inference)."""

    Config = SiamRPNConfig
    expects = "siamrpn"

    # -- construction ------------------------------------------------------
    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        c = self.config
        path = resolve_weights(weights, c.default_weights)
        arch = {"net": "siamrpn", "width": c.width, "head": c.head, "feature_out": c.feature_out,
                "anchor_num": len(c.anchor_ratios) * len(c.anchor_scales)}
        net, self.loaded = load_siamese_net(path, arch, "siamrpn", c.checkpoint_variant)
        if self.loaded is not None and self.loaded.settings and c.checkpoint_settings:
            self.config = dataclasses.replace(c, **self.loaded.settings)
        self._grids: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}
        self._kcache: Tuple[Any, Any] = (None, None)
        return net

    def grid(self, score_size: int) -> Tuple[np.ndarray, np.ndarray]:
        """(anchors (K, 4) cx cy w h, cosine window (K,)) for a score map of side ``score_size``."""
        g = self._grids.get(score_size)
        if g is None:
            c = self.config
            anchors = generate_anchors(c.anchor_stride, c.anchor_ratios, c.anchor_scales, score_size)
            window = anchor_window(score_size, len(c.anchor_ratios) * len(c.anchor_scales))
            g = (anchors, window)
            self._grids[score_size] = g
        return g

    def template(self, image: np.ndarray, centers: np.ndarray, sizes: np.ndarray, avg: np.ndarray):
        """Exemplar crops (side ``round(s_z)``) -> (backbone features (n, C, 6, 6), head kernels)."""
        c = self.config
        n = len(centers)
        s_z = np.array([round(exemplar_size(w, h, c.context)) for w, h in sizes], dtype=np.float64)
        buf = self.buffers.crops(n, c.exemplar_size)
        crop_many(image, centers, s_z, c.exemplar_size, np.broadcast_to(avg, (n, 3)), buf)
        zf = self.template_features(self.buffers.tensor(buf))
        with torch.inference_mode():   # per target, for the same reason as template_features
            per = [self.net.rpn.template(zf[i:i + 1]) for i in range(n)]
            kernels = tuple(torch.cat([p[j] for p in per]).contiguous() for j in range(len(per[0])))
        return zf, kernels

    # -- tracking -----------------------------------------------------------
    def _start(self, image: np.ndarray, boxes: np.ndarray) -> List[RPNTarget]:
        c = self.config
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        h, w = image.shape[:2]
        avg = image.reshape(-1, 3).mean(axis=0)
        centers = boxes[:, :2] + boxes[:, 2:] / 2
        zf, kernels = self.template(image, centers, boxes[:, 2:], avg)
        out = []
        for i in range(len(boxes)):
            inst = c.instance_size
            if c.adaptive and boxes[i, 2] * boxes[i, 3] / float(w * h) < c.adaptive_area:
                inst = c.adaptive_instance_size
            t = RPNTarget(centers[i].copy(), boxes[i, 2:].copy(), avg.copy(), inst, inst, (w, h),
                          tuple(k[i:i + 1] for k in kernels), zf[i:i + 1])
            self._init_extra(image, t)
            out.append(t)
        return out

    def _init_extra(self, image: np.ndarray, t: RPNTarget) -> None:
        """Hook for DaSiamRPN's per-target parts."""

    def frame_kernels(self, states: Sequence[RPNTarget], xf: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Kernels of ``states`` stacked for one grouped correlation (cached while unchanged)."""
        key = tuple((t.uid, t.version) for t in states)
        if self._kcache[0] == key:
            return self._kcache[1]
        if len(states) == 1:
            ks = states[0].kernels
        else:
            ks = tuple(torch.cat([t.kernels[j] for t in states]) for j in range(len(states[0].kernels)))
        self._kcache = (key, ks)
        return ks

    def _step(self, image: np.ndarray, states: Sequence[RPNTarget]) -> Tuple[np.ndarray, np.ndarray]:
        n = len(states)
        boxes = np.empty((n, 4))
        scores = np.empty(n)
        groups: Dict[int, List[int]] = {}
        for i, t in enumerate(states):
            groups.setdefault(t.inst, []).append(i)
        for inst, idx in groups.items():
            sub = [states[i] for i in idx]
            b, s = self._step_group(image, sub, inst)
            boxes[idx], scores[idx] = b, s
        return boxes, scores

    def _step_group(self, image: np.ndarray, states: Sequence[RPNTarget], inst: int):
        c = self.config
        n = len(states)
        centers = np.stack([t.center for t in states])
        sizes = np.stack([t.size for t in states])
        p = c.context * sizes.sum(axis=1)
        s_z = np.sqrt((sizes[:, 0] + p) * (sizes[:, 1] + p))
        scale_z = c.exemplar_size / s_z
        s_x = s_z * inst / c.exemplar_size
        buf = self.buffers.crops(n, inst)
        crop_many(image, centers, s_x, inst, np.stack([t.avg for t in states]), buf)
        with torch.inference_mode():
            xf = self.net.backbone(self.buffers.tensor(buf))
            feats = self.net.rpn.search(xf)
            cls, loc = self.net.rpn.correlate(self.frame_kernels(states, xf), feats)
            ss = cls.shape[-1]
            cls = cls.reshape(n, 2, -1)
            score = torch.softmax(cls, dim=1)[:, 1].numpy()
            delta = loc.reshape(n, 4, -1).numpy()
        anchors, window = self.grid(ss)
        props = decode(delta, anchors)                          # (n, 4, K) cx cy w h, search pixels
        tw, th = sizes[:, 0] * scale_z, sizes[:, 1] * scale_z   # target size in search pixels
        s_c = _change(_sz(props[:, 2], props[:, 3]) / _sz(tw, th)[:, None])
        r_c = _change((tw / th)[:, None] / (props[:, 2] / props[:, 3]))
        penalty = np.exp(-(r_c * s_c - 1.0) * c.penalty_k)
        pscore = penalty * self._rescore(states, feats, cls, score)
        wi = self._window_influence(states)
        pscore = pscore * (1 - wi)[:, None] + window[None] * wi[:, None]
        best = pscore.argmax(axis=1)
        ar = np.arange(n)
        boxes = np.empty((n, 4))
        scores = score[ar, best].astype(np.float64)
        for i, t in enumerate(states):
            b = best[i]
            lr = float(penalty[i, b] * score[i, b] * c.lr)
            prop = props[i, :, b].astype(np.float64) / scale_z[i]
            new_c = t.center + prop[:2]
            new_s = t.size * (1 - lr) + prop[2:] * lr
            self._update_target(image, t, new_c, new_s, float(scores[i]), i, int(b), props, score, scale_z[i])
            boxes[i, :2] = t.center - t.size / 2
            boxes[i, 2:] = t.size
        self._after_group(image, states)
        return boxes, scores

    def _rescore(self, states: Sequence[RPNTarget], feats, cls: torch.Tensor, score: np.ndarray) -> np.ndarray:
        """Scores (n, K) used to pick the proposal (DaSiamRPN: distractor-aware). ``cls`` are the
        logits (n, 2, K), background then foreground; ``score`` (their softmax foreground
        probability) stays the confidence (box learning rate, reported score)."""
        return score

    def _window_influence(self, states: Sequence[RPNTarget]) -> np.ndarray:
        return np.full(len(states), self.config.window_influence)

    def _update_target(self, image: np.ndarray, t: RPNTarget, center: np.ndarray, size: np.ndarray,
                       score: float, i: int, best: int, props: np.ndarray, raw_scores: np.ndarray,
                       scale_z: float) -> None:
        """Accept the new box and apply the official clamps (DaSiamRPN ``SiamRPN_track``).

        ``props`` (n, 4, K) are the group's decoded proposals (search pixels, relative to the
        previous centre), ``raw_scores`` (n, K); row ``i`` is this target, ``best`` its pick."""
        self._accept(t, center, size)

    def _accept(self, t: RPNTarget, center: np.ndarray, size: np.ndarray) -> None:
        w, h = t.image_wh
        m = self.config.min_size
        t.center = np.array([min(max(center[0], 0.0), w), min(max(center[1], 0.0), h)])
        t.size = np.array([min(max(size[0], m), w), min(max(size[1], m), h)])

    def _after_group(self, image: np.ndarray, states: Sequence[RPNTarget]) -> None:
        """Hook run after a group of targets was updated (DaSiamRPN: batched template crops)."""


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _sz(w, h):
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))
