"""TrackingNet (Müller, Bibi, Giancola, Al-Subaihi, Ghanem, ECCV 2018): ``trackingnet`` (TEST, 511
sequences, first box only) and ``trackingnet-train`` (TRAIN_0 .. TRAIN_11, full ground truth).

Layout (the TrackingNet devkit's ``download_TrackingNet.py`` + ``extract_frame.py``): one folder
per chunk under ``<root>``, each with ``anno/<seq>.txt`` (comma separated ``x,y,w,h``; the
TEST chunk gives the first frame's box only) and ``frames/<seq>/0.jpg, 1.jpg, ...``
(0-based, no zero padding). The sequences are the ``anno/*.txt`` files present, sorted
(the names are YouTube ids; no list is embedded). Frames are ordered by their number
(``10.jpg`` after ``9.jpg``); a gap in the numbering is a :class:`DataError` naming the
missing file.

The TEST split has no ground truth beyond frame 1: running works (the length comes from
the frames, which must be present), evaluation is done by the server. :func:`pack_results`
(CLI ``bench export-results``) packs a one-pass result folder into the server's zip:
one ``<seq>.txt`` per sequence at the zip root, ``x,y,w,h`` comma separated per frame,
the first line the given box (the devkit's ``metrics.py`` reads each file with
``pd.read_csv(sep=",", names=[x, y, w, h])``, matches it to the annotation file by name and
overwrites its first row with the given box).
"""
from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Union

import numpy as np

from ..core.errors import ConfigError, DataError, DatasetNotFoundError
from ..core.io import atomic_write_bytes
from ..core.sequence import ImageFiles, SOTSequence
from .base import Dataset, LoaderParams, dataset_config, dataset_names, download_hint, register_loader, resolve_root
from .sot_common import invalid_gt_to_nan, read_boxes

_FRAME = re.compile(r"^(\d+)\.jpg$", re.IGNORECASE)


@dataclasses.dataclass
class TrackingNetParams(LoaderParams):
    #: the chunk folders to read: ``[TEST]`` or some of ``TRAIN_0`` .. ``TRAIN_11``
    chunks: List[str] = dataclasses.field(default_factory=lambda: ["TEST"])


@register_loader("trackingnet", params=TrackingNetParams,
                 description="TrackingNet chunk folders (<chunk>/anno/<seq>.txt, <chunk>/frames/<seq>/<i>.jpg)")
def open_trackingnet(name: str, params: TrackingNetParams, root=None) -> Dataset:
    root = resolve_root(root, params, name)
    hint = download_hint(params, name)
    if not params.chunks:
        raise DataError(f"{name}: no chunk given (chunks=[TEST] or some of TRAIN_0 .. TRAIN_11)")
    where: Dict[str, Path] = {}
    for chunk in params.chunks:
        anno_dir = root / chunk / "anno"
        if not anno_dir.is_dir():
            raise DatasetNotFoundError(
                f"{name}: chunk {chunk} not found (expected <root>/{chunk}/anno/<seq>.txt and "
                f"<root>/{chunk}/frames/<seq>/0.jpg; --dataset-option chunks=[...] reads the chunks you have)",
                path=anno_dir, hint=hint)
        for f in sorted(anno_dir.glob("*.txt")):
            if f.stem in where:
                raise DataError(f"sequence '{f.stem}' is in two chunks ({where[f.stem].parent.parent.name} "
                                f"and {chunk})", path=f)
            where[f.stem] = f
    if not where:
        raise DatasetNotFoundError(f"{name}: no annotation file in {', '.join(params.chunks)}",
                                   path=root / params.chunks[0] / "anno", hint=hint)
    test = all(c.upper() == "TEST" for c in params.chunks)

    def load(seq: str) -> SOTSequence:
        return _load(seq, where[seq], test)

    return Dataset(name, sorted(where), load, root=root, has_gt=False if test else None)


def frame_files(folder: Path) -> List[Path]:
    """``0.jpg, 1.jpg, ...`` of a frames folder in numeric order; a gap is a :class:`DataError`."""
    if not folder.is_dir():
        return []
    numbered = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _FRAME.match(p.name)))
    for i, (k, p) in enumerate(numbered):
        if k != i:
            raise DataError(f"frame {i}.jpg is missing ({len(numbered)} frames numbered up to {numbered[-1][0]})",
                            path=folder / f"{i}.jpg")
    return [p for _, p in numbered]


