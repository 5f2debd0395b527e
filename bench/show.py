"""A look at the tracks: result files drawn over the frames (``python -m bench show``).

* Single object: the ground truth (green) and every tracker given (one colour each, legend
  with the tracker's name), the frame number and each tracker's IoU with the ground truth.
* Multi object: the tracker's boxes coloured by identity with a trail of their last centres;
  against the ground truth (when the sequence has it), the CLEAR matching of the evaluation
  marks false positives (red cross) and identity switches (yellow ``SW``), missed ground-truth
  boxes are drawn dashed, and boxes the MOTChallenge preprocessing ignores (matched to a
  distractor class) grey.

Output by extension: ``.mp4`` (OpenCV ``mp4v``), ``.gif`` (animated, Pillow) or ``.png``
(a contact sheet of the frames). Works on every dataset the toolkit reads, and on the
generated ``synthetic`` / ``synthetic-mot`` data without files on disk.
"""
from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .core.boxes import iou
from .core.errors import BenchError, DataError
from .core.io import atomic_write_bytes

PathLike = Union[str, Path]

GT_COLOUR = (0, 200, 0)
FP_COLOUR = (230, 30, 30)
SWITCH_COLOUR = (255, 215, 0)
IGNORED_COLOUR = (150, 150, 150)
#: tracker colours (RGB) for single-object views: matplotlib's tab10 without its green
PALETTE = [(31, 119, 180), (255, 127, 14), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194),
           (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def identity_colour(track_id: int) -> Tuple[int, int, int]:
    """A stable, well separated RGB colour per identity (golden-ratio hue steps)."""
    h = (int(track_id) * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 0.95)
    return int(255 * r), int(255 * g), int(255 * b)


def _cv2():
    import cv2

    return cv2


def _rect(img: np.ndarray, box, colour, thickness: int = 2, dashed: bool = False) -> None:
    cv2 = _cv2()
    x, y, w, h = [float(v) for v in box]
    if not np.all(np.isfinite([x, y, w, h])) or w <= 0 or h <= 0:
        return
    p1, p2 = (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h)))
    if not dashed:
        cv2.rectangle(img, p1, p2, colour, thickness)
        return
    for a, b in (((p1[0], p1[1]), (p2[0], p1[1])), ((p2[0], p1[1]), (p2[0], p2[1])),
                 ((p2[0], p2[1]), (p1[0], p2[1])), ((p1[0], p2[1]), (p1[0], p1[1]))):
        n = max(1, int(np.hypot(b[0] - a[0], b[1] - a[1]) // 8))
        for k in range(0, n, 2):
            s = (int(a[0] + (b[0] - a[0]) * k / n), int(a[1] + (b[1] - a[1]) * k / n))
            e = (int(a[0] + (b[0] - a[0]) * (k + 1) / n), int(a[1] + (b[1] - a[1]) * (k + 1) / n))
            cv2.line(img, s, e, colour, thickness)


def _text(img: np.ndarray, text: str, org, colour=(255, 255, 255), scale: float = 0.5) -> None:
    cv2 = _cv2()
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


# ---------------------------------------------------------------- single object
def sot_frames(seq, runs: Dict[str, np.ndarray], frames: Sequence[int]):
    """Yield the annotated RGB frames: gt and each tracker's ``(N, 4)`` boxes (NaN rows skipped)."""
    names = list(runs)
    for t in frames:
        img = np.ascontiguousarray(seq.frame(t)).copy()
        _rect(img, seq.gt[t], GT_COLOUR, 2)
        legend = ["ground truth"]
        for k, name in enumerate(names):
            b = runs[name][t]
            colour = PALETTE[k % len(PALETTE)]
            _rect(img, b, colour, 2)
            ok = np.all(np.isfinite(b)) and np.all(np.isfinite(seq.gt[t]))
            legend.append(f"{name}  IoU {float(iou(b[None], seq.gt[t][None])[0]):.2f}" if ok else f"{name}  -")
        _text(img, f"#{t + 1}", (6, 18))
        for k, line in enumerate(legend):
            colour = GT_COLOUR if k == 0 else PALETTE[(k - 1) % len(PALETTE)]
            _text(img, line, (6, 38 + 18 * k), colour, 0.45)
        yield img


# ---------------------------------------------------------------- multi object
def mot_marks(seq, rows: np.ndarray, settings) -> Dict[str, np.ndarray]:
    """Per tracker row: ``fp`` (unmatched), ``switch`` (matched with another id than the gt's last
    match), ``ignored`` (removed by the preprocessing); per gt row ``missed``; all from the CLEAR
    matching the evaluation uses (:func:`bench.metrics.clear.clear_matches`)."""
    from .metrics.clear import clear_matches
    from .metrics.mot_data import as_preprocess, prepare_sequence

    n = len(rows)
    out = {"fp": np.zeros(n, bool), "switch": np.zeros(n, bool), "ignored": np.zeros(n, bool),
           "missed": np.zeros(0 if seq.gt is None else len(seq.gt), bool)}
    if seq.gt is None:
        return out
    pre = as_preprocess(bool(settings.preprocess), settings.distractor_classes, settings.eval_class,
                        settings.preprocess_iou)
    data = prepare_sequence(seq.gt, rows, len(seq), preprocess=pre, name=seq.name, check=False)
    kept = np.zeros(n, bool)
    kept[data.tr_rows] = True
    out["ignored"] = ~kept
    m = clear_matches(data, float(settings.threshold))
    g_box, t_box = data.pair_gt[m], data.pair_tr[m]
    matched_t = np.zeros(len(data.tr_ids), bool)
    matched_t[t_box] = True
    out["fp"][data.tr_rows[~matched_t]] = True
    missed = np.ones(len(data.gt_ids), bool)
    missed[g_box] = False
    out["missed"][data.gt_rows[missed]] = True
    last: Dict[int, int] = {}
    # the matches are in frame order (pairs are stored frame-major): an identity switch is a match
    # whose tracker id differs from the one the same gt object was last matched to (TrackEval's IDSW)
    for gi, ti, row in zip(data.gt_ids[g_box].tolist(), data.tr_ids[t_box].tolist(), data.tr_rows[t_box].tolist()):
        if gi in last and last[gi] != ti:
            out["switch"][row] = True
        last[gi] = ti
    return out


def mot_frames(seq, rows: np.ndarray, frames: Sequence[int], settings=None, trail: int = 20):
    """Yield annotated RGB frames of one MOT result (rows ``frame, id, x, y, w, h, ...``)."""
    marks = mot_marks(seq, rows, settings) if settings is not None else None
    frame_of = rows[:, 0].astype(np.int64) - 1
    gt_frame = seq.gt[:, 0].astype(np.int64) - 1 if seq.gt is not None else np.zeros(0, np.int64)
    centres: Dict[int, List[Tuple[int, Tuple[int, int]]]] = {}
    for t in range(min(frames) if len(frames) else 0):  # trails start before the first shown frame
        for r in np.flatnonzero(frame_of == t):
            centres.setdefault(int(rows[r, 1]), []).append((t, _centre(rows[r, 2:6])))
    for t in frames:
        img = np.ascontiguousarray(seq.frame(t)).copy()
        cv2 = _cv2()
        n_fp = n_sw = 0
        if marks is not None:
            for g in np.flatnonzero((gt_frame == t) & marks["missed"]):
                if seq.gt[g, 6] != 0:
                    _rect(img, seq.gt[g, 2:6], GT_COLOUR, 1, dashed=True)
        for r in np.flatnonzero(frame_of == t):
            tid = int(rows[r, 1])
            c = _centre(rows[r, 2:6])
            centres.setdefault(tid, []).append((t, c))
            colour = identity_colour(tid)
            if marks is not None and marks["ignored"][r]:
                colour = IGNORED_COLOUR
            _rect(img, rows[r, 2:6], colour, 2)
            _text(img, str(tid), (int(rows[r, 2]), max(12, int(rows[r, 3]) - 4)), colour, 0.45)
            pts = [p for (f, p) in centres[tid] if t - trail < f <= t]
            for a, b in zip(pts[:-1], pts[1:]):
                cv2.line(img, a, b, colour, 2)
            if marks is not None and marks["fp"][r] and not marks["ignored"][r]:
                n_fp += 1
                x, y, w, h = rows[r, 2:6]
                cv2.line(img, (int(x), int(y)), (int(x + w), int(y + h)), FP_COLOUR, 2)
                cv2.line(img, (int(x + w), int(y)), (int(x), int(y + h)), FP_COLOUR, 2)
            if marks is not None and marks["switch"][r]:
                n_sw += 1
                _text(img, "SW", (int(rows[r, 2]), int(rows[r, 3] + rows[r, 5]) + 14), SWITCH_COLOUR, 0.55)
        label = f"#{t + 1}"
        if marks is not None:
            label += f"  FP {n_fp}  IDSW {n_sw}  missed {int(np.sum((gt_frame == t) & marks['missed']))}"
        _text(img, label, (6, 18))
        yield img


def _centre(box) -> Tuple[int, int]:
    x, y, w, h = [float(v) for v in box]
    return int(round(x + w / 2)), int(round(y + h))  # the feet: trails on the ground plane


# ---------------------------------------------------------------- writers
def _scaled(img: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return img
    cv2 = _cv2()
    h, w = img.shape[:2]
    return cv2.resize(img, (max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)),
                      interpolation=cv2.INTER_AREA)


def write_video(images, out: Path, fps: float, total: int, progress: bool = True, scale: float = 1.0) -> Path:
    """Write annotated frames to ``.mp4`` / ``.gif`` / ``.png`` (contact sheet) at ``out``."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".mp4", ".gif", ".png"):
        raise BenchError(f"{out}: the output must end in .mp4, .gif or .png (a contact sheet)")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"show {out.name}", unit="frame")
    frames: List[np.ndarray] = []
    writer = None
    tmp = out.with_name(f".{out.name}.part.mp4")
    try:
        for img in images:
            img = _scaled(img, scale)
            if suffix == ".mp4":
                cv2 = _cv2()
                if writer is None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps),
                                             (img.shape[1], img.shape[0]))
                    if not writer.isOpened():
                        raise BenchError(f"{out}: OpenCV cannot write MP4 here (no mp4v encoder); use .gif or .png")
                writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            else:
                frames.append(img)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if writer is not None:
            writer.release()
    if suffix == ".mp4":
        if writer is None:
            raise BenchError("nothing to show: no frame in the range")
        tmp.replace(out)
        return out
    if not frames:
        raise BenchError("nothing to show: no frame in the range")
    import io

    from PIL import Image

    buf = io.BytesIO()
    if suffix == ".gif":
        ims = [Image.fromarray(f) for f in frames]
        ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=int(1000 / max(fps, 1)),
                    loop=0)
    else:
        Image.fromarray(contact_sheet(frames)).save(buf, format="PNG")
    atomic_write_bytes(out, buf.getvalue())
    return out


def contact_sheet(frames: Sequence[np.ndarray], columns: Optional[int] = None) -> np.ndarray:
    """The frames tiled row by row (``columns`` default ``ceil(sqrt(n))``), black padding."""
    n = len(frames)
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = frames[0].shape[:2]
    sheet = np.zeros((rows * h, cols * w, 3), dtype=np.uint8)
    for k, f in enumerate(frames):
        r, c = divmod(k, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = f[:h, :w]
    return sheet


# ---------------------------------------------------------------- the command
def parse_frames(text: Optional[str], n: int, step: int = 1) -> List[int]:
    """``a:b`` (1-based, inclusive; either end may be empty) -> 0-based frame indices."""
    lo, hi = 1, n
    if text:
        a, sep, b = text.partition(":")
        try:
            lo = int(a) if a.strip() else 1
            hi = int(b) if (sep and b.strip()) else (n if sep else lo)
        except ValueError:
            raise BenchError(f"--frames '{text}': expected FIRST:LAST (1-based, e.g. 1:50)") from None
    lo, hi = max(1, lo), min(n, hi)
    if lo > hi:
        raise BenchError(f"--frames '{text}': no frame of the sequence (1..{n}) in that range")
    return list(range(lo - 1, hi, max(1, int(step))))


def show(dataset, sequence: str, results: Sequence[PathLike], out: PathLike, *, frames: Optional[str] = None,
         step: int = 1, trail: int = 20, scale: float = 1.0, progress: bool = True,
         names: Optional[Sequence[str]] = None) -> Path:
    """Render the result folders ``results`` (tracker folders in the dataset's layout) of one
    sequence over its frames; returns the file written (see the module docstring)."""
    protocol = dataset.protocol_object()
    seq = dataset[sequence]
    if getattr(seq, "frames", None) is None:
        raise DataError(f"sequence '{sequence}' has no images under this root: showing tracks needs the frames",
                        path=dataset.root)
    idx = parse_frames(frames, len(seq), step)
    fps = float(getattr(seq, "fps", 30.0) or 30.0) / max(1, step)
    names = list(names) if names else [Path(r).name for r in results]
    if protocol.tracker_kind == "mot":
        if len(results) != 1:
            raise BenchError("show: a multi-object view draws one tracker's results (give one --results folder)")
        folder, _ = protocol.results_folder(Path(results[0]), dataset, names[0])
        found = protocol.read(folder, seq)
        if found is None:
            raise DataError(f"no result file for sequence '{sequence}'", path=folder)
        rows = found.runs[0][0] if isinstance(found.runs[0], tuple) else found.runs[0]
        images = mot_frames(seq, np.asarray(rows, dtype=np.float64), idx, protocol.settings, trail)
    else:
        runs: Dict[str, np.ndarray] = {}
        for name, r in zip(names, results):
            found = protocol.read(Path(r), seq)
            if found is None:
                raise DataError(f"no result file for sequence '{sequence}'", path=r)
            runs[name] = boxes_of(found.runs[0], len(seq))
        images = sot_frames(seq, runs, idx)
    return write_video(images, Path(out), fps, len(idx), progress=progress, scale=scale)


def boxes_of(run, n: int) -> np.ndarray:
    """(n, 4) boxes of a single-object run: boxes as they are; VOT regions' bounding boxes (NaN on
    the special 0 / 1 / 2 frames)."""
    if hasattr(run, "bounding_boxes"):
        b = np.asarray(run.bounding_boxes(), dtype=np.float64)
        special = np.asarray(run.sizes) == 1
        b[special] = np.nan
    else:
        b = np.asarray(run, dtype=np.float64).reshape(-1, 4)
    if len(b) < n:
        b = np.concatenate([b, np.full((n - len(b), 4), np.nan)])
    return b[:n]
