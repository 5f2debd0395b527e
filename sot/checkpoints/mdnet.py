"""MDNet checkpoints -> :class:`sot.models.mdnet.MDNetNet`.

Formats:

* **This toolkit** (``sot/weights/mdnet.pth``): ``{'state_dict': {backbone.conv1.weight, ...,
  fc4.weight, fc5.weight, ...}, 'meta': {'arch': 'mdnet', 'channels', 'fc_dim', 'lrn'}}``.
* **py-MDNet** ``mdnet_vot-otb.pth`` / ``mdnet_imagenet_vid.pth``: ``{'shared_layers':
  layers.state_dict()}`` (py-MDNet ``pretrain/train_mdnet.py``, loaded by ``modules/model.py``
  ``load_model``) with keys ``conv{1,2,3}.0.{weight,bias}``, ``fc4.0.*``,
  ``fc5.1.*`` (index 1: dropout comes first). The fc6 branches are not saved (a
  full ``state_dict`` with ``branches.*`` keys is accepted; the branches are dropped,
  the tracker starts a fresh fc6 anyway). LRN flavour: ``nn.LocalResponseNorm(2)``
  (py-MDNet 1.0); pass ``lrn="matconvnet"`` for pre-1.0 py-MDNet models.
* **MATLAB MDNet** ``mdnet_vot-otb.mat`` etc. (MatConvNet simplenn, variable ``layers``
  or ``net.layers``; MATLAB MDNet ``tracking/mdnet_init.m``): the ``conv`` layers in order are conv1, conv2, conv3, fc4 (3x3
  conv), fc5 (1x1 conv) and optionally fc6 (dropped). Weights in ``weights = {W, b}``
  or ``filters`` / ``biases``. The LRN flavour is read from the ``norm`` layer's ``param``.

Loading is strict: every tensor of the network must be provided with its exact shape
(:func:`sot.checkpoints.common.load_strict`); ``torch.load(weights_only=True)`` only.
Subnormal float values are set to 0 on loading (:func:`sot.checkpoints.files.flush_denormals`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from bench.core.errors import CheckpointError
from sot.models.mdnet import MDNetNet

from .common import load_strict, matconvnet_filter, read_mat, unwrap
from .files import PathLike, flush_denormals, read_torch_file

PYMDNET_MAP = {
    "conv1.0.weight": "backbone.conv1.weight", "conv1.0.bias": "backbone.conv1.bias",
    "conv2.0.weight": "backbone.conv2.weight", "conv2.0.bias": "backbone.conv2.bias",
    "conv3.0.weight": "backbone.conv3.weight", "conv3.0.bias": "backbone.conv3.bias",
    "fc4.0.weight": "fc4.weight", "fc4.0.bias": "fc4.bias",
    "fc5.1.weight": "fc5.weight", "fc5.1.bias": "fc5.bias",
}
MATCONVNET_LRN = (5.0, 2.0, 1e-4, 0.75)  # [N kappa alpha beta] of VGG-M's norm layers


def _arch_from_state(state: Mapping[str, torch.Tensor], path: PathLike) -> Tuple[Tuple[int, int, int], int]:
    try:
        ch = tuple(int(state[f"backbone.conv{i}.weight"].shape[0]) for i in (1, 2, 3))
        fc = int(state["fc4.weight"].shape[0])
    except KeyError as exc:
        raise CheckpointError(f"{path}: checkpoint lacks {exc.args[0]} (not an MDNet checkpoint?)") from None
    return ch, fc  # type: ignore[return-value]


def convert_pymdnet(state: Mapping[str, torch.Tensor], path: PathLike = "?") -> Dict[str, torch.Tensor]:
    """py-MDNet ``shared_layers`` keys -> this toolkit's keys (unknown keys are an error)."""
    out: Dict[str, torch.Tensor] = {}
    unknown: List[str] = []
    for k, v in state.items():
        if k.startswith("branches."):
            continue
        if k in PYMDNET_MAP:
            out[PYMDNET_MAP[k]] = v
        else:
            unknown.append(k)
    if unknown:
        raise CheckpointError(f"{path}: unexpected keys for a py-MDNet checkpoint: {', '.join(unknown)} "
                              f"(expected {', '.join(PYMDNET_MAP)})")
    return out


def _field(obj, name: str):
    """A field of a scipy ``mat_struct`` (or dict), unwrapping 1x1 object arrays."""
    val = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    while isinstance(val, np.ndarray) and val.dtype == object and val.size == 1:
        val = val.reshape(-1)[0]
    return val


def _text(val) -> str:
    if isinstance(val, np.ndarray):
        return "".join(str(x) for x in val.reshape(-1))
    return "" if val is None else str(val)


def _mat_layers(mat: Mapping[str, object], path: PathLike) -> List[object]:
    layers = mat.get("layers")
    if layers is None and "net" in mat:
        layers = _field(_field_unwrap(mat["net"]), "layers")
    if layers is None:
        raise CheckpointError(f"{path}: no 'layers' (or 'net.layers') variable: not a MatConvNet simplenn model; "
                              f"variables: {', '.join(k for k in mat if not k.startswith('__'))}")
    arr = np.asarray(layers, dtype=object).reshape(-1)
    out = []
    for layer in arr:
        while isinstance(layer, np.ndarray) and layer.size == 1:
            layer = layer.reshape(-1)[0]
        out.append(layer)
    return out


