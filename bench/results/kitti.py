"""KITTI tracking results on disk: ``<tracker folder>/data/<seq>.txt`` in the KITTI label format.

One row per box, space separated, 0-based frames, the box as corners (what TrackEval
``Kitti2DBox`` and the KITTI server read)::

    frame id type -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000 -10 score

(the unused fields at the KITTI devkit's "invalid" defaults: truncation and occlusion -1,
alpha and rotation -10, dimensions -1, location -1000). Files are written atomically, as
MOTChallenge ones (:mod:`bench.results.mot`, whose timing files and folder search apply).

:func:`read_kitti_results` reads any KITTI tracking result file (17 or 18 fields; score 1
without the 18th) and validates it (:func:`bench.core.kitti_text.read_kitti_text`); rows
with a negative track id are dropped as TrackEval does (``remove_negative_ids``) and counted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

from ..core.errors import DataError
from ..core.io import atomic_write_text
from ..core.kitti_text import TYPE_NAMES, check_unique, read_kitti_text

PathLike = Union[str, Path]


def format_kitti_rows(rows: np.ndarray) -> str:
    """KITTI text for tracker rows ``frame (1-based), id, x1, y1, x2, y2, class, score`` (M, 8)."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return ""
    lines = []
    for r in rows.tolist():
        lines.append(f"{int(r[0]) - 1} {int(r[1])} {TYPE_NAMES[int(r[6])]} -1 -1 -10 {r[2]:.3f} {r[3]:.3f} "
                     f"{r[4]:.3f} {r[5]:.3f} -1 -1 -1 -1000 -1000 -1000 -10 {r[7]:.6g}")
    return "\n".join(lines) + "\n"


def write_kitti_results(path: PathLike, rows: np.ndarray) -> Path:
    """Write tracker rows ``frame (1-based), id, x1, y1, x2, y2, class, score``, sorted by frame then id."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or (rows.shape[0] and rows.shape[1] != 8):
        raise ValueError(f"write_kitti_results: expected rows (M, 8), got {rows.shape}")
    if rows.shape[0]:
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    path = Path(path)
    atomic_write_text(path, format_kitti_rows(rows))
    return path


def mot_rows_to_kitti(rows: np.ndarray, class_id: int) -> np.ndarray:
    """Tracker output rows ``frame, id, x, y, w, h, score`` (N, >=7) as KITTI tracker rows of class ``class_id``."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return np.zeros((0, 8))
    if rows.ndim != 2 or rows.shape[1] < 7:
        raise ValueError(f"mot_rows_to_kitti: expected rows (N, >=7), got {rows.shape}")
    out = np.empty((len(rows), 8))
    out[:, 0:2] = rows[:, 0:2]
    out[:, 2:4] = rows[:, 2:4]
    out[:, 4:6] = rows[:, 2:4] + rows[:, 4:6]
    out[:, 6] = class_id
    out[:, 7] = rows[:, 6]
    return out


def read_kitti_results(path: PathLike, length: Optional[int] = None) -> Tuple[np.ndarray, int]:
    """Tracker rows ``frame (1-based), id, x1, y1, x2, y2, class, score`` and the count of rows
    dropped for a negative track id."""
    path = Path(path)
    if not path.is_file():
        raise DataError("result file not found", path)
    rows, lines = read_kitti_text(path, what="tracker results", length=length)
    drop = rows[:, 1] < 0
    rows, lines = rows[~drop], lines[~drop]
    check_unique(rows, lines, path, what="tracker results")
    out = np.empty((len(rows), 8))
    out[:, 0] = rows[:, 0] + 1
    out[:, 1] = rows[:, 1]
    out[:, 2:6] = rows[:, 5:9]
    out[:, 6] = rows[:, 2]
    out[:, 7] = rows[:, 9]
    return out, int(drop.sum())
