"""Weight-file format detection for the Siamese trackers.

``load_siamese(path)`` reads a file (``torch.load(weights_only=True)``), unwraps it,
recognises its format by its key names and returns a :class:`Loaded` holding the
architecture, the state dict renamed to this toolkit's module names, the input
convention and the tracker settings that go with the checkpoint.

Formats: ``bench`` (this toolkit's own, with ``meta``), ``siamfc-pytorch``
(``backbone.conv1.0.weight``...), ``dasiamrpn`` (``featureExtract.0.weight``...),
``pysot`` (``backbone.features.0.weight`` + ``rpn_head.*``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, Mapping, Union

import torch

from bench.core.errors import CheckpointError

from .common import read_torch_file, unwrap


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


def detect_format(state: Mapping[str, torch.Tensor]) -> str:
    keys = set(state)
    if any(k.startswith("featureExtract.") for k in keys):
        return "dasiamrpn"
    if any(k.startswith("backbone.features.") for k in keys) and any(k.startswith("rpn_head.") for k in keys):
        return "pysot"
    if "backbone.conv1.0.weight" in keys:
        return "siamfc-pytorch"
    if "backbone.conv1.conv.weight" in keys:
        return "bench"
    return "unknown"


def load_siamese(path: Union[str, Path], variant: str = "auto") -> Loaded:
    """Read and convert a Siamese weight file; ``variant`` picks DaSiamRPN settings
    (``auto`` from the file name: BIG / VOT / OTB)."""
    path = Path(path)
    raw = read_torch_file(path)
    meta = raw.get("meta") if isinstance(raw, Mapping) else None
    state = unwrap(raw, path)
    fmt = detect_format(state)
    if fmt == "bench":
        if not isinstance(meta, Mapping) or "arch" not in meta:
            raise CheckpointError(f"{path}: toolkit weight file without 'meta.arch' (architecture)")
        return Loaded("bench", dict(meta["arch"]), state, str(meta.get("input", "rgb")), {}, "bench")
    if fmt == "siamfc-pytorch":
        from .siamfc import convert_siamfc_pytorch

        return convert_siamfc_pytorch(state, path)
    if fmt == "dasiamrpn":
        from .dasiamrpn import convert_dasiamrpn

        return convert_dasiamrpn(state, path, variant)
    if fmt == "pysot":
        from .pysot import convert_pysot

        return convert_pysot(state, path)
    sample = ", ".join(sorted(state)[:5])
    raise CheckpointError(f"{path}: unknown weight format (first keys: {sample}); expected siamfc-pytorch "
                          "(backbone.conv1.0.*), DaSiamRPN (featureExtract.*), pysot (backbone.features.*, "
                          "rpn_head.*) or this toolkit's own files")


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
