"""Single-object result files: layouts, atomic writers, resume checks, tolerant readers.

Layouts (``tdir = <out>/<dataset>/<tracker>``, see :func:`tracker_dir`):

=========  ===========================================  ==============================
protocol   result file                                   time file
=========  ===========================================  ==============================
``ope``    ``tdir/<seq>.txt`` (``x,y,w,h`` per line)     ``tdir/<seq>_time.txt``
``vot``    ``tdir/baseline/<seq>/<seq>_001.txt``         ``tdir/baseline/<seq>/<seq>_time.txt``
``got10k`` ``tdir/<seq>/<seq>_001.txt``                  ``tdir/<seq>/<seq>_time.txt``
=========  ===========================================  ==============================

Boxes are written comma separated with ``%.4f``; VOT special lines are ``1``
(initialisation), ``2`` (failure), ``0`` (skipped). Repetition ``r`` of a VOT / GOT-10k
run goes to ``<seq>_<r:03d>.txt`` (time file ``<seq>_<r:03d>_time.txt`` for r > 1).
Time files hold one line per frame, seconds.

Resume: :func:`write_sequence` writes the time file first and the result file last,
each atomically (:mod:`bench.core.io`), so a sequence is finished exactly when its
result file exists (:func:`is_finished`); a killed run leaves no partial file.

Reading rules (each emits a warning string naming the file; the evaluator collects them
into the report's ``warnings``):

* result file names are matched case-insensitively with ``-`` equal to ``_``
  (``jogging_1.txt`` for ``Jogging-1``, ``human4_2.txt`` for ``Human4-2``);
* values may be separated by commas, tabs or spaces;
* a one-pass file **longer** than the ground truth is truncated to it (pysot, got10k);
  a **shorter** one is padded with NaN rows, which count as failures at every threshold
  (pytracking pads with zero boxes, which also fail);
* NaN values in a one-pass row make the row a failure at every threshold;
* a VOT file longer than the ground truth is truncated (pysot; vot-toolkit refuses the
  file); a shorter one is a :class:`DataError`;
* VOT lines with one value must be ``0``, ``1`` or ``2`` (``1.0`` etc. accepted); a box or
  polygon row holding NaN becomes ``0`` (unknown), as vot-toolkit reads it;
* any other malformed line raises :class:`DataError` ``<file>:<line>: <what>``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from ..core.errors import DataError
from ..core.io import atomic_write_text
from ..core.regions import Regions, as_regions

PathLike = Union[str, Path]
PROTOCOLS = ("ope", "vot", "got10k")
_SPLIT = re.compile(r"[,\s]+")


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown result layout '{protocol}' (known: {', '.join(PROTOCOLS)})")


def tracker_dir(out: PathLike, dataset: str, tracker: str) -> Path:
    """``<out>/<dataset>/<tracker>``: the folder that ``evaluate_results`` reads."""
    return Path(out) / dataset / tracker


def result_path(tdir: PathLike, seq: str, protocol: str, rep: int = 1) -> Path:
    """Where the result file of sequence ``seq`` (repetition ``rep``, 1-based) lives."""
    _check_protocol(protocol)
    tdir = Path(tdir)
    if protocol == "ope":
        return tdir / f"{seq}.txt"
    if protocol == "vot":
        return tdir / "baseline" / seq / f"{seq}_{rep:03d}.txt"
    return tdir / seq / f"{seq}_{rep:03d}.txt"


def time_path(tdir: PathLike, seq: str, protocol: str, rep: int = 1) -> Path:
    """Where the per-frame times (seconds, one line per frame) of ``seq`` live."""
    res = result_path(tdir, seq, protocol, rep)
    if protocol == "ope":
        return res.with_name(f"{seq}_time.txt")
    return res.with_name(f"{seq}_time.txt" if rep == 1 else f"{seq}_{rep:03d}_time.txt")


def is_finished(tdir: PathLike, seq: str, protocol: str, repetitions: int = 1) -> bool:
    """True when the result files of all ``repetitions`` of ``seq`` exist."""
    return all(result_path(tdir, seq, protocol, r).is_file() for r in range(1, repetitions + 1))


def format_boxes(boxes) -> str:
    """(N, 4) ``xywh`` -> comma separated ``%.4f`` lines (NaN written as ``nan``)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return "".join(",".join("nan" if np.isnan(v) else f"{v:.4f}" for v in row) + "\n" for row in b)


