"""Training recipes ``siamfc``, ``siamrpn`` and ``dasiamrpn``.

``python -m sot.train --config configs/train/siamfc.yaml [--set key=value] [--out DIR] [--resume]``

* ``siamfc``: exemplar 127 / search 239 pairs (15x15 responses), balanced logistic loss
  with positive radius 16 px (siamfc-pytorch / MATLAB ``experiment.m``).
* ``siamrpn``: 127 / 255 pairs, pysot anchor targets (IoU > 0.6 positive, < 0.3 negative,
  at most 16 positives of 64), cross-entropy + smooth-L1 (pysot ``siamrpn_alex``).
* ``dasiamrpn``: ``siamrpn`` plus DaSiamRPN's extra data: still-image pairs and semantic
  negative pairs (look-alike distractors of the same scene, other sequences' targets).
  It may start from a ``siamrpn`` weight file (``init_weights``).

Every pair is drawn from ``numpy.random.default_rng([seed, epoch, iteration])``, so a run
is deterministic from its seed and ``--resume`` (from ``<out>/checkpoint_last.pth``,
written after every epoch unless ``save_every`` says otherwise; :mod:`sot.train.loop`)
continues exactly. The final weights (``<out>/<recipe>.pth``)
load with ``--weights`` or ship in ``sot/weights``.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import torch

from bench.core.errors import ConfigError
from sot.checkpoints.common import load_strict
from sot.checkpoints.detect import load_siamese
from sot.checkpoints.files import save_weights
from sot.models.siamese import SiamFCNet, SiamRPNNet
from sot.parts.anchors import anchor_targets, generate_anchors

from .config import TrainConfig, open_sequences
from .loop import TrainLoop
from .losses import balanced_bce, rpn_loss, siamfc_labels
from .pairs import PairConfig, PairSampler, batch_tensors
from .recipes import register_recipe


@dataclasses.dataclass
class SiameseTrainConfig(TrainConfig):
    """Settings of the Siamese recipes (sizes in pixels). ``lr`` decays exponentially to ``lr_end``."""

    threads: int = 2
    width: float = 0.25
    iters_per_epoch: int = 300
    batch_size: int = 8           # pairs per iteration
    lr: float = 1e-2
    lr_end: float = 1e-5          # exponential (log-linear) decay from lr to lr_end
    warmup_iters: int = 0
    pairs: PairConfig = dataclasses.field(default_factory=PairConfig)
    init_weights: str = ""        # start from this weight file (same architecture)
    freeze_bn: bool = False       # BatchNorm layers use (and keep) their running statistics while training


@dataclasses.dataclass
class SiamFCTrainConfig(SiameseTrainConfig):
    out_scale: float = 0.001
    r_pos: float = 16.0
    total_stride: int = 8


@dataclasses.dataclass
class SiamRPNTrainConfig(SiameseTrainConfig):
    head: str = "depthwise"
    feature_out: int = 64
    anchor_ratios: List[float] = dataclasses.field(default_factory=lambda: [0.33, 0.5, 1.0, 2.0, 3.0])
    anchor_scales: List[float] = dataclasses.field(default_factory=lambda: [8.0])
    anchor_stride: int = 8
    pos_iou: float = 0.6
    neg_iou: float = 0.3
    max_pos: int = 16
    total_anchors: int = 64
    loc_weight: float = 1.2


# -- shared loop --------------------------------------------------------------------------------


def _lr(cfg: SiameseTrainConfig, step: int, total: int) -> float:
    if cfg.warmup_iters and step < cfg.warmup_iters:
        return cfg.lr * (step + 1) / cfg.warmup_iters
    t = (step - cfg.warmup_iters) / max(1, total - cfg.warmup_iters - 1)
    return float(math.exp(math.log(cfg.lr) + t * (math.log(cfg.lr_end) - math.log(cfg.lr))))


def _train(name: str, cfg: SiameseTrainConfig, net: torch.nn.Module, arch: Dict[str, Any], loss_fn,
           out_dir: Path, resume: bool, quiet: bool, sampler=None) -> Dict[str, Any]:
    """Iteration ``step`` of epoch ``e = step // iters_per_epoch`` draws its pairs from
    ``default_rng([seed, e, step % iters_per_epoch])`` and the sequence pool from the same
    seed list + 1 at each ``pairs.pool_iters`` boundary, so any iteration can be resumed.
    ``sampler`` (``set_pool(rng)``, ``sample(rng)``): the pair source; default a
    :class:`PairSampler` over ``open_sequences(cfg)``."""
    loop = TrainLoop(name, cfg, out_dir, quiet=quiet)
    if cfg.init_weights:
        loaded = load_siamese(cfg.init_weights)
        load_strict(net, loaded.state, cfg.init_weights)
    net = net.to(memory_format=torch.channels_last)
    opt = loop.optimizer(([p for p in net.parameters() if p.requires_grad], 1.0))
    loop.track(net, opt)
    if sampler is None:
        ds, names = open_sequences(cfg)
        sampler = PairSampler([ds[n] for n in names], cfg.pairs)
    ipe = cfg.iters_per_epoch
    total = cfg.epochs * ipe
    pool_iters = max(1, cfg.pairs.pool_iters)

    def body(step: int):
        epoch, it = divmod(step, ipe)
        net.train()
        if cfg.freeze_bn:
            for m in net.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.eval()
        for g in opt.param_groups:
            g["lr"] = _lr(cfg, step, total)
        if it % pool_iters == 0 or step == loop.start:  # (a resumed run restores its pool)
            sampler.set_pool(np.random.default_rng([cfg.seed, epoch, it - it % pool_iters, 1]))
        rng = np.random.default_rng([cfg.seed, epoch, it])
        pairs = [sampler.sample(rng) for _ in range(cfg.batch_size)]
        loss, parts = loss_fn(net, pairs, rng)
        return [loop.step(loss)] + [float(p) for p in parts]

    def summarize(done: int, rows: List[List[float]]) -> Dict[str, Any]:
        mean = np.mean(rows, axis=0).tolist()
        return {"epoch": (done - 1) // ipe + 1, "loss": mean[0], "parts": mean[1:], "lr": _lr(cfg, done - 1, total),
                "seconds": round(loop.since_log(), 1)}

    def describe(rec: Dict[str, Any]) -> str:
        return f"{name} epoch {rec['epoch']}/{cfg.epochs}: loss {rec['loss']:.4f} ({rec['seconds']} s)"

    history = loop.run(total, ipe, body, summarize, resume=resume, describe=describe)
    weights = Path(out_dir) / f"{name}.pth"
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_weights(weights, state, {"arch": arch, "input": "rgb", "recipe": name, "seed": cfg.seed,
                                  "epochs": cfg.epochs, "iters_per_epoch": cfg.iters_per_epoch,
                                  "dataset": cfg.dataset})
    return {"weights": str(weights), "history": history}


# -- SiamFC ----------------------------------------------------------------------------------------


@register_recipe("siamfc", SiamFCTrainConfig)
def train_siamfc(cfg: SiamFCTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """SiamFC: balanced logistic loss on the response map."""
    torch.manual_seed(cfg.seed)
    net = SiamFCNet(cfg.width, cfg.out_scale)
    arch = {"net": "siamfc", "backbone": "alexnet_siamfc", "width": cfg.width, "out_scale": cfg.out_scale}
    size = (cfg.pairs.search_size - cfg.pairs.exemplar_size) // cfg.total_stride + 1

    def loss_fn(net, pairs, rng):
        z, x = batch_tensors(pairs)
        resp = net(z, x)
        labels = siamfc_labels(np.stack([p.box[:2] for p in pairs]), size, cfg.pairs.search_size,
                               cfg.total_stride, cfg.r_pos)
        loss = balanced_bce(resp, torch.from_numpy(labels))
        return loss, []

    return _train("siamfc", cfg, net, arch, loss_fn, out_dir, resume, quiet)


# -- SiamRPN / DaSiamRPN -----------------------------------------------------------------------------



def make_rpn_loss(name: str, cfg: SiamRPNTrainConfig, size: int):
    """pysot anchor targets + ``rpn_loss`` for score maps of side ``size`` (17 for SiamRPN at 127 / 255,
    25 for SiamRPN++'s padded trunks): ``loss_fn(net, pairs, rng) -> (total, [cls, loc])``."""
    anchors = generate_anchors(cfg.anchor_stride, cfg.anchor_ratios, cfg.anchor_scales, size)

    def loss_fn(net, pairs, rng):
        z, x = batch_tensors(pairs)
        labels, loc_t, loc_w = [], [], []
        for p in pairs:
            box = p.box.astype(np.float64).copy()
            box[:2] -= cfg.pairs.search_size / 2            # anchors are relative to the crop centre
            hard = None
            if p.others is not None and len(p.others):
                hard = p.others.astype(np.float64).copy()
                hard[:, :2] -= cfg.pairs.search_size / 2
            lab, t, w = anchor_targets(anchors, box, rng, pos_iou=cfg.pos_iou, neg_iou=cfg.neg_iou,
                                       max_pos=cfg.max_pos, total=cfg.total_anchors, negative_pair=p.negative,
                                       score_size=size, hard=hard)
            labels.append(lab)
            loc_t.append(t)
            loc_w.append(w)
        cls, loc = net(z, x)
        if cls.shape[-1] != size:
            raise ConfigError(f"{name}: score map {cls.shape[-1]} != expected {size}; check pairs.search_size")
        total, lc, ll = rpn_loss(cls, loc, torch.from_numpy(np.stack(labels)), torch.from_numpy(np.stack(loc_t)),
                                 torch.from_numpy(np.stack(loc_w)), cfg.loc_weight)
        return total, [lc.item(), ll.item()]

    return loss_fn


def _rpn_recipe(name: str, cfg: SiamRPNTrainConfig, out_dir: Path, resume: bool, quiet: bool):
    torch.manual_seed(cfg.seed)
    a = len(cfg.anchor_ratios) * len(cfg.anchor_scales)
    net = SiamRPNNet(cfg.width, cfg.head, cfg.feature_out, a)
    if cfg.head == "upchannel":
        _init_upchannel(net)
    arch = {"net": "siamrpn", "backbone": "alexnet_rpn", "width": cfg.width, "head": cfg.head,
            "feature_out": cfg.feature_out, "anchor_num": a}
    size = (cfg.pairs.search_size - cfg.pairs.exemplar_size) // cfg.anchor_stride + 1
    loss_fn = make_rpn_loss(name, cfg, size)
    return _train(name, cfg, net, arch, loss_fn, out_dir, resume, quiet)


def _init_upchannel(net: torch.nn.Module) -> None:
    """Scale the kernel-making convs by ``1 / sqrt(F k^2)`` (F hidden channels, k x k kernel):
    the correlation sums ``F k^2`` products, so default-initialised heads start with logits
    and log-sizes of std ~10 and a diverging loss; this starts them at std ~0.3."""
    head = net.rpn
    k = 4  # 6x6 template feature -> 3x3 conv -> 4x4 kernel
    g = 1.0 / math.sqrt(head.feature_out * k * k)
    with torch.no_grad():
        for conv in (head.conv_cls1, head.conv_r1):
            conv.weight.mul_(g)
            conv.bias.mul_(g)


@register_recipe("siamrpn", SiamRPNTrainConfig)
def train_siamrpn(cfg: SiamRPNTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """SiamRPN: anchor classification + box regression on video pairs."""
    return _rpn_recipe("siamrpn", cfg, out_dir, resume, quiet)


@register_recipe("dasiamrpn", SiamRPNTrainConfig)
def train_dasiamrpn(cfg: SiamRPNTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """DaSiamRPN: the SiamRPN recipe with still-image pairs and semantic negative pairs."""
    if cfg.pairs.neg_prob <= 0 and cfg.pairs.still_prob <= 0:
        raise ConfigError("dasiamrpn recipe: set pairs.neg_prob and/or pairs.still_prob (DaSiamRPN's extra data)")
    return _rpn_recipe("dasiamrpn", cfg, out_dir, resume, quiet)


# -- CFNet -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class CFNetTrainConfig(SiameseTrainConfig):
    variant: str = "conv2"
    out_channels: int = 32
    cf_lambda: float = 10.0
    sigma_px: float = 8.0
    margin: int = 16
    r_pos: float = 16.0
    total_stride: int = 4
    calibrate_scale: bool = True   # set the head's scale so the first batch's responses have std 1


@register_recipe("cfnet", CFNetTrainConfig)
def train_cfnet(cfg: CFNetTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """CFNet: 255/255 pairs, closed-form CF layer in the exemplar branch, SiamFC's balanced logistic loss
    on the 33 x 33 response (cfnet ``experiment.m``: the SiamFC loss and labels)."""
    from sot.models.cfnet import CFNet

    torch.manual_seed(cfg.seed)
    net = CFNet(cfg.variant, cfg.width, cfg.out_channels, cfg.pairs.exemplar_size, cfg.cf_lambda, cfg.sigma_px, cfg.margin)
    arch = {"net": "cfnet", "backbone": "alexnet_cfnet", "variant": cfg.variant, "width": cfg.width,
            "out_channels": cfg.out_channels, "crop": cfg.pairs.exemplar_size, "lambda": cfg.cf_lambda,
            "sigma_px": cfg.sigma_px, "margin": cfg.margin}
    if cfg.calibrate_scale and not cfg.init_weights:
        _calibrate_cf_scale(net, cfg)

    def loss_fn(net, pairs, rng):
        z, x = batch_tensors(pairs)
        resp = net(z, x)
        labels = siamfc_labels(np.stack([p.box[:2] for p in pairs]), resp.shape[-1], cfg.pairs.search_size,
                               cfg.total_stride, cfg.r_pos)
        return balanced_bce(resp, torch.from_numpy(labels)), []

    return _train("cfnet", cfg, net, arch, loss_fn, out_dir, resume, quiet)


def _calibrate_cf_scale(net: torch.nn.Module, cfg: CFNetTrainConfig) -> None:
    """Data-dependent init of CFNet's output scale: at random init the CF responses have a std of
    ~3e-3 (the filter is divided by ``n k``), so a scale initialised at 1 (cfnet ``make_net.m``)
    would need hundreds of Adam steps to reach a useful range; one batch drawn from
    ``default_rng([seed, 7])`` sets ``scale = 1 / std(xcorr)`` (the bias keeps its -0.5)."""
    ds, names = open_sequences(cfg)
    sampler = PairSampler([ds[n] for n in names], cfg.pairs)
    rng = np.random.default_rng([cfg.seed, 7])
    sampler.set_pool(rng)
    z, x = batch_tensors([sampler.sample(rng) for _ in range(cfg.batch_size)])
    with torch.no_grad():
        net.train()
        raw = (net(z, x) - net.head.bias) / net.head.scale
        net.head.scale.fill_(1.0 / float(raw.std().clamp_min(1e-12)))
