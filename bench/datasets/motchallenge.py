"""MOTChallenge datasets: ``mot15``, ``mot16``, ``mot17``, ``mot20`` (protocol ``"mot"``).

Layout (the official zip files unpacked)::

    <root>/train/<seq>/seqinfo.ini        sequence length, frame rate, image size
    <root>/train/<seq>/img1/000001.jpg    frames (any subset may be present)
    <root>/train/<seq>/gt/gt.txt          frame, id, x, y, w, h, zero_marked, class, visibility
    <root>/train/<seq>/det/det.txt        frame, -1, x, y, w, h, score (rows in any frame order)
    <root>/test/<seq>/...                 same, without gt/

Options (also settable in ``configs/datasets/<name>.yaml``):

* ``split``: ``train`` (default), ``test`` or ``all`` (both, train first).
* ``detections`` (MOT17 only): ``FRCNN``, ``DPM`` or ``SDP`` keeps that copy of each
  sequence (7 sequences); ``None`` (default) keeps every copy present (21 on train), which
  is what the MOTChallenge evaluation covers.
* ``frames``: ``all`` (default) keeps the length from ``seqinfo.ini``; ``available`` cuts
  each sequence to the leading frames whose images exist (gt and detections beyond are
  dropped), for running image-based trackers on partial downloads.

The length of a sequence comes from ``seqinfo.ini`` even when only some images exist;
a missing frame raises a :class:`DataError` naming it when (and only when) a tracker
reads it. MOT15 folders often lack ``seqinfo.ini``: the length is then the number of
images in ``img1/``, else the largest frame number in ``gt.txt`` / ``det.txt``; the
frame rate defaults to 30 and the image size to the first image's size (None without
images).

Text files are parsed by :func:`read_mot_text` (comma separated; whitespace separated
and trailing commas tolerated); malformed rows raise :class:`DataError` with file and line.
"""
from __future__ import annotations

import configparser
import dataclasses
import io
import re
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import numpy as np

from ..core.config import build, read_yaml, split_sources
from ..core.errors import ConfigError, DataError, DatasetNotFoundError
from ..core.registry import configs_dir, register_dataset
from ..core.sequence import ImageFiles, MOTSequence
from .base import Dataset

PathLike = Union[str, Path]

#: MOTChallenge class ids (TrackEval ``MotChallenge2DBox.class_name_to_class_id``).
CLASS_IDS = {"pedestrian": 1, "person_on_vehicle": 2, "car": 3, "bicycle": 4, "motorbike": 5,
             "non_mot_vehicle": 6, "static_person": 7, "distractor": 8, "occluder": 9,
             "occluder_on_ground": 10, "occluder_full": 11, "reflection": 12, "crowd": 13}

MOT17_DETECTORS = ("DPM", "FRCNN", "SDP")

_SPLIT_RE = re.compile(r"\s*,\s*|\s+")


# ---------------------------------------------------------------- text files
def _line_numbers(data: bytes) -> List[int]:
    """1-based line numbers of the data rows (non-blank, not ``#`` comments) of a text file."""
    out = []
    for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(i + 1)
    return out


def line_of_row(path: Optional[PathLike], row: int) -> Optional[int]:
    """1-based file line of data row ``row`` (0-based) of a MOT text file, or None."""
    if path is None:
        return None
    try:
        lines = _line_numbers(Path(path).read_bytes())
    except OSError:
        return None
    return lines[row] if 0 <= row < len(lines) else None


