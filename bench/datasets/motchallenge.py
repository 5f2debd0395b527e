"""MOTChallenge-style datasets, declared by YAML alone: MOT15/16/17/20, DanceTrack, SportsMOT, ...

Layout (the official zip files unpacked)::

    <root>/<split>/<seq>/seqinfo.ini        sequence length, frame rate, image size
    <root>/<split>/<seq>/img1/000001.jpg    frames (any subset may be present)
    <root>/<split>/<seq>/gt/gt.txt          frame, id, x, y, w, h, zero_marked, class, visibility
    <root>/<split>/<seq>/det/det.txt        frame, -1, x, y, w, h, score (rows in any frame order)

Everything that differs between benchmarks is a loader parameter in the dataset's YAML
(:class:`MOTChallengeParams`): the split folders (``train``/``test``, DanceTrack's and
SportsMOT's ``train``/``val``/``test``), the detector copies of a sequence (MOT17's ``-DPM``,
``-FRCNN``, ``-SDP``), where the public detections are (none for DanceTrack and SportsMOT:
``detections_file: ""``), the digits of the image names (DanceTrack: 8); the
evaluation preprocessing (distractor classes, MOT20's extra class, none for MOT15) is
in the YAML's ``settings`` (:class:`bench.protocols.mot.MOTSettings`).

Options (``--dataset-option``):

* ``split``: one of ``splits`` (default ``train``) or ``all`` (every split folder present).
* ``detections``: ``FRCNN``, ``DPM`` or ``SDP`` keeps that copy of each sequence of a
  benchmark with ``detectors`` (MOT17: 7 sequences); None (default) keeps every copy
  present (21 on MOT17 train), which is what the MOTChallenge evaluation covers.
* ``frames``: ``all`` (default) keeps the length from ``seqinfo.ini``; ``available`` cuts
  each sequence to the leading frames whose images exist (gt and detections beyond are
  dropped), for running image-based trackers on partial downloads.

The length of a sequence comes from ``seqinfo.ini`` even when only some images exist;
a missing frame raises a :class:`DataError` naming it when (and only when) a tracker
reads it. MOT15 folders often lack ``seqinfo.ini``: the length is then the number of
images in ``img1/``, else the largest frame number in ``gt.txt`` / ``det.txt``; the
frame rate defaults to 30 and the image size to the first image's size (None without
images).

Text files are parsed by :func:`bench.core.mot_text.read_mot_text`; malformed rows raise
:class:`DataError` with file and line.
"""
from __future__ import annotations

import configparser
import dataclasses
from pathlib import Path
from typing import Dict, List, Literal, Optional, Union

import numpy as np

from ..core.errors import DataError, DatasetNotFoundError
from ..core.mot_text import check_rows, read_mot_text
from ..core.sequence import ImageFiles, MOTSequence
from .base import Dataset, LoaderParams, register_loader

PathLike = Union[str, Path]

#: MOTChallenge class ids (TrackEval ``MotChallenge2DBox.class_name_to_class_id``).
CLASS_IDS = {"pedestrian": 1, "person_on_vehicle": 2, "car": 3, "bicycle": 4, "motorbike": 5,
             "non_mot_vehicle": 6, "static_person": 7, "distractor": 8, "occluder": 9,
             "occluder_on_ground": 10, "occluder_full": 11, "reflection": 12, "crowd": 13}


@dataclasses.dataclass
class MOTChallengeParams(LoaderParams):
    """A MOTChallenge-layout benchmark (values in ``configs/datasets/<name>.yaml``)."""

    #: the benchmark's name in messages (TrackEval ``BENCHMARK``)
    benchmark: str = "MOT17"
    #: the split folders the benchmark has
    splits: List[str] = dataclasses.field(default_factory=lambda: ["train", "test"])
    #: the split to open: one of ``splits`` or ``all``
    split: str = "train"
    #: suffixes of the detector copies of a sequence (MOT17: DPM, FRCNN, SDP); empty: one copy each
    detectors: List[str] = dataclasses.field(default_factory=list)
    #: keep only the copies of this detector (one of ``detectors``); None: every copy
    detections: Optional[str] = None
    #: public detections, relative to a sequence folder ("" when the benchmark has none)
    detections_file: str = "det/det.txt"
    #: ground truth, relative to a sequence folder
    gt_file: str = "gt/gt.txt"
    #: ``all``: lengths from seqinfo.ini; ``available``: cut to the leading frames whose images exist
    frames: Literal["all", "available"] = "all"
    #: digits of the image file names (``000001.jpg``: 6; DanceTrack's ``00000001.jpg``: 8)
    image_digits: int = 6

    def __post_init__(self):
        if self.split != "all" and self.split not in self.splits:
            raise ValueError(f"split must be one of {', '.join(self.splits)} or all, not {self.split!r}")
        if self.detections is not None:
            if not self.detectors:
                raise ValueError(f"the 'detections' option picks a detector copy; {self.benchmark} has one copy "
                                 "per sequence")
            det = str(self.detections).upper()
            if det == "ALL":
                self.detections = None
            elif det not in [d.upper() for d in self.detectors]:
                raise ValueError(f"detections must be one of {', '.join(self.detectors)} (or all), "
                                 f"not {self.detections!r}")
            else:
                self.detections = det


