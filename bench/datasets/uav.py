"""UAV123 and UAV20L (Mueller, Smith, Ghanem, ECCV 2016): ``uav123`` (123 sequences), ``uav20l`` (20 long ones).

Two sources under ``<root>`` (``--root``; default in ``configs/datasets/<name>.yaml``):

* the release layout (``Dataset_UAV123.zip``): ``<root>/data_seq/UAV123/<folder>/000001.jpg``
  (6 digits, 1-based) and ``<root>/anno/UAV123/<seq>.txt`` (UAV20L: ``anno/UAV20L/<seq>.txt``,
  frames in the same ``data_seq/UAV123/`` folders), comma separated ``x,y,w,h``, one row
  per frame of the sequence's range, ``NaN,NaN,NaN,NaN`` where the target is absent;
  optional ``anno/<UAV123|UAV20L>/att/<seq>.txt`` (one line of 12 attribute flags). A root
  holding the ``UAV123/`` folder of the zip is accepted too.
* a pysot-style ``<root>/UAV123.json`` (``UAV20L.json``: ``video_dir``, ``img_names``,
  ``gt_rect``, ``attr``), used when present; images are optional.

Quirk: 51 UAV123 sequences are frame ranges of 19 image folders (``bird1_1``, ``bird1_2``,
``bird1_3`` are frames 1-253, 775-1477 and 1573-2437 of ``bird1``). The per-sequence folder /
first / last frame table is data in ``configs/datasets/lists/uav.yaml`` (the UAV123 toolkit's
``configSeqs.m`` as carried by got10k's ``uav123.json``). A ground-truth file whose row count
differs from its range is a :class:`DataError` naming both.

Ground-truth rows with NaN (target absent) or zero / negative size stay NaN; how they count
is the evaluator's ``invalid_gt`` rule (``uav123.yaml``: ``exclude``, as got10k's
``ExperimentUAV123`` does). ``attributes`` are the names of the flags set in the att file.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_boxes, read_data_yaml, read_numbers

#: where the image folders live under the root (UAV20L uses UAV123's)
DATA_SEQ = Path("data_seq") / "UAV123"


@dataclasses.dataclass
class UAVParams(LoaderParams):
    #: the sequence list (``lists`` of ``configs/datasets/lists/uav.yaml``): uav123 or uav20l
    list: str = "uav123"


def uav_metadata() -> Dict[str, Any]:
    """Attribute names and, per list, the annotation folder, the JSON name and the sequence ranges."""
    return read_data_yaml("lists/uav.yaml")


@register_loader("uav", params=UAVParams, description="UAV123 / UAV20L release (data_seq/ + anno/) or UAV123.json")
def open_uav(name: str, params: UAVParams, root=None) -> Dataset:
    """Open ``uav123`` / ``uav20l`` (``params.list``) at ``root``."""
    root = resolve_root(root, params, name)
    meta = uav_metadata()
    if params.list not in meta["lists"]:
        raise DataError(f"{name}: unknown UAV list '{params.list}'; known: {', '.join(sorted(meta['lists']))}")
    spec = meta["lists"][params.list]
    seqs: Dict[str, Dict[str, Any]] = spec["sequences"]
    attr_names: List[str] = list(meta["attributes"])
    hint = download_hint(params, name)
    if not (root / spec["anno"]).is_dir() and not (root / spec["json"]).is_file() and (root / "UAV123").is_dir():
        root = root / "UAV123"  # the folder the release zip unpacks to

    json_file = root / spec["json"]
    if json_file.is_file():
        try:
            index = json.loads(json_file.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"unreadable UAV JSON ({exc})", path=json_file) from None

        def load(seq: str) -> SOTSequence:
            if seq not in index:
                raise DatasetNotFoundError(f"sequence '{seq}' is not in {json_file.name}", path=json_file, hint=hint)
            return _from_json(seq, index[seq], root, json_file, seqs[seq])
    else:
        anno_dir = root / spec["anno"]
        if not anno_dir.is_dir():
            raise DatasetNotFoundError(
                f"{name}: annotation folder not found (expected <root>/{spec['anno']}/<seq>.txt with the frames "
                f"in <root>/{DATA_SEQ.as_posix()}/<folder>/, or a pysot-style <root>/{spec['json']})",
                path=anno_dir, hint=hint)

        def load(seq: str) -> SOTSequence:
            return _from_folder(seq, root, anno_dir, seqs[seq], attr_names, hint)

    return Dataset(name, list(seqs), load, root=root)


def _frames(paths: Sequence[Path]) -> Optional[ImageFiles]:
    """The frames when the first exists (annotation-only roots have none); a missing last frame is an error."""
    if not paths or not paths[0].is_file():
        return None
    if not paths[-1].is_file():
        raise DataError(f"frame {len(paths)} of {len(paths)} is missing", path=paths[-1])
    return ImageFiles(paths)


def _from_folder(seq: str, root: Path, anno_dir: Path, info: Dict[str, Any], attr_names: List[str],
                 hint: str) -> SOTSequence:
    gt_file = anno_dir / f"{seq}.txt"
    if not gt_file.is_file():
        raise DatasetNotFoundError(f"UAV sequence '{seq}': ground-truth file not found (select the sequences you "
                                   "have with --sequences)", path=gt_file, hint=hint)
    first, last = int(info["frames"][0]), int(info["frames"][1])
    n = last - first + 1
    gt = read_boxes(gt_file)
    if len(gt) != n:
        raise DataError(f"{len(gt)} ground-truth rows, but '{seq}' is frames {first}..{last} ({n} frames) of "
                        f"the image folder '{info['folder']}' (range from configs/datasets/lists/uav.yaml)",
                        path=gt_file)
    gt, n_bad = invalid_gt_to_nan(gt)
    folder = root / DATA_SEQ / info["folder"]
    frames = _frames([folder / f"{i:06d}.jpg" for i in range(first, last + 1)])
    attributes = _attributes(anno_dir / "att" / f"{seq}.txt", attr_names)
    return SOTSequence(seq, gt, frames=frames, attributes=attributes,
                       meta={"invalid_gt_frames": n_bad, "folder": info["folder"], "first_frame": first,
                             "source": str(gt_file), "warnings": []})


def _attributes(path: Path, attr_names: List[str]) -> tuple:
    """Names of the flags set in an att file (absent file: no attributes)."""
    if not path.is_file():
        return ()
    vals = [v for r in read_numbers(path, "attribute") for v in r]
    if len(vals) != len(attr_names):
        raise DataError(f"{len(vals)} attribute flags, expected {len(attr_names)} "
                        f"({', '.join(attr_names)})", path=path)
    return tuple(a for a, v in zip(attr_names, vals) if v > 0)


def _from_json(seq: str, entry: Dict[str, Any], root: Path, path: Path, info: Dict[str, Any]) -> SOTSequence:
    try:
        gt = np.asarray(entry["gt_rect"], dtype=np.float64)
        img_names = list(entry["img_names"])
        attrs = tuple(str(a) for a in entry.get("attr", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"sequence '{seq}': bad entry ({exc})", path=path) from None
    if gt.ndim != 2 or gt.shape[1] != 4:
        raise DataError(f"sequence '{seq}': gt_rect must be N x 4, got {gt.shape}", path=path)
    if len(img_names) != len(gt):
        raise DataError(f"sequence '{seq}': {len(img_names)} img_names for {len(gt)} gt_rect rows", path=path)
    first, last = int(info["frames"][0]), int(info["frames"][1])
    if len(gt) != last - first + 1:
        raise DataError(f"sequence '{seq}': {len(gt)} gt_rect rows, but it is frames {first}..{last} "
                        f"({last - first + 1} frames) of '{info['folder']}' (configs/datasets/lists/uav.yaml)",
                        path=path)
    gt, n_bad = invalid_gt_to_nan(gt)
    frames = None
    for base in (root, root / DATA_SEQ):  # img_names relative to the root or to data_seq/UAV123
        paths = [base / p for p in img_names]
        frames = _frames(paths)
        if frames is not None:
            break
    return SOTSequence(seq, gt, frames=frames, attributes=attrs,
                       meta={"invalid_gt_frames": n_bad, "folder": info["folder"], "first_frame": first,
                             "source": str(path), "warnings": []})
