"""pysot ``siamrpn_mobilev2_l234_dwxcorr`` ``model.pth`` (SiamRPN++ MobileNetV2; MODEL_ZOO.md of STVIR/pysot).

Keys (pysot ``ModelBuilder``: ``backbone`` / ``neck`` / ``rpn_head``):

* ``backbone.layer0.{0,1}.*`` (stem conv + BN), ``backbone.layerN.M.conv.{0,1,3,4,6,7}.*`` (N = 1..7);
* ``neck.downsample{2,3,4}.downsample.{0,1}.*`` (1x1 conv + BN per tap);
* ``rpn_head.rpn{2,3,4}.{cls,loc}.{conv_kernel,conv_search,head}.*`` (``DepthwiseXCorr``), plus
  ``rpn_head.{cls,loc}_weight`` when ``weighted``.

The file may be a raw state dict or ``{'epoch', 'state_dict', 'optimizer'}``, keys maybe
``module.``-prefixed (``unwrap``). Every key is renamed (``backbone.`` -> ``backbone.body.``,
``neck.`` -> ``backbone.neck.``, ``rpn_head.`` -> ``rpn.``) and the network built from the
shapes (width multiplier from the stem, taps from the neck, hidden channels from the head) is
loaded strictly. Input BGR 0-255, crops padded with the image mean.
Settings from ``experiments/siamrpn_mobilev2_l234_dwxcorr/config.yaml``: PENALTY_K 0.04,
WINDOW_INFLUENCE 0.4, LR 0.5, INSTANCE_SIZE 255 (EXEMPLAR 127, BASE_SIZE 8: 25 x 25 scores).
"""
from __future__ import annotations

import re
from typing import Dict, List

import torch

from bench.core.errors import CheckpointError

from .loaded import Loaded, require

SETTINGS = {"lr": 0.5, "window_influence": 0.4, "penalty_k": 0.04, "instance_size": 255, "adaptive": False}
#: channels of pysot's layers at width 1 (stem, layer1..7) before ``int(c * width_mult)``
BASE_CHANNELS = [32, 16, 24, 32, 64, 96, 160, 320]


def is_pysot_mobilenet(keys) -> bool:
    keys = set(keys)
    return "backbone.layer0.0.weight" in keys and any(k.startswith("rpn_head.rpn") for k in keys)


def convert_pysot_mobilenet(state: Dict[str, torch.Tensor], path) -> Loaded:
    out: Dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if k.startswith("backbone.layer"):
            out["backbone.body." + k[len("backbone."):]] = v
        elif k.startswith("neck.downsample"):
            out["backbone." + k] = v
        elif k.startswith("rpn_head.rpn") or k in ("rpn_head.cls_weight", "rpn_head.loc_weight"):
            out["rpn." + k[len("rpn_head."):]] = v
        else:
            raise CheckpointError(f"{path}: unexpected key {k} in a pysot siamrpn_mobilev2 checkpoint")
    stem = require(state, "backbone.layer0.0.weight", path, 4)
    width = _width(int(stem.shape[0]), path)
    taps: List[int] = sorted({int(m.group(1)) for k in state for m in [re.match(r"neck\.downsample(\d+)\.", k)] if m})
    if not taps:
        raise CheckpointError(f"{path}: no neck.downsampleN.* keys (pysot AdjustAllLayer)")
    adjust_in, adjust_out = [], []
    for t in taps:
        w = require(state, f"neck.downsample{t}.downsample.0.weight", path, 4)
        adjust_out.append(int(w.shape[0]))
        adjust_in.append(int(w.shape[1]))
    used = [_layer_of(c, width, path) for c in adjust_in]
    cls_out = require(state, f"rpn_head.rpn{taps[0]}.cls.head.3.weight", path, 4)
    arch = {"net": "siamrpn_mobilenet", "backbone": "mobilenet_v2_pysot", "width_mult": width, "used_layers": used,
            "adjust_out": adjust_out, "anchor_num": int(cls_out.shape[0]) // 2,
            "weighted": "rpn_head.cls_weight" in state}
    return Loaded("pysot-mobilenet", arch, out, "bgr", dict(SETTINGS), "pysot-mobilev2-l234-dwxcorr")


def _width(stem_channels: int, path) -> float:
    """pysot width multiplier from the stem's ``int(32 * w)`` channels (44 -> 1.4, 32 -> 1.0)."""
    for w in (1.4, 1.0, 0.75, 0.5, 1.3, 2.0):
        if int(32 * w) == stem_channels:
            return w
    raise CheckpointError(f"{path}: backbone.layer0.0.weight has {stem_channels} channels, not int(32 * width_mult) "
                          "for a known width (1.4, 1.0, 0.75, 0.5)")


def _layer_of(channels: int, width: float, path) -> int:
    """The pysot layer index whose output has ``channels`` (= ``int(c * width)``) channels."""
    for i, c in enumerate(BASE_CHANNELS):
        if i > 0 and int(c * width) == channels:
            return i
    raise CheckpointError(f"{path}: a neck input of {channels} channels matches no MobileNetV2 layer at width {width}")