def _slow_parse(data: bytes, path: PathLike, min_cols: int) -> np.ndarray:
    """Line-by-line parser with exact error locations (the fallback of :func:`read_mot_text`)."""
    rows: List[List[float]] = []
    ncols = None
    for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        fields = _SPLIT_RE.split(s)
        while fields and fields[-1] == "":
            fields.pop()
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            raise DataError(f"cannot read value {bad!r} as a number", path, i + 1) from None
        if ncols is None:
            ncols = len(vals)
            if ncols < min_cols:
                raise DataError(f"expected at least {min_cols} columns, found {ncols}", path, i + 1)
        elif len(vals) != ncols:
            raise DataError(f"wrong column count: {len(vals)} values where earlier rows have {ncols}",
                            path, i + 1)
        rows.append(vals)
    if not rows:
        return np.zeros((0, min_cols))
    return np.asarray(rows, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_mot_text(path: PathLike, min_cols: int, cache: Optional[Dict[tuple, list]] = None,
                  post: Optional[Callable[[np.ndarray], np.ndarray]] = None, tag: str = "") -> np.ndarray:
    """Read a MOTChallenge text file as a float64 array (N, C) with ``C >= min_cols``, rows in file order.

    An empty file gives ``(0, min_cols)``. ``post`` (validation, normalisation) is applied
    to the parsed rows. Files with identical content are parsed (and post-processed) once
    when a ``cache`` dict is given (MOT17's three copies share one ``gt.txt``): the
    returned array is then shared and read-only; ``tag`` distinguishes different ``post``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path) from None
    key = None
    if cache is not None:  # files of equal size are compared byte for byte
        key = (len(data), min_cols, tag)
        for old_data, old_arr in cache.get(key, ()):
            if old_data == data:
                return old_arr
    if not data.strip():
        arr = np.zeros((0, min_cols))
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.loadtxt(io.BytesIO(data), delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError:
            arr = _slow_parse(data, path, min_cols)
        if arr.shape[0] and arr.shape[1] < min_cols:
            raise DataError(f"expected at least {min_cols} columns, found {arr.shape[1]}", path,
                            line_of_row(path, 0))
    if post is not None:
        arr = post(arr)
    if cache is not None:
        arr.setflags(write=False)
        cache.setdefault(key, []).append((data, arr))
    return arr


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_rows(rows: np.ndarray, path: Optional[PathLike], *, what: str, length: Optional[int] = None,
               check_ids: bool = True, unique: bool = True) -> None:
    """Validate MOT rows ``frame, id, x, y, w, h, ...``: integer frames >= 1 (<= ``length``),
    integer ids >= 0 (``check_ids``), finite boxes, one row per (frame, id) (``unique``).
    Raises :class:`DataError` naming ``path`` and the line of the first bad row."""
    if rows.shape[0] == 0:
        return
    f = rows[:, 0]
    bad = ~np.isfinite(f) | (f != np.floor(f))
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: frame number {rows[i, 0]!r} is not an integer", path, line_of_row(path, i))
    bad = f < 1
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: frame number {int(f[i])} < 1 (frames are 1-based)", path, line_of_row(path, i))
    if length is not None:
        bad = f > length
        if bad.any():
            i = _first_bad(bad)
            raise DataError(f"{what}: frame {int(f[i])} is beyond the sequence length {length}",
                            path, line_of_row(path, i))
    box = rows[:, 2:6]
    bad = ~np.isfinite(box).all(1)
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{what}: box {rows[i, 2:6].tolist()} is not finite", path, line_of_row(path, i))
    if check_ids:
        ids = rows[:, 1]
        bad = ~np.isfinite(ids) | (ids != np.floor(ids)) | (ids < 0)
        if bad.any():
            i = _first_bad(bad)
            raise DataError(f"{what}: id {rows[i, 1]!r} is not a non-negative integer", path,
                            line_of_row(path, i))
    if unique:
        fi = f.astype(np.int64)
        ii = rows[:, 1].astype(np.int64)
        ii = ii - int(ii.min())  # non-negative keys (detections use id -1)
        # a key in the file's own order (by frame or by id) makes the stable sort near linear
        if np.all(fi[1:] >= fi[:-1]):
            key = fi * (int(ii.max()) + 1) + ii
        else:
            key = ii * (int(fi.max()) + 1) + fi
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dup = np.flatnonzero(ks[1:] == ks[:-1])
        if dup.size:
            # report the first repeated row in file order, and where its twin is
            second = order[dup + 1]
            j = int(np.argmin(second))
            i, first = int(second[j]), int(order[dup[j]])
            raise DataError(f"{what}: id {int(rows[i, 1])} appears twice in frame {int(fi[i])} "
                            f"(also on line {line_of_row(path, first)})", path, line_of_row(path, i))


# ---------------------------------------------------------------- config
@dataclasses.dataclass
class MOTChallengeConfig:
    """Settings of one MOTChallenge benchmark (``configs/datasets/<name>.yaml``)."""

    benchmark: str = "MOT17"
    root: str = "data/MOT17"
    download: str = "https://motchallenge.net/data/MOT17.zip"
    split: str = "train"
    detections: Optional[str] = None
    frames: str = "all"
    #: MOTChallenge preprocessing (TrackEval ``DO_PREPROC``); never applied to MOT15.
    preprocess: bool = True
    #: gt classes whose matched predictions are removed (TrackEval ``distractor_class_names``).
    distractor_classes: List[int] = dataclasses.field(default_factory=lambda: [2, 7, 8, 12])
    #: the evaluated class (pedestrian).
    eval_class: int = 1
    #: IoU for matching predictions to distractors (TrackEval ``matching_scores < 0.5 - eps``).
    preprocess_iou: float = 0.5
    #: CLEAR and Identity match threshold (TrackEval ``THRESHOLD``).
    threshold: float = 0.5


def load_motchallenge_config(name: str, options: Dict[str, object]) -> MOTChallengeConfig:
    known = {f.name for f in dataclasses.fields(MOTChallengeConfig)}
    for k in options:
        if k not in known:
            raise ConfigError(f"dataset '{name}': unknown option '{k}'; valid options: {', '.join(sorted(known))}")
    path = configs_dir() / "datasets" / f"{name}.yaml"
    tree = read_yaml(path)
    values, _ = split_sources(tree.get("params", tree))
    values.update({k: v for k, v in options.items()})
    cfg = build(MOTChallengeConfig, values, f"{path} + options" if options else str(path))
    if cfg.split not in ("train", "test", "all"):
        raise ConfigError(f"dataset '{name}': split must be train, test or all, not {cfg.split!r}")
    if cfg.frames not in ("all", "available"):
        raise ConfigError(f"dataset '{name}': frames must be 'all' or 'available', not {cfg.frames!r}")
    if cfg.detections is not None:
        if cfg.benchmark != "MOT17":
            raise ConfigError(f"dataset '{name}': the 'detections' option picks a MOT17 copy "
                              f"({', '.join(MOT17_DETECTORS)}); {cfg.benchmark} has one copy per sequence")
        det = str(cfg.detections).upper()
        if det == "ALL":
            det = None
        elif det not in MOT17_DETECTORS:
            raise ConfigError(f"dataset '{name}': detections must be one of {', '.join(MOT17_DETECTORS)} "
                              f"(or all), not {cfg.detections!r}")
        cfg = dataclasses.replace(cfg, detections=det)
    return cfg


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


def load_sequence(seq_dir: Path, cfg: MOTChallengeConfig, cache: Optional[Dict[tuple, list]] = None
                  ) -> MOTSequence:
    """Build a :class:`MOTSequence` from one MOTChallenge sequence folder."""
    name = seq_dir.name
    ini_path = seq_dir / "seqinfo.ini"
    gt_path = seq_dir / "gt" / "gt.txt"
    det_path = seq_dir / "det" / "det.txt"
    meta: Dict[str, object] = {"benchmark": cfg.benchmark, "split": seq_dir.parent.name}
    if cfg.benchmark == "MOT17" and "-" in name and name.rsplit("-", 1)[1] in MOT17_DETECTORS:
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
    if det_path.is_file():
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
        frames = ImageFiles([f"{prefix}{i:06d}{im_ext}" for i in range(1, length + 1)])
        if image_size is None and present:
            import cv2

            img = cv2.imread(str(img_folder / f"{present[0]:06d}{im_ext}"), cv2.IMREAD_UNCHANGED)
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
def _sequence_dirs(root: Path, cfg: MOTChallengeConfig) -> List[Path]:
    splits = ["train", "test"] if cfg.split == "all" else [cfg.split]
    dirs: List[Path] = []
    for sp in splits:
        d = root / sp
        if not d.is_dir():
            if cfg.split == "all":
                continue
            raise DatasetNotFoundError(f"{cfg.benchmark}: no '{sp}' folder in {root}", d,
                                       hint=f"expected <root>/{sp}/<sequence>/...; download {cfg.download}")
        for s in sorted(d.iterdir()):
            if not s.is_dir() or s.name.startswith("."):
                continue
            if cfg.detections is not None and not s.name.upper().endswith("-" + cfg.detections):
                continue
            dirs.append(s)
    return dirs


def open_motchallenge(name: str, root: Optional[PathLike] = None, **options) -> Dataset:
    """Open MOTChallenge benchmark ``name`` (``mot15``, ``mot16``, ``mot17``, ``mot20``)."""
    cfg = load_motchallenge_config(name, options)
    root_path = Path(root if root is not None else cfg.root).expanduser()
    if not root_path.is_dir():
        raise DatasetNotFoundError(f"{cfg.benchmark} root not found: {root_path}", root_path,
                                   hint=f"download {cfg.download}, unpack it and pass --root <folder>")
    dirs = _sequence_dirs(root_path, cfg)
    if not dirs:
        what = f" with detections {cfg.detections}" if cfg.detections else ""
        raise DatasetNotFoundError(f"{cfg.benchmark}: no sequence folders{what} under {root_path}/{cfg.split}",
                                   root_path, hint=f"download {cfg.download}")
    by_name = {d.name: d for d in dirs}
    if len(by_name) != len(dirs):
        raise DataError(f"{cfg.benchmark}: the same sequence name appears in train and test", root_path)
    cache: Dict[tuple, list] = {}
    preprocess = bool(cfg.preprocess) and cfg.benchmark != "MOT15"
    meta = {"benchmark": cfg.benchmark, "split": cfg.split, "detections": cfg.detections,
            "frames": cfg.frames, "preprocess": preprocess,
            "distractor_classes": [int(c) for c in cfg.distractor_classes],
            "eval_class": int(cfg.eval_class), "preprocess_iou": float(cfg.preprocess_iou),
            "threshold": float(cfg.threshold)}
    return Dataset(name, "mot", list(by_name), lambda n: load_sequence(by_name[n], cfg, cache),
                   root=root_path, meta=meta)


def _register(name: str) -> None:
    def opener(root=None, **options):
        return open_motchallenge(name, root, **options)

    opener.__doc__ = f"MOTChallenge {name.upper()} (train/test; gt, public detections, frames)."
    register_dataset(name, protocol="mot", config=f"datasets/{name}.yaml")(opener)


for _name in ("mot15", "mot16", "mot17", "mot20"):
    _register(_name)
