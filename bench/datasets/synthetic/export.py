"""Write datasets to disk in the field's layouts, and read the written copies back.

* OTB (``write_otb``): ``<out>/<seq>/img/0001.jpg``, ``groundtruth_rect.txt`` (``x,y,w,h``
  per line, comma separated, ``NaN,NaN,NaN,NaN`` where the target is absent), LaSOT-style
  flag files ``<flag>.txt`` (one line of comma-separated 0/1: ``occlusion``,
  ``full_occlusion``, ``out_of_view``, ``absent``, ...), ``attributes.txt`` (one OTB
  attribute per line), ``meta.json``; ``<out>/list.txt`` lists the sequences in order.
* VOT (``write_vot``): ``<out>/list.txt``, ``<seq>/color/00000001.jpg``, ``groundtruth.txt``
  (8-value polygons, or 4-value rectangles with ``polygons=False``; ``nan`` values where
  the target is absent, as VOT long-term ground truth does), per-frame ``<tag>.tag``
  files (``occlusion``, ``illum_change``, ``motion_change``, ``size_change``,
  ``camera_motion``) and the ``sequence`` metadata file.
* MOTChallenge (``write_motchallenge``): ``<out>/train/<seq>/{seqinfo.ini, img1/000001.jpg,
  gt/gt.txt, det/det.txt}``; gt rows ``frame,id,x,y,w,h,1,1,visibility``, det rows
  ``frame,-1,x,y,w,h,score,-1,-1,-1``; plus ``<out>/seqmaps/<dataset>-train.txt``.

Frames are written as JPEG (quality 95): a written copy is for inspection and for
other toolkits; it is not bit-identical to the in-memory frames.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import cv2
import numpy as np

from ...core.boxes import xywh_to_poly
from ...core.errors import BenchError, DataError, DatasetNotFoundError
from ...core.io import atomic_write_text
from ...core.sequence import ImageFiles, MOTSequence, SOTSequence
from ..base import Dataset

PathLike = Union[str, Path]
VOT_TAGS = ("occlusion", "illum_change", "motion_change", "size_change", "camera_motion")
JPEG_QUALITY = 95
_EXPORT_HINT = "write a copy with: python -m bench export --dataset {name} --format {fmt} --out DIR"


def _iter(dataset: Union[Dataset, Iterable], progress: bool, what: str):
    items = list(dataset.names()) if isinstance(dataset, Dataset) else None
    seqs = (dataset[n] for n in items) if items is not None else iter(dataset)
    if progress:
        from tqdm import tqdm

        return tqdm(seqs, total=len(items) if items is not None else None, desc=what, unit="seq")
    return seqs


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise BenchError(f"{path}: JPEG encoding failed")
    path.write_bytes(buf.tobytes())


def _fmt_rows(a: np.ndarray, fmt: str = "%.3f", nan: str = "NaN") -> str:
    lines = []
    for row in np.asarray(a, np.float64):
        if np.any(np.isnan(row)):
            lines.append(",".join([nan] * len(row)))
        else:
            lines.append(",".join(fmt % v for v in row))
    return "\n".join(lines) + "\n"


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _sot_only(seq, fmt: str) -> SOTSequence:
    if not isinstance(seq, SOTSequence):
        raise BenchError(f"export format '{fmt}' needs single-object sequences; '{seq.name}' is "
                         f"{type(seq).__name__} (use --format mot)")
    if seq.frames is None:
        raise BenchError(f"sequence '{seq.name}' has no frames to write")
    return seq


# --------------------------------------------------------------------------- OTB
def write_otb(dataset, out_dir: PathLike, progress: bool = False) -> Path:
    """Write single-object ``dataset`` in the OTB layout (module docstring); returns ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for seq in _iter(dataset, progress, "export otb"):
        seq = _sot_only(seq, "otb")
        d = out / seq.name
        (d / "img").mkdir(parents=True, exist_ok=True)
        n = len(seq)
        digits = max(4, len(str(n)))
        for i in range(n):
            _write_jpeg(d / "img" / f"{i + 1:0{digits}d}.jpg", seq.frame(i))
        atomic_write_text(d / "groundtruth_rect.txt", _fmt_rows(seq.gt))
        for flag, values in seq.flags.items():
            atomic_write_text(d / f"{flag}.txt", ",".join(str(int(v)) for v in np.asarray(values, bool)) + "\n")
        atomic_write_text(d / "attributes.txt", "".join(a + "\n" for a in seq.attributes))
        meta = {"name": seq.name, "length": n, "image_size": list(seq.image_size or seq.frame(0).shape[1::-1]),
                "frames": f"img/%0{digits}d.jpg", "attributes": list(seq.attributes), "flags": sorted(seq.flags)}
        for k in ("generator", "seed", "split", "primary", "factors"):
            if k in seq.meta:
                meta[k] = _jsonable(seq.meta[k])
        atomic_write_text(d / "meta.json", json.dumps(meta, indent=1) + "\n")
        names.append(seq.name)
    atomic_write_text(out / "list.txt", "".join(n + "\n" for n in names))
    return out


