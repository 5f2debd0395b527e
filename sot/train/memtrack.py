"""Training recipe ``memtrack``: MemTrack end to end on video snippets with BPTT.

``python -m sot.train --config configs/train/memtrack.yaml``

A snippet is ``snippet_length`` frames of one sequence (consecutive annotated frames with a
random stride up to ``max_stride``; the paper: ``time_step`` 16 frames of VID). Frame 0 gives
the initial template ``T0`` (127 px exemplar at the ground truth) and the memory state; every
later frame ``t``: the 255 px search crop around the target (shift / scale jitter of
``pairs``), the memory reads it and gives ``T_t``, the SiamFC balanced logistic loss on
``xcorr(T_t, x_t)``, and the exemplar of frame ``t`` is written. The loss is averaged over
the steps and back-propagated through the whole snippet (BPTT). It may start from a
``siamfc`` weight file (``init_weights``: backbone only, the memory is new).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import torch

from sot.checkpoints.common import unwrap
from sot.checkpoints.files import read_torch_file, save_weights
from sot.models.memtrack import MemTrackNet

from .config import TrainConfig, open_sequences
from .loop import TrainLoop
from .losses import balanced_bce, siamfc_labels
from .pairs import PairConfig, PairSampler
from .recipes import register_recipe
from .siamese import _lr


@dataclasses.dataclass
class MemTrackTrainConfig(TrainConfig):
    width: float = 0.25
    out_scale: float = 0.001
    slots: int = 8
    hidden: int = 512
    usage_decay: float = 0.99
    keep_prob: float = 0.8
    snippet_length: int = 16
    max_stride: int = 2
    batch_size: int = 8
    iters_per_epoch: int = 50
    lr: float = 1e-4
    lr_end: float = 1e-5
    warmup_iters: int = 0
    r_pos: float = 16.0
    total_stride: int = 8
    backbone_lr_mult: float = 1.0
    pairs: PairConfig = dataclasses.field(default_factory=PairConfig)
    init_weights: str = ""


def _snippet(sampler: PairSampler, cfg: MemTrackTrainConfig, rng: np.random.Generator):
    """(z crops (T, 127, 127, 3), x crops (T, S, S, 3), x target centres (T, 2)) of one snippet."""
    c = cfg.pairs
    for _ in range(50):
        si = sampler.pool[int(rng.integers(len(sampler.pool)))]
        v = sampler.valid[si]
        stride = int(rng.integers(1, cfg.max_stride + 1))
        span = (cfg.snippet_length - 1) * stride
        starts = v[v + span <= v[-1]] if len(v) else v
        if len(starts):
            break
    else:
        stride, starts = 1, sampler.valid[si][:1]
    f0 = int(starts[int(rng.integers(len(starts)))])
    seq = sampler.seqs[si]
    zs, xs, cs = [], [], []
    valid = set(sampler.valid[si].tolist())
    last = f0
    for k in range(cfg.snippet_length):
        f = f0 + k * stride
        f = f if f in valid else last
        last = f
        img = seq.frame(f)
        z, _ = sampler._crop(img, seq.gt[f], c.exemplar_size, c.exemplar_size, c.z_shift, c.z_scale, rng)
        x, box = sampler._crop(img, seq.gt[f], c.search_size, c.exemplar_size, c.x_shift, c.x_scale, rng)
        zs.append(z)
        xs.append(x)
        cs.append(box[:2])
    return np.stack(zs), np.stack(xs), np.stack(cs)


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).float()


@register_recipe("memtrack", MemTrackTrainConfig)
def train_memtrack(cfg: MemTrackTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """MemTrack: SiamFC loss at every step of a snippet, gradients through the memory (BPTT)."""
    torch.manual_seed(cfg.seed)
    net = MemTrackNet(cfg.width, cfg.out_scale, cfg.slots, cfg.hidden, cfg.usage_decay, cfg.keep_prob)
    arch = {"net": "memtrack", "backbone": "alexnet_siamfc", "width": cfg.width, "out_scale": cfg.out_scale,
            "slots": cfg.slots, "hidden": cfg.hidden, "usage_decay": cfg.usage_decay, "keep_prob": cfg.keep_prob}
    if cfg.init_weights:
        state = unwrap(read_torch_file(cfg.init_weights), cfg.init_weights)
        bb = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
        net.backbone.load_state_dict(bb, strict=True)
    loop = TrainLoop("memtrack", cfg, out_dir, quiet=quiet)
    opt = loop.optimizer((list(net.backbone.parameters()), cfg.backbone_lr_mult), (list(net.memory.parameters()), 1.0))
    loop.track(net, opt)
    ds, names = open_sequences(cfg)
    sampler = PairSampler([ds[n] for n in names], cfg.pairs)
    ipe, total = cfg.iters_per_epoch, cfg.epochs * cfg.iters_per_epoch
    size = (cfg.pairs.search_size - cfg.pairs.exemplar_size) // cfg.total_stride + 1
    pool_iters = max(1, cfg.pairs.pool_iters)

    def body(step: int):
        epoch, it = divmod(step, ipe)
        net.train()
        for g in opt.param_groups:
            g["lr"] = _lr(cfg, step, total) * (cfg.backbone_lr_mult if g is opt.param_groups[0] else 1.0)
        if it % pool_iters == 0 or step == loop.start:
            sampler.set_pool(np.random.default_rng([cfg.seed, epoch, it - it % pool_iters, 1]))
        rng = np.random.default_rng([cfg.seed, epoch, it])
        snips = [_snippet(sampler, cfg, rng) for _ in range(cfg.batch_size)]
        z = _tensor(np.stack([s[0] for s in snips]).reshape((-1,) + snips[0][0].shape[1:]))
        x = _tensor(np.stack([s[1] for s in snips]).reshape((-1,) + snips[0][1].shape[1:]))
        b, t = cfg.batch_size, cfg.snippet_length
        zf = net.backbone(z)
        zf = zf.reshape((b, t) + tuple(zf.shape[1:]))
        xf = net.backbone(x)
        xf = xf.reshape((b, t) + tuple(xf.shape[1:]))
        state = net.memory.init_state(zf[:, 0])
        losses = []
        for k in range(1, t):
            template, stp = net.memory.read(state, xf[:, k])
            resp = net.head(template, xf[:, k])
            labels = siamfc_labels(np.stack([s[2][k] for s in snips]), size, cfg.pairs.search_size, cfg.total_stride,
                                   cfg.r_pos)
            losses.append(balanced_bce(resp, torch.from_numpy(labels)))
            state = net.memory.write_step(state, stp, zf[:, k])
        loss = torch.stack(losses).mean()
        return [loop.step(loss)]

    def summarize(done: int, rows: List[List[float]]) -> Dict[str, Any]:
        return {"epoch": (done - 1) // ipe + 1, "loss": float(np.mean(rows)), "lr": _lr(cfg, done - 1, total),
                "seconds": round(loop.since_log(), 1)}

    def describe(rec: Dict[str, Any]) -> str:
        return f"memtrack epoch {rec['epoch']}/{cfg.epochs}: loss {rec['loss']:.4f} ({rec['seconds']} s)"

    history = loop.run(total, ipe, body, summarize, resume=resume, describe=describe)
    weights = Path(out_dir) / "memtrack.pth"
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_weights(weights, state, {"arch": arch, "input": "rgb", "recipe": "memtrack", "seed": cfg.seed,
                                  "epochs": cfg.epochs, "iters_per_epoch": cfg.iters_per_epoch, "dataset": cfg.dataset})
    return {"weights": str(weights), "history": history}
