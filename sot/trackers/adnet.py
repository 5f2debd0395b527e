"""ADNet (Yun et al., CVPR 2017): action-decision network with online fine-tuning.

Network (official MATLAB ``hellbell/ADNet``, ``train/init_model.m``, ``adnet_train_RL.m``):
VGG-M conv1-3 (112x112 input: the box enlarged 1.4x about its centre and clipped to the
image, pixel - 128, RGB), ``fc4`` (D -> F, ReLU), ``fc5`` (F -> F, ReLU), then the
110-d action history (10 past actions, one-hot over 11) joined **after fc5**:
``fc6`` (F + 110 -> 11 action logits) and ``fc7`` (F + 110 -> 2 confidence logits).
The history part of each head is a separate bias-free linear layer
(``fc6_ah`` / ``fc7_ah``): the official online fine-tuning trains a copy without the
history inputs (``net_fc_noah``), so those weights are never updated online.

Actions (``utils/init_params.m``, ``utils/do_action.m``), 0-based here:
0 left, 1 left x2, 2 right, 3 right x2, 4 up, 5 up x2, 6 down, 7 down x2, 8 stop,
9 smaller, 10 bigger; one step = 0.03 of the box size (at least 1 px), scale moves
keep the aspect ratio.

Tracking (``adnet_test.m``): up to 20 actions per frame, stopping on ``stop`` or
when the box revisits a box of this frame; failure when the confidence (the raw
target logit of fc7, as the official code) drops below 0.5, then re-detection with
256 Gaussian samples scored by fc7. fc4-fc7 are fine-tuned on frame 1 (200
positives / 150 negatives, 20 iterations), samples are collected on every successful
frame (30 / 15), and fine-tuning runs every 30 frames on the long-term positives and
after a failure on the short-term ones. ``adnet-fast`` is the same tracker with the
``configs/trackers/adnet-fast.yaml`` values (fewer samples and updates).

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
import torch.nn as nn
import torch.nn.functional as F

from bench.core.boxes import iou
from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker
from sot.backbones.vggm import VGGM
from sot.parts.sampling import SampleGenerator, overlap, select_random

from .online_common import CropFeatures, weights_path

NUM_ACTIONS = 11
STOP = 8
# [dx, dy, dw, dh] per unit step, in the official order (init_params.m)
ACTION_DELTAS = np.array([
    [-1, 0, 0, 0], [-2, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0],
    [0, -1, 0, 0], [0, -2, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0],
    [0, 0, 0, 0], [0, 0, -1, -1], [0, 0, 1, 1]], dtype=np.float64)
ACTION_NAMES = ("left", "left2", "right", "right2", "up", "up2", "down", "down2", "stop", "smaller", "bigger")


# -- action geometry --------------------------------------------------------------------
def _unit_steps(boxes: np.ndarray, move: float) -> np.ndarray:
    """Per-box step sizes (N, 4) ``[dx, dy, dw, dh]`` keeping the aspect ratio for scale moves."""
    w, h = boxes[:, 2], boxes[:, 3]
    d = np.maximum(np.stack([move * w, move * h, move * w, move * h], 1), 1.0)
    ar = w / h
    wide = w > h
    d[:, 3] = np.where(wide, d[:, 2] / ar, d[:, 3])
    d[:, 2] = np.where(wide, d[:, 2], d[:, 3] * ar)
    return d


def action_boxes(boxes: np.ndarray, move: float = 0.03) -> np.ndarray:
    """All 11 moved boxes for each ``xywh`` box, (N, 11, 4), no clamping (``gen_action_labels.m``)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    c = np.concatenate([b[:, :2] + b[:, 2:] / 2, b[:, 2:]], 1)
    nxt = c[:, None, :] + ACTION_DELTAS[None] * _unit_steps(b, move)[:, None, :]
    nxt[..., :2] -= nxt[..., 2:] / 2
    return nxt


def do_action(box: np.ndarray, action: int, img_wh: Tuple[int, int], move: float = 0.03) -> np.ndarray:
    """Apply one action to a ``xywh`` box and clamp it to the image (``do_action.m``, 0-based)."""
    nxt = action_boxes(np.asarray(box, dtype=np.float64).reshape(1, 4), move)[0, action].copy()
    w_img, h_img = img_wh
    nxt[0] = min(max(nxt[0], 0.0), w_img - nxt[2])
    nxt[1] = min(max(nxt[1], 0.0), h_img - nxt[3])
    nxt[2] = max(5.0, min(w_img, nxt[2]))
    nxt[3] = max(5.0, min(h_img, nxt[3]))
    return nxt


def action_labels(samples: np.ndarray, gt: np.ndarray, move: float = 0.03, stop_iou: float = 0.93) -> np.ndarray:
    """Action label (0..10) moving each sample box best toward ``gt`` (``gen_action_labels.m``).

    argmax IoU over the 8 translations and stop; stop if its IoU > ``stop_iou``; when stop
    ties the best of those 9, argmax over all 11 (first index wins ties, as MATLAB ``max``).
    """
    moved = action_boxes(samples, move)
    n = moved.shape[0]
    g = np.broadcast_to(np.asarray(gt, dtype=np.float64).reshape(1, 1, 4), moved.shape)
    ov = iou(moved.reshape(-1, 4), g.reshape(-1, 4)).reshape(n, NUM_ACTIONS)
    first9 = ov[:, :STOP + 1]
    lab = first9.argmax(1)
    best = first9.max(1)
    lab = np.where(ov[:, STOP] > stop_iou, STOP, lab)
    tie = best == ov[:, STOP]
    lab = np.where(tie, ov.argmax(1), lab)
    return lab.astype(np.int64)


