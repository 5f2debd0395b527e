"""Need for Speed, 30 fps version (Kiani Galoogahi et al., ICCV 2017): ``nfs30`` (100 sequences).

Layout (the release's per-sequence zips, unpacked under ``<root>``):
``<root>/<seq>/30/<seq>/00001.jpg ...`` and ``<root>/<seq>/30/<seq>.txt``. The annotation
rows are ``track_id xmin ymin xmax ymax frame lost occluded generated "label"`` (space
separated, a VATIC export): corners, not ``x,y,w,h``, and ``frame`` numbers frames of the
**240 fps** video even in the 30 fps folder. The sequence list (with pytracking's 30 fps
frame counts and object classes) is data in ``configs/datasets/lists/nfs.yaml``.

Reading (following got10k 0.1.3 ``datasets/nfs.py``, ``NfS.__getitem__``):

* boxes: ``x = xmin, y = ymin, w = xmax - xmin, h = ymax - ymin`` (got10k:
  ``anno[:, 2:] -= anno[:, :2]``);
* 240 fps rows: 30 fps frame ``k`` (0-based) is 240 fps frame ``f0 + 8 k``, ``f0`` the
  first row's frame number; rows between (a file with one row per 240 fps frame) are
  dropped. For a file with one row per 240 fps frame this is got10k's ``anno[0::8]``;
  it also handles a file with one row per 30 fps frame numbered at 240 fps (steps of 8),
  and one numbered at 30 fps (consecutive numbers, as many rows as 30 fps frames) is
  used row for row. A 30 fps frame without a row has no target (NaN);
* lengths: the images in ``<seq>/30/<seq>/`` (``*.jpg``, sorted, as got10k) give the
  sequence length; annotation and images one frame apart are cut to the shorter, with a
  warning (got10k does the same); further apart is a :class:`DataError` naming both
  counts. Without images the annotation gives the length (a warning when it differs from
  the list's count);
* flags: ``flags["lost"]``, ``flags["occluded"]`` and ``flags["absent"] = lost | occluded``.
  The one-pass evaluator treats ``absent`` frames as frames without a visible target only
  with ``use_flags=true``; ``nfs30.yaml`` defaults to ``false`` because got10k and
  pytracking score every NfS frame against its box.

A sequence file holding rows of several track ids uses the first row's track (warning).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from ..core.errors import DataError, DatasetNotFoundError
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_data_yaml, read_numbers

#: 240 fps frames per 30 fps frame
STRIDE = 8
#: numeric columns of an annotation row (the quoted label after them is ignored)
COLUMNS = ("track_id", "xmin", "ymin", "xmax", "ymax", "frame", "lost", "occluded", "generated")


@dataclasses.dataclass
class NfSParams(LoaderParams):
    #: the sequence list, a YAML file under configs/datasets/
    lists: str = "lists/nfs.yaml"


@register_loader("nfs", params=NfSParams,
                 description="Need for Speed <seq>/30/<seq>/ folders (240 fps numbered xyxy rows)")
def open_nfs(name: str, params: NfSParams, root=None) -> Dataset:
    root = resolve_root(root, params, name)
    hint = download_hint(params, name)
    seqs: Dict[str, Dict[str, Any]] = read_data_yaml(params.lists)["sequences"]
    if not any((root / s / "30").is_dir() for s in seqs):
        raise DatasetNotFoundError(f"{name}: no NfS sequence folder (<seq>/30/<seq>.txt + <seq>/30/<seq>/*.jpg) "
                                   "in the root", path=root, hint=hint)

    def load(seq: str) -> SOTSequence:
        return _load(seq, root, seqs[seq], hint)

    return Dataset(name, list(seqs), load, root=root)


def _load(seq: str, root: Path, info: Dict[str, Any], hint: str) -> SOTSequence:
    sdir = root / seq / "30"
    if not sdir.is_dir():
        raise DatasetNotFoundError(f"NfS sequence '{seq}' not found (select the sequences you have with "
                                   "--sequences)", path=sdir, hint=hint)
    anno = sdir / f"{seq}.txt"
    rows = np.asarray(read_numbers(anno, "ground-truth", columns=len(COLUMNS)), dtype=np.float64)
    if not len(rows):
        raise DataError("empty ground-truth file", path=anno)
    warnings: List[str] = []
    tracks = np.unique(rows[:, 0])
    if len(tracks) > 1:
        warnings.append(f"{anno}: rows of {len(tracks)} track ids ({', '.join(f'{t:g}' for t in tracks)}); "
                        f"the first row's track {rows[0, 0]:g} is used")
        lines = np.flatnonzero(rows[:, 0] == rows[0, 0])
        rows = rows[lines]
    else:
        lines = np.arange(len(rows))
    frame = rows[:, 5]
    if not np.all(frame == np.round(frame)):
        bad = int(np.flatnonzero(frame != np.round(frame))[0])
        raise DataError(f"frame number {frame[bad]:g} is not an integer", path=anno, line=int(lines[bad]) + 1)
    step = np.diff(frame)
    if np.any(step <= 0):
        bad = int(np.flatnonzero(step <= 0)[0]) + 1
        raise DataError(f"frame numbers must increase: {frame[bad - 1]:g} then {frame[bad]:g}", path=anno,
                        line=int(lines[bad]) + 1)

    images = sorted((sdir / seq).glob("*.jpg"))
    expected = len(images) or int(info.get("frames") or 0)
    rel = (frame - frame[0]).astype(np.int64)
    if len(rows) > 1 and np.all(step == 1) and expected and abs(len(rows) - expected) <= 1:
        index, numbering = rel, "30fps"              # one row per 30 fps frame, numbered at 30 fps
    else:
        keep = rel % STRIDE == 0                     # 240 fps numbering: every 8th frame is a 30 fps frame
        rows, index, numbering = rows[keep], rel[keep] // STRIDE, "240fps"
    n_anno = int(index[-1]) + 1

    n = n_anno
    if images:
        n = len(images)
        if abs(n_anno - n) > 1:
            raise DataError(f"the annotation covers {n_anno} frames at 30 fps (frame numbers {frame[0]:g}.."
                            f"{frame[-1]:g} at 240 fps), the image folder {sdir / seq} holds {n}", path=anno)
        if n_anno != n:
            warnings.append(f"{anno}: the annotation covers {n_anno} frames at 30 fps, the image folder holds {n}; "
                            f"both cut to {min(n, n_anno)} (as got10k does)")
            n = min(n, n_anno)
            images = images[:n]
    elif info.get("frames") and int(info["frames"]) != n_anno:
        warnings.append(f"{anno}: the annotation covers {n_anno} frames at 30 fps; the sequence list has "
                        f"{info['frames']} (pytracking's count); the annotation's length is used")
    inside = index < n
    rows, index = rows[inside], index[inside]

    gt = np.full((n, 4), np.nan)
    gt[index] = np.stack([rows[:, 1], rows[:, 2], rows[:, 3] - rows[:, 1], rows[:, 4] - rows[:, 2]], 1)
    lost = np.zeros(n, dtype=bool)
    occluded = np.zeros(n, dtype=bool)
    lost[index] = rows[:, 6] > 0
    occluded[index] = rows[:, 7] > 0
    gt, n_bad = invalid_gt_to_nan(gt)
    frames = ImageFiles(images) if images else None
    cls = info.get("class")
    return SOTSequence(seq, gt, frames=frames, flags={"lost": lost, "occluded": occluded, "absent": lost | occluded},
                       attributes=(str(cls),) if cls else (),
                       meta={"invalid_gt_frames": n_bad, "source": str(anno), "fps": 30, "numbering": numbering,
                             "first_annotated_frame": int(frame[0]), "warnings": warnings})
