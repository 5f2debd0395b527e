"""LaSOT (Fan et al., CVPR 2019), protocol II test split: ``lasot`` (280 sequences), and the LaSOT
extension (Fan et al., IJCV 2021): ``lasot-ext`` (150 sequences, 15 new classes x 10).

Layout: ``<root>/<cls>/<cls>-<n>/`` with ``img/00000001.jpg ...``, ``groundtruth.txt``
(``x,y,w,h`` per line, comma separated), ``full_occlusion.txt`` and ``out_of_view.txt``
(one line of comma separated 0/1 per frame) and ``nlp.txt``. A flat
``<root>/<cls>-<n>/`` layout is accepted too. The lists are data in
``configs/datasets/lists/lasot.yaml`` (``test``, ``extension``; the ``split`` option).

Sequences: ``gt`` (N, 4), ``flags["full_occlusion"]``, ``flags["out_of_view"]``
(the one-pass evaluator treats flagged frames as frames without a visible target:
``invalid_gt`` rule, majority = they stay in the denominator and fail, as pysot and
pytracking do), ``meta["nlp"]`` the language description when present, ``attributes``
the object class.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict

import numpy as np

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_boxes, read_data_yaml, read_flags

FLAGS = ("full_occlusion", "out_of_view")


@dataclasses.dataclass
class LaSOTParams(LoaderParams):
    #: the sequence lists, a YAML file under configs/datasets/
    lists: str = "lists/lasot.yaml"
    #: the list of that file to use
    split: str = "test"


@register_loader("lasot", params=LaSOTParams, description="LaSOT <cls>/<cls>-<n>/ folders (also LaSOT-ext)")
def open_lasot(name: str, params: LaSOTParams, root=None) -> Dataset:
    root = resolve_root(root, params, name)
    hint = download_hint(params, name)
    lists = read_data_yaml(params.lists)
    if params.split not in lists:
        raise DataError(f"{name}: no list '{params.split}' in configs/datasets/{params.lists}; "
                        f"known: {', '.join(sorted(lists))}")
    names = list(lists[params.split])
    if not any(_seq_dir(root, s).is_dir() for s in names):
        raise DatasetNotFoundError(f"{name}: no LaSOT {params.split} sequence folder (<cls>/<cls>-<n>/) in the root",
                                   path=root, hint=hint)

    def load(seq: str) -> SOTSequence:
        return _load(seq, root, hint)

    return Dataset(name, names, load, root=root)


def _seq_dir(root: Path, seq: str) -> Path:
    cls = seq.rsplit("-", 1)[0]
    nested = root / cls / seq
    return nested if nested.is_dir() or not (root / seq).is_dir() else root / seq


def _load(seq: str, root: Path, hint: str) -> SOTSequence:
    sdir = _seq_dir(root, seq)
    if not sdir.is_dir():
        raise DatasetNotFoundError(f"LaSOT sequence '{seq}' not found (select the sequences you have with "
                                   "--sequences)", path=sdir, hint=hint)
    gt_file = sdir / "groundtruth.txt"
    gt = read_boxes(gt_file)
    n = len(gt)
    flags: Dict[str, np.ndarray] = {}
    for f in FLAGS:
        p = sdir / f"{f}.txt"
        if p.is_file():
            flags[f] = read_flags(p, n, f)
    gt, n_bad = invalid_gt_to_nan(gt)
    img_dir = sdir / "img"
    paths = [img_dir / f"{i:08d}.jpg" for i in range(1, n + 1)]
    frames = ImageFiles(paths) if paths[0].is_file() else None
    nlp = (sdir / "nlp.txt").read_text(encoding="utf-8", errors="replace").strip() if (sdir / "nlp.txt").is_file() \
        else None
    if frames is not None and not paths[-1].is_file():
        raise DataError(f"frame {n} of {n} is missing", path=paths[-1])
    return SOTSequence(seq, gt, frames=frames, flags=flags, attributes=(seq.rsplit("-", 1)[0],),
                    meta={"nlp": nlp, "invalid_gt_frames": n_bad, "source": str(gt_file), "warnings": []})
