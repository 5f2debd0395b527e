"""ADNet checkpoints -> :class:`sot.models.adnet.ADNetNet`.

Formats:

* **This toolkit** (``sot/weights/adnet.pth``): ``{'state_dict': {backbone.conv1.weight, ...,
  fc4, fc5, fc6, fc6_ah, fc7, fc7_ah}, 'meta': {'arch': 'adnet', ...}}``.
* **Official MATLAB weights** (hellbell/ADNet ``models/net_rl.mat``, saved by
  ``adnet_train.m``, is a ``dagnn.DagNN`` object scipy cannot read): the dump of ``net.params(i).value`` written by the TF port's
  ``convert.m`` as a v7.3 (HDF5) file ``net_rl_weights.mat`` with variables
  ``conv1f, conv1b, conv2f, conv2b, conv3f, conv3b, fc4f, fc4b, fc5f, fc5b, fc6_1f,
  fc6_2f`` (and ``fc6_1b, fc6_2b`` if your dump includes them). HDF5 stores the arrays
  with the axes reversed; :func:`sot.checkpoints.common.read_mat` restores MATLAB order
  (H x W x Cin x Cout), then filters are permuted to Cout x Cin x H x W. A classic
  (scipy-readable) .mat with the same variables works too.

  ``fc6_1f`` is 1x1x622x11 and ``fc6_2f`` 1x1x622x2: input channels 1-512 are fc5's
  output, 513-622 the action history (concatenated after fc5 in the official
  ``adnet_train_RL.m``); they become ``fc6``/``fc6_ah`` and ``fc7``/``fc7_ah``. A
  512-input head (an SL-stage dump) gets zero history weights. ``convert.m`` does not
  export the head biases: a missing ``fc6_1b`` becomes 0.01 (the value ``adnet_test.m``
  writes into it before tracking anyway) and a missing ``fc6_2b`` becomes 0 (the TF
  port's choice); a warning says so. Every other variable is required, unknown
  variables are an error, and every shape is checked. Subnormal weights are set to 0
  (:func:`sot.checkpoints.files.flush_denormals`).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
import torch

from bench.core.errors import CheckpointError
from sot.models.adnet import ADNetNet
from sot.parts.actions import NUM_ACTIONS

from .common import load_strict, matconvnet_filter, read_mat, unwrap
from .files import PathLike, flush_denormals, read_torch_file

MAT_VARS = ("conv1f", "conv1b", "conv2f", "conv2b", "conv3f", "conv3b", "fc4f", "fc4b", "fc5f", "fc5b",
            "fc6_1f", "fc6_1b", "fc6_2f", "fc6_2b")
OPTIONAL_DEFAULTS = {"fc6_1b": 0.01, "fc6_2b": 0.0}


def _bias(v: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.asarray(v, dtype=np.float32).reshape(-1)))


def convert_matlab(mat: Mapping[str, object], path: PathLike = "?") -> Tuple[Dict[str, torch.Tensor], int]:
    """Dumped DagNN params -> (state dict in this toolkit's keys, history length)."""
    vals = {k.split("/")[-1]: v for k, v in mat.items() if not k.startswith("__")}
    unknown = sorted(k for k in vals if k not in MAT_VARS)
    if unknown:
        raise CheckpointError(f"{path}: unexpected variables {', '.join(unknown)} (expected {', '.join(MAT_VARS)})")
    missing = [k for k in MAT_VARS if k not in vals and k not in OPTIONAL_DEFAULTS]
    if missing:
        raise CheckpointError(f"{path}: missing variables {', '.join(missing)} (an ADNet weight dump has "
                              f"{', '.join(MAT_VARS[:11])}, fc6_2f)")
    out: Dict[str, torch.Tensor] = {}
    for name, key in (("conv1", "backbone.conv1"), ("conv2", "backbone.conv2"), ("conv3", "backbone.conv3"),
                      ("fc4", "fc4"), ("fc5", "fc5")):
        w = np.asarray(vals[name + "f"], dtype=np.float32)
        if w.ndim != 4:
            raise CheckpointError(f"{path}: {name}f has shape {w.shape}, expected H x W x Cin x Cout")
        wt = matconvnet_filter(w)
        out[key + ".weight"] = wt.reshape(wt.shape[0], -1) if key.startswith("fc") else wt
        out[key + ".bias"] = _bias(vals[name + "b"])
    fc_dim = out["fc5.weight"].shape[0]
    hist = 0
    for head, key, n_out in (("fc6_1", "fc6", NUM_ACTIONS), ("fc6_2", "fc7", 2)):
        w = matconvnet_filter(np.asarray(vals[head + "f"], dtype=np.float32))
        w = w.reshape(w.shape[0], -1)
        if w.shape[0] != n_out or w.shape[1] < fc_dim:
            raise CheckpointError(f"{path}: {head}f maps {w.shape[1]} -> {w.shape[0]} channels, expected "
                                  f"{fc_dim} (+ history) -> {n_out}")
        h = w.shape[1] - fc_dim
        if hist and h != hist:
            raise CheckpointError(f"{path}: fc6_1f and fc6_2f have different history widths ({hist} vs {h})")
        hist = hist or h
        out[key + ".weight"] = w[:, :fc_dim].contiguous()
        out[key + "_ah.weight"] = w[:, fc_dim:].contiguous()
        bname = head + "b"
        if bname in vals:
            out[key + ".bias"] = _bias(vals[bname])
        else:
            warnings.warn(f"{path}: no {bname} in the dump (convert.m omits it); using {OPTIONAL_DEFAULTS[bname]}")
            out[key + ".bias"] = torch.full((n_out,), OPTIONAL_DEFAULTS[bname])
    if hist % NUM_ACTIONS:
        raise CheckpointError(f"{path}: history width {hist} is not a multiple of {NUM_ACTIONS} actions")
    return out, hist // NUM_ACTIONS


def read_adnet_state(path: PathLike, lrn: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], Dict[str, object]]:
    """Any supported ADNet file -> (state dict, meta with channels / fc_dim / lrn / history)."""
    path = Path(path)
    meta: Dict[str, object] = {}
    if path.suffix.lower() == ".mat":
        state, hist = convert_matlab(read_mat(path), path)
        meta.update(format="matlab", lrn=lrn or "matconvnet", history=hist)
    else:
        obj = read_torch_file(path)
        if not (isinstance(obj, Mapping) and isinstance(obj.get("meta"), Mapping)
                and obj["meta"].get("arch") == "adnet"):
            raise CheckpointError(f"{path}: not an ADNet weight file of this toolkit (no meta.arch == 'adnet'); "
                                  "official weights come as a .mat dump (see sot/checkpoints/adnet.py)")
        state = unwrap(obj, path)
        meta.update(obj["meta"])
        meta.update(format="bench", lrn=lrn or str(obj["meta"].get("lrn", "matconvnet")))
    try:
        meta["channels"] = [int(state[f"backbone.conv{i}.weight"].shape[0]) for i in (1, 2, 3)]
        meta["fc_dim"] = int(state["fc4.weight"].shape[0])
    except KeyError as exc:
        raise CheckpointError(f"{path}: checkpoint lacks {exc.args[0]}") from None
    if "history" not in meta:
        ah = state.get("fc6_ah.weight")
        meta["history"] = int(ah.shape[1]) // NUM_ACTIONS if ah is not None else 10
    return state, meta


