"""Single-object result files: layouts, atomic writers, resume checks, tolerant readers.

Layouts (:class:`Layout`; ``tdir = <out>/<dataset>/<tracker>``):

===============  ===========================================  ==============================
layout           result file                                   time file
===============  ===========================================  ==============================
``ONE_PASS``     ``tdir/<seq>.txt`` (``x,y,w,h`` per line)     ``tdir/<seq>_time.txt``
``VOT_BASELINE`` ``tdir/baseline/<seq>/<seq>_001.txt``         ``tdir/baseline/<seq>/<seq>_time.txt``
``VOT_LONGTERM`` ``tdir/longterm/<seq>/<seq>_001.txt``         ``tdir/longterm/<seq>/<seq>_time.txt``
``PER_SEQUENCE`` ``tdir/<seq>/<seq>_001.txt`` (GOT-10k)        ``tdir/<seq>/<seq>_time.txt``
===============  ===========================================  ==============================

Boxes are written comma separated with ``%.4f``; VOT special lines are ``1``
(initialisation), ``2`` (failure), ``0`` (skipped). Repetition ``r`` of a VOT / GOT-10k
run goes to ``<seq>_<r:03d>.txt`` (time file ``<seq>_<r:03d>_time.txt`` for r > 1).
Time files hold one line per frame, seconds.

Resume: :func:`write_files` writes the time file first and the result file last,
each atomically (:mod:`bench.core.io`), so a sequence is finished exactly when its
result file exists (:meth:`Layout.is_finished`); a killed run leaves no partial file.

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
* VOT-LT confidence files (``<seq>_001_confidence.value``, :func:`read_value_file`): one
  value per line; an empty line reads as 0 (the first line, the initialisation frame, is
  empty: no warning for it), ``nan`` as NaN; longer than the result file: truncated, shorter:
  a :class:`DataError`;
* any other malformed line raises :class:`DataError` ``<file>:<line>: <what>``.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ..core.errors import DataError
from ..core.io import atomic_write_text
from ..core.regions import Regions, as_regions

PathLike = Union[str, Path]
_SPLIT = re.compile(r"[,\s]+")


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where the result and time files of a sequence live under a tracker's folder ``tdir``.

    ``folder`` None: ``tdir/<seq>.txt`` (one-pass, one repetition); otherwise
    ``tdir/<folder>/<seq>/<seq>_<rep:03d>.txt`` (``folder`` "" for GOT-10k, ``baseline``
    for the VOT reset experiment, ``longterm`` for VOT-LT).
    """

    folder: Optional[str] = None
    #: what a result file holds: ``boxes`` (``x,y,w,h`` per frame) or ``vot`` (codes 1 / 2 / 0 and regions)
    content: str = "boxes"

    def result_path(self, tdir: PathLike, seq: str, rep: int = 1) -> Path:
        """Where the result file of sequence ``seq`` (repetition ``rep``, 1-based) lives."""
        tdir = Path(tdir)
        if self.folder is None:
            return tdir / f"{seq}.txt"
        base = tdir / self.folder if self.folder else tdir
        return base / seq / f"{seq}_{rep:03d}.txt"

    def time_path(self, tdir: PathLike, seq: str, rep: int = 1) -> Path:
        """Where the per-frame times (seconds, one line per frame) of ``seq`` live."""
        res = self.result_path(tdir, seq, rep)
        return res.with_name(f"{seq}_time.txt" if rep == 1 or self.folder is None else f"{seq}_{rep:03d}_time.txt")

    def sidecar_path(self, tdir: PathLike, seq: str, rep: int, suffix: str) -> Path:
        """A per-run side file beside the result (VOT-LT ``<seq>_001_confidence.value``)."""
        res = self.result_path(tdir, seq, rep)
        return res.with_name(res.name[: -len(".txt")] + suffix)

    def is_finished(self, tdir: PathLike, seq: str, rep: int = 1) -> bool:
        """True when the result file of that repetition exists (files are only written whole)."""
        return self.result_path(tdir, seq, rep).is_file()

    def describe(self) -> str:
        if self.folder is None:
            return "<seq>.txt"
        return (f"{self.folder}/" if self.folder else "") + "<seq>/<seq>_001.txt"

    def find_result_file(self, tdir: PathLike, seq: str, rep: int = 1) -> Optional[Path]:
        """The result file of ``seq`` in ``tdir`` (names matched case-insensitively, ``-`` == ``_``)."""
        tdir = Path(tdir)
        if self.folder is None:
            return _match(tdir, f"{seq}.txt", want_dir=False)
        base = tdir / self.folder if self.folder else tdir
        sdir = _match(base, seq, want_dir=True)
        if sdir is None:
            return None
        return _match(sdir, f"{seq}_{rep:03d}.txt", want_dir=False)

    def find_repetitions(self, tdir: PathLike, seq: str) -> List[Path]:
        """All repetition files ``<seq>_001.txt``, ``<seq>_002.txt``, ... present for ``seq``."""
        first = self.find_result_file(tdir, seq, 1)
        if first is None:
            return []
        if self.folder is None:
            return [first]
        key = _norm(seq)
        pat = re.compile(r"^" + re.escape(key) + r"_(\d{3})\.txt$")
        out = []
        for p in sorted(first.parent.iterdir()):
            m = pat.match(_norm(p.name))
            if m and p.is_file():
                out.append((int(m.group(1)), p))
        return [p for _, p in sorted(out)]

    def find_sidecar(self, tdir: PathLike, seq: str, rep: int, suffix: str) -> Optional[Path]:
        """The side file ``<result stem><suffix>`` beside the result file of ``seq`` (VOT-LT
        ``<seq>_001_confidence.value``), matched like the result file; None when absent."""
        res = self.find_result_file(tdir, seq, rep)
        if res is None:
            return None
        return _match(res.parent, res.name[: -len(".txt")] + suffix, want_dir=False)

    def find_time_file(self, tdir: PathLike, seq: str, rep: int = 1) -> Optional[Path]:
        """The time file of ``seq``: this layout's, else the got10k OTB layout ``times/<seq>_time.txt``."""
        res = self.find_result_file(tdir, seq, rep)
        stem = res.name[: -len(".txt")] if res is not None else seq
        cands = []
        if res is not None:
            if self.folder is None:
                cands.append(res.with_name(f"{stem}_time.txt"))
            else:
                base = stem.rsplit("_", 1)[0]
                cands.append(res.with_name(f"{base}_time.txt" if rep == 1 else f"{base}_{rep:03d}_time.txt"))
        cands.append(self.time_path(tdir, seq, rep))
        cands.append(Path(tdir) / "times" / f"{seq}_time.txt")
        for c in cands:
            if c.is_file():
                return c
        return None


