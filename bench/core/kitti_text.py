"""KITTI tracking text files (labels, tracker results, seqmaps): parsing with exact error locations.

A KITTI tracking row (``label_02/<seq>.txt``, and a tracker's ``<seq>.txt`` with an 18th
column, the score) is space separated::

    frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]

with 0-based frames and the box as corners ``x1 y1 x2 y2`` in pixels. ``DontCare`` rows
(track id -1) mark regions where objects are not annotated.

:func:`read_kitti_text` returns the columns the evaluation uses as a float array
``frame, id, class, truncated, occluded, x1, y1, x2, y2, score`` (score 1 without an 18th
column, as TrackEval ``Kitti2DBox._load_raw_file``), with the file line of every row.
Types map to TrackEval's class ids (``Kitti2DBox.class_name_to_class_id``, case-insensitive);
``Person_sitting`` (the name in the KITTI readme) is read as ``Person``, the name the label
files use and TrackEval knows (TrackEval itself rejects ``Person_sitting``). Every malformed
row raises :class:`~bench.core.errors.DataError` naming the file and the line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from .errors import DataError

PathLike = Union[str, Path]

#: TrackEval 1.3.0 ``Kitti2DBox.class_name_to_class_id`` (``person`` = person sitting)
CLASS_IDS: Dict[str, int] = {"car": 1, "van": 2, "truck": 3, "pedestrian": 4, "person": 5, "cyclist": 6,
                             "tram": 7, "misc": 8, "dontcare": 9, "car_2": 1}
#: other spellings read as a TrackEval class
ALIASES: Dict[str, str] = {"person_sitting": "person"}
#: the don't-care class id
DONTCARE = CLASS_IDS["dontcare"]
#: type names written in result files, by class id
TYPE_NAMES: Dict[int, str] = {1: "Car", 2: "Van", 3: "Truck", 4: "Pedestrian", 5: "Person", 6: "Cyclist",
                              7: "Tram", 8: "Misc", 9: "DontCare"}
#: columns of :func:`read_kitti_text`'s array
COLUMNS = ("frame", "id", "class", "truncated", "occluded", "x1", "y1", "x2", "y2", "score")
_MIN_FIELDS = 10


def class_id(name: str) -> Optional[int]:
    """TrackEval's class id of a KITTI type name (case-insensitive), None when unknown."""
    key = str(name).lower()
    return CLASS_IDS.get(ALIASES.get(key, key))


def _data_lines(path: Path) -> Tuple[List[List[str]], List[int]]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path) from None
    rows, lines = [], []
    for i, line in enumerate(text.splitlines()):
        s = line.strip()
        if s and not s.startswith("#"):
            rows.append(s.split())
            lines.append(i + 1)
    return rows, lines