def _parse_numbers(path: Path, ncols: Optional[Iterable[int]] = None) -> np.ndarray:
    """Rows of numbers (comma / tab / space separated; ``nan`` allowed); errors name file and line."""
    if not path.is_file():
        raise DataError("file not found", path=path)
    rows: List[List[float]] = []
    allowed = set(ncols) if ncols is not None else None
    width = None
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        parts = [p for p in s.replace("\t", ",").replace(" ", ",").split(",") if p != ""]
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise DataError(f"expected numbers, got {s!r}", path=path, line=ln) from None
        if allowed is not None and len(vals) not in allowed:
            raise DataError(f"expected {' or '.join(map(str, sorted(allowed)))} values, got {len(vals)}",
                            path=path, line=ln)
        if width is not None and len(vals) != width:
            raise DataError(f"expected {width} values like the lines above, got {len(vals)}", path=path, line=ln)
        width = len(vals)
        rows.append(vals)
    return np.asarray(rows, np.float64).reshape(len(rows), width or 0)


def _read_otb_sequence(d: Path) -> SOTSequence:
    gt_path = d / "groundtruth_rect.txt"
    gt = _parse_numbers(gt_path, ncols=(4,))
    n = len(gt)
    bad = ~np.isnan(gt).any(1) & ((gt[:, 2] <= 0) | (gt[:, 3] <= 0))
    if bad.any():
        raise DataError("box with zero or negative size", path=gt_path, line=int(np.flatnonzero(bad)[0]) + 1)
    meta: Dict[str, object] = {}
    if (d / "meta.json").is_file():
        try:
            meta = json.loads((d / "meta.json").read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=d / "meta.json", line=exc.lineno) from None
    flags = {}
    for f in sorted(d.glob("*.txt")):
        if f.name in ("groundtruth_rect.txt", "attributes.txt"):
            continue
        vals = f.read_text().strip().replace("\n", ",").split(",")
        try:
            arr = np.array([int(v) for v in vals if v.strip() != ""], dtype=np.int64)
        except ValueError:
            raise DataError("expected comma-separated 0/1 flags", path=f, line=1) from None
        if len(arr) != n:
            raise DataError(f"{len(arr)} flags for {n} ground-truth rows", path=f, line=1)
        flags[f.stem] = arr.astype(bool)
    attrs = ()
    if (d / "attributes.txt").is_file():
        attrs = tuple(a.strip() for a in (d / "attributes.txt").read_text().splitlines() if a.strip())
    frames = None
    img = d / "img"
    if img.is_dir():
        paths = sorted(img.glob("*.jpg"))
        if len(paths) != n:
            raise DataError(f"{len(paths)} frames in img/ but {n} ground-truth rows", path=img)
        frames = ImageFiles(paths)
    size = meta.get("image_size")
    if size is None and frames is not None:
        h, w = frames[0].shape[:2]
        size = (w, h)
    return SOTSequence(name=d.name, gt=gt, frames=frames, flags=flags, attributes=attrs,
                    image_size=tuple(size) if size is not None else None, meta=dict(meta))


def read_otb_copy(root: PathLike, name: str = "synthetic") -> Dataset:
    """Read a copy written by :func:`write_otb` (protocol ``ope``)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError(f"{name} root not found", path=root,
                                   hint=_EXPORT_HINT.format(name=name, fmt="otb"))
    if (root / "list.txt").is_file():
        names = [s.strip() for s in (root / "list.txt").read_text().splitlines() if s.strip()]
    else:
        names = sorted(p.parent.name for p in root.glob("*/groundtruth_rect.txt"))
    if not names:
        raise DatasetNotFoundError(f"no sequences (<seq>/groundtruth_rect.txt) in the {name} root", path=root,
                                   hint=_EXPORT_HINT.format(name=name, fmt="otb"))
    for n in names:
        if not (root / n / "groundtruth_rect.txt").is_file():
            raise DatasetNotFoundError(f"sequence '{n}' listed in list.txt is missing",
                                       path=root / n / "groundtruth_rect.txt")
    return Dataset(name, names, lambda n: _read_otb_sequence(root / n), root=root, has_gt=True)


# --------------------------------------------------------------------------- VOT
def write_vot(dataset, out_dir: PathLike, polygons: bool = True, progress: bool = False) -> Path:
    """Write single-object ``dataset`` in the VOT layout (module docstring); returns ``out_dir``.

    Regions: the target's rotated outline rectangle (``meta['region_polygons']``) where the
    generator provides it, else the corners of the ``xywh`` box."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for seq in _iter(dataset, progress, "export vot"):
        seq = _sot_only(seq, "vot")
        d = out / seq.name
        (d / "color").mkdir(parents=True, exist_ok=True)
        n = len(seq)
        for i in range(n):
            _write_jpeg(d / "color" / f"{i + 1:08d}.jpg", seq.frame(i))
        absent = np.isnan(seq.gt).any(1)
        if polygons:
            reg = seq.meta.get("region_polygons")
            reg = np.asarray(reg, np.float64).copy() if reg is not None else xywh_to_poly(np.nan_to_num(seq.gt))
            reg[absent] = np.nan
            text = _fmt_rows(reg, "%.4f", "nan")
        else:
            text = _fmt_rows(seq.gt, "%.4f", "nan")
        atomic_write_text(d / "groundtruth.txt", text)
        for tag in VOT_TAGS:
            if tag in seq.flags:
                atomic_write_text(d / f"{tag}.tag", "".join(f"{int(v)}\n" for v in np.asarray(seq.flags[tag], bool)))
        atomic_write_text(d / "sequence", f"channels.color=color/%08d.jpg\nformat=default\nfps=30\nname={seq.name}\n")
        names.append(seq.name)
    atomic_write_text(out / "list.txt", "".join(n + "\n" for n in names))
    return out


