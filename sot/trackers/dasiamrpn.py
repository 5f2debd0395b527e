"""DaSiamRPN (Zhu et al., ECCV 2018): SiamRPN plus three parts, each switchable in config.

(a) ``distractor``: distractor-aware scoring. After each frame, NMS over the proposals
    (target first); the other top-k survivors scoring above ``threshold`` x the target's
    score are distractors. Each is cropped like an exemplar and passed through the
    template branch; their kernels feed a running average ``D`` (learning rate ``eta``)
    and the next frames score with ``K(z) - alpha_hat * D`` (paper Eq. 2 / 4, all
    ``alpha_i = 1``) on the classification kernel.
(b) ``longterm``: local-to-global search. When the best score falls below ``low`` the box is
    kept and the search size grows by ``step`` input pixels per frame up to
    ``max_instance_size`` or the size that covers the whole frame (window influence
    ``window_influence`` while lost); back to the normal size once the score exceeds ``high``.
(c) ``memory``: a template memory bank (MemTrack-style, :mod:`sot.parts.memory`):
    confident templates (score >= ``write_threshold``, every ``write_interval`` frames) are
    written to ``slots`` slots; each frame reads them by cosine similarity to the search
    region's centre feature and mixes them into the initial template:
    ``T = (1 - gate) T0 + gate * read``.

The public DaSiamRPN code (foolwood/DaSiamRPN ``code/run_SiamRPN.py``: no NMS, no distractor
logic, no search growth) has none of these three parts, and the paper's
numeric values could not be checked; every value in ``configs/trackers/dasiamrpn.yaml``
says where it comes from and why it was chosen.
"""
from __future__ import annotations

import dataclasses
from typing import List, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import ConfigError, UnknownNameError
from bench.core.registry import register_tracker
from sot.parts.distractors import DistractorBank, DistractorSet, select_distractors
from sot.parts.memory import TemplateMemory

from .siamrpn import RPNTarget, SiamRPN, SiamRPNConfig


@dataclasses.dataclass
class DistractorConfig:
    enabled: bool = True
    alpha_hat: float = 0.5      # weight of the distractor term
    threshold: float = 0.5      # distractor if score > threshold * target score
    top_k: int = 5              # NMS survivors considered (target included)
    nms_iou: float = 0.5
    pre_nms: int = 200          # best proposals entering NMS
    eta: float = 0.1            # learning rate of the running distractor average
    cls_only: bool = True       # correct only the classification kernel (the regression one is kept)
    mode: str = "kernel"        # "kernel": K(z) - alpha_hat * D; "score": f(z, p) - alpha_hat * mean f(d, p), f = log-odds
    capacity: int = 16          # "score": distractor kernels kept

    def __post_init__(self) -> None:
        if self.mode not in ("kernel", "score"):
            raise UnknownNameError("distractor mode", self.mode, ["kernel", "score"])
        if self.capacity < 1:
            raise ConfigError(f"distractor.capacity must be >= 1, got {self.capacity}")


@dataclasses.dataclass
class LongTermConfig:
    enabled: bool = True
    low: float = 0.8            # best score below: failure, keep the box, grow the search
    high: float = 0.95          # best score above: confident again, normal search size
    step: int = 64              # search size growth per failed frame (input pixels)
    max_instance_size: int = 831
    window_influence: float = 0.001


@dataclasses.dataclass
class MemoryConfig:
    enabled: bool = True
    slots: int = 8
    gate: float = 0.2
    tau: float = 0.1            # softmax temperature of the cosine-similarity read
    usage_decay: float = 0.99
    write_threshold: float = 0.95
    write_interval: int = 10    # frames between writes


@dataclasses.dataclass
class DaSiamRPNConfig(SiamRPNConfig):
    default_weights: str = "dasiamrpn.pth"
    distractor: DistractorConfig = dataclasses.field(default_factory=DistractorConfig)
    longterm: LongTermConfig = dataclasses.field(default_factory=LongTermConfig)
    memory: MemoryConfig = dataclasses.field(default_factory=MemoryConfig)


