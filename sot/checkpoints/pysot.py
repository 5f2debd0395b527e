"""pysot ``siamrpn_alex_dwxcorr`` ``model.pth`` (``AlexNetLegacy`` + ``DepthwiseRPN``).

Keys ``backbone.features.{0,4,8,11,14}`` convs, ``{1,5,9,12,15}`` BNs, and
``rpn_head.{cls,loc}.{conv_kernel,conv_search,head}.*``. The file may be a raw state dict
or ``{'epoch', 'state_dict', 'optimizer'}``, keys maybe ``module.``-prefixed (handled by
``unwrap``). Input BGR 0-255, crops padded with the image mean.
Settings from ``experiments/siamrpn_alex_dwxcorr/config.yaml``: PENALTY_K 0.16,
WINDOW_INFLUENCE 0.40, LR 0.30, INSTANCE_SIZE 287, BASE_SIZE 0.
"""
from __future__ import annotations

from typing import Dict

import torch

from bench.core.errors import CheckpointError

from .dasiamrpn import BN_IDX, CONV_IDX
from .loaded import Loaded, require, width_from_conv1

SETTINGS = {"lr": 0.30, "window_influence": 0.40, "penalty_k": 0.16, "instance_size": 287, "adaptive": False}


def convert_pysot(state: Dict[str, torch.Tensor], path) -> Loaded:
    out: Dict[str, torch.Tensor] = {}
    for k, v in state.items():
        parts = k.split(".")
        if k.startswith("backbone.features.") and len(parts) == 4 and parts[2].isdigit():
            i = int(parts[2])
            if i in CONV_IDX:
                out[f"backbone.conv{CONV_IDX[i]}.conv.{parts[3]}"] = v
                continue
            if i in BN_IDX:
                out[f"backbone.conv{BN_IDX[i]}.bn.{parts[3]}"] = v
                continue
        elif k.startswith("rpn_head.cls.") or k.startswith("rpn_head.loc."):
            out["rpn." + k[len("rpn_head."):]] = v
            continue
        raise CheckpointError(f"{path}: unexpected key {k} in a pysot siamrpn_alex_dwxcorr checkpoint")
    w1 = require(state, "backbone.features.0.weight", path, 4)
    ck = require(state, "rpn_head.cls.conv_kernel.0.weight", path, 4)
    cls_out = require(state, "rpn_head.cls.head.3.weight", path, 4)
    arch = {"net": "siamrpn", "backbone": "alexnet_rpn", "width": width_from_conv1(w1.shape[0], path),
            "head": "depthwise", "feature_out": int(ck.shape[0]), "anchor_num": int(cls_out.shape[0]) // 2}
    return Loaded("pysot", arch, out, "bgr", dict(SETTINGS), "pysot-alex-dwxcorr")