def load_adnet(path: PathLike, lrn: Optional[str] = None) -> ADNetNet:
    """Build an :class:`ADNetNet` from ``path`` with strict key and shape checks."""
    state, meta = read_adnet_state(path, lrn)
    state = flush_denormals(state)
    hist = int(meta["history"]) or 10
    net = ADNetNet(fc_dim=int(meta["fc_dim"]), lrn=str(meta["lrn"]), channels=tuple(meta["channels"]),
                   history=hist)
    if int(meta["history"]) == 0:  # SL-stage dump: no history inputs yet
        state = {k: v for k, v in state.items() if not k.endswith("_ah.weight")}
        load_strict(net, state, path, ignore_missing=["fc6_ah.weight", "fc7_ah.weight"])
    else:
        load_strict(net, state, path)
    net.meta.update({k: v for k, v in meta.items() if k not in ("channels", "fc_dim", "lrn", "history")})
    return net


def build_adnet(path: Optional[PathLike], lrn: str = "auto") -> ADNetNet:
    """The network from ``path`` (any supported format), or the official architecture with random
    weights when ``path`` is None (MatConvNet LRN unless ``lrn`` says otherwise)."""
    if path is None:
        return ADNetNet(lrn="matconvnet" if lrn == "auto" else lrn)
    return load_adnet(path, lrn=None if lrn == "auto" else lrn)
