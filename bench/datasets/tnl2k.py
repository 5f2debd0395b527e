"""TNL2K (Wang et al., "Towards More Flexible and Accurate Object Tracking with Natural Language",
CVPR 2021), test split: ``tnl2k`` (700 sequences).

Layout: ``<root>/<seq>/imgs/00001.png ...`` (the extension varies between sequences: jpg,
png, ...), ``<root>/<seq>/groundtruth.txt`` (comma separated ``x,y,w,h``, one row per frame)
and ``<root>/<seq>/language.txt`` (the natural-language description). A root holding the
release's ``TNL2K_test_subset/`` folder is accepted too.

No sequence list is embedded (700 names): the sequences are the sub-folders of the root
that hold a ``groundtruth.txt``, sorted by name (OSTrack's / pytracking's TNL2K loaders
list the folders present as well). Frames are the image files of ``imgs/`` in natural
order (``9.png`` before ``10.png``; zero-padded names sort the same either way). A
sequence with fewer images than ground-truth rows is a :class:`DataError`; more images
than rows are cut to the ground truth's length, with a warning.

Sequences: ``gt`` (rows with NaN or zero / negative size become NaN: no target),
``meta["nlp"]`` the language description (as LaSOT's ``nlp.txt``).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import List

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_boxes

#: image file extensions read as frames (lower case)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_DIGITS = re.compile(r"(\d+)")


@dataclasses.dataclass
class TNL2KParams(LoaderParams):
    #: the release's sub-folder holding the sequences, used when the root itself holds none
    subset: str = "TNL2K_test_subset"


def _sequence_dirs(folder: Path) -> List[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and (p / "groundtruth.txt").is_file()),
                  key=lambda p: p.name)


@register_loader("tnl2k", params=TNL2KParams, description="TNL2K <seq>/{imgs/, groundtruth.txt, language.txt} folders")
def open_tnl2k(name: str, params: TNL2KParams, root=None) -> Dataset:
    root = resolve_root(root, params, name)
    hint = download_hint(params, name)
    dirs = _sequence_dirs(root)
    if not dirs and params.subset and (root / params.subset).is_dir():
        root = root / params.subset
        dirs = _sequence_dirs(root)
    if not dirs:
        raise DatasetNotFoundError(f"{name}: no TNL2K sequence folder (<seq>/groundtruth.txt + <seq>/imgs/) in the "
                                   "root", path=root, hint=hint)

    def load(seq: str) -> SOTSequence:
        return _load(seq, root, hint)

    return Dataset(name, [d.name for d in dirs], load, root=root)


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t.lower() for t in _DIGITS.split(path.name)]


def image_files(folder: Path) -> List[Path]:
    """The image files of ``folder`` in natural order (empty when the folder is absent)."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()),
                  key=_natural_key)


def _load(seq: str, root: Path, hint: str) -> SOTSequence:
    sdir = root / seq
    if not sdir.is_dir():
        raise DatasetNotFoundError(f"TNL2K sequence '{seq}' not found", path=sdir, hint=hint)
    gt_file = sdir / "groundtruth.txt"
    gt = read_boxes(gt_file)
    n = len(gt)
    images = image_files(sdir / "imgs")
    warnings: List[str] = []
    if images and len(images) < n:
        raise DataError(f"{len(images)} images in {sdir / 'imgs'} for {n} ground-truth rows", path=gt_file)
    if len(images) > n:
        warnings.append(f"{sdir / 'imgs'}: {len(images)} images for {n} ground-truth rows; the first {n} are used")
        images = images[:n]
    gt, n_bad = invalid_gt_to_nan(gt)
    lang = sdir / "language.txt"
    nlp = lang.read_text(encoding="utf-8", errors="replace").strip() if lang.is_file() else None
    return SOTSequence(seq, gt, frames=ImageFiles(images) if images else None,
                       meta={"nlp": nlp, "invalid_gt_frames": n_bad, "source": str(gt_file), "warnings": warnings})