# ---------------------------------------------------------------- sequences
def read_seqinfo(path: Path) -> Dict[str, str]:
    ini = configparser.ConfigParser()
    try:
        ini.read(path)
    except configparser.Error as exc:
        raise DataError(f"invalid seqinfo.ini: {exc}", path) from None
    if "Sequence" not in ini:
        raise DataError("seqinfo.ini has no [Sequence] section", path)
    return dict(ini["Sequence"])


def _int_field(info: Dict[str, str], key: str, path: Path) -> int:
    try:
        return int(info[key.lower()])
    except KeyError:
        raise DataError(f"seqinfo.ini lacks '{key}'", path) from None
    except ValueError:
        raise DataError(f"seqinfo.ini: '{key}' = {info[key.lower()]!r} is not an integer", path) from None


def _image_numbers(folder: Path, ext: str) -> List[int]:
    nums = []
    if folder.is_dir():
        for p in folder.iterdir():
            if p.suffix.lower() == ext.lower() and p.stem.isdigit():
                nums.append(int(p.stem))
    return sorted(nums)


def load_sequence(seq_dir: Path, cfg: MOTChallengeParams, cache: Optional[Dict[tuple, list]] = None
                  ) -> MOTSequence:
    """Build a :class:`MOTSequence` from one MOTChallenge sequence folder."""
    name = seq_dir.name
    ini_path = seq_dir / "seqinfo.ini"
    gt_path = seq_dir / cfg.gt_file
    det_path = seq_dir / cfg.detections_file if cfg.detections_file else None
    meta: Dict[str, object] = {"benchmark": cfg.benchmark, "split": seq_dir.parent.name,
                               "detections_file": cfg.detections_file}
    if "-" in name and name.rsplit("-", 1)[1] in cfg.detectors:
        meta["detector"] = name.rsplit("-", 1)[1]

    fps = 30.0
    image_size = None
    im_dir, im_ext = "img1", ".jpg"
    length: Optional[int] = None
    if ini_path.is_file():
        info = read_seqinfo(ini_path)
        length = _int_field(info, "seqLength", ini_path)
        if "framerate" in info:
            fps = float(_int_field(info, "frameRate", ini_path))
        if "imwidth" in info and "imheight" in info:
            image_size = (_int_field(info, "imWidth", ini_path), _int_field(info, "imHeight", ini_path))
        im_dir = info.get("imdir", im_dir)
        im_ext = info.get("imext", im_ext)
        meta["seqinfo"] = str(ini_path)
        meta["length_source"] = "seqinfo.ini"
    img_folder = seq_dir / im_dir
    present = _image_numbers(img_folder, im_ext)

    def gt_post(a: np.ndarray) -> np.ndarray:
        check_rows(a, gt_path, what="ground truth", length=length)
        return _normalise_gt(a)

    def det_post(a: np.ndarray) -> np.ndarray:
        check_rows(a, det_path, what="detections", length=length, check_ids=False, unique=False)
        return _normalise_det(a)

    known = length is not None
    gt = det = None
    if gt_path.is_file():
        gt = read_mot_text(gt_path, 7, cache, gt_post if known else None, f"gt{length}")
        meta["gt_path"] = str(gt_path)
    if det_path is not None and det_path.is_file():
        det = read_mot_text(det_path, 6, cache, det_post if known else None, f"det{length}")
        meta["det_path"] = str(det_path)

    if length is None:  # MOT15 without seqinfo.ini
        if present:
            length, meta["length_source"] = max(present), "images"
        else:
            ext = [int(a[:, 0].max()) for a in (gt, det) if a is not None and len(a)
                   and np.isfinite(a[:, 0]).all()]
            if not ext:
                raise DataError("cannot tell the sequence length: no seqinfo.ini, no images in "
                                f"{im_dir}/, no rows in gt/gt.txt or det/det.txt", seq_dir)
            length, meta["length_source"] = max(ext), "annotation extent"

    if not known:
        gt = gt_post(gt) if gt is not None else None
        det = det_post(det) if det is not None else None

    meta["images_present"] = len(present)
    if cfg.frames == "available":
        n = 0
        pset = set(present)
        while n + 1 in pset:
            n += 1
        if n < length:
            meta["truncated_from"] = length
            length = n
            if gt is not None:
                keep = np.flatnonzero(gt[:, 0] <= n)
                meta["gt_row_index"] = keep
                gt = gt[keep]
            if det is not None:
                det = det[det[:, 0] <= n]
    frames = None
    if img_folder.is_dir():
        prefix = str(img_folder) + "/"
        fmt = f"{{:0{int(cfg.image_digits)}d}}{im_ext}"
        frames = ImageFiles([prefix + fmt.format(i) for i in range(1, length + 1)])
        if image_size is None and present:
            import cv2

            img = cv2.imread(str(img_folder / fmt.format(present[0])), cv2.IMREAD_UNCHANGED)
            if img is not None:
                image_size = (int(img.shape[1]), int(img.shape[0]))
    meta["path"] = str(seq_dir)
    return MOTSequence(name=name, length=int(length), frames=frames, gt=gt, detections=det,
                       image_size=image_size, fps=fps, meta=meta)