#: one-pass (OTB / LaSOT / got10k's OTB experiment): ``<seq>.txt``
ONE_PASS = Layout(None)
#: GOT-10k: ``<seq>/<seq>_001.txt``
PER_SEQUENCE = Layout("")
#: VOT supervised (reset) experiment: ``baseline/<seq>/<seq>_001.txt``
VOT_BASELINE = Layout("baseline", "vot")
#: VOT long-term experiment: ``longterm/<seq>/<seq>_001.txt`` (+ ``<seq>_001_confidence.value``)
VOT_LONGTERM = Layout("longterm")


def format_boxes(boxes) -> str:
    """(N, 4) ``xywh`` -> comma separated ``%.4f`` lines (NaN written as ``nan``)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return "".join(",".join("nan" if np.isnan(v) else f"{v:.4f}" for v in row) + "\n" for row in b)


def vot_regions(result) -> Regions:
    """A VOT run as :class:`Regions`: given as Regions, per-frame rows, a pair ``(codes, boxes)``
    with ``codes[i] == -1`` for a box row, or an object with ``codes`` and ``boxes``."""
    if isinstance(result, Regions):
        return result
    if hasattr(result, "codes") and hasattr(result, "boxes"):
        result = (result.codes, result.boxes)
    if isinstance(result, tuple) and len(result) == 2:
        codes, boxes = np.asarray(result[0]), np.asarray(result[1], dtype=np.float64)
        result = [[float(c)] if c >= 0 else boxes[i].tolist() for i, c in enumerate(codes.tolist())]
    return as_regions(result)


def format_vot(result) -> str:
    """VOT lines: special codes as ``1`` / ``2`` / ``0``, regions as ``%.4f`` values (see :func:`vot_regions`)."""
    reg = vot_regions(result)
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


def format_values(values) -> str:
    """One number per line, ``%.6f`` (``nan`` where not finite): VOT-LT confidence files."""
    return "".join(("nan" if not np.isfinite(v) else f"{v:.6f}") + "\n"
                   for v in np.asarray(values, dtype=np.float64).ravel())


def write_sequence(layout: Layout, tdir: PathLike, seq: str, result, times=None, rep: int = 1) -> Path:
    """Write one finished run of ``seq``: ``(N, 4)`` boxes, or a VOT run for a ``vot`` layout."""
    text = format_vot(result) if layout.content == "vot" else format_boxes(result)
    return write_files(layout, tdir, seq, text, times, rep)


def write_files(layout: Layout, tdir: PathLike, seq: str, text: str, times=None, rep: int = 1,
                sidecars: Optional[Dict[str, str]] = None) -> Path:
    """Write one finished run: time file and side files first, result file last, each atomically.
    Returns the result file's path."""
    if times is not None:
        atomic_write_text(layout.time_path(tdir, seq, rep), format_times(times))
    for suffix, body in (sidecars or {}).items():
        atomic_write_text(layout.sidecar_path(tdir, seq, rep, suffix), body)
    path = layout.result_path(tdir, seq, rep)
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


