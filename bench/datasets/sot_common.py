"""Shared pieces of the single-object dataset loaders: configs, roots, annotation files.

Each dataset has ``configs/datasets/<name>.yaml`` with a ``params:`` tree whose leaves
are ``{value, source}``: the default root, where the data comes from, and the protocol
settings the evaluator uses (each with its source). :func:`dataset_params` returns the
plain values; the opener stores them in ``Dataset.meta["settings"]``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from ..core.config import read_yaml, split_sources
from ..core.errors import ConfigError, DataError, DatasetNotFoundError
from ..core.registry import configs_dir

PathLike = Union[str, Path]
_SPLIT = re.compile(r"[,\s]+")


def dataset_params(name: str) -> Tuple[Dict[str, Any], Dict[str, Optional[str]]]:
    """(values, sources) of ``configs/datasets/<name>.yaml``'s ``params``."""
    tree = read_yaml(configs_dir() / "datasets" / f"{name}.yaml")
    return split_sources(tree.get("params", {}))


def apply_options(params: Dict[str, Any], options: Dict[str, Any], name: str) -> Dict[str, Any]:
    """``params`` updated with opener ``options``; an unknown key is a :class:`ConfigError`."""
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(f"{name}: unknown dataset option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(sorted(params))}")
    out = dict(params)
    out.update(options)
    return out


def read_data_yaml(filename: str) -> Dict[str, Any]:
    """A metadata file under ``configs/datasets/`` (sequence lists, attributes)."""
    return read_yaml(configs_dir() / "datasets" / filename)


def resolve_root(root: Optional[PathLike], params: Dict[str, Any], name: str) -> Path:
    """``root`` (or the config's default), user-expanded; a missing folder raises
    :class:`DatasetNotFoundError` naming it and where the dataset comes from."""
    raw = root if root is not None else params.get("root")
    if raw is None:
        raise DatasetNotFoundError(f"{name}: no dataset root given (use --root)", hint=download_hint(params, name))
    path = Path(str(raw)).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(f"{name} dataset root not found", path=path, hint=download_hint(params, name))
    return path


def download_hint(params: Dict[str, Any], name: str) -> str:
    url = params.get("download")
    how = params.get("download_hint")
    parts = [f"{name} comes from {url}" if url else f"download {name} first"]
    if how:
        parts.append(str(how))
    parts.append("then pass its folder with --root")
    return "; ".join(parts)


def read_numbers(path: Path, what: str = "annotation", columns: Optional[int] = None) -> List[List[float]]:
    """Rows of numbers from a text file (comma, tab or space separated; ``nan`` allowed).

    Trailing empty lines are ignored; an empty line inside the file or a token that is
    not a number raises :class:`DataError` with the file and 1-based line. With
    ``columns``, only the first ``columns`` values of a line are read (the rest of the line,
    e.g. NfS's quoted class label, is ignored) and a line with fewer is a :class:`DataError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{what} file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"unreadable {what} file ({exc})", path=path) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            raise DataError("empty line", path=path, line=i + 1)
        tokens = [t for t in _SPLIT.split(s) if t]
        if columns is not None:
            if len(tokens) < columns:
                raise DataError(f"expected at least {columns} values, got {len(tokens)}", path=path, line=i + 1)
            tokens = tokens[:columns]
        try:
            rows.append([float(t) for t in tokens])
        except ValueError:
            raise DataError(f"not a list of numbers: {s[:60]!r}", path=path, line=i + 1) from None
    return rows


def read_boxes(path: Path, what: str = "ground-truth") -> np.ndarray:
    """(N, 4) ``xywh`` from a box file; rows with another count raise :class:`DataError`."""
    rows = read_numbers(path, what)
    if not rows:
        raise DataError(f"empty {what} file", path=path)
    for i, r in enumerate(rows):
        if len(r) != 4:
            raise DataError(f"expected 4 values x,y,w,h, got {len(r)}", path=path, line=i + 1)
    return np.asarray(rows, dtype=np.float64)


def read_flags(path: Path, n: int, what: str = "label") -> np.ndarray:
    """(n,) bool flags from a label file (one value per line, or one comma separated line)."""
    rows = read_numbers(path, what)
    vals = np.asarray([v for r in rows for v in r], dtype=np.float64)
    if len(vals) != n:
        raise DataError(f"{len(vals)} values for {n} frames", path=path)
    return vals > 0


def invalid_gt_to_nan(gt: np.ndarray) -> Tuple[np.ndarray, int]:
    """Rows with NaN or ``w <= 0`` / ``h <= 0`` become NaN (the Sequence contract: NaN = no
    target). Returns (gt, number of such rows). The evaluator's ``invalid_gt`` rule decides
    how those frames count."""
    gt = np.array(gt, dtype=np.float64, copy=True)
    bad = ~np.isfinite(gt).all(1) | (gt[:, 2] <= 0) | (gt[:, 3] <= 0)
    gt[bad] = np.nan
    return gt, int(bad.sum())


def image_size(path: PathLike) -> Optional[Tuple[int, int]]:
    """(W, H) of an image file from its header (PIL), else by decoding (OpenCV); None if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # PIL missing or unreadable header: fall back to OpenCV
        import cv2

        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise DataError("unreadable image", path=path) from None
        return int(img.shape[1]), int(img.shape[0])
