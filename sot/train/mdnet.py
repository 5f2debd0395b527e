"""Recipe ``mdnet``: MDNet multi-domain offline training (py-MDNet ``pretrain/train_mdnet.py``).

One domain per training sequence with its own fc6 branch; iterations visit the domains
round-robin (a random permutation per cycle). Each mini-batch takes ``batch_frames``
frames of the domain's sequence and ``batch_pos`` positives (IoU >= 0.7) and
``batch_neg`` negatives (IoU <= 0.5) spread over them, crops them like the tracker
(107x107, padding 16, pixel - 128) and minimises the softmax loss of that domain's
branch only. The result ``<out>/mdnet.pth`` holds conv1-3, fc4, fc5 (the branches are
dropped, as py-MDNet's ``shared_layers``) and the architecture in ``meta``.

``python -m sot.train --config configs/train/mdnet.yaml [--set ...] [--out DIR] [--resume]``
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn as nn

from sot.checkpoints.common import flush_denormals, save_weights
from sot.parts.crop import crop_boxes
from sot.parts.sampling import SampleGenerator
from sot.trackers.mdnet import MDNetNet, mdnet_loss

from .common import progress, seed_everything, write_log
from .online_data import (Domains, crops_to_tensor, init_conv, make_optimizer, resume_state, save_state,
                          split_counts, start_recipe)
from .recipes import register_recipe


@dataclasses.dataclass
class MDNetTrainConfig:
    seed: int = 0
    threads: int = 1
    dataset: str = "synthetic"
    split: str = "train"
    num_sequences: int = 50
    dataset_options: Dict[str, object] = dataclasses.field(default_factory=dict)
    # architecture
    width: float = 1.0
    fc_dim: int = 512
    lrn: str = "pytorch"
    init: str = "pytorch"
    img_size: int = 107
    padding: float = 16.0
    # sampling
    batch_frames: int = 8
    batch_pos: int = 32
    batch_neg: int = 96
    trans_pos: float = 0.1
    scale_pos: float = 1.3
    overlap_pos: Tuple[float, float] = (0.7, 1.0)
    trans_neg: float = 2.0
    scale_neg: float = 1.6
    overlap_neg: Tuple[float, float] = (0.0, 0.5)
    # optimisation
    n_cycles: int = 50
    optimizer: str = "sgd"
    lr: float = 0.0001
    lr_mult_fc: float = 10.0
    momentum: float = 0.9
    weight_decay: float = 0.0005
    grad_clip: float = 10.0
    dropout: float = 0.5
    # bookkeeping
    save_every: int = 200
    log_every: int = 50


def build_net(cfg: MDNetTrainConfig, n_domains: int) -> MDNetNet:
    net = MDNetNet(width=cfg.width, fc_dim=cfg.fc_dim, n_branches=n_domains, lrn=cfg.lrn, input_size=cfg.img_size)
    init_conv(net.backbone, cfg.init)
    return net


def sample_batch(domains: Domains, k: int, cfg, rng: np.random.Generator, buf: np.ndarray,
                 pos_kind: str = "uniform", neg_kind: str = "uniform") -> Tuple[torch.Tensor, int]:
    """Crops (P + N, 3, S, S) of one domain's mini-batch (positives first) and P."""
    frames = domains.sample_frames(k, cfg.batch_frames, rng)
    n_pos = split_counts(cfg.batch_pos, len(frames))
    n_neg = split_counts(cfg.batch_neg, len(frames))
    pos_boxes, neg_boxes = [], []
    for f, npos, nneg in zip(frames, n_pos, n_neg):
        img, gt = domains.frame(k, f)
        wh = (img.shape[1], img.shape[0])
        pos = SampleGenerator(pos_kind, wh, cfg.trans_pos, cfg.scale_pos)(gt, npos, rng, cfg.overlap_pos)
        neg = SampleGenerator(neg_kind, wh, cfg.trans_neg, cfg.scale_neg)(gt, nneg, rng, cfg.overlap_neg)
        pos_boxes.append((img, pos))
        neg_boxes.append((img, neg))
    i = 0
    for img, b in pos_boxes + neg_boxes:
        if len(b):
            crop_boxes(img, b, cfg.img_size, context=cfg.padding, border="replicate", out=buf[i:i + len(b)])
            i += len(b)
    n_p = sum(len(b) for _, b in pos_boxes)
    return crops_to_tensor(buf[:i]), n_p


@register_recipe("mdnet", MDNetTrainConfig)
def train_mdnet(cfg: MDNetTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_recipe(cfg.threads)
    seed_everything(cfg.seed)
    domains = Domains(cfg.dataset, cfg.split, cfg.num_sequences, options=cfg.dataset_options)
    K = len(domains)
    net = build_net(cfg, K)
    fc = [p for n, p in net.named_parameters() if not n.startswith("backbone.")]
    opt = make_optimizer(cfg, net.backbone.parameters(), fc)
    rng = np.random.default_rng([cfg.seed, 1])
    gen = torch.Generator().manual_seed(cfg.seed)
    schedule = domains.schedule(cfg.n_cycles, cfg.seed)
    start = resume_state(out_dir, net, opt, rng, gen) if resume else 0
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1, default=str))
    buf = np.empty((cfg.batch_pos + cfg.batch_neg, cfg.img_size, cfg.img_size, 3), np.uint8)
    params = list(net.parameters())
    stats = {"loss": 0.0, "pos_acc": 0.0, "neg_acc": 0.0, "n": 0}
    t0 = time.time()
    last = {}

    def checkpoint(it: int) -> None:
        save_state(out_dir, it, net, opt, rng, gen, extra={"domains": domains.names})

    for it in progress(range(start, len(schedule)), quiet, desc="mdnet", initial=start, total=len(schedule)):
        k = int(schedule[it])
        x, n_p = sample_batch(domains, k, cfg, rng, buf)
        logits = net(x, k, gen)
        loss = mdnet_loss(logits[:n_p], logits[n_p:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        with torch.no_grad():
            pred = logits.argmax(1)
            stats["loss"] += float(loss.detach())
            stats["pos_acc"] += float((pred[:n_p] == 1).float().mean()) if n_p else 0.0
            stats["neg_acc"] += float((pred[n_p:] == 0).float().mean()) if len(pred) > n_p else 0.0
            stats["n"] += 1
        if (it + 1) % cfg.log_every == 0 or it + 1 == len(schedule):
            n = max(stats["n"], 1)
            last = {"iter": it + 1, "cycle": (it + 1) / K, "loss": stats["loss"] / n,
                    "pos_acc": stats["pos_acc"] / n, "neg_acc": stats["neg_acc"] / n,
                    "sec": round(time.time() - t0, 1)}
            write_log(out_dir, last)
            if not quiet:
                print(json.dumps(last), flush=True)
            stats = {"loss": 0.0, "pos_acc": 0.0, "neg_acc": 0.0, "n": 0}
        if (it + 1) % cfg.save_every == 0 and it + 1 < len(schedule):
            checkpoint(it + 1)
    checkpoint(len(schedule))
    meta = dict(net.meta, recipe="mdnet", iterations=int(len(schedule)), seed=cfg.seed, domains=K,
                dataset=f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}")
    save_weights(out_dir / "mdnet.pth", flush_denormals(net.shared_state()), meta)
    return {"weights": str(out_dir / "mdnet.pth"), **last}
