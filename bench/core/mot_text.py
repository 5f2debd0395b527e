"""MOTChallenge text files (``gt.txt``, ``det.txt``, tracker results): a fast parser with exact
error locations and row validation.

:func:`read_mot_text` parses comma separated rows (whitespace separated and trailing commas
tolerated) into a float array; :func:`check_rows` validates frames, ids and boxes. Every
malformed row raises :class:`~bench.core.errors.DataError` naming the file and the line.
"""
from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import numpy as np

from .errors import DataError

PathLike = Union[str, Path]
_SPLIT_RE = re.compile(r"\s*,\s*|\s+")


def _line_numbers(data: bytes) -> List[int]:
    """1-based line numbers of the data rows (non-blank, not ``#`` comments) of a text file."""
    out = []
    for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(i + 1)
    return out


def line_of_row(path: Optional[PathLike], row: int) -> Optional[int]:
    """1-based file line of data row ``row`` (0-based) of a MOT text file, or None."""
    if path is None:
        return None
    try:
        lines = _line_numbers(Path(path).read_bytes())
    except OSError:
        return None
    return lines[row] if 0 <= row < len(lines) else None


def _slow_parse(data: bytes, path: PathLike, min_cols: int) -> np.ndarray:
    """Line-by-line parser with exact error locations (the fallback of :func:`read_mot_text`)."""
    rows: List[List[float]] = []
    ncols = None
    for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        fields = _SPLIT_RE.split(s)
        while fields and fields[-1] == "":
            fields.pop()
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            raise DataError(f"cannot read value {bad!r} as a number", path, i + 1) from None
        if ncols is None:
            ncols = len(vals)
            if ncols < min_cols:
                raise DataError(f"expected at least {min_cols} columns, found {ncols}", path, i + 1)
        elif len(vals) != ncols:
            raise DataError(f"wrong column count: {len(vals)} values where earlier rows have {ncols}",
                            path, i + 1)
        rows.append(vals)
    if not rows:
        return np.zeros((0, min_cols))
    return np.asarray(rows, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_mot_text(path: PathLike, min_cols: int, cache: Optional[Dict[tuple, list]] = None,
                  post: Optional[Callable[[np.ndarray], np.ndarray]] = None, tag: str = "") -> np.ndarray:
    """Read a MOTChallenge text file as a float64 array (N, C) with ``C >= min_cols``, rows in file order.

    An empty file gives ``(0, min_cols)``. ``post`` (validation, normalisation) is applied
    to the parsed rows. Files with identical content are parsed (and post-processed) once
    when a ``cache`` dict is given (MOT17's three copies share one ``gt.txt``): the
    returned array is then shared and read-only; ``tag`` distinguishes different ``post``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path) from None
    key = None
    if cache is not None:  # files of equal size are compared byte for byte
        key = (len(data), min_cols, tag)
        for old_data, old_arr in cache.get(key, ()):
            if old_data == data:
                return old_arr
    if not data.strip():
        arr = np.zeros((0, min_cols))
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.loadtxt(io.BytesIO(data), delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError:
            arr = _slow_parse(data, path, min_cols)
        if arr.shape[0] and arr.shape[1] < min_cols:
            raise DataError(f"expected at least {min_cols} columns, found {arr.shape[1]}", path,
                            line_of_row(path, 0))
    if post is not None:
        arr = post(arr)
    if cache is not None:
        arr.setflags(write=False)
        cache.setdefault(key, []).append((data, arr))
    return arr


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_rows(rows: np.ndarray, path: Optional[PathLike], *, what: str, length: Optional[int] = None,
               check_ids: bool = True, unique: bool = True) -> None:
    """Validate MOT rows ``frame, id, x, y, w, h, ...``: integer frames >= 1 (<= ``length``),
    integer ids >= 0 (``check_ids``), finite boxes, one row per (frame, id) (``unique``).
    Raises :class:`DataError` naming ``path`` and the line of the first bad row."""
    if rows.shape[0] == 0:
        return
    f = rows[:, 0]
    bad = ~np.isfinite(f) | (f != np.floor(f))
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: frame number {rows[i, 0]!r} is not an integer", path, line_of_row(path, i))
    bad = f < 1
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: frame number {int(f[i])} < 1 (frames are 1-based)", path, line_of_row(path, i))
    if length is not None:
        bad = f > length
        if bad.any():
            i = _first_bad(bad)
            raise DataError(f"{what}: frame {int(f[i])} is beyond the sequence length {length}",
                            path, line_of_row(path, i))
    box = rows[:, 2:6]
    bad = ~np.isfinite(box).all(1)
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: box {rows[i, 2:6].tolist()} is not finite", path, line_of_row(path, i))
    if check_ids:
        ids = rows[:, 1]
        bad = ~np.isfinite(ids) | (ids != np.floor(ids)) | (ids < 0)
        if bad.any():
            i = _first_bad(bad)
            raise DataError(f"{what}: id {rows[i, 1]!r} is not a non-negative integer", path,
                            line_of_row(path, i))
    if unique:
        fi = f.astype(np.int64)
        ii = rows[:, 1].astype(np.int64)
        ii = ii - int(ii.min())  # non-negative keys (detections use id -1)
        # a key in the file's own order (by frame or by id) makes the stable sort near linear
        if np.all(fi[1:] >= fi[:-1]):
            key = fi * (int(ii.max()) + 1) + ii
        else:
            key = ii * (int(fi.max()) + 1) + fi
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dup = np.flatnonzero(ks[1:] == ks[:-1])
        if dup.size:
            # report the first repeated row in file order, and where its twin is
            second = order[dup + 1]
            j = int(np.argmin(second))
            i, first = int(second[j]), int(order[dup[j]])
            raise DataError(f"{what}: id {int(rows[i, 1])} appears twice in frame {int(fi[i])} "
                            f"(also on line {line_of_row(path, first)})", path, line_of_row(path, i))