def read_kitti_text(path: PathLike, *, what: str, length: Optional[int] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Read a KITTI tracking file: ``(rows (N, 10), lines (N,))``, rows in file order.

    ``rows``: ``frame (0-based), id, class id, truncated, occluded, x1, y1, x2, y2, score``.
    Checks: at least 10 fields and the same count on every row, numbers where numbers
    belong, a known type, integer frames ``>= 0`` (``< length`` when given), integer ids,
    finite boxes. ``what`` names the file's role in messages.
    """
    path = Path(path)
    fields, lines = _data_lines(path)
    if not fields:
        return np.zeros((0, len(COLUMNS))), np.zeros(0, np.int64)
    ncols = len(fields[0])
    if ncols < _MIN_FIELDS:
        raise DataError(f"{what}: expected at least {_MIN_FIELDS} space-separated fields "
                        "(frame id type truncated occluded alpha x1 y1 x2 y2 ...), "
                        f"found {ncols}", path, lines[0])
    for f, ln in zip(fields, lines):
        if len(f) != ncols:
            raise DataError(f"{what}: wrong field count: {len(f)} where earlier rows have {ncols}", path, ln)
    types = [f[2] for f in fields]
    cls = np.empty(len(fields))
    for i, t in enumerate(types):
        c = class_id(t)
        if c is None:
            known = ", ".join(sorted(set(TYPE_NAMES.values()) | {"Person_sitting"}))
            raise DataError(f"{what}: unknown KITTI type {t!r} (known: {known})", path, lines[i])
        cls[i] = c
    try:
        num = np.array([f[:2] + f[3:] for f in fields], dtype=np.float64)
    except ValueError:
        for f, ln in zip(fields, lines):
            for v in f[:2] + f[3:]:
                try:
                    float(v)
                except ValueError:
                    raise DataError(f"{what}: cannot read value {v!r} as a number", path, ln) from None
        raise  # pragma: no cover
    # num columns: frame, id, truncated, occluded, alpha, x1, y1, x2, y2, ... (type removed)
    rows = np.empty((len(fields), len(COLUMNS)))
    rows[:, 0] = num[:, 0]
    rows[:, 1] = num[:, 1]
    rows[:, 2] = cls
    rows[:, 3] = num[:, 2]
    rows[:, 4] = num[:, 3]
    rows[:, 5:9] = num[:, 5:9]
    rows[:, 9] = num[:, 16] if ncols > 17 else 1.0
    line_arr = np.asarray(lines, dtype=np.int64)

    def fail(mask: np.ndarray, msg) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise DataError(f"{what}: {msg(i)}", path, int(line_arr[i]))

    f = rows[:, 0]
    fail(~np.isfinite(f) | (f != np.floor(f)), lambda i: f"frame number {fields[i][0]!r} is not an integer")
    fail(f < 0, lambda i: f"frame number {int(f[i])} < 0 (KITTI frames are 0-based)")
    if length is not None:
        fail(f >= length, lambda i: f"frame {int(f[i])} is beyond the sequence (frames 0..{length - 1})")
    ids = rows[:, 1]
    fail(~np.isfinite(ids) | (ids != np.floor(ids)), lambda i: f"track id {fields[i][1]!r} is not an integer")
    fail(~np.isfinite(rows[:, 5:9]).all(1), lambda i: f"box {rows[i, 5:9].tolist()} is not finite")
    return rows, line_arr


def check_unique(rows: np.ndarray, lines: np.ndarray, path: Optional[PathLike], *, what: str) -> None:
    """One row per (frame, class, track id) among the rows that are not don't-care regions."""
    keep = rows[:, 2] != DONTCARE
    if not keep.any():
        return
    r = rows[keep]
    ln = lines[keep]
    key = np.stack([r[:, 0], r[:, 2], r[:, 1]], axis=1)
    _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    dup = np.flatnonzero(counts[inverse] > 1)
    dup = dup[dup != first[inverse[dup]]]
    if dup.size:
        i = int(dup[0])
        j = int(first[inverse[i]])
        raise DataError(f"{what}: track id {int(r[i, 1])} appears twice in frame {int(r[i, 0])} for type "
                        f"{TYPE_NAMES.get(int(r[i, 2]), int(r[i, 2]))} (also on line {int(ln[j])})", path, int(ln[i]))


def read_seqmap(path: PathLike) -> Dict[str, int]:
    """A KITTI devkit / TrackEval seqmap (``evaluate_tracking.seqmap.training``): ``{seq: length}``.

    Rows ``<seq> empty <first frame> <length>``, e.g. ``0000 empty 000000 000154``; the length
    is the fourth field, as TrackEval ``Kitti2DBox.__init__`` reads it (``int(row[3])``).
    """
    path = Path(path)
    fields, lines = _data_lines(path)
    out: Dict[str, int] = {}
    for f, ln in zip(fields, lines):
        if len(f) < 4:
            raise DataError("seqmap rows are '<sequence> empty <first frame> <length>'", path, ln)
        try:
            n = int(f[3])
        except ValueError:
            raise DataError(f"seqmap: length {f[3]!r} is not an integer", path, ln) from None
        if n < 1:
            raise DataError(f"seqmap: length {n} < 1", path, ln)
        if f[0] in out:
            raise DataError(f"seqmap: sequence {f[0]} listed twice", path, ln)
        out[f[0]] = n
    if not out:
        raise DataError("seqmap lists no sequence", path)
    return out