def _normalise_gt(gt: np.ndarray) -> np.ndarray:
    """gt rows as 9 columns ``frame, id, x, y, w, h, zero_marked, class, visibility``.

    Files with 7 columns get class 1 (pedestrian) and visibility 1; 8 columns visibility 1;
    extra columns (MOT15's world coordinates) are dropped."""
    n, c = gt.shape
    out = np.ones((n, 9))
    out[:, :min(c, 9)] = gt[:, :9]
    return out


def _normalise_det(det: np.ndarray) -> np.ndarray:
    """det rows as 7 columns ``frame, id, x, y, w, h, score`` (score 1 when absent)."""
    n, c = det.shape
    out = np.ones((n, 7))
    out[:, :min(c, 7)] = det[:, :7]
    return out


# ---------------------------------------------------------------- datasets
def _sequence_dirs(root: Path, p: MOTChallengeParams) -> List[Path]:
    splits = list(p.splits) if p.split == "all" else [p.split]
    dirs: List[Path] = []
    for sp in splits:
        d = root / sp
        if not d.is_dir():
            if p.split == "all":
                continue
            raise DatasetNotFoundError(f"{p.benchmark}: no '{sp}' folder in {root}", d,
                                       hint=f"expected <root>/{sp}/<sequence>/...; download {p.download}")
        for s in sorted(d.iterdir()):
            if not s.is_dir() or s.name.startswith("."):
                continue
            if p.detections is not None and not s.name.upper().endswith("-" + p.detections):
                continue
            dirs.append(s)
    return dirs


@register_loader("motchallenge", params=MOTChallengeParams,
                 description="MOTChallenge layout: <split>/<seq>/{seqinfo.ini, img1/, gt/gt.txt, det/det.txt}")
def open_motchallenge(name: str, params: MOTChallengeParams, root: Optional[PathLike] = None) -> Dataset:
    """Open a MOTChallenge-layout benchmark (``mot15``, ``mot17``, ``dancetrack``, ...)."""
    if root is None and params.root is None:
        raise DatasetNotFoundError(f"{name}: no dataset root given (use --root)",
                                   hint=f"download {params.download}, unpack it and pass --root <folder>")
    root_path = Path(root if root is not None else params.root).expanduser()
    if not root_path.is_dir():
        raise DatasetNotFoundError(f"{params.benchmark} root not found: {root_path}", root_path,
                                   hint=f"download {params.download}, unpack it and pass --root <folder>")
    dirs = _sequence_dirs(root_path, params)
    if not dirs:
        what = f" with detections {params.detections}" if params.detections else ""
        raise DatasetNotFoundError(f"{params.benchmark}: no sequence folders{what} under {root_path}/{params.split}",
                                   root_path, hint=f"download {params.download}")
    by_name = {d.name: d for d in dirs}
    if len(by_name) != len(dirs):
        raise DataError(f"{params.benchmark}: the same sequence name appears in two splits", root_path)
    cache: Dict[tuple, list] = {}
    return Dataset(name, list(by_name), lambda n: load_sequence(by_name[n], params, cache), root=root_path)
