"""OTB datasets: ``otb2013`` (CVPR13, 51 targets), ``otb50`` (TB-50), ``otb100`` (OTB-2015 / TB-100).

Two sources under ``<root>`` (``--root``; default in ``configs/datasets/<name>.yaml``):

* the original layout: ``<root>/<Folder>/img/0001.jpg`` and
  ``<root>/<Folder>/groundtruth_rect.txt`` (comma, tab or space separated ``x,y,w,h``).
  Multi-target folders hold ``groundtruth_rect.1.txt`` / ``.2.txt``: ``Jogging-1/-2``,
  ``Skating2-1/-2`` and ``Human4-2`` (``Human4``'s ``.1`` file is empty).
* a pysot-style JSON ``<root>/OTB100.json`` (``video_dir``, ``img_names``, ``gt_rect``,
  ``attr``) -- used when present. Images are optional: evaluation works on a root with
  annotations only (``SOTSequence.frames`` is then None).

Sequence lists, frame ranges (David 300-770, Tiger1 6-354, BlurCar1 247-988, BlurCar3
3-359, BlurCar4 18-397, Football1 1-74, Freeman3 1-460, Freeman4 1-283, Diving 1-215),
file-name digits (Board: 5) and attributes are data in ``configs/datasets/lists/otb.yaml``.
A ground-truth file with one row per frame of the range is used as is; one covering
frames 1..last (Tiger1's 354 rows) is cut to the range; one a single row short is padded
with an empty (NaN) row and a warning; anything else is a :class:`DataError`.
Ground-truth rows with NaN or zero / negative size become NaN (no target); the
evaluator's ``invalid_gt`` rule decides how they count.

A root holding only some sequences works: select them (``Dataset.select``, CLI
``--sequences``); a listed sequence whose folder is missing raises
:class:`DatasetNotFoundError` naming the folder when it is loaded.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

import dataclasses

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_boxes, read_data_yaml

JSON_NAMES = ("OTB100.json", "OTB2015.json", "OTB.json", "OTB2013.json", "OTB50.json")
_GOT10K_VERSION = {"otb2013": 2013, "otb50": "tb50", "otb100": "tb100"}


@dataclasses.dataclass
class OTBParams(LoaderParams):
    #: the sequence list (``lists`` of ``configs/datasets/lists/otb.yaml``): otb2013, otb50, otb100
    list: str = "otb100"


def otb_metadata() -> Dict[str, Any]:
    """Sequence lists, per-sequence folders / ranges / digits / attributes (from YAML)."""
    return read_data_yaml("lists/otb.yaml")


@register_loader("otb", params=OTBParams, description="OTB toolkit folders or a pysot-style OTB100.json")
def open_otb(name: str, params: OTBParams, root=None) -> Dataset:
    """Open OTB dataset ``name`` (``otb2013``, ``otb50``, ``otb100``: ``params.list``) at ``root``."""
    root = resolve_root(root, params, name)
    meta_all = otb_metadata()
    if params.list not in meta_all["lists"]:
        raise DataError(f"{name}: unknown OTB list '{params.list}'; known: {', '.join(sorted(meta_all['lists']))}")
    names: List[str] = list(meta_all["lists"][params.list])
    attr_names: Dict[str, str] = dict(meta_all["attributes"])
    seq_meta: Dict[str, Dict[str, Any]] = meta_all["sequences"]
    hint = download_hint(params, name)

    json_file = next((root / j for j in JSON_NAMES if (root / j).is_file()), None)
    if json_file is not None:
        try:
            index = json.loads(json_file.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"unreadable OTB JSON ({exc})", path=json_file) from None
        by_key = {k.lower().replace("_", "-"): k for k in index}

        def load(seq: str) -> SOTSequence:
            key = by_key.get(seq.lower())
            if key is None:
                raise DatasetNotFoundError(f"sequence '{seq}' is not in {json_file.name}", path=json_file, hint=hint)
            return _from_json(seq, index[key], root, json_file, seq_meta[seq], attr_names)
    else:
        if not any((root / seq_meta[s]["folder"]).is_dir() for s in names):
            raise DatasetNotFoundError(
                f"{name}: no OTB sequence folder (<Seq>/img + groundtruth_rect.txt) and no OTB100.json in the root",
                path=root, hint=hint)

        def load(seq: str) -> SOTSequence:
            return _from_folder(seq, root, seq_meta[seq], attr_names, hint)

    return Dataset(name, names, load, root=root)


def _attributes(info: Dict[str, Any], attr_names: Dict[str, str]) -> tuple:
    return tuple(attr_names[a] for a in info.get("attrs", ()))


def _frames(paths: List[Path]) -> Optional[ImageFiles]:
    return ImageFiles(paths) if paths and paths[0].is_file() else None


def _from_json(seq: str, entry: Dict[str, Any], root: Path, path: Path, info: Dict[str, Any],
               attr_names: Dict[str, str]) -> SOTSequence:
    try:
        gt = np.asarray(entry["gt_rect"], dtype=np.float64)
        img_names = list(entry["img_names"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"sequence '{seq}': bad entry ({exc})", path=path) from None
    if gt.ndim != 2 or gt.shape[1] != 4:
        raise DataError(f"sequence '{seq}': gt_rect must be N x 4, got {gt.shape}", path=path)
    if len(img_names) != len(gt):
        raise DataError(f"sequence '{seq}': {len(img_names)} img_names for {len(gt)} gt_rect rows", path=path)
    gt, n_bad = invalid_gt_to_nan(gt)
    paths = [root / p for p in img_names]
    return SOTSequence(seq, gt, frames=_frames(paths), attributes=_attributes(info, attr_names),
                    meta={"invalid_gt_frames": n_bad, "first_frame": info["frames"][0], "source": str(path),
                          "warnings": []})


def _from_folder(seq: str, root: Path, info: Dict[str, Any], attr_names: Dict[str, str], hint: str) -> SOTSequence:
    folder = root / info["folder"]
    if not folder.is_dir():
        raise DatasetNotFoundError(f"OTB sequence '{seq}' not found (select the sequences you have with "
                                   "--sequences)", path=folder, hint=hint)
    gt_file = folder / info["gt"]
    if not gt_file.is_file() and info["gt"] == "groundtruth_rect.txt":
        alt = sorted(folder.glob("groundtruth*.txt"))
        gt_file = alt[0] if len(alt) == 1 else gt_file
    first, last = int(info["frames"][0]), int(info["frames"][1])
    n = last - first + 1
    gt = read_boxes(gt_file)
    warnings: List[str] = []
    init_line = 1
    if len(gt) == n:
        pass
    elif len(gt) >= last:
        gt = gt[first - 1:last]
        init_line = first
    elif len(gt) == n - 1:
        warnings.append(f"{gt_file}: {len(gt)} rows for {n} frames ({first}..{last}); the last frame has no "
                        "ground truth (NaN)")
        gt = np.concatenate([gt, np.full((1, 4), np.nan)], 0)
    else:
        raise DataError(f"{len(gt)} rows for the {n} frames {first}..{last} of '{seq}'", path=gt_file)
    gt, n_bad = invalid_gt_to_nan(gt)
    digits = int(info["digits"])
    paths = [folder / "img" / f"{i:0{digits}d}.jpg" for i in range(first, last + 1)]
    return SOTSequence(seq, gt, frames=_frames(paths), attributes=_attributes(info, attr_names),
                    meta={"invalid_gt_frames": n_bad, "first_frame": first, "source": str(gt_file),
                          "init_line": init_line, "warnings": warnings})


def download(root: str, name: str = "otb100") -> Path:
    """Download OTB sequences into ``root`` with the got10k package's downloader (online
    users only; needs internet). Returns the root."""
    from got10k.datasets import OTB

    root_path = Path(root).expanduser()
    OTB(str(root_path), _GOT10K_VERSION[name], download=True)
    return root_path
