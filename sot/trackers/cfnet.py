"""CFNet trackers (Valmadre et al., CVPR 2017) as in bertinetto/cfnet ``src/tracking/tracker.m``.

SiamFC's multi-scale search (:mod:`sot.trackers.siamfc`) with CFNet's network
(:mod:`sot.models.cfnet`): exemplar and search crops are both 255 px around the target's
context square (``exemplarSize = instanceSize = 255`` for ``corrfilt``), the template is the
output of the closed-form correlation filter layer, responses are 33 x 33 at stride 4
upsampled x8, and after every frame the template is updated by exponential averaging,
``T <- (1 - zLR) T + zLR T_new`` (T_new from a 255 px crop at the new position, ``tracker.m``).

Registered names: ``cfnet`` (= CFNet-conv2, the paper's main variant), ``cfnet-conv1``,
``cfnet-conv2``, ``cfnet-conv5``; hyperparameters per variant from
``run_cfnet{1,2}_evaluation.m`` (configs/trackers/cfnet*.yaml).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import CheckpointError
from bench.core.registry import register_tracker
from sot.checkpoints.common import load_strict, unwrap
from sot.checkpoints.files import read_torch_file, resolve_weights
from sot.models.cfnet import build_cfnet
from sot.parts.crop import crop_many
from sot.parts.windows import hann2d

from .siamfc import SiamFC, SiamFCConfig


@dataclasses.dataclass
class CFNetConfig(SiamFCConfig):
    """CFNet tracker settings (pixels of the 255 px network input unless stated)."""

    variant: str = "conv2"           # conv1 / conv2 / conv5 (without a weight file)
    out_channels: int = 32           # last trunk layer width (without a weight file)
    cf_lambda: float = 10.0          # CF regulariser (without a weight file)
    exemplar_size: int = 255
    instance_size: int = 255
    score_size: int = 33
    total_stride: int = 4
    response_up: int = 8
    scale_step: float = 1.0575
    scale_penalty: float = 0.978
    scale_lr: float = 0.52
    window_influence: float = 0.2625
    z_lr: float = 0.005              # template learning rate of the rolling average
    default_weights: str = "cfnet-conv2.pth"


@register_tracker("cfnet", kind="sot", config="trackers/cfnet.yaml")
class CFNetTracker(SiamFC):
    """CFNet-conv2: SiamFC search with a closed-form correlation-filter template, averaged over time."""

    Config = CFNetConfig

    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        c = self.config
        path = resolve_weights(weights, c.default_weights)
        arch = {"net": "cfnet", "variant": c.variant, "width": c.width, "out_channels": c.out_channels,
                "lambda": c.cf_lambda}
        self.loaded = path is not None
        if path is not None:
            raw = read_torch_file(path)
            meta = raw.get("meta") if isinstance(raw, dict) else None
            if not isinstance(meta, dict) or "arch" not in meta:
                raise CheckpointError(f"{path}: CFNet weight file without 'meta.arch' (train one with "
                                      f"`python -m sot.train --config configs/train/cfnet.yaml`)")
            arch = dict(meta["arch"])
            net = build_cfnet(arch)
            load_strict(net, unwrap(raw, path), path)
        else:
            net = build_cfnet(arch)
        n = c.scale_num
        self.scale_factors = c.scale_step ** np.linspace(-(n // 2), n // 2, n)
        self.upscale = c.response_up * c.score_size
        self.hann = hann2d(self.upscale, normalize=True)
        penalty = np.full(n, c.scale_penalty)
        penalty[n // 2] = 1.0
        self.scale_penalties = penalty
        return net

    def template_features(self, x: torch.Tensor) -> torch.Tensor:
        """CF templates of exemplar crops (one crop per pass, see SiameseTracker)."""
        with torch.inference_mode():
            return torch.cat([self.net.template(x[i:i + 1]) for i in range(len(x))])

    def _step(self, image: np.ndarray, states: Sequence) -> Tuple[np.ndarray, np.ndarray]:
        boxes, scores = super()._step(image, states)
        c = self.config
        if c.z_lr > 0:
            centers = np.stack([t.center for t in states])
            z_sz = np.array([t.z_sz for t in states])
            buf = self.buffers.crops(len(states), c.exemplar_size)
            crop_many(image, centers, z_sz, c.exemplar_size, np.stack([t.avg for t in states]), buf)
            new = self.template_features(self.buffers.tensor(buf))
            for i, t in enumerate(states):
                t.kernel = (1 - c.z_lr) * t.kernel + c.z_lr * new[i:i + 1]
        return boxes, scores


@register_tracker("cfnet-conv1", kind="sot", config="trackers/cfnet-conv1.yaml")
class CFNetConv1(CFNetTracker):
    """CFNet-conv1 (run_cfnet1_evaluation.m hyperparameters)."""


@register_tracker("cfnet-conv2", kind="sot", config="trackers/cfnet.yaml")
class CFNetConv2(CFNetTracker):
    """CFNet-conv2 (= cfnet)."""


@register_tracker("cfnet-conv5", kind="sot", config="trackers/cfnet-conv5.yaml")
class CFNetConv5(CFNetTracker):
    """CFNet-conv5."""
