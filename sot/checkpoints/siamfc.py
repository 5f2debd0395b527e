"""siamfc-pytorch ``siamfc_alexnet_e50.pth``: a plain state dict of ``Net(AlexNetV1, SiamFC)``.

Keys ``backbone.conv{i}.0.*`` (conv) and ``backbone.conv{i}.1.*`` (BN, i = 1..4); conv5 has
no BN; the head has no parameters. Input RGB 0-255, crops padded with the image mean
(siamfc-pytorch ``ops.read_image`` converts BGR to RGB).
"""
from __future__ import annotations

from typing import Dict

import torch

from bench.core.errors import CheckpointError

from .loaded import Loaded, require, width_from_conv1


def convert_siamfc_pytorch(state: Dict[str, torch.Tensor], path) -> Loaded:
    out: Dict[str, torch.Tensor] = {}
    for k, v in state.items():
        parts = k.split(".")
        if len(parts) != 4 or parts[0] != "backbone" or not parts[1].startswith("conv") or parts[2] not in "01":
            raise CheckpointError(f"{path}: unexpected key {k} in a siamfc-pytorch checkpoint")
        sub = "conv" if parts[2] == "0" else "bn"
        out[f"backbone.{parts[1]}.{sub}.{parts[3]}"] = v
    w1 = require(state, "backbone.conv1.0.weight", path, 4)
    arch = {"net": "siamfc", "backbone": "alexnet_siamfc", "width": width_from_conv1(w1.shape[0], path),
            "out_scale": 0.001}
    return Loaded("siamfc-pytorch", arch, out, "rgb", {}, "siamfc-pytorch")
