"""MOT tracker outputs on disk, in TrackEval's layout.

``<tracker folder>/data/<seq>.txt`` (the tracker folder is ``<out>/<dataset>/<tracker>``),
one MOTChallenge row per box::

    frame, id, x, y, w, h, conf, -1, -1, -1      (1-based frame, xywh in pixels)

Each file is written atomically (:mod:`bench.core.io`), so an existing file is a finished
sequence (used to resume a run). Run timings go beside it in ``<tracker folder>/timing/<seq>.json``.

:func:`read_mot_results` reads any tracker's file (7 to 10 columns) and validates it:
wrong column count, non-integer or non-positive frames, negative or non-integer ids, NaN
boxes and an id used twice in one frame raise :class:`DataError` naming file and line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ..core.errors import DataError
from ..core.io import atomic_write_text
from ..core.mot_text import check_rows, read_mot_text

PathLike = Union[str, Path]

#: columns of a MOTChallenge tracker file
RESULT_COLUMNS = ("frame", "id", "x", "y", "w", "h", "conf", "x3d", "y3d", "z3d")


def result_file(tdir: PathLike, seq: str) -> Path:
    """``<tracker folder>/data/<seq>.txt``."""
    return Path(tdir) / "data" / f"{seq}.txt"


def timing_file(tdir: PathLike, seq: str) -> Path:
    """``<tracker folder>/timing/<seq>.json``."""
    return Path(tdir) / "timing" / f"{seq}.json"


def format_mot_rows(rows: np.ndarray) -> str:
    """MOTChallenge text for rows ``frame, id, x, y, w, h, conf`` (N, >=7): boxes with 3 decimals."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return ""
    lines = [f"{int(r[0])},{int(r[1])},{r[2]:.3f},{r[3]:.3f},{r[4]:.3f},{r[5]:.3f},{r[6]:.6g},-1,-1,-1"
             for r in rows.tolist()]
    return "\n".join(lines) + "\n"


def write_mot_results(path: PathLike, rows: np.ndarray) -> Path:
    """Write rows ``frame, id, x, y, w, h, conf`` (N, >=7), sorted by frame then id, atomically."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or (rows.shape[0] and rows.shape[1] < 7):
        raise ValueError(f"write_mot_results: expected rows (N, >=7), got {rows.shape}")
    if rows.shape[0]:
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    path = Path(path)
    atomic_write_text(path, format_mot_rows(rows))
    return path


def write_timing(path: PathLike, frames: int, seconds: float) -> None:
    fps = frames / seconds if seconds > 0 else float("inf")
    atomic_write_text(Path(path), json.dumps({"frames": int(frames), "seconds": float(seconds),
                                              "fps": fps if np.isfinite(fps) else None}) + "\n")


def read_timing(path: PathLike) -> Optional[Dict[str, float]]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def read_mot_results(path: PathLike, length: Optional[int] = None) -> np.ndarray:
    """Read and validate a tracker file: float64 (N, C) with 7 <= C, rows in file order.

    ``length`` (the sequence length) also rejects frames beyond the sequence. An empty
    file is a tracker that reported nothing (shape (0, 7)).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("result file not found", path)
    rows = read_mot_text(path, 7)
    check_rows(rows, path, what="tracker results", length=length)
    return rows


def find_results_folder(results_dir: PathLike, names: List[str], dataset: Optional[str] = None,
                        tracker: Optional[str] = None) -> Optional[Path]:
    """The folder holding the ``<seq>.txt`` files of a tracker, or None.

    ``results_dir`` may be that folder (e.g. ``.../Lif_T/data``), the tracker folder holding
    ``data/``, or the run output root holding ``<dataset>/<tracker>/data/``.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise DataError("results folder not found", root)
    candidates = [root, root / "data"]
    if dataset and tracker:
        candidates.insert(0, root / dataset / tracker / "data")
    for c in candidates:
        if c.is_dir() and any((c / f"{n}.txt").is_file() for n in names):
            return c
    return None


def guess_tracker_name(results_dir: PathLike) -> str:
    """The tracker's name from its folder: ``.../Lif_T/data`` -> ``Lif_T``."""
    p = Path(results_dir).resolve()
    return p.parent.name if p.name == "data" else p.name
