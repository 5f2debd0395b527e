"""MDNet (Nam & Han, CVPR 2016): multi-domain CNN with online fine-tuning.

Network (:class:`sot.models.mdnet.MDNetNet`, py-MDNet ``modules/model.py``): VGG-M conv1-3,
``fc4``, ``fc5`` and, at test time, one fresh randomly initialised ``fc6``.

Tracking (paper Sec. 4; py-MDNet ``tracking/run_tracker.py``; every number in the tracker's
YAML, ``mdnet.yaml`` under ``configs/``, with its source):

1. Frame 1: train a box regressor (ridge on conv3 features of 1000 samples), then fc4-6
   on 500 positives (IoU >= 0.7) and 5000 negatives (IoU <= 0.5, half ``uniform``, half
   ``whole``) for 50 iterations with hard negative mining (32 positives and the 96
   highest-scoring of 1024 negatives per mini-batch).
2. Each frame: 256 Gaussian candidates around the last box, all scored in one batch
   (conv features once per crop batch, fc layers once); the mean of the top 5 is the
   new box; success when their mean positive logit > 0. On failure the candidate
   spread grows by 1.1x (up to 1.5); on success it is reset. The reported box is the
   regressed one on success.
3. On success, 50 positives and 200 negatives are stored (kept 100 / 30 frames).
   Failure -> short-term update (positives of the last 30 frames); every 10 frames ->
   long-term update (all stored positives); 15 iterations each.

Stochastic (random samples, dropout), but every draw comes from ``seed``: a fixed seed
gives identical results. Boxes are ``xywh`` floats, images RGB uint8.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker
from sot.checkpoints.files import resolve_weights
from sot.checkpoints.mdnet import build_mdnet
from sot.models.mdnet import (MDNetNet, VitalGenerator, attention_maps, conv_map_shape, cost_sensitive_loss,
                              hardest_masks, mdnet_loss, reciprocative_regulariser, split_attention)
from sot.parts.bbox_regression import BBoxRegressor
from sot.parts.features import CropFeatures
from sot.parts.sampling import SampleGenerator

@dataclasses.dataclass
class MDNetConfig:
    """Hyperparameters; defaults are py-MDNet ``tracking/options.yaml`` (see the YAML for sources)."""

    default_weights: str = "mdnet.pth"   # file in sot/weights used without --weights; "none" = random
    lrn: str = "auto"
    img_size: int = 107
    padding: float = 16.0
    conv_chunk: int = 16
    precision: str = "float32"
    # mini-batches
    batch_pos: int = 32
    batch_neg: int = 96
    batch_neg_cand: int = 1024
    batch_test: int = 256
    # candidates
    n_samples: int = 256
    trans: float = 0.6
    scale: float = 1.05
    trans_limit: float = 1.5
    top_k: int = 5
    success_threshold: float = 0.0
    # training examples
    trans_pos: float = 0.1
    scale_pos: float = 1.3
    trans_neg_init: float = 1.0
    scale_neg_init: float = 1.6
    trans_neg: float = 2.0
    scale_neg: float = 1.3
    # bounding-box regression
    bbreg: bool = True
    n_bbreg: int = 1000
    overlap_bbreg: Tuple[float, float] = (0.6, 1.0)
    trans_bbreg: float = 0.3
    scale_bbreg: float = 1.6
    aspect_bbreg: float = 1.1
    bbreg_alpha: float = 1000.0
    bbreg_scale_range: Tuple[float, float] = (1.0, 2.0)
    # initial training
    lr_init: float = 0.0005
    maxiter_init: int = 50
    n_pos_init: int = 500
    n_neg_init: int = 5000
    overlap_pos_init: Tuple[float, float] = (0.7, 1.0)
    overlap_neg_init: Tuple[float, float] = (0.0, 0.5)
    # online training
    lr_update: float = 0.001
    maxiter_update: int = 15
    n_pos_update: int = 50
    n_neg_update: int = 200
    overlap_pos_update: Tuple[float, float] = (0.7, 1.0)
    overlap_neg_update: Tuple[float, float] = (0.0, 0.3)
    long_interval: int = 10
    n_frames_long: int = 100
    n_frames_short: int = 30
    # optimiser
    momentum: float = 0.9
    weight_decay: float = 0.0005
    grad_clip: float = 10.0
    lr_mult_fc6: float = 10.0
    dropout: float = 0.5
    # attention additions (0 / False = plain MDNet); training only, never at test time
    reciprocative_lambda: float = 0.0    # Pu et al. NeurIPS 2018: weight of the reciprocative regulariser
    vital: bool = False                  # Song et al. CVPR 2018: adversarial masks + cost-sensitive loss
    vital_mask_lambda: float = 1.0       # weight of ||G(C) - M||^2 in the generator's loss
    vital_lr: float = 0.0005             # generator learning rate


@register_tracker("mdnet", kind="sot")
class MDNet(SOTTracker):
    """MDNet with hard negative mining, box regression and long/short-term updates."""

    Config = MDNetConfig
    is_deterministic = False

    def __init__(self, config: Optional[MDNetConfig] = None, *, weights: Optional[str] = None, seed: int = 0,
                 net: Optional[MDNetNet] = None):
        super().__init__(config, weights=weights, seed=seed)
        cfg = self.config
        if net is None:
            net = build_mdnet(resolve_weights(weights, cfg.default_weights), cfg.lrn)
        else:  # own fc layers (they are trained online), shared frozen conv layers
            net = copy.deepcopy(net, {id(net.backbone): net.backbone})
        self.net = net
        self.net.eval()
        for p in self.net.backbone.parameters():
            p.requires_grad_(False)
        self.extract = CropFeatures(self.net.backbone, cfg.img_size, context=cfg.padding, border="replicate",
                                    chunk=cfg.conv_chunk, precision=cfg.precision)
        self._shared_fc = {k: v.clone() for k, v in self.net.state_dict().items()
                           if k.startswith(("fc4.", "fc5."))}
        self.generator: Optional[VitalGenerator] = None   # VITAL's G (training only, built on first use)

    def spawn(self) -> "MDNet":
        """A fresh tracker sharing the (frozen) conv weights."""
        t = type(self)(self.config, weights=self.weights, seed=self.seed, net=self.net)
        t._shared_fc = self._shared_fc  # the offline fc4/fc5, restored by init()
        return t

    # -- helpers --------------------------------------------------------------------
    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        cfg = self.config
        groups = [{"params": [*self.net.fc4.parameters(), *self.net.fc5.parameters()], "lr": lr},
                  {"params": list(self.net.branches[0].parameters()), "lr": lr * cfg.lr_mult_fc6}]
        return torch.optim.SGD(groups, lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    def _perm_stream(self, n: int, length: int) -> np.ndarray:
        """Concatenated random permutations of ``range(n)`` until ``length`` indices (py-MDNet ``train``)."""
        reps = max(1, -(-length // max(n, 1)))
        return np.concatenate([self.rng.permutation(n) for _ in range(reps)])[:length]

    def _scores(self, feats: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.net.head(feats)[:, 1]

    def _train(self, opt: torch.optim.Optimizer, pos: torch.Tensor, neg: torch.Tensor, maxiter: int) -> float:
        """fc4-fc6 training with hard negative mining (py-MDNet ``train``); returns the last loss."""
        cfg = self.config
        n_cand = max(cfg.batch_neg_cand, cfg.batch_neg)
        pos_idx = torch.from_numpy(self._perm_stream(len(pos), cfg.batch_pos * maxiter))
        neg_idx = torch.from_numpy(self._perm_stream(len(neg), n_cand * maxiter))
        params = [p for g in opt.param_groups for p in g["params"]]
        loss = torch.zeros(())
        for it in range(maxiter):
            bpos = pos[pos_idx[it * cfg.batch_pos:(it + 1) * cfg.batch_pos]]
            bneg = neg[neg_idx[it * n_cand:(it + 1) * n_cand]]
            if n_cand > cfg.batch_neg:  # hard negative mining, eval mode (no dropout)
                sc = torch.cat([self._scores(bneg[s:s + cfg.batch_test])
                                for s in range(0, len(bneg), cfg.batch_test)])
                bneg = bneg[sc.topk(min(cfg.batch_neg, len(sc))).indices]
            loss = self._loss(bpos, bneg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
        return float(loss.detach())

    def _loss(self, bpos: torch.Tensor, bneg: torch.Tensor) -> torch.Tensor:
        """The training loss of one mini-batch of conv3 features: MDNet's softmax loss, plus the
        reciprocative regulariser (``reciprocative_lambda``), or VITAL's masked positives and
        cost-sensitive loss (``vital``); :mod:`sot.models.mdnet`."""
        cfg = self.config
        drop = dict(gen=self.tgen, p_drop=cfg.dropout)
        if cfg.vital:
            return self._vital_loss(bpos, bneg)
        if cfg.reciprocative_lambda > 0:
            feats = torch.cat([bpos, bneg])
            y = torch.cat([torch.ones(len(bpos)), torch.zeros(len(bneg))])
            logits, att = attention_maps(self.net, feats, **drop)
            a_p, a_n = split_attention(att)
            reg = reciprocative_regulariser(a_p, a_n, y).mean()
            return mdnet_loss(logits[:len(bpos)], logits[len(bpos):]) + cfg.reciprocative_lambda * reg
        return mdnet_loss(self.net.head(bpos, **drop), self.net.head(bneg, **drop))

    def _vital_loss(self, bpos: torch.Tensor, bneg: torch.Tensor) -> torch.Tensor:
        """VITAL: G learns to predict the mask that hurts the classifier most (mask regression to the
        hardest single-cell drop, plus the adversarial term: G raises the classifier's loss on its
        masked positives); the classifier learns from G's masked positives with the cost-sensitive loss."""
        cfg = self.config
        c, h, w = conv_map_shape(self.net)
        if self.generator is None:
            g = torch.Generator().manual_seed(self.seed)
            self.generator = VitalGenerator(c, h)
            with torch.no_grad():
                for prm in self.generator.parameters():
                    prm.copy_(torch.randn(prm.shape, generator=g) * 0.01)
            self.gen_opt = torch.optim.SGD(self.generator.parameters(), lr=cfg.vital_lr, momentum=cfg.momentum)
        x = bpos.reshape(-1, c, h, w)
        target = hardest_masks(self.net, bpos)
        # generator step (classifier fixed): adversarial -log(1 - D(G(C) C)) ~ maximise D's loss, + mask regression
        mask = self.generator(x)
        logits_g = self.net.head((x * mask).flatten(1))
        adv = -mdnet_loss(logits_g, logits_g[:0])
        g_loss = adv + cfg.vital_mask_lambda * ((mask - target) ** 2).mean()
        self.gen_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.gen_opt.step()
        self.net.zero_grad(set_to_none=True)
        with torch.no_grad():
            mask = self.generator(x)
        drop = dict(gen=self.tgen, p_drop=cfg.dropout)
        return cost_sensitive_loss(self.net.head((x * mask).flatten(1), **drop), self.net.head(bneg, **drop))

    # -- tracking -------------------------------------------------------------------
    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        cfg = self.config
        self.rng = np.random.default_rng(self.seed)
        self.tgen = torch.Generator().manual_seed(int(self.seed))
        self.generator = None
        with torch.no_grad():  # fc4/fc5 back to the offline weights, fresh fc6
            sd = self.net.state_dict()
            for k, v in self._shared_fc.items():
                sd[k].copy_(v)
        self.net.new_branch(self.tgen)
        h, w = image.shape[:2]
        self.img_wh = (w, h)
        target = np.asarray(box, dtype=np.float64).reshape(4).copy()
        rng = self.rng

        # bounding-box regressor (first frame only)
        self.bbreg = BBoxRegressor((w, h), cfg.bbreg_alpha, cfg.overlap_bbreg, cfg.bbreg_scale_range)
        if cfg.bbreg:
            bb_ex = SampleGenerator("uniform", (w, h), cfg.trans_bbreg, cfg.scale_bbreg, cfg.aspect_bbreg)(
                target, cfg.n_bbreg, rng, cfg.overlap_bbreg)
        else:
            bb_ex = np.zeros((0, 4))
        pos_ex = SampleGenerator("gaussian", (w, h), cfg.trans_pos, cfg.scale_pos)(
            target, cfg.n_pos_init, rng, cfg.overlap_pos_init)
        n_half = int(cfg.n_neg_init * 0.5)
        neg_ex = np.concatenate([
            SampleGenerator("uniform", (w, h), cfg.trans_neg_init, cfg.scale_neg_init)(
                target, n_half, rng, cfg.overlap_neg_init),
            SampleGenerator("whole", (w, h))(target, n_half, rng, cfg.overlap_neg_init)])
        neg_ex = neg_ex[rng.permutation(len(neg_ex))]
        self.neg_gen = SampleGenerator("uniform", (w, h), cfg.trans_neg, cfg.scale_neg)
        upd_neg = self.neg_gen(target, cfg.n_neg_update, rng, cfg.overlap_neg_init)

        # one crop batch for everything the first frame needs
        feats = self.extract(image, np.concatenate([bb_ex, pos_ex, neg_ex, upd_neg]))
        a, b, c = len(bb_ex), len(bb_ex) + len(pos_ex), len(bb_ex) + len(pos_ex) + len(neg_ex)
        if cfg.bbreg:
            self.bbreg.train(feats[:a], bb_ex, target)
        pos_feats, neg_feats = feats[a:b].clone(), feats[b:c]
        self.init_loss = self._train(self._optimizer(cfg.lr_init), pos_feats, neg_feats, cfg.maxiter_init)
        self.update_opt = self._optimizer(cfg.lr_update)

        self.cand_gen = SampleGenerator("gaussian", (w, h), cfg.trans, cfg.scale)
        self.pos_gen = SampleGenerator("gaussian", (w, h), cfg.trans_pos, cfg.scale_pos)
        self.pos_all: List[torch.Tensor] = [pos_feats]
        self.neg_all: List[torch.Tensor] = [feats[c:].clone()]
        self.target = target
        self.frame = 0
        self.last_success = True

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        cfg = self.config
        self.frame += 1
        rng = self.rng
        samples = self.cand_gen(self.target, cfg.n_samples, rng)
        feats = self.extract(image, samples)
        scores = self._scores(feats)
        k = min(cfg.top_k, len(scores))
        top_scores, top_idx = scores.topk(k)
        top_idx = top_idx.numpy()
        score = float(top_scores.mean())
        self.target = samples[top_idx].mean(axis=0)
        success = score > cfg.success_threshold
        if success:
            self.cand_gen.set_trans(cfg.trans)
        else:
            self.cand_gen.expand_trans(cfg.trans_limit)
        if success and self.bbreg.trained:
            out = self.bbreg.predict(feats[top_idx], samples[top_idx]).mean(axis=0)
        else:
            out = self.target.copy()

        if success:  # collect training data around the (unregressed) new box
            pos_ex = self.pos_gen(self.target, cfg.n_pos_update, rng, cfg.overlap_pos_update)
            neg_ex = self.neg_gen(self.target, cfg.n_neg_update, rng, cfg.overlap_neg_update)
            f = self.extract(image, np.concatenate([pos_ex, neg_ex]))
            self.pos_all.append(f[:len(pos_ex)].clone())
            self.neg_all.append(f[len(pos_ex):].clone())
            if len(self.pos_all) > cfg.n_frames_long:
                del self.pos_all[0]
            if len(self.neg_all) > cfg.n_frames_short:
                del self.neg_all[0]

        if not success:  # short-term update
            nf = min(cfg.n_frames_short, len(self.pos_all))
            self._train(self.update_opt, torch.cat(self.pos_all[-nf:]), torch.cat(self.neg_all), cfg.maxiter_update)
        elif cfg.long_interval > 0 and self.frame % cfg.long_interval == 0:  # long-term update
            self._train(self.update_opt, torch.cat(self.pos_all), torch.cat(self.neg_all), cfg.maxiter_update)
        self.last_success = success
        return out, score


@register_tracker("mdnet-rl", kind="sot")
class MDNetRL(MDNet):
    """MDNet with reciprocative learning (Pu et al., NeurIPS 2018): attention regulariser in online training."""


@register_tracker("vital", kind="sot")
class VITAL(MDNet):
    """VITAL (Song et al., CVPR 2018): MDNet with adversarial dropout masks and a cost-sensitive loss in training."""