def read_ope_file(path: PathLike, n_frames: Optional[int] = None, gt: Optional[np.ndarray] = None
                  ) -> Tuple[np.ndarray, List[str]]:
    """Read a one-pass result file -> ((N, 4) ``xywh`` boxes, warnings).

    With ``n_frames`` the boxes are truncated / NaN-padded to that length (see the
    module docstring); each adjustment adds a warning naming the file. With ``gt`` (the
    sequence's ground truth, NaN rows = no target) a file short only by frames the ground
    truth does not annotate (OTB's ``0,0,0,0`` placeholder rows) is said to be so.
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
        elif gt is not None and not np.isfinite(np.asarray(gt, dtype=np.float64)[len(rows):]).any():
            k = n_frames - len(rows)
            warnings.append(f"{path}: {len(rows)} rows for {n_frames} ground-truth rows; the missing {k} frame(s) "
                            f"{'are' if k > 1 else 'is'} the ground truth's placeholder row(s) without a target "
                            "(0,0,0,0 or NaN): padded, the score is the same as with the row present")
            rows = np.concatenate([rows, np.full((k, 4), np.nan)], 0)
        else:
            warnings.append(f"{path}: {len(rows)} rows for {n_frames} ground-truth frames; "
                            f"the missing {n_frames - len(rows)} frame(s) count as failures (padded)")
            rows = np.concatenate([rows, np.full((n_frames - len(rows), 4), np.nan)], 0)
    nan_in_file = int(np.isnan(rows[: len(lines)]).any(1).sum())
    if nan_in_file:
        warnings.append(f"{path}: {nan_in_file} row(s) hold NaN; they count as failures at every threshold")
    return rows, warnings


def read_vot_file(path: PathLike, n_frames: Optional[int] = None, short: str = "error"
                  ) -> Tuple[Regions, List[str]]:
    """Read a VOT result file -> (:class:`Regions` with codes / boxes / polygons, warnings).

    A file with fewer lines than ``n_frames`` is refused (``short="error"``, as vot-toolkit
    does) or kept as it is with a warning (``short="pysot"``: pysot scores the frames the
    file covers, the ground truth cut to its length)."""
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
        if len(rows) < n_frames and short == "pysot":
            warnings.append(f"{path}: {len(rows)} lines for {n_frames} ground-truth frames; the missing "
                            f"{n_frames - len(rows)} frame(s) are not scored (short_results=pysot; vot-toolkit "
                            "refuses such a file)")
            return as_regions(rows), warnings
        if len(rows) < n_frames:
            raise DataError(f"{len(rows)} lines for {n_frames} ground-truth frames (a VOT result needs one "
                            "line per frame; --option short_results=pysot scores the lines present, as pysot "
                            "does)", path=path, line=len(rows))
        dropped = rows[n_frames:]
        extra_fail = sum(1 for r in dropped if len(r) == 1 and r[0] == 2.0)
        warnings.append(f"{path}: {len(rows)} lines for {n_frames} ground-truth frames; the last "
                        f"{len(rows) - n_frames} are ignored (truncated as pysot does; vot-toolkit refuses "
                        f"such a file)" + (f", including {extra_fail} failure(s)" if extra_fail else ""))
        rows = rows[:n_frames]
    return as_regions(rows), warnings


def read_value_file(path: PathLike, n_frames: Optional[int] = None) -> Tuple[np.ndarray, List[str]]:
    """Read a VOT per-frame property file (``<seq>_001_confidence.value``) -> (values (N,), warnings).

    As vot-toolkit 0.9.0 reads it (``vot/tracker/results.py`` ``Trajectory.read``: one value
    per line, ``parse_float``): an **empty line** is a missing value, which the long-term
    analysis reads as **0** (``trajectory.properties(i).get('confidence', 0)``; the first line,
    the initialisation frame, is empty in the files vot-toolkit and pysot write); ``nan`` is
    NaN. Every line counts, trailing empty lines too (``readlines``). With ``n_frames``: a file
    with more lines is truncated (warning), one with fewer raises :class:`DataError` (the
    toolkit fails on it). A line that is not one number raises ``DataError <file>:<line>``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise DataError("value file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"unreadable value file ({exc})", path=path) from None
    lines = text.splitlines()
    vals = np.zeros(len(lines))
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        try:
            vals[i] = float(s)
        except ValueError:
            raise DataError(f"expected one number per line, got {s[:60]!r}", path=path, line=i + 1) from None
    warnings: List[str] = []
    if n_frames is not None and len(vals) != n_frames:
        if len(vals) < n_frames:
            raise DataError(f"{len(vals)} lines for {n_frames} frames (one value per frame needed)",
                            path=path, line=len(vals))
        warnings.append(f"{path}: {len(vals)} lines for {n_frames} frames; the last {len(vals) - n_frames} "
                        "are ignored (vot-toolkit refuses such a file)")
        vals = vals[:n_frames]
    empty_scored = sum(1 for line in lines[1: n_frames if n_frames is not None else None] if not line.strip())
    if empty_scored:
        warnings.append(f"{path}: {empty_scored} empty line(s) after the first; read as confidence 0, as "
                        "vot-toolkit does")
    return vals, warnings


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

