"""The result of converting a Siamese weight file (:class:`Loaded`) and the key checks the
format converters (:mod:`.siamfc`, :mod:`.dasiamrpn`, :mod:`.pysot`) share."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping

import torch

from bench.core.errors import CheckpointError


@dataclasses.dataclass
class Loaded:
    """A converted checkpoint. ``arch``: ``net`` ("siamfc" / "siamrpn"), ``backbone``, ``width``,
    ``head``, ``feature_out``...; ``input``: "rgb" or "bgr" (0-255, mean padding always);
    ``settings``: tracker config values that belong to this checkpoint."""

    format: str
    arch: Dict[str, Any]
    state: Dict[str, torch.Tensor]
    input: str = "rgb"
    settings: Dict[str, Any] = dataclasses.field(default_factory=dict)
    variant: str = ""


def require(state: Mapping[str, torch.Tensor], key: str, path, ndim: int) -> torch.Tensor:
    if key not in state:
        raise CheckpointError(f"{path}: missing key {key}")
    t = state[key]
    if t.ndim != ndim:
        raise CheckpointError(f"{path}: {key} has shape {tuple(t.shape)}, expected {ndim} dimensions")
    return t


def width_from_conv1(out_channels: int, path) -> float:
    """AlexNet width multiplier from conv1's output channels (96 -> 1, 192 -> 2 for BIG)."""
    return out_channels / 96