def format_vot(result) -> str:
    """VOT lines: special codes as ``1`` / ``2`` / ``0``, regions as ``%.4f`` values.

    ``result`` is a :class:`Regions`, a list of per-frame rows, a pair
    ``(codes, boxes)`` with ``codes[i] == -1`` for a box row, or an object with
    ``codes`` and ``boxes`` attributes (the VOT run loop's result).
    """
    if hasattr(result, "codes") and hasattr(result, "boxes") and not isinstance(result, Regions):
        result = (result.codes, result.boxes)
    if isinstance(result, tuple) and len(result) == 2:
        codes, boxes = np.asarray(result[0]), np.asarray(result[1], dtype=np.float64)
        rows = [[float(c)] if c >= 0 else boxes[i].tolist() for i, c in enumerate(codes.tolist())]
        result = rows
    reg = as_regions(result)
    lines = []
    for i in range(len(reg)):
        n = int(reg.sizes[i])
        if n == 1:
            lines.append(str(int(round(reg.values[i, 0]))))
        else:
            lines.append(",".join(f"{v:.4f}" for v in reg.values[i, :n]))
    return "\n".join(lines) + "\n"


def format_times(times) -> str:
    return "".join(f"{t:.8f}\n" for t in np.asarray(times, dtype=np.float64).ravel())


def write_sequence(tdir: PathLike, seq: str, protocol: str, result, times=None, rep: int = 1) -> Path:
    """Write one finished sequence: time file first, result file last, both atomically.

    ``result``: (N, 4) ``xywh`` boxes for ``ope`` / ``got10k``; for ``vot`` anything
    :func:`format_vot` takes. Returns the result file path.
    """
    _check_protocol(protocol)
    if times is not None:
        atomic_write_text(time_path(tdir, seq, protocol, rep), format_times(times))
    text = format_vot(result) if protocol == "vot" else format_boxes(result)
    path = result_path(tdir, seq, protocol, rep)
    atomic_write_text(path, text)
    return path


# ----------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------

def _norm(name: str) -> str:
    return name.lower().replace("-", "_")


def _match(folder: Path, name: str, want_dir: bool) -> Optional[Path]:
    """Entry of ``folder`` whose name equals ``name`` up to case and ``-`` / ``_``."""
    exact = folder / name
    if (exact.is_dir() if want_dir else exact.is_file()):
        return exact
    if not folder.is_dir():
        return None
    key = _norm(name)
    hits = sorted(p for p in folder.iterdir() if _norm(p.name) == key and (p.is_dir() if want_dir else p.is_file()))
    return hits[0] if hits else None


def find_result_file(tdir: PathLike, seq: str, protocol: str, rep: int = 1) -> Optional[Path]:
    """The result file of ``seq`` in ``tdir`` (names matched case-insensitively, ``-`` == ``_``)."""
    _check_protocol(protocol)
    tdir = Path(tdir)
    if protocol == "ope":
        return _match(tdir, f"{seq}.txt", want_dir=False)
    base = tdir / "baseline" if protocol == "vot" else tdir
    sdir = _match(base, seq, want_dir=True)
    if sdir is None:
        return None
    return _match(sdir, f"{seq}_{rep:03d}.txt", want_dir=False)


def find_repetitions(tdir: PathLike, seq: str, protocol: str) -> List[Path]:
    """All repetition files ``<seq>_001.txt``, ``<seq>_002.txt``, ... present for ``seq``."""
    out = []
    first = find_result_file(tdir, seq, protocol, 1)
    if first is None:
        return out
    key = _norm(seq)
    pat = re.compile(r"^" + re.escape(key) + r"_(\d{3})\.txt$")
    for p in sorted(first.parent.iterdir()):
        m = pat.match(_norm(p.name))
        if m and p.is_file():
            out.append((int(m.group(1)), p))
    return [p for _, p in sorted(out)]


