"""SiamFC (Bertinetto et al., ECCV-W 2016) as in siamfc-pytorch ``siamfc/siamfc.py``.

Per frame and target: ``scale_num`` search crops of side ``x_sz * scale_step^k`` resized to
``instance_size``; one backbone pass for all crops of all targets; xcorr with the
exemplar feature (x ``out_scale``); responses upsampled x``response_up`` (bicubic);
non-central scales multiplied by ``scale_penalty``; best scale; response normalised and
blended with a Hann window (``window_influence``); peak -> displacement in image
pixels; size damped by ``scale_lr``. Sizes clamped to [``min_scale``, ``max_scale``]
x the initial search size (MATLAB ``tracker.m``).

Two registered names: ``siamfc`` (3 scales) and ``siamfc-5s`` (the paper's 5-scale
variant, ``configs/trackers/siamfc-5s.yaml``).
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from bench.core.registry import register_tracker
from sot.checkpoints.detect import load_siamese_net
from sot.checkpoints.files import resolve_weights
from sot.parts.crop import crop_many, exemplar_size
from sot.parts.windows import hann2d

from .siamese import SiameseTracker


@dataclasses.dataclass
class SiamFCConfig:
    """SiamFC hyperparameters (sizes in pixels of the network input unless stated)."""

    width: float = 1.0               # backbone channel multiplier used without a weight file
    out_scale: float = 0.001         # response gain (MATLAB "adjust" layer)
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5             # exemplar context: p = context * (w + h)
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.176
    response_up: int = 16
    total_stride: int = 8
    min_scale: float = 0.2           # search size clamp, x initial
    max_scale: float = 5.0
    default_weights: str = "siamfc.pth"   # file in sot/weights used without --weights; "none" = random


@dataclasses.dataclass
class _Target:
    center: np.ndarray          # (2,) continuous cx, cy
    size: np.ndarray            # (2,) w, h
    z_sz: float
    x_sz: float
    x_sz0: float
    avg: np.ndarray             # (3,) per-channel image mean (crop padding)
    kernel: torch.Tensor        # (1, C, 6, 6) exemplar feature


@register_tracker("siamfc", kind="sot", config="trackers/siamfc.yaml")
class SiamFC(SiameseTracker):
    """SiamFC: fully-convolutional Siamese tracker, multi-scale search (siamfc-pytorch)."""

    Config = SiamFCConfig

    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        c = self.config
        path = resolve_weights(weights, c.default_weights)
        arch = {"net": "siamfc", "width": c.width, "out_scale": c.out_scale}
        net, self.loaded = load_siamese_net(path, arch, "siamfc")
        self.net_head_scale = net.head.out_scale
        n = c.scale_num
        self.scale_factors = c.scale_step ** np.linspace(-(n // 2), n // 2, n)
        self.upscale = c.response_up * ((c.instance_size - c.exemplar_size) // c.total_stride + 1)
        self.hann = hann2d(self.upscale, normalize=True)
        penalty = np.full(n, c.scale_penalty)
        penalty[n // 2] = 1.0
        self.scale_penalties = penalty
        return net

    def _start(self, image: np.ndarray, boxes: np.ndarray) -> List[_Target]:
        c = self.config
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        avg = image.reshape(-1, 3).mean(axis=0)
        centers = boxes[:, :2] + boxes[:, 2:] / 2
        z_sz = np.array([exemplar_size(w, h, c.context) for w, h in boxes[:, 2:]])
        buf = self.buffers.crops(len(boxes), c.exemplar_size)
        crop_many(image, centers, z_sz, c.exemplar_size, np.repeat(avg[None], len(boxes), 0), buf)
        feats = self.template_features(self.buffers.tensor(buf))
        out = []
        for i in range(len(boxes)):
            x_sz = z_sz[i] * c.instance_size / c.exemplar_size
            out.append(_Target(centers[i].copy(), boxes[i, 2:].copy(), float(z_sz[i]), float(x_sz), float(x_sz),
                               avg.copy(), feats[i:i + 1]))
        return out

    def _step(self, image: np.ndarray, states: Sequence[_Target]) -> Tuple[np.ndarray, np.ndarray]:
        c = self.config
        n, s = len(states), c.scale_num
        centers = np.repeat(np.stack([t.center for t in states]), s, axis=0)
        x_sz = np.array([t.x_sz for t in states])
        sizes = (x_sz[:, None] * self.scale_factors[None]).reshape(-1)
        pads = np.repeat(np.stack([t.avg for t in states]), s, axis=0)
        buf = self.buffers.crops(n * s, c.instance_size)
        crop_many(image, centers, sizes, c.instance_size, pads, buf)
        kernels = states[0].kernel if n == 1 else torch.cat([t.kernel for t in states])
        xf = self.search_features(self.buffers.tensor(buf), s)
        with torch.inference_mode():
            resp = self.net.head(kernels, xf)
        resp = resp.numpy()[:, 0]                               # (n*s, 17, 17)
        up = _upsample(resp, self.upscale)                      # (n*s, U, U)
        up = up.reshape(n, s, self.upscale, self.upscale)
        up *= self.scale_penalties[None, :, None, None]
        peaks = up.reshape(n, s, -1).max(axis=2)
        best = peaks.argmax(axis=1)
        boxes = np.empty((n, 4))
        scores = np.empty(n)
        half = (self.upscale - 1) / 2
        for i, t in enumerate(states):
            r = up[i, best[i]].astype(np.float64)
            scores[i] = float(resp[i * s + best[i]].max())
            r -= r.min()
            r /= r.sum() + 1e-16
            r = (1 - c.window_influence) * r + c.window_influence * self.hann
            loc = np.unravel_index(int(r.argmax()), r.shape)    # (row, col)
            disp = (np.array([loc[1], loc[0]], dtype=np.float64) - half) * c.total_stride / c.response_up
            disp *= t.x_sz * self.scale_factors[best[i]] / c.instance_size
            t.center = t.center + disp
            scale = (1 - c.scale_lr) + c.scale_lr * self.scale_factors[best[i]]
            new_x = float(np.clip(t.x_sz * scale, c.min_scale * t.x_sz0, c.max_scale * t.x_sz0))
            scale = new_x / t.x_sz
            t.size = t.size * scale
            t.z_sz *= scale
            t.x_sz = new_x
            boxes[i, :2] = t.center - t.size / 2
            boxes[i, 2:] = t.size
        return boxes, scores


def _upsample(resp: np.ndarray, size: int) -> np.ndarray:
    """Bicubic resize of (M, h, w) maps to (M, size, size): one cv2 call per 512 maps."""
    out = np.empty((len(resp), size, size), dtype=np.float32)
    for j in range(0, len(resp), 512):
        chunk = np.ascontiguousarray(resp[j:j + 512].transpose(1, 2, 0))
        r = cv2.resize(chunk, (size, size), interpolation=cv2.INTER_CUBIC)
        out[j:j + 512] = r.reshape(size, size, -1).transpose(2, 0, 1)
    return out


@register_tracker("siamfc-5s", kind="sot", config="trackers/siamfc-5s.yaml")
class SiamFC5s(SiamFC):
    """SiamFC with 5 scales (siamese-fc ``params-5s``): same code, the 5-scale YAML."""
