"""Recipes ``adnet_sl`` and ``adnet_rl``: ADNet's supervised then reinforcement learning
(official MATLAB ``train/adnet_train_SL.m``, ``train/adnet_train_RL.m``, ``train/tracker_rl.m``).

``adnet_sl`` (supervised, multi-domain): each domain (training sequence) has its own
action head fc6 and confidence head fc7 (the official ``dummy_nets``); conv1-3, fc4,
fc5 are shared. A mini-batch takes ``frame_batch`` frames of one domain; around each
ground-truth box it draws positives (Gaussian, IoU > 0.5) labelled with the action
that moves them best toward the box (:func:`sot.trackers.adnet.action_labels`) and
negatives (IoU < 0.5). Loss = softmax loss of the actions on the positives + softmax
loss of the confidence on all samples (target when IoU > 0.7, the paper's label).
Writes ``<out>/adnet_sl.pth`` (tracker format, fresh heads, as the official finalise
step) and ``<out>/domain_heads.pth`` (the per-domain heads the RL stage starts from).

``adnet_rl`` (REINFORCE): starts from the SL output with zero history weights; per
domain it plays ``rl_clips`` clips of ``rl_steps`` frames from the clip's first
ground-truth box with the greedy policy (up to 20 actions per frame, the official
exploration rule when the confidence collapses), rewards every action of a clip
with +1 if the final IoU > 0.7 else -1, and minimises ``-z log pi(a | s)`` on
mini-batches of 32 (the official ``softmaxlog_pg``). Only the action path is trained.
Writes ``<out>/adnet.pth``: the shipped tracker weights (fresh fc6/fc7 main weights,
the learned history weights kept, as the official finalise step).
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.core.errors import ConfigError
from sot.checkpoints.common import flush_denormals, read_torch_file, save_weights
from sot.parts.crop import crop_boxes, enlarged_clipped
from sot.parts.sampling import SampleGenerator, overlap, select_random
from sot.trackers.adnet import NUM_ACTIONS, STOP, ADNetNet, action_labels, do_action, history_onehot

from .common import progress, seed_everything, write_log
from .online_data import (Domains, crops_to_tensor, init_conv, make_optimizer, resume_state, save_state,
                          split_counts, start_recipe)
from .recipes import register_recipe


@dataclasses.dataclass
class ADNetSLConfig:
    seed: int = 0
    threads: int = 1
    dataset: str = "synthetic"
    split: str = "train"
    num_sequences: int = 50
    dataset_options: Dict[str, object] = dataclasses.field(default_factory=dict)
    width: float = 1.0
    fc_dim: int = 512
    lrn: str = "matconvnet"
    init: str = "pytorch"
    img_size: int = 112
    crop_scale: float = 1.4
    history: int = 10
    frame_batch: int = 5
    n_pos: int = 150
    n_neg: int = 50
    pos_trans: float = 0.1
    pos_scale_factor: float = 5.0
    neg_trans: float = 2.0
    neg_scale_factor: float = 10.0
    scale_factor: float = 1.05
    pos_iou: float = 0.5
    neg_iou: float = 0.5
    score_pos_iou: float = 0.7
    action_move: float = 0.03
    stop_iou: float = 0.93
    n_cycles: int = 30
    optimizer: str = "sgd"
    lr: float = 0.0001
    lr_mult_fc: float = 10.0
    momentum: float = 0.9
    weight_decay: float = 0.0005
    grad_clip: float = 0.0
    dropout: float = 0.5
    save_every: int = 200
    log_every: int = 50


@dataclasses.dataclass
class ADNetRLConfig:
    seed: int = 0
    threads: int = 1
    sl_dir: str = "runs/train/adnet_sl"
    dataset: str = "synthetic"
    split: str = "train"
    num_sequences: int = 50
    dataset_options: Dict[str, object] = dataclasses.field(default_factory=dict)
    n_epochs: int = 30
    rl_steps: int = 10
    rl_clips: int = 5
    max_steps: int = 20
    minibatch: int = 32
    reward_iou: float = 0.7
    explore_below: float = -5.0
    action_move: float = 0.03
    train_conv: bool = False
    optimizer: str = "sgd"
    lr: float = 0.0001
    lr_mult_fc: float = 10.0
    momentum: float = 0.9
    weight_decay: float = 0.0005
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
    frames = domains.sample_frames(k, cfg.frame_batch, rng)
    n_pos = split_counts(cfg.n_pos, len(frames))
    n_neg = split_counts(cfg.n_neg, len(frames))
    i = 0
    labels, scores = [], []
    neg_parts = []
    for f, npos, nneg in zip(frames, n_pos, n_neg):
        img, gt = domains.frame(k, f)
        wh = (img.shape[1], img.shape[0])
        pg = SampleGenerator("gaussian", wh, cfg.pos_trans, cfg.scale_factor ** cfg.pos_scale_factor, style="matlab")
        pos = pg.draw(gt, npos * 5, rng)
        pos = select_random(pos[overlap(pos, gt) > cfg.pos_iou], npos, rng)
        ng = SampleGenerator("gaussian", wh, cfg.neg_trans, cfg.scale_factor ** cfg.neg_scale_factor, style="matlab")
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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_recipe(cfg.threads)
    seed_everything(cfg.seed)
    domains = Domains(cfg.dataset, cfg.split, cfg.num_sequences, options=cfg.dataset_options)
    K = len(domains)
    gen = torch.Generator().manual_seed(cfg.seed)
    net = ADNetNet(width=cfg.width, fc_dim=cfg.fc_dim, lrn=cfg.lrn, input_size=cfg.img_size, history=cfg.history)
    init_conv(net.backbone, cfg.init)
    heads = DomainHeads(K, cfg.fc_dim, gen)
    model = nn.ModuleDict({"net": net, "heads": heads})
    fc = [*net.fc4.parameters(), *net.fc5.parameters(), *heads.parameters()]
    opt = make_optimizer(cfg, net.backbone.parameters(), fc)
    rng = np.random.default_rng([cfg.seed, 2])
    schedule = domains.schedule(cfg.n_cycles, cfg.seed)
    start = resume_state(out_dir, model, opt, rng, gen) if resume else 0
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1, default=str))
    buf = np.empty((cfg.n_pos + cfg.n_neg, cfg.img_size, cfg.img_size, 3), np.uint8)
    params = list(model.parameters())
    acc = {"loss_act": 0.0, "loss_conf": 0.0, "act_acc": 0.0, "conf_acc": 0.0, "n": 0}
    t0, last = time.time(), {}

    def checkpoint(it: int) -> None:
        save_state(out_dir, it, model, opt, rng, gen, extra={"domains": domains.names})

    for it in progress(range(start, len(schedule)), quiet, desc="adnet_sl", initial=start, total=len(schedule)):
        k = int(schedule[it])
        x, n_p, lab, sc = sl_batch(domains, k, cfg, rng, buf)
        h = net.fc5_features(net.backbone(x).flatten(1), cfg.dropout, gen)
        act = heads.fc6[k](h[:n_p])
        conf = heads.fc7[k](h)
        loss_a = F.cross_entropy(act, lab) if n_p else torch.zeros(())
        loss_c = F.cross_entropy(conf, sc)
        loss = loss_a + loss_c
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        with torch.no_grad():
            acc["loss_act"] += float(loss_a.detach())
            acc["loss_conf"] += float(loss_c.detach())
            acc["act_acc"] += float((act.argmax(1) == lab).float().mean()) if n_p else 0.0
            acc["conf_acc"] += float((conf.argmax(1) == sc).float().mean())
            acc["n"] += 1
        if (it + 1) % cfg.log_every == 0 or it + 1 == len(schedule):
            n = max(acc.pop("n"), 1)
            last = {"iter": it + 1, "cycle": (it + 1) / K, **{k_: v / n for k_, v in acc.items()},
                    "sec": round(time.time() - t0, 1)}
            write_log(out_dir, last)
            if not quiet:
                print(json.dumps(last), flush=True)
            acc = {"loss_act": 0.0, "loss_conf": 0.0, "act_acc": 0.0, "conf_acc": 0.0, "n": 0}
        if (it + 1) % cfg.save_every == 0 and it + 1 < len(schedule):
            checkpoint(it + 1)
    checkpoint(len(schedule))
    meta = {"recipe": "adnet_sl", "iterations": int(len(schedule)), "seed": cfg.seed, "domains": K,
            "dataset": f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}"}
    _export_tracker(net, out_dir / "adnet_sl.pth", meta, torch.Generator().manual_seed(cfg.seed + 1))
    save_weights(out_dir / "domain_heads.pth", heads.state_dict(), {**meta, "domain_names": list(domains.names)})
    return {"weights": str(out_dir / "adnet_sl.pth"), **last}


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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_recipe(cfg.threads)
    seed_everything(cfg.seed)
    sl_dir = Path(cfg.sl_dir)
    from sot.checkpoints.adnet import load_adnet

    net = load_adnet(sl_dir / "adnet_sl.pth")
    heads_obj = read_torch_file(sl_dir / "domain_heads.pth")
    names = list(heads_obj["meta"]["domain_names"])
    heads = DomainHeads(len(names), net.fc4.out_features)
    heads.load_state_dict(heads_obj["state_dict"])
    domains = Domains(cfg.dataset, cfg.split, cfg.num_sequences, options=cfg.dataset_options)
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
    opt = make_optimizer(cfg, net.backbone.parameters() if cfg.train_conv else [], fc)
    K = len(domains)
    rng = np.random.default_rng([cfg.seed, 3])
    schedule = domains.schedule(cfg.n_epochs, cfg.seed)
    start = resume_state(out_dir, model, opt, rng) if resume else 0
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1, default=str))
    size, scale = net.backbone.input_size, 1.4
    buf = np.empty((1, size, size, 3), np.uint8)
    stats = {"reward": 0.0, "steps": 0.0, "loss": 0.0, "n": 0}
    t0, last = time.time(), {}

    def checkpoint(it: int) -> None:
        save_state(out_dir, it, model, opt, rng)

    for it in progress(range(start, len(schedule)), quiet, desc="adnet_rl", initial=start, total=len(schedule)):
        k = int(schedule[it])
        with torch.no_grad():  # this domain's heads in the tracker net (history weights are shared)
            net.fc6.weight.copy_(heads.fc6[k].weight)
            net.fc6.bias.copy_(heads.fc6[k].bias)
            net.fc7.weight.copy_(heads.fc7[k].weight)
            net.fc7.bias.copy_(heads.fc7[k].bias)
        clips = _clip_ranges(domains.frames[k], cfg.rl_steps)
        if not clips:
            continue
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
            if len(acts) <= cfg.minibatch // 2:  # the official code skips small sets
                continue
            order = np.concatenate([rng.permutation(len(acts)) for _ in range(
                -(-cfg.minibatch * len(pick) // len(acts)))])[:cfg.minibatch * len(pick)]
            for b in range(len(pick)):
                idx = torch.from_numpy(order[b * cfg.minibatch:(b + 1) * cfg.minibatch])
                logits = head(net.fc5_features(feats[idx])) + net.fc6_ah(hist[idx])
                logp = F.log_softmax(logits, 1).gather(1, acts[idx][:, None]).squeeze(1)
                loss = -(z * logp).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip:
                    nn.utils.clip_grad_norm_(fc, cfg.grad_clip)
                opt.step()
                loss_sum += float(loss.detach())
        stats["reward"] += float(np.mean(rewards))
        stats["steps"] += sum(len(p[2]) for v in data.values() for p in v) / max(len(pick) * cfg.rl_steps, 1)
        stats["loss"] += loss_sum
        stats["n"] += 1
        if (it + 1) % cfg.log_every == 0 or it + 1 == len(schedule):
            n = max(stats.pop("n"), 1)
            last = {"iter": it + 1, "epoch": (it + 1) / K, "mean_reward": stats["reward"] / n,
                    "actions_per_frame": stats["steps"] / n, "loss": stats["loss"] / n,
                    "sec": round(time.time() - t0, 1)}
            write_log(out_dir, last)
            if not quiet:
                print(json.dumps(last), flush=True)
            stats = {"reward": 0.0, "steps": 0.0, "loss": 0.0, "n": 0}
        if (it + 1) % cfg.save_every == 0 and it + 1 < len(schedule):
            checkpoint(it + 1)
    checkpoint(len(schedule))
    meta = {"recipe": "adnet_sl+adnet_rl", "iterations_rl": int(len(schedule)), "seed": cfg.seed, "domains": K,
            "dataset": f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}"}
    _export_tracker(net, out_dir / "adnet.pth", meta, torch.Generator().manual_seed(cfg.seed + 1))
    return {"weights": str(out_dir / "adnet.pth"), **last}
