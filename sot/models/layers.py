"""Small pieces of the networks in :mod:`sot.models`."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn

from bench.core.errors import ConfigError


def dropout(x: torch.Tensor, p: float, gen: Optional[torch.Generator]) -> torch.Tensor:
    """Inverted dropout (as ``nn.Dropout`` in training mode) with masks from a private
    ``torch.Generator``, so that a tracker's randomness depends only on its seed; identity
    when ``gen`` is None or p == 0."""
    if gen is None or p <= 0:
        return x
    keep = torch.rand(x.shape, generator=gen) >= p
    return x * keep / (1.0 - p)


def init_conv(backbone: nn.Module, init: str) -> None:
    """Initialise a VGG-M trunk's conv1-3. ``kaiming``: He-normal weights and zero biases (training
    from scratch, no ImageNet VGG-M at hand); ``pytorch``: keep PyTorch's default initialisation."""
    if init == "kaiming":
        for conv in (backbone.conv1, backbone.conv2, backbone.conv3):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
    elif init != "pytorch":
        raise ConfigError(f"init must be 'pytorch' or 'kaiming', not {init!r}")
