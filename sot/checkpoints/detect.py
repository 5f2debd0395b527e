"""Weight-file format detection for the Siamese trackers.

``load_siamese(path)`` reads a file (``torch.load(weights_only=True)``), unwraps it,
recognises its format by its key names and returns a :class:`Loaded` holding the
architecture, the state dict renamed to this toolkit's module names, the input
convention and the tracker settings that go with the checkpoint;
``load_siamese_net(path, ...)`` also builds the network (:mod:`sot.models.siamese`) and
loads the weights into it strictly.

Formats: ``bench`` (this toolkit's own, with ``meta``), ``siamfc-pytorch``
(``backbone.conv1.0.weight``...), ``dasiamrpn`` (``featureExtract.0.weight``...),
``pysot`` (``backbone.features.0.weight`` + ``rpn_head.*``), ``pysot-mobilenet`` (SiamRPN++
MobileNetV2: ``backbone.layer0.0.weight`` + ``neck.*`` + ``rpn_head.rpnN.*``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch

from bench.core.errors import CheckpointError
from sot.models.siamese import build_net

from .common import load_strict, unwrap
from .dasiamrpn import convert_dasiamrpn
from .files import read_torch_file
from .loaded import Loaded
from .pysot import convert_pysot
from .pysot_mobilenet import convert_pysot_mobilenet, is_pysot_mobilenet
from .siamfc import convert_siamfc_pytorch

__all__ = ["Loaded", "detect_format", "load_siamese", "load_siamese_net"]


def detect_format(state: Mapping[str, torch.Tensor]) -> str:
    keys = set(state)
    if any(k.startswith("featureExtract.") for k in keys):
        return "dasiamrpn"
    if is_pysot_mobilenet(keys):
        return "pysot-mobilenet"
    if any(k.startswith("backbone.features.") for k in keys) and any(k.startswith("rpn_head.") for k in keys):
        return "pysot"
    if "backbone.conv1.0.weight" in keys:
        return "siamfc-pytorch"
    if "backbone.conv1.conv.weight" in keys or "backbone.body.layer0.0.weight" in keys:
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
        return convert_siamfc_pytorch(state, path)
    if fmt == "dasiamrpn":
        return convert_dasiamrpn(state, path, variant)
    if fmt == "pysot":
        return convert_pysot(state, path)
    if fmt == "pysot-mobilenet":
        return convert_pysot_mobilenet(state, path)
    sample = ", ".join(sorted(state)[:5])
    raise CheckpointError(f"{path}: unknown weight format (first keys: {sample}); expected siamfc-pytorch "
                          "(backbone.conv1.0.*), DaSiamRPN (featureExtract.*), pysot (backbone.features.*, "
                          "rpn_head.*), pysot SiamRPN++ MobileNetV2 (backbone.layer0.*, neck.*, rpn_head.rpnN.*) "
                          "or this toolkit's own files")


def load_siamese_net(path: Optional[Path], default_arch: Dict[str, Any], expect: str,
                     variant: str = "auto") -> Tuple[torch.nn.Module, Optional[Loaded]]:
    """Build the network for ``path`` (None: ``default_arch``, random init) and load it strictly.

    Returns ``(net, loaded)``; ``loaded`` is the :class:`Loaded` record (None without a file).
    BGR checkpoints get conv1's input channels reversed so the network takes RGB.
    """
    if path is None:
        return build_net(default_arch), None
    loaded = load_siamese(path, variant)
    if loaded.arch.get("net") != expect:
        raise CheckpointError(f"{path}: a {loaded.arch.get('net')} checkpoint ({loaded.format}) cannot be "
                              f"used by a {expect} tracker")
    net = build_net(loaded.arch)
    load_strict(net, loaded.state, path)
    if loaded.input == "bgr":
        with torch.no_grad():
            first = net.input_conv() if hasattr(net, "input_conv") else net.backbone.conv1.conv
            first.weight.copy_(first.weight.flip(1))
    return net, loaded