def _read_lines(path: Path) -> List[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise DataError("result file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"unreadable result file ({exc})", path=path) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _parse_row(line: str, path: Path, lineno: int) -> List[float]:
    s = line.strip()
    if not s:
        raise DataError("empty line", path=path, line=lineno)
    try:
        return [float(t) for t in _SPLIT.split(s) if t != ""]
    except ValueError:
        raise DataError(f"not a list of numbers: {s[:60]!r}", path=path, line=lineno) from None


def read_ope_file(path: PathLike, n_frames: Optional[int] = None) -> Tuple[np.ndarray, List[str]]:
    """Read a one-pass result file -> ((N, 4) ``xywh`` boxes, warnings).

    With ``n_frames`` the boxes are truncated / NaN-padded to that length (see the
    module docstring); each adjustment adds a warning naming the file.
    """
    path = Path(path)
    lines = _read_lines(path)
    rows = np.empty((len(lines), 4))
    for i, line in enumerate(lines):
        vals = _parse_row(line, path, i + 1)
        if len(vals) != 4:
            raise DataError(f"expected 4 values x,y,w,h, got {len(vals)}", path=path, line=i + 1)
        rows[i] = vals
    warnings: List[str] = []
    if n_frames is not None and len(rows) != n_frames:
        if len(rows) > n_frames:
            warnings.append(f"{path}: {len(rows)} rows for {n_frames} ground-truth frames; "
                            f"the last {len(rows) - n_frames} row(s) are ignored (truncated as pysot / got10k do)")
            rows = rows[:n_frames]
        else:
            warnings.append(f"{path}: {len(rows)} rows for {n_frames} ground-truth frames; "
                            f"the missing {n_frames - len(rows)} frame(s) count as failures (padded)")
            rows = np.concatenate([rows, np.full((n_frames - len(rows), 4), np.nan)], 0)
    nan_in_file = int(np.isnan(rows[: len(lines)]).any(1).sum())
    if nan_in_file:
        warnings.append(f"{path}: {nan_in_file} row(s) hold NaN; they count as failures at every threshold")
    return rows, warnings


def read_vot_file(path: PathLike, n_frames: Optional[int] = None) -> Tuple[Regions, List[str]]:
    """Read a VOT result file -> (:class:`Regions` with codes / boxes / polygons, warnings)."""
    path = Path(path)
    lines = _read_lines(path)
    rows: List[List[float]] = []
    nan_rows = 0
    for i, line in enumerate(lines):
        vals = _parse_row(line, path, i + 1)
        k = len(vals)
        if k == 1:
            v = vals[0]
            if v not in (0.0, 1.0, 2.0):
                raise DataError(f"special code must be 0, 1 or 2, got {line.strip()!r}", path=path, line=i + 1)
            rows.append([v])
        elif k == 4 or (k >= 6 and k % 2 == 0):
            if any(np.isnan(vals)):
                nan_rows += 1
                rows.append([0.0])
            else:
                rows.append(vals)
        else:
            raise DataError(f"expected 1 (code), 4 (x,y,w,h) or 2n >= 6 (polygon) values, got {k}",
                            path=path, line=i + 1)
    warnings: List[str] = []
    if nan_rows:
        warnings.append(f"{path}: {nan_rows} region(s) hold NaN; read as 0 (unknown), as vot-toolkit does")
    if n_frames is not None and len(rows) != n_frames:
        if len(rows) < n_frames:
            raise DataError(f"{len(rows)} lines for {n_frames} ground-truth frames (a VOT result needs one "
                            "line per frame)", path=path, line=len(rows))
        dropped = rows[n_frames:]
        extra_fail = sum(1 for r in dropped if len(r) == 1 and r[0] == 2.0)
        warnings.append(f"{path}: {len(rows)} lines for {n_frames} ground-truth frames; the last "
                        f"{len(rows) - n_frames} are ignored (truncated as pysot does; vot-toolkit refuses "
                        f"such a file)" + (f", including {extra_fail} failure(s)" if extra_fail else ""))
        rows = rows[:n_frames]
    return as_regions(rows), warnings


def read_time_file(path: PathLike) -> Optional[np.ndarray]:
    """Per-frame times (seconds) from a time file, or None when absent / unreadable.

    Several columns (got10k writes one per repetition) are averaged per line."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        rows = [[float(t) for t in _SPLIT.split(l.strip()) if t] for l in path.read_text().splitlines() if l.strip()]
    except (OSError, ValueError):
        return None
    if not rows:
        return None
    width = min(len(r) for r in rows)
    arr = np.array([r[:width] for r in rows], dtype=np.float64)
    return arr.mean(1) if arr.ndim == 2 else arr


def find_time_file(tdir: PathLike, seq: str, protocol: str, rep: int = 1) -> Optional[Path]:
    """The time file of ``seq``: our layout, else the got10k OTB layout ``times/<seq>_time.txt``."""
    res = find_result_file(tdir, seq, protocol, rep)
    stem = res.name[: -len(".txt")] if res is not None else seq
    cands = []
    if res is not None:
        if protocol == "ope":
            cands.append(res.with_name(f"{stem}_time.txt"))
        else:
            base = stem.rsplit("_", 1)[0]
            cands.append(res.with_name(f"{base}_time.txt" if rep == 1 else f"{base}_{rep:03d}_time.txt"))
    cands.append(time_path(tdir, seq, protocol, rep))
    cands.append(Path(tdir) / "times" / f"{seq}_time.txt")
    for c in cands:
        if c.is_file():
            return c
    return None