# --------------------------------------------------------------------------- MOTChallenge
def write_motchallenge(dataset, out_dir: PathLike, progress: bool = False) -> Path:
    """Write multi-object ``dataset`` in the MOTChallenge layout (module docstring)."""
    out = Path(out_dir)
    names = []
    for seq in _iter(dataset, progress, "export mot"):
        if not isinstance(seq, MOTSequence):
            raise BenchError(f"export format 'mot' needs multi-object sequences; '{seq.name}' is "
                             f"{type(seq).__name__} (use --format otb or vot)")
        d = out / "train" / seq.name
        (d / "img1").mkdir(parents=True, exist_ok=True)
        (d / "gt").mkdir(exist_ok=True)
        (d / "det").mkdir(exist_ok=True)
        W, H = seq.image_size
        ini = (f"[Sequence]\nname={seq.name}\nimDir=img1\nframeRate={int(round(seq.fps))}\nseqLength={seq.length}\n"
               f"imWidth={W}\nimHeight={H}\nimExt=.jpg\n")
        atomic_write_text(d / "seqinfo.ini", ini)
        if seq.frames is not None:
            for i in range(seq.length):
                _write_jpeg(d / "img1" / f"{i + 1:06d}.jpg", seq.frame(i))
        if seq.gt is not None:
            atomic_write_text(d / "gt" / "gt.txt", "".join(
                f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{int(r[6])},{int(r[7])},{r[8]:.6f}\n"
                for r in seq.gt))
        if seq.detections is not None:
            atomic_write_text(d / "det" / "det.txt", "".join(
                f"{int(r[0])},-1,{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.6f},-1,-1,-1\n"
                for r in seq.detections))
        names.append(seq.name)
    name = dataset.name if isinstance(dataset, Dataset) else "synthetic-mot"
    atomic_write_text(out / "seqmaps" / f"{name}-train.txt", "name\n" + "".join(n + "\n" for n in names))
    return out


def read_motchallenge_copy(root: PathLike, name: str = "synthetic-mot") -> Dataset:
    """Read a copy written by :func:`write_motchallenge` (protocol ``mot``) with the toolkit's
    MOTChallenge sequence reader (:func:`bench.datasets.motchallenge.load_sequence`)."""
    root = Path(root)
    base = root / "train"
    if not base.is_dir():
        raise DatasetNotFoundError(f"{name} root has no train/ folder", path=base,
                                   hint=_EXPORT_HINT.format(name=name, fmt="mot"))
    names = sorted(p.parent.name for p in base.glob("*/seqinfo.ini"))
    if not names:
        raise DatasetNotFoundError(f"no sequences (train/<seq>/seqinfo.ini) in the {name} root", path=base,
                                   hint=_EXPORT_HINT.format(name=name, fmt="mot"))
    from ..motchallenge import MOTChallengeParams, load_sequence  # the toolkit's MOTChallenge reader

    cfg = MOTChallengeParams(benchmark=name, root=str(root), split="train")
    cache: Dict[bytes, np.ndarray] = {}
    return Dataset(name, names, lambda n: load_sequence(base / n, cfg, cache), root=root, has_gt=True)


# --------------------------------------------------------------------------- dispatch
FORMATS = {"otb": write_otb, "vot": write_vot, "mot": write_motchallenge, "motchallenge": write_motchallenge}


def export(dataset, fmt: str, out_dir: PathLike, progress: bool = False) -> Path:
    """Write ``dataset`` to ``out_dir`` in format ``fmt`` (``otb``, ``vot`` or ``mot``)."""
    if fmt not in FORMATS:
        from ...core.errors import UnknownNameError

        raise UnknownNameError("export format", fmt, ["otb", "vot", "mot"])
    if isinstance(dataset, Dataset):
        want = "mot" if FORMATS[fmt] is write_motchallenge else "sot"
        have = dataset.protocol_object().tracker_kind
        if want != have:
            raise BenchError(f"dataset '{dataset.name}' (protocol {dataset.protocol}) cannot be written as "
                             f"'{fmt}'; use " + ("--format mot" if have == "mot" else "--format otb or vot"))
    return FORMATS[fmt](dataset, out_dir, progress=progress)