def _load(seq: str, anno: Path, test: bool) -> SOTSequence:
    chunk_dir = anno.parent.parent
    gt = read_boxes(anno)
    images = frame_files(chunk_dir / "frames" / seq)
    n = len(gt)
    if test or (images and len(gt) == 1 and len(images) > 1):
        if not images:
            raise DataError("TEST sequence without frames: the sequence length is unknown (the annotation gives "
                            "the first box only)", path=chunk_dir / "frames" / seq)
        n = len(images)
        if len(gt) not in (1, n):
            raise DataError(f"{len(gt)} ground-truth rows for {n} frames (expected the first box only, or one "
                            "row per frame)", path=anno)
        if len(gt) == 1:
            gt = np.concatenate([gt, np.full((n - 1, 4), np.nan)], 0)
    elif images and len(images) != n:
        raise DataError(f"{len(gt)} ground-truth rows for {len(images)} frames in {chunk_dir / 'frames' / seq}",
                        path=anno)
    gt, n_bad = invalid_gt_to_nan(gt)
    return SOTSequence(seq, gt, frames=ImageFiles(images) if images else None,
                       meta={"chunk": chunk_dir.name, "invalid_gt_frames": n_bad, "source": str(anno),
                             "warnings": []})


# ----------------------------------------------------------------------------------
# server submission
# ----------------------------------------------------------------------------------
class Packed(NamedTuple):
    """What :func:`pack_results` wrote: the zip, the sequences in it, the reading rules that applied."""

    path: Path
    sequences: List[str]
    warnings: List[str]


def pack_results(dataset: Dataset, results_dir: Union[str, Path], out: Union[str, Path], *,
                 allow_missing: bool = False) -> Packed:
    """Pack the one-pass result files ``results_dir/<seq>.txt`` of ``dataset`` (a dataset of the
    ``trackingnet`` loader, or a selection of it) into the TrackingNet server's zip ``out``.

    Each sequence's file is read with the tolerant one-pass reader (names matched up to case
    and ``-`` / ``_``; a file longer than the sequence truncated, a shorter one padded) and
    written as ``<seq>.txt`` at the zip root, ``%.4f`` comma separated ``x,y,w,h``, its
    first line the given box. Rows holding NaN are written as ``0,0,0,0`` (the server
    scores them as failures). A sequence without a result file is a :class:`DataError`
    unless ``allow_missing``. The zip is written atomically.
    """
    from ..results.sot import ONE_PASS, format_boxes, read_ope_file

    if not isinstance(dataset.params, TrackingNetParams):
        known = [n for n in dataset_names() if dataset_config(n).get("loader") == "trackingnet"]
        raise ConfigError(f"{dataset.name}: no evaluation-server format to pack; datasets with one: "
                          f"{', '.join(known)}")
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise DataError("results folder not found", path=results_dir)
    warnings: List[str] = []
    texts: Dict[str, str] = {}
    missing: List[str] = []
    for name in dataset.names():
        f = ONE_PASS.find_result_file(results_dir, name)
        if f is None:
            missing.append(name)
            continue
        seq = dataset[name]
        boxes, w = read_ope_file(f, len(seq))
        warnings += w
        init = np.asarray(seq.init_box, dtype=np.float64)
        if not np.allclose(boxes[0], init, atol=1e-3, equal_nan=False):
            warnings.append(f"{f}: first row {boxes[0].tolist()} is not the given box {init.tolist()}; "
                            "written as the given box")
        boxes[0] = init
        bad = ~np.isfinite(boxes).all(1)
        if bad.any():
            warnings.append(f"{f}: {int(bad.sum())} row(s) without a finite box written as 0,0,0,0")
            boxes[bad] = 0.0
        texts[name] = format_boxes(boxes)
    if missing and not allow_missing:
        raise DataError(f"{len(missing)} of {len(dataset)} sequences of {dataset.name} have no result file "
                        f"(e.g. {', '.join(missing[:3])}); the server expects all of them "
                        "(--allow-missing packs the others)", path=results_dir)
    if missing:
        warnings.append(f"{len(missing)} sequence(s) without a result file left out of the zip: "
                        + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    if not texts:
        raise DataError(f"no result file of a {dataset.name} sequence", path=results_dir)
    if len(texts) < dataset.total:
        warnings.append(f"{len(texts)} of the {dataset.total} sequences of {dataset.name} packed; the server "
                        "scores a submission with all of them")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(texts):
            z.writestr(f"{name}.txt", texts[name])
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return Packed(out, sorted(texts), warnings)