def history_onehot(history: List[int], length: int = 10) -> np.ndarray:
    """110-d one-hot of the last ``length`` actions (most recent first); -1 (none / re-detected) -> zeros."""
    oh = np.zeros(length * NUM_ACTIONS, dtype=np.float32)
    for i, a in enumerate(history[:length]):
        if 0 <= a < NUM_ACTIONS:
            oh[i * NUM_ACTIONS + a] = 1.0
    return oh


# -- network ---------------------------------------------------------------------------
class ADNetNet(nn.Module):
    """VGG-M conv1-3 + fc4 + fc5 + action head fc6 and confidence head fc7 (history joined after fc5)."""

    def __init__(self, width: float = 1.0, fc_dim: int = 512, lrn: str = "matconvnet", input_size: int = 112,
                 channels: Optional[Tuple[int, int, int]] = None, history: int = 10):
        super().__init__()
        self.backbone = VGGM(width=width, lrn=lrn, input_size=input_size, channels=channels).to_channels_last()
        hd = history * NUM_ACTIONS
        self.fc4 = nn.Linear(self.backbone.out_dim, fc_dim)
        self.fc5 = nn.Linear(fc_dim, fc_dim)
        self.fc6 = nn.Linear(fc_dim, NUM_ACTIONS)
        self.fc6_ah = nn.Linear(hd, NUM_ACTIONS, bias=False)
        self.fc7 = nn.Linear(fc_dim, 2)
        self.fc7_ah = nn.Linear(hd, 2, bias=False)
        self.history = history
        self.meta = {"arch": "adnet", "channels": list(self.backbone.channels), "fc_dim": int(fc_dim),
                     "lrn": lrn, "input_size": int(input_size), "history": history}
        self.reset_parameters()

    def reset_parameters(self, gen: Optional[torch.Generator] = None) -> None:
        """MatConvNet init of the official code: fc N(0, 0.01); fc4/fc5 bias 0.1, heads 0; history weights 0."""
        with torch.no_grad():
            for m in (self.fc4, self.fc5, self.fc6, self.fc7):
                m.weight.normal_(0.0, 0.01, generator=gen)
            self.fc4.bias.fill_(0.1)
            self.fc5.bias.fill_(0.1)
            self.fc6.bias.zero_()
            self.fc7.bias.zero_()
            self.fc6_ah.weight.zero_()
            self.fc7_ah.weight.zero_()

    def fc5_features(self, feats: torch.Tensor, p_drop: float = 0.0,
                     gen: Optional[torch.Generator] = None) -> torch.Tensor:
        from .online_common import dropout

        x = dropout(F.relu(self.fc4(feats)), p_drop, gen)
        return dropout(F.relu(self.fc5(x)), p_drop, gen)

    def heads(self, h: torch.Tensor, hist: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """(action logits (N, 11), confidence logits (N, 2)) from fc5 output and history (N, 110) or None."""
        a, c = self.fc6(h), self.fc7(h)
        if hist is not None:
            a = a + self.fc6_ah(hist)
            c = c + self.fc7_ah(hist)
        return a, c

    def forward(self, x: torch.Tensor, hist: Optional[torch.Tensor] = None):
        """Images (N, 3, 112, 112) (pixel - 128) -> (action logits, confidence logits); differentiable."""
        return self.heads(self.fc5_features(self.backbone(x).flatten(1)), hist)


# -- tracker ---------------------------------------------------------------------------
@dataclasses.dataclass
class ADNetConfig:
    """Hyperparameters; defaults are the official MATLAB values (see configs/trackers/adnet.yaml)."""

    weights: str = "adnet.pth"
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


def build_adnet_net(weights: Optional[str], lrn: str = "auto") -> ADNetNet:
    """The network from ``weights`` (any supported format) or the official architecture, random (None)."""
    path = weights_path(weights)
    if path is None:
        return ADNetNet(lrn="matconvnet" if lrn == "auto" else lrn)
    from sot.checkpoints.adnet import load_adnet

    return load_adnet(path, lrn=None if lrn == "auto" else lrn)


def matlab_samples(kind: str, img_wh, trans: float = 1.0, scale: float = 1.0) -> SampleGenerator:
    return SampleGenerator(kind, img_wh, trans, scale, style="matlab")


@register_tracker("adnet", kind="sot", config="trackers/adnet.yaml")
class ADNet(SOTTracker):
    """ADNet: sequential box actions, re-detection on low confidence, online fine-tuning of fc4-fc7."""

    Config = ADNetConfig
    is_deterministic = False

    def __init__(self, config: Optional[ADNetConfig] = None, *, weights: Optional[str] = None, seed: int = 0,
                 net: Optional[ADNetNet] = None):
        super().__init__(config, weights=weights, seed=seed)
        cfg = self.config
        if cfg.score not in ("logit", "softmax"):
            from bench.core.errors import ConfigError

            raise ConfigError(f"adnet: score must be 'logit' or 'softmax', not {cfg.score!r}")
        if net is None:
            net = build_adnet_net(weights if weights is not None else cfg.weights, cfg.lrn)
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


@register_tracker("adnet-fast", kind="sot", config="trackers/adnet-fast.yaml")
class ADNetFast(ADNet):
    """ADNet-fast: ADNet with fewer online samples and updates (configs/trackers/adnet-fast.yaml)."""
