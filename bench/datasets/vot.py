"""VOT datasets: short-term ``vot2016`` .. ``vot2019`` (reset-based "baseline" experiment) and
long-term ``vot2018-lt``, ``vot2019-lt`` (protocol ``vot-lt``).

Two sources under ``<root>``:

* the VOT toolkit layout: ``<root>/list.txt`` (one sequence per line),
  ``<root>/<seq>/groundtruth.txt`` (per frame 4 values ``x,y,w,h`` or 2n polygon
  values), frames in ``<root>/<seq>/color/00000001.jpg`` (VOT2017+) or
  ``<root>/<seq>/00000001.jpg`` (VOT2016), per-frame tag files ``<seq>/<tag>.tag`` (or
  ``.label``: ``camera_motion``, ``illum_change``, ``motion_change``, ``size_change``,
  ``occlusion``; one 0/1 per line);
* a pysot-style JSON ``<root>/VOT2019.json`` (``img_names``, ``gt_rect`` and the tags
  as per-frame 0/1 lists), used when present. Tag lists shorter than the sequence are
  padded with 0 (as VOT tag files are).

Every sequence keeps its exact regions as ``seq.meta["regions"]`` (a
:class:`bench.core.regions.Regions`: rectangles stay rectangles, which matters for the
rasterised overlap), ``seq.polygons`` (N, 8) when all regions are 4-vertex polygons,
``seq.gt`` their bounding boxes, ``seq.flags`` the tags.

Long-term sequences (VOT2018-LT, VOT2019-LT / LTB50) have the same layout, frames in
``<seq>/color/``; a frame without a visible target has a NaN row (``nan,nan,nan,nan``) in
``groundtruth.txt``, or a row of one value, or (pysot's ``VOT2018-LT.json``) NaN values, an
empty or a one-value list in ``gt_rect``: each is read as a special region (no target;
``seq.gt`` NaN), as vot-toolkit's ``parse_region`` does. The JSON file is
``<root>/<NAME>.json`` with the dataset name upper-cased (``VOT2018-LT.json``).

Image size (the bounds of the overlap): from the first frame when the images exist,
else from the ground truth's extent, ``(ceil(max x), ceil(max y))`` over the sequence
(``seq.meta["image_size_source"]`` says which; vot-toolkit 0.9.0 reads the size from the
first frame, and the ground truth's extent is the closest bound without it).

Protocol settings per edition (``settings`` of ``configs/datasets/vot20xx.yaml``, each with its
source): EAO interval (2016 [108, 371], 2017 / 2018 [100, 356], 2019 [46, 291]),
re-initialisation 5 frames after a failure, burn-in 10, 15 repetitions for stochastic
trackers, failure when the overlap is 0, AR sensitivity 30.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from ..core.boxes import xywh_to_poly
from ..core.errors import DataError, DatasetNotFoundError
from ..core.regions import Regions, as_regions, gt_extent_size
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import image_size, read_data_yaml, read_numbers

TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")


@dataclasses.dataclass
class VOTParams(LoaderParams):
    #: the edition's sequence list in configs/datasets/lists/vot.yaml (the root is checked against it); "" = none
    list: str = ""


@register_loader("vot", params=VOTParams, description="VOT toolkit workspace folders or a pysot-style VOT20xx.json")
def open_vot(name: str, params: VOTParams, root=None) -> Dataset:
    """Open VOT edition ``name`` (``vot2016`` .. ``vot2019``) at ``root``.

    The annotations come from ``<root>/<NAME>.json`` (pysot layout, ``VOT2018.json`` for
    ``vot2018``) when present, else from ``<root>/list.txt`` and the sequence folders, else
    from the sequence folders present (each with a ``groundtruth.txt``). A JSON of another
    edition is refused: its annotations would be scored with this edition's EAO interval.
    """
    root = resolve_root(root, params, name)
    hint = download_hint(params, name)
    json_file = root / f"{name.upper()}.json"
    if json_file.is_file():
        try:
            index = json.loads(json_file.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"unreadable VOT JSON ({exc})", path=json_file) from None
        names = list(index)
        check_edition(name, params, names, json_file)

        def load(seq: str) -> SOTSequence:
            return _from_json(seq, index[seq], root, json_file)
        return Dataset(name, names, load, root=root)
    list_file = root / "list.txt"
    if list_file.is_file():
        names = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
        if not names:
            raise DataError("empty sequence list", path=list_file)
    else:
        names = sorted(p.name for p in root.iterdir() if (p / "groundtruth.txt").is_file())
        if not names:
            others = sorted(p.name for p in root.glob("VOT*.json"))
            if others:
                raise DatasetNotFoundError(
                    f"{name}: this root holds {', '.join(others)}, not {json_file.name}: the annotations of "
                    f"another edition (open it as that dataset, e.g. --dataset {others[0][:-5].lower()})",
                    path=root, hint=hint)
            raise DatasetNotFoundError(f"{name}: no {json_file.name}, no list.txt and no sequence folder "
                                       "(<seq>/groundtruth.txt) in the root", path=root, hint=hint)
    check_edition(name, params, names, list_file if list_file.is_file() else root)

    def load_folder(seq: str) -> SOTSequence:
        return _from_folder(seq, root, hint)
    return Dataset(name, names, load_folder, root=root)


def _regions_to_sequence(seq: str, regions: Regions, frames: Optional[ImageFiles], flags: Dict[str, np.ndarray],
                         size: Optional[tuple], source: str, warnings: List[str]) -> SOTSequence:
    n = len(regions)
    if n == 0:
        raise DataError(f"sequence '{seq}' has no ground truth", path=source)
    size_source = "image"
    if size is None:
        size = gt_extent_size(regions)
        size_source = "gt-extent"
    boxes = regions.bounding_boxes()
    polygons = None
    if np.all(regions.sizes == 8):
        polygons = regions.values[:, :8].copy()
    elif np.any(regions.sizes == 8):
        polygons = np.full((n, 8), np.nan)
        p8 = regions.sizes == 8
        polygons[p8] = regions.values[p8, :8]
        r4 = regions.sizes == 4
        polygons[r4] = xywh_to_poly(regions.values[r4, :4])
    attrs = tuple(t for t in TAGS if t in flags and flags[t].any())
    return SOTSequence(seq, boxes, frames=frames, polygons=polygons, flags=flags, attributes=attrs,
                    image_size=tuple(int(v) for v in size),
                    meta={"regions": regions, "image_size_source": size_source, "source": source,
                          "warnings": warnings})


def _from_json(seq: str, entry: Dict[str, Any], root: Path, path: Path) -> SOTSequence:
    try:
        # an absent target (VOT-LT) is a NaN row, or an empty / one-value row: all read as "no region"
        regions = as_regions([list(map(float, r)) if len(r) > 1 else [0.0] for r in entry["gt_rect"]])
        img_names = list(entry.get("img_names", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"sequence '{seq}': bad entry ({exc})", path=path) from None
    n = len(regions)
    flags = {}
    for t in TAGS:
        if t in entry:
            v = np.asarray(entry[t], dtype=np.float64).ravel()
            if len(v) > n:
                raise DataError(f"sequence '{seq}': tag '{t}' has {len(v)} values for {n} frames", path=path)
            flags[t] = np.concatenate([v, np.zeros(n - len(v))]) > 0  # short tag lists: padded with 0
    paths = [root / p for p in img_names]
    frames = ImageFiles(paths) if len(paths) == n and paths and paths[0].is_file() else None
    size = None
    if "width" in entry and "height" in entry:
        size = (int(entry["width"]), int(entry["height"]))
    elif frames is not None:
        size = image_size(paths[0])
    return _regions_to_sequence(seq, regions, frames, flags, size, str(path), [])


def _from_folder(seq: str, root: Path, hint: str) -> SOTSequence:
    folder = root / seq
    if not folder.is_dir():
        raise DatasetNotFoundError(f"VOT sequence '{seq}' not found (select the sequences you have with "
                                   "--sequences)", path=folder, hint=hint)
    gt_file = folder / "groundtruth.txt"
    rows = read_numbers(gt_file, "ground-truth")
    for i, r in enumerate(rows):
        k = len(r)
        if k == 1:  # a special region (VOT-LT: no target), as vot-toolkit parse_region reads it
            rows[i] = [0.0]
        elif k != 4 and (k < 6 or k % 2):
            raise DataError(f"expected 4 (x,y,w,h) or 2n >= 6 (polygon) values, got {k}", path=gt_file, line=i + 1)
    regions = as_regions(rows)
    n = len(regions)
    warnings: List[str] = []
    flags = {}
    for t in TAGS:
        f = next((folder / f"{t}{ext}" for ext in (".tag", ".label") if (folder / f"{t}{ext}").is_file()), None)
        if f is None:
            continue
        vals = [v for r in read_numbers(f, "tag") for v in r]
        if len(vals) > n:
            raise DataError(f"{len(vals)} values for {n} frames", path=f)
        flags[t] = np.concatenate([np.asarray(vals, dtype=np.float64), np.zeros(n - len(vals))]) > 0
    img_dir = folder / "color" if (folder / "color").is_dir() else folder
    images = sorted(p for p in img_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    frames, size = None, None
    if images:
        if len(images) < n:
            raise DataError(f"{len(images)} frames for {n} ground-truth regions", path=img_dir)
        frames = ImageFiles(images[:n])
        size = image_size(images[0])
    return _regions_to_sequence(seq, regions, frames, flags, size, str(gt_file), warnings)


def check_edition(name: str, params: VOTParams, names: List[str], where: Path) -> None:
    """Refuse a root that holds another VOT edition: its results would be scored against the wrong
    annotations with this edition's EAO interval. A root is taken as edition E when at least 90% of
    its sequences are in E's list (configs/datasets/lists/vot.yaml) and fewer are in this one's."""
    if not params.list or not names:
        return
    lists = {k: set(v) for k, v in read_data_yaml("lists/vot.yaml").items()}
    if params.list not in lists:
        raise DataError(f"{name}: no list '{params.list}' in configs/datasets/lists/vot.yaml; "
                        f"known: {', '.join(sorted(lists))}")
    have = set(names)

    def share(k: str) -> float:
        return len(have & lists[k]) / len(have)

    mine = share(params.list)
    others = [k for k in lists if k != params.list and lists[k] != lists[params.list] and share(k) >= 0.9
              and share(k) > mine]
    if others:
        best = max(others, key=share)
        raise DataError(f"{name}: this root holds {best.upper()} (its sequences: {share(best):.0%} in {best}'s list, "
                        f"{mine:.0%} in {params.list}'s); open it as --dataset {best}", path=where)
