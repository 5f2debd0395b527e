"""DaSiamRPN ``SiamRPNBIG.model`` / ``SiamRPNVOT.model`` / ``SiamRPNOTB.model`` (foolwood/DaSiamRPN).

PyTorch 0.3 state dicts (no ``num_batches_tracked``) of ``SiamRPN(size, feature_out)``:
``featureExtract.{0,4,8,11,14}`` convs, ``featureExtract.{1,5,9,12,15}`` BNs, and the
UP-channel head ``conv_r1``, ``conv_cls1``, ``conv_r2``, ``conv_cls2``, ``regress_adjust``.
Input BGR 0-255 (``cv2.imread``), crops padded with the image mean.
Per-model tracker settings from ``code/net.py`` L63-78 (``SiamRPNBIG``/``SiamRPNvot``/``SiamRPNotb``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import torch

from bench.core.errors import CheckpointError

from .loaded import Loaded, require, width_from_conv1

CONV_IDX = {0: 1, 4: 2, 8: 3, 11: 4, 14: 5}
BN_IDX = {1: 1, 5: 2, 9: 3, 12: 4, 15: 5}
HEAD = ("conv_r1", "conv_cls1", "conv_r2", "conv_cls2", "regress_adjust")

# code/net.py L63-78: lr, window_influence, penalty_k, instance_size, adaptive
SETTINGS = {
    "big": {"lr": 0.295, "window_influence": 0.42, "penalty_k": 0.055, "instance_size": 271, "adaptive": True},
    "vot": {"lr": 0.45, "window_influence": 0.44, "penalty_k": 0.04, "instance_size": 271, "adaptive": False},
    "otb": {"lr": 0.30, "window_influence": 0.40, "penalty_k": 0.22, "instance_size": 271, "adaptive": False},
}


def variant_of(path, width: float, variant: str) -> str:
    if variant != "auto":
        if variant not in SETTINGS:
            raise CheckpointError(f"{path}: unknown DaSiamRPN variant '{variant}' (big, vot, otb)")
        return variant
    name = Path(str(path)).name.lower()
    for v in ("big", "otb", "vot"):
        if v in name:
            return v
    return "big" if width == 2 else "vot"


def convert_dasiamrpn(state: Dict[str, torch.Tensor], path, variant: str = "auto") -> Loaded:
    out: Dict[str, torch.Tensor] = {}
    for k, v in state.items():
        parts = k.split(".")
        if parts[0] == "featureExtract" and len(parts) == 3 and parts[1].isdigit():
            i = int(parts[1])
            if i in CONV_IDX:
                out[f"backbone.conv{CONV_IDX[i]}.conv.{parts[2]}"] = v
                continue
            if i in BN_IDX:
                out[f"backbone.conv{BN_IDX[i]}.bn.{parts[2]}"] = v
                continue
        elif parts[0] in HEAD and len(parts) == 2:
            out[f"rpn.{k}"] = v
            continue
        raise CheckpointError(f"{path}: unexpected key {k} in a DaSiamRPN checkpoint")
    w1 = require(state, "featureExtract.0.weight", path, 4)
    r2 = require(state, "conv_r2.weight", path, 4)
    ra = require(state, "regress_adjust.weight", path, 4)
    width = width_from_conv1(w1.shape[0], path)
    arch = {"net": "siamrpn", "backbone": "alexnet_rpn", "width": width, "head": "upchannel",
            "feature_out": int(r2.shape[0]), "anchor_num": int(ra.shape[0]) // 4}
    v = variant_of(path, width, variant)
    return Loaded("dasiamrpn", arch, out, "bgr", dict(SETTINGS[v]), f"dasiamrpn-{v}")