def _field_unwrap(x):
    while isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(-1)[0]
    return x


def _layer_weights(layer, i: int, path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    w = _field(layer, "weights")
    if w is not None and not (isinstance(w, np.ndarray) and w.size == 0):
        ws = list(np.asarray(w, dtype=object).reshape(-1)) if isinstance(w, np.ndarray) and w.dtype == object else [w]
        if len(ws) != 2:
            raise CheckpointError(f"{path}: layer {i + 1}: 'weights' should hold {{filters, biases}}, has {len(ws)}")
        return np.asarray(ws[0], dtype=np.float32), np.asarray(ws[1], dtype=np.float32)
    f, b = _field(layer, "filters"), _field(layer, "biases")
    if f is None or b is None:
        raise CheckpointError(f"{path}: layer {i + 1} (conv) has neither 'weights' nor 'filters'/'biases'")
    return np.asarray(f, dtype=np.float32), np.asarray(b, dtype=np.float32)


def convert_matconvnet(mat: Mapping[str, object], path: PathLike = "?") -> Tuple[Dict[str, torch.Tensor], str]:
    """MatConvNet simplenn MDNet model -> (state dict in this toolkit's keys, LRN flavour)."""
    layers = _mat_layers(mat, path)
    convs, lrn = [], None
    for i, layer in enumerate(layers):
        t = _text(_field(layer, "type")).lower()
        if t == "conv":
            convs.append((i, layer))
        elif t in ("lrn", "norm") and lrn is None:
            param = np.asarray(_field(layer, "param"), dtype=np.float64).reshape(-1)
            if param.size != 4 or not np.allclose(param, MATCONVNET_LRN, rtol=1e-6):
                raise CheckpointError(f"{path}: layer {i + 1}: LRN param {param.tolist()} is not VGG-M's "
                                      f"{list(MATCONVNET_LRN)} (unsupported)")
            lrn = "matconvnet"
    if len(convs) < 5:
        raise CheckpointError(f"{path}: expected conv1-3, fc4 and fc5 (>= 5 conv layers), found {len(convs)}")
    names = ["backbone.conv1", "backbone.conv2", "backbone.conv3", "fc4", "fc5"]
    out: Dict[str, torch.Tensor] = {}
    for name, (i, layer) in zip(names, convs[:5]):
        w, b = _layer_weights(layer, i, path)
        if w.ndim < 2:
            raise CheckpointError(f"{path}: layer {i + 1} ({name}): filter has shape {w.shape}")
        wt = matconvnet_filter(w)  # Cout, Cin, H, W
        if name.startswith("fc"):
            wt = wt.reshape(wt.shape[0], -1)  # C, H, W flatten order (PyTorch view)
        out[name + ".weight"] = wt
        out[name + ".bias"] = torch.from_numpy(np.ascontiguousarray(b.reshape(-1)))
    return out, lrn or "matconvnet"


def read_mdnet_state(path: PathLike, lrn: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], Dict[str, object]]:
    """Any supported MDNet file -> (state dict in this toolkit's keys, meta with channels/fc_dim/lrn)."""
    path = Path(path)
    meta: Dict[str, object] = {}
    if path.suffix.lower() == ".mat":
        state, flavour = convert_matconvnet(read_mat(path), path)
        meta["format"] = "matconvnet"
    else:
        obj = read_torch_file(path)
        if isinstance(obj, Mapping) and isinstance(obj.get("meta"), Mapping) and obj["meta"].get("arch") == "mdnet":
            state = unwrap(obj, path)
            meta.update(obj["meta"])
            flavour = str(obj["meta"].get("lrn", "pytorch"))
            meta["format"] = "bench"
        else:
            state = convert_pymdnet(unwrap(obj, path), path)
            flavour = "pytorch"
            meta["format"] = "py-mdnet"
    channels, fc_dim = _arch_from_state(state, path)
    meta.update(channels=list(channels), fc_dim=fc_dim, lrn=lrn or flavour)
    return state, meta


def load_mdnet(path: PathLike, lrn: Optional[str] = None) -> MDNetNet:
    """Build an :class:`MDNetNet` (one fresh branch) from ``path``; shapes checked strictly."""
    state, meta = read_mdnet_state(path, lrn)
    state = flush_denormals(state)
    net = MDNetNet(fc_dim=int(meta["fc_dim"]), lrn=str(meta["lrn"]), channels=tuple(meta["channels"]))
    load_strict(net, state, path, ignore_missing=[k for k in net.state_dict() if k.startswith("branches.")])
    net.meta.update({k: v for k, v in meta.items() if k not in ("channels", "fc_dim", "lrn")})
    return net


def build_mdnet(path: Optional[PathLike], lrn: str = "auto") -> MDNetNet:
    """The network with shared layers from ``path`` (any supported format), or the official
    architecture with random weights when ``path`` is None. ``lrn="auto"`` takes the LRN
    flavour the checkpoint format implies (PyTorch's without a file)."""
    if path is None:
        return MDNetNet(lrn="pytorch" if lrn == "auto" else lrn)
    return load_mdnet(path, lrn=None if lrn == "auto" else lrn)
