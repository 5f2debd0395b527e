"""KITTI tracking (Geiger et al., CVPR 2012): its own label format, evaluated per class (protocol ``kitti``).

Layout (the official ``data_tracking_label_2.zip`` / ``data_tracking_image_2.zip`` unpacked)::

    <root>/training/label_02/<seq>.txt          frame id type truncated occluded alpha x1 y1 x2 y2 h w l x y z ry
    <root>/training/image_02/<seq>/000000.png   frames (0-based names; any subset may be present)
    <root>/training/evaluate_tracking.seqmap.training   optional: '<seq> empty 000000 <length>' rows
    <root>/testing/image_02/<seq>/...           the test split (no labels)

``calib/``, ``velodyne/`` and ``oxts/`` are not needed. Sequences are those of the seqmap
(TrackEval reads ``<GT_FOLDER>/evaluate_tracking.seqmap.<split>``; looked up in the split
folder, then in the root) and their lengths its fourth field; without a seqmap, every
label file (every image folder for a split without labels), with the length from the
images (last index + 1), else from the labels (last frame + 1).

Ground truth rows (:class:`~bench.core.sequence.MOTSequence` ``gt``, frames made 1-based
like every MOT sequence): ``frame, id, x1, y1, x2, y2, class, truncated, occluded`` with
TrackEval's class ids (:data:`bench.core.kitti_text.CLASS_IDS`), don't-care regions
included (class 9). Rows with a negative track id that are not don't-care regions are
dropped, as TrackEval's ``remove_negative_ids`` does (counted in ``meta``).

KITTI has no official public detections. ``detections_file`` (relative to the split
folder, ``{seq}`` replaced by the sequence name) names a user-provided file per sequence in
MOTChallenge det format ``frame, -1, x, y, w, h, score`` (comma or space separated), with
frame ``detections_first_frame`` (default 1, as MOTChallenge) = image ``000000.png``; a
detection-based tracker (SORT) then runs on it.

Malformed rows raise :class:`~bench.core.errors.DataError` with file and line.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Literal, Optional, Tuple, Union

import numpy as np

from ..core.errors import DataError, DatasetNotFoundError
from ..core.kitti_text import DONTCARE, check_unique, read_kitti_text, read_seqmap
from ..core.mot_text import check_rows, read_mot_text
from ..core.sequence import ImageFiles, MOTSequence
from .base import Dataset, LoaderParams, register_loader

PathLike = Union[str, Path]


@dataclasses.dataclass
class KITTIParams(LoaderParams):
    """KITTI tracking layout (values in ``configs/datasets/kitti-tracking.yaml``)."""

    #: the split folder: ``training`` (labels public) or ``testing``
    split: Literal["training", "testing"] = "training"
    #: seqmap file name (in the split folder, else the root); None: ``evaluate_tracking.seqmap.<split>``;
    #: a missing file: every sequence found. ``evaluate_tracking.seqmap.val`` picks TrackEval's val subset
    seqmap: Optional[str] = None
    #: label folder inside the split folder
    label_dir: str = "label_02"
    #: image folder inside the split folder (one sub-folder per sequence)
    image_dir: str = "image_02"
    image_ext: str = ".png"
    #: digits of the 0-based image file names (000000.png)
    image_digits: int = 6
    #: frame rate (KITTI raw recordings: 10 Hz)
    fps: float = 10.0
    #: user-provided detections per sequence, relative to the split folder, ``{seq}`` = name ("" = none)
    detections_file: str = ""
    #: the frame number of image 000000 in ``detections_file`` (1: MOTChallenge convention; 0: KITTI's)
    detections_first_frame: int = 1

    def __post_init__(self):
        if not self.seqmap:
            self.seqmap = f"evaluate_tracking.seqmap.{self.split}"
        if self.detections_file and "{seq}" not in self.detections_file:
            raise ValueError(f"detections_file must contain {{seq}} (one file per sequence), "
                             f"got {self.detections_file!r}")
        if self.detections_first_frame not in (0, 1):
            raise ValueError(f"detections_first_frame must be 0 or 1, not {self.detections_first_frame}")


def _image_indices(folder: Path, ext: str) -> List[int]:
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.iterdir() if p.suffix.lower() == ext.lower() and p.stem.isdigit())


def read_kitti_gt(path: PathLike, length: Optional[int] = None) -> Tuple[np.ndarray, int]:
    """A label file as gt rows ``frame (1-based), id, x1, y1, x2, y2, class, truncated, occluded`` and
    the number of rows dropped for a negative track id (not don't-care)."""
    rows, lines = read_kitti_text(path, what="ground truth", length=length)
    drop = (rows[:, 1] < 0) & (rows[:, 2] != DONTCARE)
    rows, lines = rows[~drop], lines[~drop]
    check_unique(rows, lines, path, what="ground truth")
    out = np.empty((len(rows), 9))
    out[:, 0] = rows[:, 0] + 1
    out[:, 1] = rows[:, 1]
    out[:, 2:6] = rows[:, 5:9]
    out[:, 6] = rows[:, 2]
    out[:, 7] = rows[:, 3]
    out[:, 8] = rows[:, 4]
    return out, int(drop.sum())


def _read_detections(path: Path, length: int, first_frame: int) -> np.ndarray:
    det = read_mot_text(path, 6)
    det = det.copy()
    det[:, 0] += 1 - first_frame
    check_rows(det, path, what="detections", length=length, check_ids=False, unique=False)
    out = np.ones((len(det), 7))
    out[:, :min(det.shape[1], 7)] = det[:, :7]
    return out


def load_sequence(split_dir: Path, name: str, length: Optional[int], p: KITTIParams,
                  length_source: str = "seqmap") -> MOTSequence:
    """One KITTI sequence (``length`` None: from the images, else the labels)."""
    label = split_dir / p.label_dir / f"{name}.txt"
    img_dir = split_dir / p.image_dir / name
    present = _image_indices(img_dir, p.image_ext)
    meta: Dict[str, object] = {"benchmark": "KITTI", "split": split_dir.name, "path": str(split_dir),
                               "detections_file": p.detections_file, "images_present": len(present)}
    gt = None
    if label.is_file():
        gt, dropped = read_kitti_gt(label, length)
        meta["gt_path"] = str(label)
        meta["negative_id_rows_dropped"] = dropped
    if length is None:  # no seqmap: the last image or the last labelled frame, whichever is later
        ends = {"images": present[-1] + 1 if present else 0,
                "labels": int(gt[:, 0].max()) if gt is not None and len(gt) else 0}
        length_source = max(ends, key=lambda k: ends[k])
        length = ends[length_source]
        if length == 0:
            raise DataError(f"cannot tell the length of sequence {name}: no seqmap entry, no images in "
                            f"{p.image_dir}/{name}/, no label rows", split_dir)
    meta["length_source"] = length_source
    det = None
    if p.detections_file:
        det_path = split_dir / p.detections_file.format(seq=name)
        if det_path.is_file():
            det = _read_detections(det_path, length, p.detections_first_frame)
            meta["det_path"] = str(det_path)
    frames = image_size = None
    if img_dir.is_dir():
        fmt = f"{{:0{int(p.image_digits)}d}}{p.image_ext}"
        frames = ImageFiles([str(img_dir / fmt.format(i)) for i in range(length)])
        if present:
            import cv2

            img = cv2.imread(str(img_dir / fmt.format(present[0])), cv2.IMREAD_UNCHANGED)
            if img is not None:
                image_size = (int(img.shape[1]), int(img.shape[0]))
    return MOTSequence(name=name, length=int(length), frames=frames, gt=gt, detections=det, image_size=image_size,
                       fps=float(p.fps), meta=meta)


def _sequences(root: Path, split_dir: Path, p: KITTIParams) -> Tuple[Dict[str, Optional[int]], str]:
    """{sequence: length or None} and where the list came from."""
    for folder in (split_dir, root):
        f = folder / p.seqmap
        if p.seqmap and f.is_file():
            return dict(read_seqmap(f)), str(f)
    label_dir = split_dir / p.label_dir
    if label_dir.is_dir():
        names = sorted(f.stem for f in label_dir.glob("*.txt"))
        if names:
            return {n: None for n in names}, str(label_dir)
    img_dir = split_dir / p.image_dir
    if img_dir.is_dir():
        names = sorted(d.name for d in img_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
        if names:
            return {n: None for n in names}, str(img_dir)
    raise DatasetNotFoundError(f"KITTI tracking: no sequences in {split_dir} (no {p.seqmap}, no "
                               f"{p.label_dir}/<seq>.txt, no {p.image_dir}/<seq>/)", split_dir,
                               hint=f"expected <root>/{p.split}/{p.label_dir}/0000.txt ...; download {p.download}")


@register_loader("kitti", params=KITTIParams,
                 description="KITTI tracking layout: <split>/{label_02/<seq>.txt, image_02/<seq>/000000.png}")
def open_kitti(name: str, params: KITTIParams, root: Optional[PathLike] = None) -> Dataset:
    """Open KITTI tracking (``kitti-tracking``) at ``root``."""
    hint = f"download {params.download}, unpack it and pass --root <folder holding {params.split}/>"
    if root is None and params.root is None:
        raise DatasetNotFoundError(f"{name}: no dataset root given (use --root)", hint=hint)
    root_path = Path(root if root is not None else params.root).expanduser()
    if not root_path.is_dir():
        raise DatasetNotFoundError(f"KITTI tracking root not found: {root_path}", root_path, hint=hint)
    split_dir = root_path / params.split
    if not split_dir.is_dir():
        raise DatasetNotFoundError(f"KITTI tracking: no '{params.split}' folder in {root_path}", split_dir, hint=hint)
    seqs, source = _sequences(root_path, split_dir, params)
    if params.split == "training":
        missing = [s for s in seqs if not (split_dir / params.label_dir / f"{s}.txt").is_file()]
        if missing and len(missing) == len(seqs):
            raise DatasetNotFoundError(f"KITTI tracking: no label file for any sequence of {source} "
                                       f"(e.g. {split_dir / params.label_dir / (missing[0] + '.txt')})",
                                       split_dir / params.label_dir, hint=hint)

    def load(n: str) -> MOTSequence:
        return load_sequence(split_dir, n, seqs[n], params)

    return Dataset(name, list(seqs), load, root=root_path, has_gt=None)