@register_tracker("dasiamrpn", kind="sot", config="trackers/dasiamrpn.yaml")
class DaSiamRPN(SiamRPN):
    """DaSiamRPN: SiamRPN + distractor-aware scoring, local-to-global search, template memory."""

    Config = DaSiamRPNConfig

    def _init_extra(self, image: np.ndarray, t: RPNTarget) -> None:
        c = self.config
        t.extra["frame"] = 0
        t.extra["pending"] = []
        if c.distractor.enabled:
            if c.distractor.mode == "score":
                t.extra["distractor_set"] = DistractorSet(c.distractor.eta, c.distractor.capacity)
            else:
                t.extra["distractors"] = DistractorBank(c.distractor.eta)
        if c.memory.enabled:
            t.extra["memory"] = TemplateMemory(c.memory.slots, c.memory.tau, c.memory.usage_decay)

    # -- per-frame kernels: memory read, distractor correction ---------------
    def frame_kernels(self, states: Sequence[RPNTarget], xf: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        c = self.config
        active = any((t.extra.get("memory") is not None and len(t.extra["memory"]))
                     or (t.extra.get("distractors") is not None and t.extra["distractors"].avg is not None)
                     for t in states)
        if not active:
            return super().frame_kernels(states, xf)
        per: List[Tuple[torch.Tensor, ...]] = []
        for i, t in enumerate(states):
            k = t.kernels
            mem = t.extra.get("memory")
            if mem is not None and len(mem):
                zs = t.zfeat.shape[-1]
                o = (xf.shape[-1] - zs) // 2
                r = mem.read(xf[i, :, o:o + zs, o:o + zs])
                g = c.memory.gate
                k = tuple((1 - g) * a + g * b for a, b in zip(k, r))
            bank = t.extra.get("distractors")
            if bank is not None:
                branches = (True, not c.distractor.cls_only)
                k = bank.correct(k, c.distractor.alpha_hat, branches)
            per.append(k)
        self._kcache = (None, None)
        if len(per) == 1:
            return per[0]
        return tuple(torch.cat([k[j] for k in per]) for j in range(len(per[0])))

    def _rescore(self, states: Sequence[RPNTarget], feats, cls: torch.Tensor, score: np.ndarray) -> np.ndarray:
        """Score form of Eq. 2 on the similarity ``f`` = foreground log-odds (logit fg - logit bg):
        ``sigmoid(f(z, p) - alpha_hat * sum_j w_j f(d_j, p))``, one head call for all distractors.

        On the log-odds scale this equals the kernel form wherever the head is linear in the
        kernel (UP-channel); probabilities would saturate at 1 on every look-alike."""
        sets = [(i, t.extra["distractor_set"]) for i, t in enumerate(states)
                if t.extra.get("distractor_set") is not None and len(t.extra["distractor_set"])]
        if not sets:
            return score
        cls_feat = feats[0]
        kernels = torch.cat([d.kernels for _, d in sets])
        x = torch.cat([cls_feat[i:i + 1].expand(len(d), -1, -1, -1) for i, d in sets])
        with torch.inference_mode():
            logits = self.net.rpn.classify(kernels, x).reshape(len(x), 2, -1)
            f_d = (logits[:, 1] - logits[:, 0]).double().numpy()
            f_z = (cls[:, 1] - cls[:, 0]).double().numpy()
        out = score.copy()
        o = 0
        for i, d in sets:
            corrected = f_z[i] - self.config.distractor.alpha_hat * (d.normalized() @ f_d[o:o + len(d)])
            out[i] = 1.0 / (1.0 + np.exp(-corrected))
            o += len(d)
        return out

    def _window_influence(self, states: Sequence[RPNTarget]) -> np.ndarray:
        c = self.config
        wi = np.full(len(states), c.window_influence)
        if c.longterm.enabled:
            wi[[i for i, t in enumerate(states) if t.lost]] = c.longterm.window_influence
        return wi

    # -- per-target update: long-term state, distractor mining, memory writes ----
    def _update_target(self, image, t, center, size, score, i, best, props, raw_scores, scale_z) -> None:
        c = self.config
        t.extra["frame"] += 1
        lt = c.longterm
        if lt.enabled and score < lt.low:
            t.lost = True
            t.inst = self._grow(t)
            return
        old_center = t.center.copy()
        self._accept(t, center, size)
        if lt.enabled and t.lost and score > lt.high:
            t.lost = False
            t.inst = t.base_inst
        if c.distractor.enabled:
            p = props[i]                                    # (4, K) cx cy w h in search pixels
            xywh = np.stack([p[0] - p[2] / 2, p[1] - p[3] / 2, p[2], p[3]], axis=1)
            d = select_distractors(xywh, raw_scores[i], best, iou_threshold=c.distractor.nms_iou,
                                   top_k=c.distractor.top_k, threshold=c.distractor.threshold,
                                   pre_nms=c.distractor.pre_nms)
            if len(d):
                centers = old_center[None] + p[:2, d].T.astype(np.float64) / scale_z
                sizes = p[2:, d].T.astype(np.float64) / scale_z
                sizes = np.clip(sizes, c.min_size, np.asarray(t.image_wh, dtype=np.float64))
                t.extra["pending"].append(("distractors", centers, sizes))
        m = c.memory
        if m.enabled and score >= m.write_threshold and t.extra["frame"] % m.write_interval == 0:
            t.extra["pending"].append(("memory", t.center[None].copy(), t.size[None].copy()))

    def _grow(self, t: RPNTarget) -> int:
        """Next search size while lost: +step, at most max_instance_size or the whole frame."""
        c = self.config
        p = c.context * (t.size[0] + t.size[1])
        s_z = float(np.sqrt((t.size[0] + p) * (t.size[1] + p)))
        cover = 2 * max(t.image_wh) * c.exemplar_size / s_z   # input size whose crop spans the frame
        cap = min(c.longterm.max_instance_size, max(t.base_inst, cover))
        cap = t.base_inst + int(np.ceil((cap - t.base_inst) / 8.0)) * 8
        return int(min(t.inst + c.longterm.step, max(cap, t.base_inst)))

    def _after_group(self, image: np.ndarray, states: Sequence[RPNTarget]) -> None:
        """One template-branch pass for every pending distractor / memory crop of the group."""
        jobs = [(t, kind, cs, ss) for t in states for kind, cs, ss in t.extra.get("pending", [])]
        if not jobs:
            return
        centers = np.concatenate([j[2] for j in jobs])
        sizes = np.concatenate([j[3] for j in jobs])
        avg = np.concatenate([np.repeat(j[0].avg[None], len(j[2]), 0) for j in jobs])
        zf, kernels = self.template(image, centers, sizes, avg)
        o = 0
        for t, kind, cs, _ in jobs:
            sl = slice(o, o + len(cs))
            o += len(cs)
            if kind == "distractors" and "distractor_set" in t.extra:
                t.extra["distractor_set"].update(kernels[0][sl])
            elif kind == "distractors":
                t.extra["distractors"].update([k[sl] for k in kernels])
            else:
                t.extra["memory"].write(zf[sl.start], [k[sl.start:sl.start + 1] for k in kernels])
            t.version += 1
        for t in states:
            t.extra["pending"] = []
