"""ADNet (Yun et al., CVPR 2017): action-decision network with online fine-tuning.

Network: :class:`sot.models.adnet.ADNetNet` (official MATLAB ``hellbell/ADNet``,
``train/init_model.m``): VGG-M conv1-3 on the box enlarged 1.4x, fc4, fc5, the action head
fc6 and the confidence head fc7, both also fed the 110-d action history.
Actions: :mod:`sot.parts.actions` (11 moves: 8 translations, stop, smaller, bigger).

Tracking (paper Sec. 3.4; ``adnet_test.m``): up to 20 actions per frame, stopping on ``stop`` or
when the box revisits a box of this frame; failure when the confidence (the raw
target logit of fc7, as the official code) drops below 0.5, then re-detection with
256 Gaussian samples scored by fc7. fc4-fc7 are fine-tuned on frame 1 (200
positives / 150 negatives, 20 iterations), samples are collected on every successful
frame (30 / 15), and fine-tuning runs every 30 frames on the long-term positives and
after a failure on the short-term ones. ``adnet-fast`` is the same tracker with the
values of its own YAML, ``adnet-fast.yaml`` under ``configs/`` (fewer samples and updates).

Stochastic, but every random draw comes from ``seed``. Boxes are ``xywh`` floats
(0-based), images RGB uint8.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from collections import deque
from typing import Deque, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from bench.core.errors import ConfigError
from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker
from sot.checkpoints.adnet import build_adnet
from sot.checkpoints.files import resolve_weights
from sot.models.adnet import ADNetNet
from sot.parts.actions import NUM_ACTIONS, STOP, action_labels, do_action, history_onehot
from sot.parts.features import CropFeatures
from sot.parts.sampling import SampleGenerator, overlap, select_random

@dataclasses.dataclass
class ADNetConfig:
    """Hyperparameters; defaults are the official MATLAB values (each with its source in the tracker's YAML)."""

    default_weights: str = "adnet.pth"   # file in sot/weights used without --weights; "none" = random
    lrn: str = "auto"
    img_size: int = 112
    crop_scale: float = 1.4
    conv_chunk: int = 16
    precision: str = "float32"
    # actions
    action_move: float = 0.03
    num_action_history: int = 10
    max_steps: int = 20
    stop_iou: float = 0.93
    score: str = "logit"
    failed_threshold: float = 0.5
    success_threshold: float = 0.5
    reset_action_bias: Optional[float] = 0.01
    # sampling (MATLAB gen_samples: scale = scale_factor ** scale_f)
    scale_factor: float = 1.05
    redet_samples: int = 256
    redet_trans: float = 0.6
    redet_trans_growth: float = 1.15
    redet_trans_limit: float = 1.5
    redet_scale_factor: float = 3.0
    top_k: int = 5
    finetune_trans: float = 0.1
    finetune_scale_factor: float = 3.0
    n_pos_init: int = 200
    n_neg_init: int = 150
    pos_thr_init: float = 0.7
    neg_thr_init: float = 0.3
    neg_init_trans: float = 1.0
    neg_init_scale_factor: float = 10.0
    n_pos_online: int = 30
    n_neg_online: int = 15
    pos_thr_online: float = 0.7
    neg_thr_online: float = 0.5
    neg_online_trans: float = 2.0
    neg_online_scale_factor: float = 5.0
    # online fine-tuning
    n_frames_long: int = 100
    n_frames_short: int = 20
    finetune_interval: int = 30
    finetune_iters: int = 20
    finetune_iters_online: int = 10
    lr_init: float = 0.0003
    lr_online: float = 0.0001
    minibatch: int = 64
    hard_neg_batches: int = 4
    weight_decay: float = 0.0005
    lr_mult_weight: float = 10.0
    lr_mult_bias: float = 20.0
    lr_mult_action_weight: float = 20.0
    lr_mult_action_bias: float = 40.0
    adam_betas: Tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8


def matlab_samples(kind: str, img_wh, trans: float = 1.0, scale: float = 1.0) -> SampleGenerator:
    return SampleGenerator(kind, img_wh, trans, scale, style="matlab")


@register_tracker("adnet", kind="sot")
class ADNet(SOTTracker):
    """ADNet: sequential box actions, re-detection on low confidence, online fine-tuning of fc4-fc7."""

    Config = ADNetConfig
    is_deterministic = False

    def __init__(self, config: Optional[ADNetConfig] = None, *, weights: Optional[str] = None, seed: int = 0,
                 net: Optional[ADNetNet] = None):
        super().__init__(config, weights=weights, seed=seed)
        cfg = self.config
        if cfg.score not in ("logit", "softmax"):
            raise ConfigError(f"adnet: score must be 'logit' or 'softmax', not {cfg.score!r}")
        if net is None:
            net = build_adnet(resolve_weights(weights, cfg.default_weights), cfg.lrn)
        else:  # own fc layers (they are trained online), shared frozen conv layers
            net = copy.deepcopy(net, {id(net.backbone): net.backbone})
        self.net = net
        for p in self.net.backbone.parameters():
            p.requires_grad_(False)
        self.extract = CropFeatures(self.net.backbone, cfg.img_size, scale=cfg.crop_scale, clip=True,
                                    border="replicate", chunk=cfg.conv_chunk, precision=cfg.precision)
        self._offline = {k: v.clone() for k, v in self.net.state_dict().items() if not k.startswith("backbone.")}

    def spawn(self) -> "ADNet":
        """A fresh tracker sharing the (frozen) conv weights; init() restores the offline fc weights."""
        t = type(self)(self.config, weights=self.weights, seed=self.seed, net=self.net)
        t._offline = self._offline
        return t

    # -- network helpers ----------------------------------------------------------------
    def _evaluate(self, feats: torch.Tensor, hist: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
        """(action logits, confidence score) for conv features (N, D) with one history (110,)."""
        with torch.no_grad():
            h = self.net.fc5_features(feats)
            hist_t = torch.from_numpy(hist).expand(len(feats), -1)
            act, conf = self.net.heads(h, hist_t)
            score = conf[:, 1] if self.config.score == "logit" else conf.softmax(1)[:, 1]
        return act, score

    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        cfg, n = self.config, self.net
        groups = [
            {"params": [n.fc4.weight, n.fc5.weight, n.fc7.weight], "lr": lr * cfg.lr_mult_weight},
            {"params": [n.fc4.bias, n.fc5.bias, n.fc7.bias], "lr": lr * cfg.lr_mult_bias},
            {"params": [n.fc6.weight], "lr": lr * cfg.lr_mult_action_weight},
            {"params": [n.fc6.bias], "lr": lr * cfg.lr_mult_action_bias},
        ]
        return torch.optim.Adam(groups, lr=lr, betas=tuple(cfg.adam_betas), eps=cfg.adam_eps,
                                weight_decay=cfg.weight_decay)

    def _stream(self, idx: np.ndarray, length: int) -> np.ndarray:
        reps = max(1, -(-length // max(len(idx), 1)))
        return np.concatenate([idx[self.rng.permutation(len(idx))] for _ in range(reps)])[:length]

    def finetune(self, pos: torch.Tensor, labels: np.ndarray, neg: torch.Tensor, iters: int, lr: float) -> None:
        """``train_fc_finetune_hem.m``: class-balanced action batches + hard-negative confidence batches.

        No history inputs and no dropout (the official code runs the copy in 'test' mode).
        """
        cfg = self.config
        if len(pos) == 0 or len(neg) == 0 or iters <= 0:
            return
        mb = cfg.minibatch
        per = [int(math.ceil(mb / NUM_ACTIONS))] * NUM_ACTIONS
        per[STOP] = mb - per[0] * (NUM_ACTIONS - 1)
        streams = []
        for a in range(NUM_ACTIONS):
            idx = np.flatnonzero(labels == a)
            if len(idx) == 0:
                idx = np.arange(len(pos))
            streams.append(self._stream(idx, max(per[a], 0) * iters))
        n_hard = cfg.hard_neg_batches * mb
        neg_stream = self._stream(np.arange(len(neg)), n_hard * iters)
        lab_t = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        opt = self._optimizer(lr)
        net = self.net
        for it in range(iters):
            sel = np.concatenate([s[it * p:(it + 1) * p] for s, p in zip(streams, per) if p > 0])
            sel_t = torch.from_numpy(sel)
            pf = pos[sel_t]
            act, _ = net.heads(net.fc5_features(pf))
            loss = F.cross_entropy(act, lab_t[sel_t])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            cand = neg[torch.from_numpy(neg_stream[it * n_hard:(it + 1) * n_hard])]
            with torch.no_grad():
                _, c = net.heads(net.fc5_features(cand))
            hard = cand[c[:, 1].topk(min(mb, len(cand))).indices]
            _, conf = net.heads(net.fc5_features(torch.cat([hard, pf])))
            target = torch.cat([torch.zeros(len(hard), dtype=torch.long), torch.ones(len(pf), dtype=torch.long)])
            loss = F.cross_entropy(conf, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    # -- sampling ---------------------------------------------------------------------
    def _train_samples(self, box: np.ndarray, n_pos: int, n_neg: int, pos_thr: float, neg_thr: float,
                       neg_kinds) -> Tuple[np.ndarray, np.ndarray]:
        cfg, rng, wh = self.config, self.rng, self.img_wh
        pos = matlab_samples("gaussian", wh, cfg.finetune_trans, cfg.scale_factor ** cfg.finetune_scale_factor
                             ).draw(box, n_pos * 2, rng)
        pos = select_random(pos[overlap(pos, box) > pos_thr], n_pos, rng)
        neg = np.concatenate([matlab_samples(kind, wh, tr, cfg.scale_factor ** sf).draw(box, nn_, rng)
                              for kind, tr, sf, nn_ in neg_kinds])
        neg = select_random(neg[overlap(neg, box) < neg_thr], n_neg, rng)
        return pos, neg

    # -- tracking -----------------------------------------------------------------------
    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        cfg = self.config
        self.rng = np.random.default_rng(self.seed)
        with torch.no_grad():
            sd = self.net.state_dict()
            for k, v in self._offline.items():
                sd[k].copy_(v)
            if cfg.reset_action_bias is not None:
                self.net.fc6.bias.fill_(cfg.reset_action_bias)
        h, w = image.shape[:2]
        self.img_wh = (w, h)
        box = np.asarray(box, dtype=np.float64).reshape(4).copy()
        pos, neg = self._train_samples(
            box, cfg.n_pos_init, cfg.n_neg_init, cfg.pos_thr_init, cfg.neg_thr_init,
            [("uniform", cfg.neg_init_trans, cfg.neg_init_scale_factor, cfg.n_neg_init),
             ("whole", 1.0, 0.0, cfg.n_neg_init)])
        feats = self.extract(image, np.concatenate([pos, neg]))
        labels = action_labels(pos, box, cfg.action_move, cfg.stop_iou)
        pos_f, neg_f = feats[:len(pos)].clone(), feats[len(pos):].clone()
        self.finetune(pos_f, labels, neg_f, cfg.finetune_iters, cfg.lr_init)
        self.pos_mem: Deque[Tuple[torch.Tensor, np.ndarray]] = deque([(pos_f, labels)], maxlen=cfg.n_frames_long)
        self.neg_mem: Deque[torch.Tensor] = deque([neg_f], maxlen=cfg.n_frames_short)
        self.box = box
        self.history: List[int] = [-1] * max(20, cfg.num_action_history)
        self.hist_oh = history_onehot(self.history, cfg.num_action_history)
        self.frame = 1  # 1-based, as the official loop
        self.cont_negatives = 0
        self.steps_last = 0
        self.redetected = False

    def _push(self, a: int) -> None:
        self.history = [a] + self.history[:-1]

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        cfg = self.config
        self.frame += 1
        box_old = self.box.copy()
        box = self.box.copy()
        old_oh = self.hist_oh
        visited: List[np.ndarray] = []
        prev_score = -math.inf
        target_score = 0.0
        negative = False
        steps = 0
        for _ in range(cfg.max_steps):
            visited.append(np.round(box))
            feats = self.extract(image, box[None])
            self.hist_oh = history_onehot(self.history, cfg.num_action_history)
            act, score = self._evaluate(feats, self.hist_oh)
            curr = float(score[0])
            a = int(act[0].argmax())
            steps += 1
            if curr < cfg.failed_threshold:
                negative = True
                curr = prev_score
                self._push(-1)
                self.cont_negatives += 1
                break
            box = do_action(box, a, self.img_wh, cfg.action_move)
            rb = np.round(box)
            if a != STOP and any(np.array_equal(rb, v) for v in visited):
                a = STOP
            self._push(a)
            target_score = curr
            if a == STOP:
                break
            prev_score = curr
        self.steps_last = steps
        self.redetected = False

        if negative:  # re-detection around the previous box
            trans = min(cfg.redet_trans_limit, cfg.redet_trans * cfg.redet_trans_growth ** self.cont_negatives)
            samples = matlab_samples("gaussian", self.img_wh, trans, cfg.scale_factor ** cfg.redet_scale_factor
                                     ).draw(box_old, cfg.redet_samples, self.rng)
            _, scores = self._evaluate(self.extract(image, samples), old_oh)
            k = min(cfg.top_k, len(scores))
            top, idx = scores.topk(k)
            target_score = float(top.mean())
            if target_score > curr:
                box = samples[idx.numpy()].mean(axis=0)
                self.redetected = True

        if not negative or target_score > cfg.success_threshold:
            self.cont_negatives = 0
            pos, neg = self._train_samples(
                box, cfg.n_pos_online, cfg.n_neg_online, cfg.pos_thr_online, cfg.neg_thr_online,
                [("uniform", cfg.neg_online_trans, cfg.neg_online_scale_factor, cfg.n_neg_online * 2)])
            feats = self.extract(image, np.concatenate([pos, neg]))
            self.pos_mem.append((feats[:len(pos)].clone(), action_labels(pos, box, cfg.action_move, cfg.stop_iou)))
            self.neg_mem.append(feats[len(pos):].clone())

        long_term = cfg.finetune_interval > 0 and self.frame % cfg.finetune_interval == 0
        if long_term or negative:
            mem = list(self.pos_mem) if long_term else list(self.pos_mem)[-cfg.n_frames_short:]
            self.finetune(torch.cat([m[0] for m in mem]), np.concatenate([m[1] for m in mem]),
                          torch.cat(list(self.neg_mem)), cfg.finetune_iters_online, cfg.lr_online)
        self.box = box
        return box.copy(), float(target_score)


@register_tracker("adnet-fast", kind="sot")
class ADNetFast(ADNet):
    """ADNet-fast: ADNet with fewer online samples and updates (its own YAML, ``adnet-fast.yaml``)."""
