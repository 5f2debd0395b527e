"""MemTrack's network (Yang & Chan, ECCV 2018): SiamFC (``alexnet_siamfc`` + xcorr) with the learned
dynamic memory of :class:`sot.parts.memory.MemTrackMemory` producing the template of every frame."""
from __future__ import annotations

from typing import Any, Dict

import torch

from bench.core.errors import CheckpointError
from sot.backbones import build_backbone
from sot.heads.xcorr import SiamFCHead
from sot.parts.memory import MemTrackMemory


class MemTrackNet(torch.nn.Module):
    """``backbone`` (exemplar 127 -> 6x6, search 255 -> 22x22), ``memory`` (controller + slots), ``head``."""

    def __init__(self, width: float = 1.0, out_scale: float = 0.001, slots: int = 8, hidden: int = 512,
                 usage_decay: float = 0.99, keep_prob: float = 0.8):
        super().__init__()
        self.backbone = build_backbone("alexnet_siamfc", width=width)
        self.memory = MemTrackMemory(self.backbone.out_channels, slots, hidden, usage_decay, keep_prob)
        self.head = SiamFCHead(out_scale)


def build_memtrack(arch: Dict[str, Any]) -> MemTrackNet:
    if arch.get("net") != "memtrack":
        raise CheckpointError(f"not a MemTrack architecture: {arch.get('net')!r}")
    return MemTrackNet(float(arch.get("width", 1.0)), float(arch.get("out_scale", 0.001)), int(arch.get("slots", 8)),
                       int(arch.get("hidden", 512)), float(arch.get("usage_decay", 0.99)), float(arch.get("keep_prob", 0.8)))
