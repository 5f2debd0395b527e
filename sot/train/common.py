"""Pieces every training recipe uses: seeding, checkpoints with resume, progress bars.

Checkpoints hold only tensors and plain Python values so that they load with
``torch.load(weights_only=True)``. A checkpoint is written atomically after each
epoch as ``<out>/checkpoint_last.pth``; ``--resume`` continues from it.
"""
from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

import numpy as np
import torch

from bench.core.io import atomic_write_bytes, atomic_write_text
from sot.checkpoints.common import read_torch_file

LAST = "checkpoint_last.pth"


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; use deterministic algorithms; return a NumPy generator."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def save_checkpoint(out_dir: Path, epoch: int, model: torch.nn.Module,
                    optimizer: Optional[torch.optim.Optimizer] = None, extra: Optional[Dict[str, Any]] = None,
                    rng_state: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``<out>/checkpoint_last.pth`` (atomic) with model, optimizer and progress."""
    out_dir = Path(out_dir)
    obj: Dict[str, Any] = {"epoch": int(epoch), "state_dict": model.state_dict()}
    if optimizer is not None:
        obj["optimizer"] = optimizer.state_dict()
    if extra:
        obj["extra"] = extra
    obj["torch_rng"] = torch.get_rng_state()
    if rng_state is not None:
        obj["rng"] = rng_state
    buf = io.BytesIO()
    torch.save(obj, buf)
    path = out_dir / LAST
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_checkpoint(out_dir: Path) -> Optional[Dict[str, Any]]:
    """The last checkpoint in ``out_dir`` or None."""
    path = Path(out_dir) / LAST
    if not path.is_file():
        return None
    return read_torch_file(path)


def write_log(out_dir: Path, record: Dict[str, Any]) -> None:
    """Append one JSON line to ``<out>/log.jsonl`` (rewritten atomically)."""
    path = Path(out_dir) / "log.jsonl"
    old = path.read_text() if path.is_file() else ""
    atomic_write_text(path, old + json.dumps(record) + "\n")


def progress(it: Iterable, quiet: bool = False, **kw):
    if quiet:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, **kw)
