"""Weight files: the one module that finds, reads and writes them.

* :func:`resolve_weights`: the file a tracker loads: ``--weights`` if given, else the
  config's ``default_weights`` (a file in ``sot/weights/``, the shipped weights);
  ``""`` / ``none`` / ``random`` mean randomly initialised weights (None). A missing file
  is a :class:`CheckpointError` saying where it was looked for and how to go on.
* :func:`read_torch_file` loads with ``torch.load(..., weights_only=True)`` (never
  unpickles arbitrary objects) and turns every failure into a :class:`CheckpointError`
  naming the file.
* :func:`save_weights` writes a plain ``{'state_dict', 'meta'}`` file (atomic) that
  :func:`read_torch_file` reads back.
* :func:`flush_denormals` zeroes subnormal floats (applied to trained and loaded weights).

``sot/weights/`` is the data folder holding the shipped ``.pth`` files (see its README.md).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Dict, Mapping, Optional, Union

import torch

from bench.core.errors import CheckpointError

PathLike = Union[str, Path]
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
RANDOM = ("", "none", "null", "random")  # weight names meaning "randomly initialised"


def is_random(name: Optional[PathLike]) -> bool:
    return name is None or str(name).strip().lower() in RANDOM


def resolve_weights(weights: Optional[PathLike], default: Optional[PathLike]) -> Optional[Path]:
    """The weight file to load, or None for random initialisation.

    ``weights`` (``--weights``) wins when given: a path, or a bare file name of
    ``sot/weights/``. Otherwise ``default`` (the config's ``default_weights``): relative
    names are files of ``sot/weights/``.
    """
    if weights is not None and str(weights) != "":
        if is_random(weights):
            return None
        p = Path(weights)
        if not p.is_absolute() and not p.exists() and (WEIGHTS_DIR / p).is_file():
            p = WEIGHTS_DIR / p
        if not p.exists():
            raise CheckpointError(f"{weights}: weight file not found (looked in the working directory and "
                                  f"{WEIGHTS_DIR})")
        return p
    if is_random(default):
        return None
    p = Path(default)
    if not p.is_absolute():
        p = WEIGHTS_DIR / p
    if not p.is_file():
        raise CheckpointError(f"{p}: shipped weights not found; pass --weights FILE, or --set default_weights=none "
                              f"for randomly initialised weights")
    return p


def read_torch_file(path: PathLike) -> object:
    """``torch.load(path, weights_only=True)`` on CPU; every failure is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weight file not found")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickle with arbitrary objects, ...
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if msg.startswith("Weights only load failed"):
            # torch's own text goes on to suggest weights_only=False: never do that with an untrusted file
            msg = ("not a plain tensor file (corrupt, or a pickle holding arbitrary Python objects, "
                   "which is refused)")
        raise CheckpointError(f"{path}: cannot load as a PyTorch weight file "
                              f"(torch.load weights_only=True): {msg}") from None


def save_torch_file(path: PathLike, obj: object) -> Path:
    """``torch.save`` to memory, then an atomic write (no half-written file after a crash)."""
    from bench.core.io import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def save_weights(path: PathLike, state: Mapping[str, torch.Tensor], meta: Optional[Mapping[str, object]] = None) -> None:
    """Save a plain ``{name: tensor}`` dict (plus simple ``meta``) loadable with ``weights_only=True``."""
    obj: Dict[str, object] = {"state_dict": {k: v.detach().cpu().contiguous() for k, v in state.items()}}
    if meta:
        obj["meta"] = dict(meta)
    save_torch_file(path, obj)


def flush_denormals(state: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Float tensors with subnormal entries (|x| < 1.2e-38) set to exactly 0.

    Weight decay drives the weights of dead units toward zero through the subnormal range;
    x86 CPUs compute with subnormals up to ~10x slower (a conv layer of the first shipped
    MDNet ran 9x slower than with random weights). The change is below 1.2e-38 per value.
    """
    tiny = torch.finfo(torch.float32).tiny
    out: Dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if v.is_floating_point():
            sub = (v != 0) & (v.abs() < tiny)
            if bool(sub.any()):
                v = v.masked_fill(sub, 0.0)
        out[k] = v
    return out
