"""GOT-10k: ``got10k-val`` (180 sequences with full ground truth), ``got10k-train``, ``got10k-test``.

Layout: ``<root>/<split>/list.txt`` and ``<root>/<split>/<seq>/`` holding
``00000001.jpg ...``, ``groundtruth.txt`` (``x,y,w,h``; the test split gives the first
frame only), ``absence.label``, ``cover.label`` (0..8, visible fraction in eighths),
``cut_by_image.label`` and ``meta_info.ini`` (``resolution: (W, H)``, object / motion
classes). ``--root`` may point at the GOT-10k folder or at the split folder itself.

Sequences: ``gt`` (NaN where the target is absent or, in the test split, unannotated),
``flags["cover"]`` (cover > 0), ``flags["absence"]``, ``flags["cut_by_image"]``,
``image_size`` from ``meta_info.ini`` (else the first frame), ``meta["cover"]`` the raw
cover values and ``meta["info"]`` the ``meta_info.ini`` fields. Evaluation needs no
images for val / train (the length comes from the ground truth); the test split needs
them to know the length.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List

import numpy as np

import dataclasses

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import image_size, invalid_gt_to_nan, read_boxes, read_numbers

LABELS = ("absence", "cover", "cut_by_image")


def read_meta_info(path: Path) -> Dict[str, str]:
    """``meta_info.ini`` -> dict (the ``[METAINFO]`` header line is skipped)."""
    out: Dict[str, str] = {}
    if not path.is_file():
        return out
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        s = line.strip()
        if not s or s.startswith("["):
            continue
        if ":" not in s:
            raise DataError(f"expected 'key: value', got {s[:60]!r}", path=path, line=i + 1)
        k, _, v = s.partition(":")
        out[k.strip()] = v.strip()
    return out


@dataclasses.dataclass
class GOT10kParams(LoaderParams):
    #: the split folder: train, val or test (the test split gives the first box only)
    split: str = "val"


@register_loader("got10k", params=GOT10kParams, description="GOT-10k split folders (list.txt, labels, meta_info.ini)")
def open_got10k(name: str, params: GOT10kParams, root=None) -> Dataset:
    base = resolve_root(root, params, name)
    split = params.split
    if split not in ("train", "val", "test"):
        raise DataError(f"{name}: split must be train, val or test, not {split!r}")
    hint = download_hint(params, name)
    folder = base if (base / "list.txt").is_file() and base.name == split else base / split
    list_file = folder / "list.txt"
    if not list_file.is_file():
        if (base / "list.txt").is_file():
            folder, list_file = base, base / "list.txt"
        else:
            raise DatasetNotFoundError(f"{name}: sequence list not found", path=list_file, hint=hint)
    names = [l.strip() for l in list_file.read_text().splitlines() if l.strip()]
    if not names:
        raise DataError("empty sequence list", path=list_file)

    def load(seq: str) -> SOTSequence:
        return _load(seq, folder, split, hint)

    return Dataset(name, names, load, root=folder, has_gt=None if split != "test" else False)


def _load(seq: str, folder: Path, split: str, hint: str) -> SOTSequence:
    sdir = folder / seq
    if not sdir.is_dir():
        raise DatasetNotFoundError(f"GOT-10k sequence '{seq}' not found (select the sequences you have with "
                                   "--sequences)", path=sdir, hint=hint)
    gt_file = sdir / "groundtruth.txt"
    gt = read_boxes(gt_file)
    images = sorted(sdir.glob("*.jpg"))
    n = len(gt)
    if split == "test" or (images and len(gt) == 1 and len(images) > 1):
        if not images:
            raise DataError("test split without images: the sequence length is unknown", path=sdir)
        n = len(images)
        gt = np.concatenate([gt[:1], np.full((n - 1, 4), np.nan)], 0)
    if images and len(images) < n:
        raise DataError(f"{len(images)} frames for {n} ground-truth rows", path=sdir)
    warnings: List[str] = []
    flags: Dict[str, np.ndarray] = {}
    raw_cover = None
    for lab in LABELS:
        f = sdir / f"{lab}.label"
        if f.is_file():
            vals = np.asarray([v for r in read_numbers(f, "label") for v in r], dtype=np.float64)
            if len(vals) != n:
                raise DataError(f"{len(vals)} values for {n} frames", path=f)
            flags[lab] = vals > 0
            if lab == "cover":
                raw_cover = vals
    if "absence" in flags:
        gt[flags["absence"]] = np.nan
    gt, n_bad = invalid_gt_to_nan(gt)
    info = read_meta_info(sdir / "meta_info.ini")
    size = None
    if "resolution" in info:
        try:
            size = tuple(int(v) for v in ast.literal_eval(info["resolution"]))
        except (ValueError, SyntaxError):
            raise DataError(f"bad resolution {info['resolution']!r}", path=sdir / "meta_info.ini") from None
    elif images:
        size = image_size(images[0])
    frames = ImageFiles(images[:n]) if images else None
    attrs = tuple(info[k] for k in ("object_class", "motion_class") if info.get(k))
    return SOTSequence(seq, gt, frames=frames, flags=flags, attributes=attrs, image_size=size,
                    meta={"cover": raw_cover, "info": info, "invalid_gt_frames": n_bad, "source": str(gt_file),
                          "warnings": warnings})
