"""Recipe ``mdnet``: MDNet multi-domain offline training (py-MDNet ``pretrain/train_mdnet.py``).

One domain per training sequence with its own fc6 branch; iterations visit the domains
round-robin (a random permutation per epoch, py-MDNet's "cycle"). Each mini-batch takes ``batch_frames``
frames of the domain's sequence and ``batch_pos`` positives (IoU >= 0.7) and
``batch_neg`` negatives (IoU <= 0.5) spread over them, crops them like the tracker
(107x107, padding 16, pixel - 128) and minimises the softmax loss of that domain's
branch only. The result ``<out>/mdnet.pth`` holds conv1-3, fc4, fc5 (the branches are
dropped, as py-MDNet's ``shared_layers``) and the architecture in ``meta``.

``python -m sot.train --config configs/train/mdnet.yaml [--set ...] [--out DIR] [--resume]``
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch

from sot.checkpoints.files import flush_denormals, save_weights
from sot.models.layers import init_conv
from sot.models.mdnet import MDNetNet, mdnet_loss
from sot.parts.crop import crop_boxes
from sot.parts.sampling import SampleGenerator

from .config import TrainConfig
from .loop import TrainLoop
from .online_data import Domains, crops_to_tensor, split_counts
from .recipes import register_recipe


@dataclasses.dataclass
class MDNetTrainConfig(TrainConfig):
    """py-MDNet ``pretrain/options_vot.yaml`` defaults (each value with its source in the recipe YAML)."""

    num_sequences: int = 50
    epochs: int = 50              # py-MDNet n_cycles: visits of every domain
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
    lr_mult_fc: float = 10.0
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
    loop = TrainLoop("mdnet", cfg, out_dir, quiet=quiet, flush_denormal=True)
    domains = Domains(cfg)
    K = len(domains)
    net = build_net(cfg, K)
    fc = [p for n, p in net.named_parameters() if not n.startswith("backbone.")]
    opt = loop.optimizer((net.backbone.parameters(), 1.0), (fc, cfg.lr_mult_fc))
    rng = np.random.default_rng([cfg.seed, 1])
    gen = torch.Generator().manual_seed(cfg.seed)
    schedule = domains.schedule(cfg.epochs, cfg.seed)
    loop.track(net, opt, rng=rng, gen=gen, extra={"domains": domains.names})
    buf = np.empty((cfg.batch_pos + cfg.batch_neg, cfg.img_size, cfg.img_size, 3), np.uint8)

    def body(it: int) -> Dict[str, float]:
        k = int(schedule[it])
        x, n_p = sample_batch(domains, k, cfg, rng, buf)
        logits = net(x, k, gen)
        loss = loop.step(mdnet_loss(logits[:n_p], logits[n_p:]))
        with torch.no_grad():
            pred = logits.argmax(1)
            return {"loss": loss,
                    "pos_acc": float((pred[:n_p] == 1).float().mean()) if n_p else 0.0,
                    "neg_acc": float((pred[n_p:] == 0).float().mean()) if len(pred) > n_p else 0.0}

    def summarize(done: int, rows: List[Dict[str, float]]) -> Dict[str, float]:
        n = max(len(rows), 1)
        return {"iter": done, "cycle": done / K, **{key: sum(r[key] for r in rows) / n for key in rows[0]},
                "sec": round(loop.elapsed(), 1)}

    loop.run(len(schedule), K, body, summarize, resume=resume)
    meta = dict(net.meta, recipe="mdnet", iterations=int(len(schedule)), seed=cfg.seed, domains=K,
                dataset=f"{cfg.dataset}:{cfg.split}:{cfg.num_sequences}")
    save_weights(Path(out_dir) / "mdnet.pth", flush_denormals(net.shared_state()), meta)
    return {"weights": str(Path(out_dir) / "mdnet.pth"), **loop.last}
