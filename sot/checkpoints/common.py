"""Strict checkpoint conversion shared by every tracker's loader (files are read by
:mod:`sot.checkpoints.files`).

* :func:`unwrap` takes the state dict out of the usual wrappers (``state_dict``,
  ``model``, ``shared_layers``...), strips ``module.`` and drops ``num_batches_tracked``.
* :func:`load_strict` copies a mapped state dict into a module: every module key must
  be provided, every provided key used, every shape equal, otherwise a
  :class:`CheckpointError` lists all problems at once.
* :func:`read_mat` reads MATLAB files (classic via scipy, v7.3 via h5py with the axes
  reversed back to MATLAB order).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Mapping, Sequence

import numpy as np
import torch

from bench.core.errors import CheckpointError

from .files import PathLike


def unwrap(obj: object, path: PathLike = "?", wrappers: Sequence[str] = ("state_dict", "model", "net",
                                                                          "shared_layers")) -> Dict[str, torch.Tensor]:
    """Return a flat ``{name: tensor}`` state dict from a loaded checkpoint object."""
    seen = 0
    while isinstance(obj, Mapping) and seen < 3:
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors and len(tensors) >= len(obj) / 2:
            break
        for w in wrappers:
            if w in obj and isinstance(obj[w], Mapping):
                obj = obj[w]
                break
        else:
            break
        seen += 1
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a state dict (mapping of tensors), got {type(obj).__name__}")
    out: Dict[str, torch.Tensor] = {}
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            continue
        k = str(k)
        if k.startswith("module."):
            k = k[len("module."):]
        if k.endswith("num_batches_tracked"):
            continue
        out[k] = v
    if not out:
        raise CheckpointError(f"{path}: no tensors found in the checkpoint")
    return out


def load_strict(module: torch.nn.Module, state: Mapping[str, torch.Tensor], path: PathLike = "?",
                ignore_missing: Iterable[str] = ()) -> None:
    """Copy ``state`` into ``module``; every key used, every shape checked."""
    own = {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}
    ignore = set(ignore_missing)
    problems = []
    missing = [k for k in own if k not in state and k not in ignore]
    unexpected = [k for k in state if k not in own]
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    for k, v in state.items():
        if k in own and tuple(own[k].shape) != tuple(v.shape):
            problems.append(f"shape of {k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}")
    if problems:
        raise CheckpointError(f"{path}: checkpoint does not match the model:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        sd = module.state_dict()
        for k, v in state.items():
            sd[k].copy_(v.to(sd[k].dtype))


def read_mat(path: PathLike) -> Dict[str, object]:
    """Read a MATLAB .mat file. v7.3 (HDF5) arrays are returned in MATLAB axis order."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weight file not found")
    try:
        import scipy.io

        return scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=False)
    except NotImplementedError:  # v7.3
        pass
    except Exception as exc:
        if not _is_hdf5(path):
            raise CheckpointError(f"{path}: cannot read as a MATLAB file: {exc}") from None
    try:
        import h5py
    except ImportError:  # pragma: no cover
        raise CheckpointError(f"{path}: MATLAB v7.3 file; install h5py to read it") from None
    out: Dict[str, object] = {}
    try:
        with h5py.File(str(path), "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("#"):
                    arr = np.asarray(obj[()])
                    out[name] = arr.T if arr.ndim > 1 else arr  # h5py reverses MATLAB's axes
            f.visititems(visit)
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read as a MATLAB v7.3 (HDF5) file: {exc}") from None
    return out


def _is_hdf5(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(512 + 8)
    return b"\x89HDF\r\n\x1a\n" in head


def matconvnet_filter(w: np.ndarray) -> torch.Tensor:
    """MatConvNet filter H x W x Cin x Cout -> PyTorch Cout x Cin x H x W."""
    w = np.asarray(w, dtype=np.float32)
    if w.ndim == 2:
        w = w.reshape(1, 1, *w.shape)  # Cin x Cout (a 1x1 filter with the spatial axes squeezed)
    elif w.ndim == 3:
        w = w[..., None]
    return torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
