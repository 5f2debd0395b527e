"""MemTrack (Yang & Chan, ECCV 2018) on SiamFC: the template of every frame comes from a memory.

SiamFC's search (:mod:`sot.trackers.siamfc`, MemTrack's own values from skyoung/MemTrack
``config.py``) with the template chosen by ``memory``:

* ``learned`` (the paper): the LSTM controller reads the centre-scale search feature at the
  previous position through spatial attention and emits the read key / strength, the gates
  and the channel-wise residual gate (:class:`sot.parts.memory.MemTrackMemory`); after the
  frame the exemplar at the new position is written (allocation to the least-used slot);
* ``fixed``: the toolkit's fixed-gate bank (:class:`sot.parts.memory.TemplateMemory`,
  ``T = (1 - g) T0 + g sum_j w_j M_j``), written every ``write_interval`` frames;
* ``none``: plain SiamFC with the same weights (the ablation's "no memory").
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import CheckpointError, ConfigError
from bench.core.registry import register_tracker
from sot.checkpoints.common import load_strict, unwrap
from sot.checkpoints.files import read_torch_file, resolve_weights
from sot.models.memtrack import build_memtrack
from sot.parts.crop import crop_many
from sot.parts.memory import TemplateMemory
from sot.parts.windows import hann2d

from .siamfc import SiamFC, SiamFCConfig


@dataclasses.dataclass
class MemTrackConfig(SiamFCConfig):
    memory: str = "learned"          # learned / fixed / none
    slots: int = 8
    hidden: int = 256
    fixed_gate: float = 0.2
    fixed_tau: float = 0.1
    write_interval: int = 1
    scale_step: float = 1.05
    scale_penalty: float = 0.97
    scale_lr: float = 0.6
    window_influence: float = 0.15
    default_weights: str = "memtrack.pth"


@register_tracker("memtrack", kind="sot", config="trackers/memtrack.yaml")
class MemTrack(SiamFC):
    """MemTrack: SiamFC with a learned dynamic template memory (LSTM controller, gated residual)."""

    Config = MemTrackConfig

    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        c = self.config
        if c.memory not in ("learned", "fixed", "none"):
            raise ConfigError(f"memtrack: memory must be learned, fixed or none, not {c.memory!r}")
        path = resolve_weights(weights, c.default_weights)
        arch = {"net": "memtrack", "width": c.width, "out_scale": c.out_scale, "slots": c.slots, "hidden": c.hidden}
        self.loaded = path is not None
        if path is not None:
            raw = read_torch_file(path)
            meta = raw.get("meta") if isinstance(raw, dict) else None
            if not isinstance(meta, dict) or "arch" not in meta:
                raise CheckpointError(f"{path}: MemTrack weight file without 'meta.arch'")
            arch = dict(meta["arch"])
            net = build_memtrack(arch)
            load_strict(net, unwrap(raw, path), path)
        else:
            net = build_memtrack(arch)
        n = c.scale_num
        self.scale_factors = c.scale_step ** np.linspace(-(n // 2), n // 2, n)
        self.upscale = c.response_up * ((c.instance_size - c.exemplar_size) // c.total_stride + 1)
        self.hann = hann2d(self.upscale, normalize=True)
        penalty = np.full(n, c.scale_penalty)
        penalty[n // 2] = 1.0
        self.scale_penalties = penalty
        return net

    def _start(self, image: np.ndarray, boxes: np.ndarray):
        states = super()._start(image, boxes)
        c = self.config
        for t in states:
            t.t0 = t.kernel
            t.frame = 0
            if c.memory == "learned":
                with torch.inference_mode():
                    t.mem = self.net.memory.init_state(t.kernel)
            elif c.memory == "fixed":
                t.mem = TemplateMemory(c.slots, c.fixed_tau, 0.99)
        return states

    def _step(self, image: np.ndarray, states: Sequence) -> Tuple[np.ndarray, np.ndarray]:
        c = self.config
        steps = []
        if c.memory != "none":
            centers = np.stack([t.center for t in states])
            buf = self.buffers.crops(len(states), c.instance_size)
            crop_many(image, centers, np.array([t.x_sz for t in states]), c.instance_size,
                      np.stack([t.avg for t in states]), buf)
            xf = self.search_features(self.buffers.tensor(buf), 1)
            for i, t in enumerate(states):
                if c.memory == "learned":
                    with torch.inference_mode():
                        t.kernel, stp = self.net.memory.read(t.mem, xf[i:i + 1])
                    steps.append(stp)
                else:
                    read = t.mem.read(xf[i, :, 8:14, 8:14]) if len(t.mem) else None
                    t.kernel = t.t0 if read is None else (1 - c.fixed_gate) * t.t0 + c.fixed_gate * read[0]
        boxes, scores = super()._step(image, states)
        if c.memory != "none":
            centers = np.stack([t.center for t in states])
            buf = self.buffers.crops(len(states), c.exemplar_size)
            crop_many(image, centers, np.array([t.z_sz for t in states]), c.exemplar_size,
                      np.stack([t.avg for t in states]), buf)
            new = self.template_features(self.buffers.tensor(buf))
            for i, t in enumerate(states):
                t.frame += 1
                if c.memory == "learned":
                    with torch.inference_mode():
                        t.mem = self.net.memory.write_step(t.mem, steps[i], new[i:i + 1])
                elif t.frame % max(1, c.write_interval) == 0:
                    t.mem.write(new[i], [new[i:i + 1]])
        return boxes, scores
