"""Recipes ``adnet_sl`` and ``adnet_rl``: ADNet's supervised then reinforcement learning
(official MATLAB ``train/adnet_train_SL.m``, ``train/adnet_train_RL.m``, ``train/tracker_rl.m``).

``adnet_sl`` (supervised, multi-domain): each domain (training sequence) has its own
action head fc6 and confidence head fc7 (the official ``dummy_nets``); conv1-3, fc4,
fc5 are shared. A mini-batch takes ``batch_frames`` frames of one domain; around each
ground-truth box it draws positives (Gaussian, IoU > 0.5) labelled with the action
that moves them best toward the box (:func:`sot.parts.actions.action_labels`) and
negatives (IoU < 0.5). Loss = softmax loss of the actions on the positives + softmax
loss of the confidence on all samples (target when IoU > 0.7, the paper's label).
Writes ``<out>/adnet_sl.pth`` (tracker format, fresh heads, as the official finalise
step) and ``<out>/domain_heads.pth`` (the per-domain heads the RL stage starts from).

``adnet_rl`` (REINFORCE): starts from the SL output with zero history weights; per
domain it plays ``rl_clips`` clips of ``rl_steps`` frames from the clip's first
ground-truth box with the greedy policy (up to 20 actions per frame, the official
exploration rule when the confidence collapses), rewards every action of a clip
with +1 if the final IoU > 0.7 else -1, and minimises ``-z log pi(a | s)`` on
mini-batches of ``batch_size`` 32 (the official ``softmaxlog_pg``). Only the action path is trained.
Writes ``<out>/adnet.pth``: the shipped tracker weights (fresh fc6/fc7 main weights,
the learned history weights kept, as the official finalise step).
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.core.errors import ConfigError
from sot.checkpoints.adnet import load_adnet
from sot.checkpoints.files import flush_denormals, read_torch_file, save_weights
from sot.models.adnet import ADNetNet
from sot.models.layers import init_conv
from sot.parts.actions import NUM_ACTIONS, STOP, action_labels, do_action, history_onehot
from sot.parts.crop import crop_boxes, enlarged_clipped
from sot.parts.sampling import SampleGenerator, overlap, select_random

from .config import TrainConfig
from .loop import TrainLoop
from .online_data import Domains, crops_to_tensor, split_counts
from .recipes import register_recipe


@dataclasses.dataclass
class ADNetSLConfig(TrainConfig):
    """Supervised stage; official defaults (``utils/init_params.m``, ``train/get_train_dbs.m``)."""

    num_sequences: int = 50
    epochs: int = 30              # init_params.m opts.numEpoch: visits of every domain
    width: float = 1.0
    fc_dim: int = 512
    lrn: str = "matconvnet"
    init: str = "pytorch"
    img_size: int = 112
    crop_scale: float = 1.4
    history: int = 10
    batch_frames: int = 5         # frames per mini-batch (opts.frameBatch)
    batch_pos: int = 150          # positives per mini-batch, spread over its frames
    batch_neg: int = 50
    trans_pos: float = 0.1        # gen_samples translation factor of the positives
    scale_exp_pos: float = 5.0    # ... and scale exponent: scale = scale_factor ** scale_exp_pos
    trans_neg: float = 2.0
    scale_exp_neg: float = 10.0
    scale_factor: float = 1.05
    pos_iou: float = 0.5
    neg_iou: float = 0.5
    score_pos_iou: float = 0.7
    action_move: float = 0.03
    stop_iou: float = 0.93
    lr_mult_fc: float = 10.0
    grad_clip: float = 0.0
    dropout: float = 0.5
    save_every: int = 200
    log_every: int = 50


@dataclasses.dataclass
class ADNetRLConfig(TrainConfig):
    """REINFORCE stage; official defaults (``utils/init_params.m``, ``train/adnet_train_RL.m``)."""

    sl_dir: str = "runs/train/adnet_sl"
    num_sequences: int = 50
    epochs: int = 30              # init_params.m opts.numEpoch: visits of every domain
    rl_steps: int = 10
    rl_clips: int = 5
    max_steps: int = 20
    batch_size: int = 32          # samples per policy-gradient step (opts.minibatch_size)
    reward_iou: float = 0.7
    explore_below: float = -5.0
    action_move: float = 0.03
    train_conv: bool = False
    lr_mult_fc: float = 10.0
    grad_clip: float = 0.0
    save_every: int = 50
    log_every: int = 20


class DomainHeads(nn.Module):
    """Per-domain action (fc6) and confidence (fc7) heads on fc5 features."""

    def __init__(self, n: int, fc_dim: int, gen: Optional[torch.Generator] = None):
        super().__init__()
        self.fc6 = nn.ModuleList([nn.Linear(fc_dim, NUM_ACTIONS) for _ in range(n)])
        self.fc7 = nn.ModuleList([nn.Linear(fc_dim, 2) for _ in range(n)])
        with torch.no_grad():
            for m in list(self.fc6) + list(self.fc7):
                m.weight.normal_(0.0, 0.01, generator=gen)
                m.bias.zero_()


def adnet_crops(img: np.ndarray, boxes: np.ndarray, size: int, scale: float, out: np.ndarray) -> np.ndarray:
    """ADNet input crops: box enlarged ``scale`` x about its centre, clipped to the image, warped."""
    reg = enlarged_clipped(boxes, scale, (img.shape[1], img.shape[0]))
    return crop_boxes(img, reg, size, border="replicate", out=out)


def sl_batch(domains: Domains, k: int, cfg: ADNetSLConfig, rng: np.random.Generator, buf: np.ndarray):
    """Crops, action labels of the positives, confidence labels of all samples (positives first)."""
    frames = domains.sample_frames(k, cfg.batch_frames, rng)
    n_pos = split_counts(cfg.batch_pos, len(frames))
    n_neg = split_counts(cfg.batch_neg, len(frames))
    i = 0
    labels, scores = [], []
    neg_parts = []
    for f, npos, nneg in zip(frames, n_pos, n_neg):
        img, gt = domains.frame(k, f)
        wh = (img.shape[1], img.shape[0])
        pg = SampleGenerator("gaussian", wh, cfg.trans_pos, cfg.scale_factor ** cfg.scale_exp_pos, style="matlab")
        pos = pg.draw(gt, npos * 5, rng)
        pos = select_random(pos[overlap(pos, gt) > cfg.pos_iou], npos, rng)
        ng = SampleGenerator("gaussian", wh, cfg.trans_neg, cfg.scale_factor ** cfg.scale_exp_neg, style="matlab")
        neg = ng.draw(gt, nneg * 5, rng)
        neg = select_random(neg[overlap(neg, gt) < cfg.neg_iou], nneg, rng)
        if len(pos):
            adnet_crops(img, pos, cfg.img_size, cfg.crop_scale, buf[i:i + len(pos)])
            labels.append(action_labels(pos, gt, cfg.action_move, cfg.stop_iou))
            scores.append(overlap(pos, gt) > cfg.score_pos_iou)
            i += len(pos)
        neg_parts.append((img, neg))
    n_p = i
    for img, neg in neg_parts:
        if len(neg):
            adnet_crops(img, neg, cfg.img_size, cfg.crop_scale, buf[i:i + len(neg)])
            scores.append(np.zeros(len(neg), bool))
            i += len(neg)
    lab = torch.from_numpy(np.concatenate(labels)) if labels else torch.zeros(0, dtype=torch.long)
    sc = torch.from_numpy(np.concatenate(scores).astype(np.int64)) if scores else torch.zeros(0, dtype=torch.long)
    return crops_to_tensor(buf[:i]), n_p, lab, sc


def _export_tracker(net: ADNetNet, path: Path, meta: dict, gen: torch.Generator) -> None:
    """Official finalise step: fresh fc6/fc7 main weights (N(0, 0.01), bias 0), history weights kept."""
    out = {k: v.clone() for k, v in net.state_dict().items()}
    out["fc6.weight"] = torch.randn(out["fc6.weight"].shape, generator=gen) * 0.01
    out["fc6.bias"] = torch.zeros_like(out["fc6.bias"])
    out["fc7.weight"] = torch.randn(out["fc7.weight"].shape, generator=gen) * 0.01
    out["fc7.bias"] = torch.zeros_like(out["fc7.bias"])
    save_weights(path, flush_denormals(out), dict(net.meta, **meta))


@register_recipe("adnet_sl", ADNetSLConfig)
def train_adnet_sl(cfg: ADNetSLConfig, out_dir: Path, resume: bool = False, quiet: bool = False) -> dict:
    loop = TrainLoop("adnet_sl", cfg, out_dir, quiet=quiet, flush_denormal=True)
    domains = Domains(cfg)
    K = len(domains)
    gen = torch.Generator().manual_seed(cfg.seed)
    net = ADNetNet(width=cfg.width, fc_dim=cfg.fc_dim, lrn=cfg.lrn, input_size=cfg.img_size, history=cfg.history)
    init_conv(net.backbone, cfg.init)
    heads = DomainHeads(K, cfg.fc_dim, gen)
    model = nn.ModuleDict({"net": net, "heads": heads})
    fc = [*net.fc4.parameters(), *net.fc5.parameters(), *heads.parameters()]
    opt = loop.optimizer((net.backbone.parameters(), 1.0), (fc, cfg.lr_mult_fc))
    rng = np.random.default_rng([cfg.seed, 2])
    schedule = domains.schedule(cfg.epochs, cfg.seed)
    loop.track(model, opt, rng=rng, gen=gen, extra={"domains": domains.names})
    buf = np.empty((cfg.batch_pos + cfg.batch_neg, cfg.img_size, cfg.img_size, 3), np.uint8)

    def body(it: int) -> Dict[str, float]:
        k = int(schedule[it])
        x, n_p, lab, sc = sl_batch(domains, k, cfg, rng, buf)
        h = net.fc5_features(net.backbone(x).flatten(1), cfg.dropout, gen)
        act = heads.fc6[k](h[:n_p])
        conf = heads.fc7[k](h)
        loss_a = F.cross_entropy(act, lab) if n_p else torch.zeros(())
        loss_c = F.cross_entropy(conf, sc)
        loop.step(loss_a + loss_c)
        with torch.no_grad():
            return {"loss_act": float(loss_a.detach()), "loss_conf": float(loss_c.detach()),
                    "act_acc": float((act.argmax(1) == lab).float().mean()) if n_p else 0.0,
                    "conf_acc": float((conf.argmax(1) == sc).float().mean())}

    def summarize(done: int, rows: List[Dict[str, float]]) -> Dict[str, float]:
        n = max(len(rows), 1)
        return {"iter": done, "cycle": done / K, **{key: sum(r[key] for r in rows) / n for key in rows[0]},
                "sec": round(loop.elapsed(), 1)}

    loop.run(len(schedule), K, body, summarize, resume=resume)
    meta = {"recipe": "adnet_sl", "iterations": int(len(schedule)), "seed": cfg.seed, "domains": K,
            "dataset": f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}"}
    out_dir = Path(out_dir)
    _export_tracker(net, out_dir / "adnet_sl.pth", meta, torch.Generator().manual_seed(cfg.seed + 1))
    save_weights(out_dir / "domain_heads.pth", heads.state_dict(), {**meta, "domain_names": list(domains.names)})
    return {"weights": str(out_dir / "adnet_sl.pth"), **loop.last}


# -- reinforcement learning --------------------------------------------------------------
def _conv_features(net: ADNetNet, img: np.ndarray, boxes: np.ndarray, size: int, scale: float,
                   buf: np.ndarray) -> torch.Tensor:
    u8 = adnet_crops(img, boxes, size, scale, buf[:len(boxes)])
    return net.backbone.features(crops_to_tensor(u8))


def play_clip(net: ADNetNet, domains: Domains, k: int, start: int, end: int, cfg: ADNetRLConfig,
              rng: np.random.Generator, buf: np.ndarray, size: int, scale: float):
    """``tracker_rl.m`` over frames start+1..end from the gt box of ``start``.

    Returns conv features (S, D), history one-hots (S, 110), actions (S,), final IoU.
    """
    _, box = domains.frame(k, start)
    history = [-1] * 20
    feats, hists, acts = [], [], []
    gt = box
    for f in range(start + 1, end + 1):
        img, gt = domains.frame(k, f)
        wh = (img.shape[1], img.shape[0])
        visited: List[np.ndarray] = []
        prev_score = -math.inf
        for _ in range(cfg.max_steps):
            visited.append(np.round(box))
            ft = _conv_features(net, img, box[None], size, scale, buf)
            oh = history_onehot(history, net.history)
            with torch.no_grad():
                a_log, c_log = net.heads(net.fc5_features(ft), torch.from_numpy(oh)[None])
            score = float(c_log[0, 1])
            a = int(a_log[0].argmax())
            if prev_score < cfg.explore_below and score < prev_score and rng.standard_normal() < 0.5:
                a = int(rng.integers(NUM_ACTIONS))
            feats.append(ft[0])
            hists.append(oh)
            acts.append(a)
            box = do_action(box, a, wh, cfg.action_move)
            if a != STOP and any(np.array_equal(np.round(box), v) for v in visited):
                a = STOP
            history = [a] + history[:-1]
            if a == STOP:
                break
            prev_score = score
    final = float(overlap(box[None], gt)[0]) if np.all(np.isfinite(gt)) else 0.0
    return torch.stack(feats), torch.from_numpy(np.stack(hists)), torch.tensor(acts), final


def _clip_ranges(frames: np.ndarray, steps: int) -> List[Tuple[int, int]]:
    """(start, end) frame pairs ``steps`` apart with usable gt at both ends (``adnet_train_RL.m``)."""
    ok = set(int(f) for f in frames)
    return [(int(s), int(s) + steps) for s in frames if int(s) + steps in ok]


@register_recipe("adnet_rl", ADNetRLConfig)
def train_adnet_rl(cfg: ADNetRLConfig, out_dir: Path, resume: bool = False, quiet: bool = False) -> dict:
    loop = TrainLoop("adnet_rl", cfg, out_dir, quiet=quiet, flush_denormal=True)
    sl_dir = Path(cfg.sl_dir)
    net = load_adnet(sl_dir / "adnet_sl.pth")
    heads_obj = read_torch_file(sl_dir / "domain_heads.pth")
    names = list(heads_obj["meta"]["domain_names"])
    heads = DomainHeads(len(names), net.fc4.out_features)
    heads.load_state_dict(heads_obj["state_dict"])
    domains = Domains(cfg)
    if domains.names != names[:len(domains.names)] or len(domains.names) != len(names):
        raise ConfigError(f"{sl_dir}: the SL stage used domains {names[:3]}... ({len(names)}), the RL config "
                          f"gives {domains.names[:3]}... ({len(domains.names)}); use the same dataset options")
    with torch.no_grad():  # the history channels start at zero (adnet_train_RL.m L21-22)
        net.fc6_ah.weight.zero_()
        net.fc7_ah.weight.zero_()
    if not cfg.train_conv:
        for p in net.backbone.parameters():
            p.requires_grad_(False)
    model = nn.ModuleDict({"net": net, "heads": heads})
    fc = [*net.fc4.parameters(), *net.fc5.parameters(), net.fc6_ah.weight, *heads.fc6.parameters()]
    opt = loop.optimizer((net.backbone.parameters() if cfg.train_conv else [], 1.0), (fc, cfg.lr_mult_fc))
    K = len(domains)
    rng = np.random.default_rng([cfg.seed, 3])
    schedule = domains.schedule(cfg.epochs, cfg.seed)
    loop.track(model, opt, clip=fc, rng=rng)
    size, scale = net.backbone.input_size, 1.4
    buf = np.empty((1, size, size, 3), np.uint8)

    def body(it: int) -> Optional[Dict[str, float]]:
        k = int(schedule[it])
        with torch.no_grad():  # this domain's heads in the tracker net (history weights are shared)
            net.fc6.weight.copy_(heads.fc6[k].weight)
            net.fc6.bias.copy_(heads.fc6[k].bias)
            net.fc7.weight.copy_(heads.fc7[k].weight)
            net.fc7.bias.copy_(heads.fc7[k].bias)
        clips = _clip_ranges(domains.frames[k], cfg.rl_steps)
        if not clips:
            return None
        pick = rng.permutation(len(clips))[:min(cfg.rl_clips, len(clips))]
        data = {1: [], -1: []}
        rewards = []
        for c in pick:
            f, hst, a, final = play_clip(net, domains, k, clips[c][0], clips[c][1], cfg, rng, buf, size, scale)
            z = 1 if final > cfg.reward_iou else -1
            rewards.append(z)
            data[z].append((f, hst, a))
        # policy gradient on the action head with this domain's fc6 (softmaxlog_pg)
        head = heads.fc6[k]
        loss_sum = 0.0
        for z, parts in data.items():
            if not parts:
                continue
            feats = torch.cat([p[0] for p in parts])
            hist = torch.cat([p[1] for p in parts])
            acts = torch.cat([p[2] for p in parts])
            if len(acts) <= cfg.batch_size // 2:  # the official code skips small sets
                continue
            order = np.concatenate([rng.permutation(len(acts)) for _ in range(
                -(-cfg.batch_size * len(pick) // len(acts)))])[:cfg.batch_size * len(pick)]
            for b in range(len(pick)):
                idx = torch.from_numpy(order[b * cfg.batch_size:(b + 1) * cfg.batch_size])
                logits = head(net.fc5_features(feats[idx])) + net.fc6_ah(hist[idx])
                logp = F.log_softmax(logits, 1).gather(1, acts[idx][:, None]).squeeze(1)
                loss_sum += loop.step(-(z * logp).mean())
        return {"reward": float(np.mean(rewards)),
                "steps": sum(len(p[2]) for v in data.values() for p in v) / max(len(pick) * cfg.rl_steps, 1),
                "loss": loss_sum}

    def summarize(done: int, rows: List[Dict[str, float]]) -> Dict[str, float]:
        n = max(len(rows), 1)
        return {"iter": done, "epoch": done / K, "mean_reward": sum(r["reward"] for r in rows) / n,
                "actions_per_frame": sum(r["steps"] for r in rows) / n, "loss": sum(r["loss"] for r in rows) / n,
                "sec": round(loop.elapsed(), 1)}

    loop.run(len(schedule), K, body, summarize, resume=resume)
    meta = {"recipe": "adnet_sl+adnet_rl", "iterations_rl": int(len(schedule)), "seed": cfg.seed, "domains": K,
            "dataset": f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}"}
    out_dir = Path(out_dir)
    _export_tracker(net, out_dir / "adnet.pth", meta, torch.Generator().manual_seed(cfg.seed + 1))
    return {"weights": str(out_dir / "adnet.pth"), **loop.last}
