"""One-pass evaluation (OPE): OTB, LaSOT, UAV123, NFS, TrackingNet, TNL2K, synthetic.

Running: the tracker is initialised on frame 0 with ``seq.init_box`` and updated on every
other frame; no resets. Frame 0 is recorded as the initial box (the layout of the OTB
toolkit, got10k and pysot result files). Times are the tracker's own time per frame in
seconds (``init`` for frame 0, ``update`` after), excluding frame reading.

Results: ``<tracker>/<seq>.txt`` (:data:`bench.results.sot.ONE_PASS`), ``x,y,w,h`` per line.

Evaluation (:mod:`bench.metrics.ope`): success curve (21 IoU thresholds, ``iou > t``),
AUC, precision at 20 px, normalised precision, success rate at 0.5, per attribute;
frames without a valid ground-truth box follow ``invalid_gt`` (see the metrics module).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Literal, Mapping, Optional, Sequence

import numpy as np

from ..core.registry import register_protocol
from ..core.sequence import SOTSequence
from ..core.tracker import SOTTracker
from ..metrics import ope as ope_metrics
from ..results import sot as results_io
from .base import Column, Protocol, ProtocolSettings, Run, SequenceResults, check_box

#: flags that mark frames without a visible target (LaSOT full_occlusion / out_of_view, synthetic absent)
ABSENT_FLAGS = ("full_occlusion", "out_of_view", "absent")


@dataclasses.dataclass
class OnePassResult:
    """One run of a tracker over one sequence.

    ``boxes`` (N, 4) ``xywh``; ``scores`` (N,) (1 on frame 0); ``times`` (N,) seconds.
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray

    @property
    def fps(self) -> float:
        """Frames per second of tracker time (all frames, ``init`` included)."""
        total = float(np.sum(self.times))
        return len(self.times) / total if total > 0 else float("inf")


def run_one_pass(tracker: SOTTracker, seq: SOTSequence, frame_bar: Optional[object] = None) -> OnePassResult:
    """Run ``tracker`` over ``seq`` once. ``frame_bar`` (a tqdm bar or None) is advanced per frame."""
    n = len(seq)
    boxes = np.empty((n, 4), dtype=np.float64)
    scores = np.empty(n, dtype=np.float64)
    times = np.empty(n, dtype=np.float64)
    for i in range(n):
        image = seq.frame(i)
        if i == 0:
            box0 = np.asarray(seq.init_box, dtype=np.float64).reshape(4)
            t0 = time.perf_counter()
            tracker.init(image, box0.copy())
            times[0] = time.perf_counter() - t0
            boxes[0], scores[0] = box0, 1.0
        else:
            t0 = time.perf_counter()
            box, score = tracker.update(image)
            times[i] = time.perf_counter() - t0
            boxes[i] = check_box(box, seq.name, i)
            scores[i] = float(score)
        if frame_bar is not None:
            frame_bar.update(1)
    return OnePassResult(boxes, scores, times)


@dataclasses.dataclass
class OnePassSettings(ProtocolSettings):
    """One-pass evaluation settings (values per dataset in ``configs/datasets/<name>.yaml``)."""

    #: frames without a valid gt box: ``fail`` (got10k, pytracking), ``pysot``, ``exclude`` (got10k LaSOT/UAV rule)
    invalid_gt: Literal["fail", "pysot", "exclude"] = "fail"
    #: frame 1 scored from the ground truth (``gt``: got10k, pytracking) or the file's row (``result``: pysot)
    first_frame: Literal["gt", "result"] = "gt"
    #: treat frames flagged full_occlusion / out_of_view / absent as without a target
    use_flags: bool = True


_KEYS = ("success_auc", "precision_20", "norm_precision_20", "norm_precision_auc", "success_rate_50")
_CURVES = ("success_curve", "precision_curve", "norm_precision_curve")


def _pick(d: Mapping[str, Any], with_curves: bool = True) -> Dict[str, Any]:
    out = {k: d[k] for k in _KEYS}
    if with_curves:
        out.update({k: d[k] for k in _CURVES})
    out["fps"] = d.get("fps")
    out["n_frames"] = d["n_frames"]
    if "n_sequences" in d:
        out["n_sequences"] = d["n_sequences"]
    return out


@register_protocol("ope", kind="sot", description="one-pass evaluation: success / precision / normalised precision")
class OnePass(Protocol):
    """One-pass evaluation (OTB toolkit, got10k ExperimentOTB, pysot, pytracking)."""

    name = "ope"
    Settings = OnePassSettings
    files: ClassVar[results_io.Layout] = results_io.ONE_PASS
    columns = (Column("success_auc", "AUC"), Column("precision_20", "Prec@20"),
               Column("norm_precision_20", "NormPrec"), Column("success_rate_50", "SR@0.5"),
               Column("fps", "FPS", ".1f"))
    paired_key = "success_auc"
    layout = results_io.ONE_PASS.describe()

    # -- running
    def run(self, tracker, seq, *, rep: int = 1, seed: int = 0, frame_bar=None) -> Run:
        tracker.reseed(seed + rep - 1)
        r = run_one_pass(tracker, seq, frame_bar=frame_bar)
        return Run(r.boxes, len(r.times), float(np.sum(r.times)), r.times)

    def check_sequence(self, tracker, seq) -> None:
        """A sequence whose initial box has no size fails before any tracker runs, naming the file and line."""
        box = np.asarray(seq.init_box, dtype=np.float64).reshape(-1)
        if box.size == 4 and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0:
            return
        from ..core.errors import DataError

        src = seq.meta.get("source") if isinstance(getattr(seq, "meta", None), dict) else None
        raise DataError(f"the initial box of sequence '{seq.name}' has no size (width or height <= 0, or not a "
                        "number): no tracker can start from it", path=src,
                        line=seq.meta.get("init_line", 1) if str(src).endswith(".txt") else None)

    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        return results_io.write_sequence(self.files, results_dir, seq_name, run.result, run.times, rep)

    def is_finished(self, results_dir: Path, seq_name: str, rep: int = 1) -> bool:
        return self.files.is_finished(results_dir, seq_name, rep)

    def recorded_time(self, results_dir, seq_name, rep=1):
        t = results_io.read_time_file(self.files.time_path(results_dir, seq_name, rep))
        return None if t is None else (len(t), float(np.sum(t)))

    # -- evaluation
    def read(self, results_dir: Path, seq) -> Optional[SequenceResults]:
        files = self.files.find_repetitions(results_dir, seq.name)
        if not files:
            return None
        out = SequenceResults([], [])
        for r, f in enumerate(files, start=1):
            boxes, w = results_io.read_ope_file(f, len(seq), gt=seq.gt)
            out.runs.append(boxes)
            out.warnings += w
            tf = self.files.find_time_file(results_dir, seq.name, r)
            out.times.append(results_io.read_time_file(tf) if tf else None)
        return out

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Dict[str, Any]:
        absent = None
        if self.settings.use_flags:
            flags = [np.asarray(seq.flags[f], dtype=bool) for f in ABSENT_FLAGS if f in seq.flags]
            if flags:
                absent = np.logical_or.reduce(flags)
        pred = np.asarray(runs[0], dtype=np.float64).reshape(-1, 4)
        if len(pred) != len(seq):
            from ..core.errors import BenchError

            raise BenchError(f"sequence '{seq.name}': {len(pred)} boxes for {len(seq)} frames")
        m = ope_metrics.sequence_metrics(pred, seq.gt, absent=absent, invalid_gt=self.settings.invalid_gt,
                                         first_frame=self.settings.first_frame, times=times[0] if times else None)
        m["_attributes"] = tuple(seq.attributes)
        mixup = first_row_mixup(pred[0], seq.gt[0])
        if mixup:
            scored = ("it is scored (first_frame=result)" if self.settings.first_frame == "result"
                      else "not scored: first_frame=gt replaces it")
            m["_warnings"] = [f"sequence '{seq.name}': the result's first row {np.round(pred[0], 2).tolist()} reads "
                              f"as {mixup} of the ground truth's first box {np.round(seq.gt[0], 2).tolist()}; "
                              f"{scored}; check the file's box format"]
        return m

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        attrs = {n: p.pop("_attributes") for n, p in per.items()}
        overall = ope_metrics.combine(per.values())
        by_attr = ope_metrics.by_attribute(per, {n: a for n, a in attrs.items() if a})
        s = self.settings
        protocol = {"name": self.name, "invalid_gt": s.invalid_gt, "first_frame": s.first_frame,
                    "use_flags": s.use_flags, "success_thresholds": len(ope_metrics.SUCCESS_THRESHOLDS),
                    "success_test": "iou > t", "precision_thresholds_px": [0, 50], "precision_at_px": 20,
                    "norm_precision_at": 0.2, "center": "x + (w - 1) / 2"}
        return {"protocol": protocol, "metrics": _pick(overall), "sequences": {n: _pick(p) for n, p in per.items()},
                "attributes": {a: _pick(v) for a, v in by_attr.items()}}

    # -- reporting
    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, dataset) -> List[Path]:
        from ..report import plots

        title = dataset_title(dataset)
        made = [plots.success_plot(reports, out_dir / "success.png", f"Success plot on {title}"),
                plots.precision_plot(reports, out_dir / "precision.png", f"Precision plot on {title}")]
        if any(r.get("attributes") for r in reports):
            made.append(plots.attribute_plot(reports, sequence_attributes(dataset), out_dir / "attributes.png",
                                             title=f"Success AUC per attribute on {title}"))
        return [p for p in made if p is not None]


#: first-row formats a result file may have been written in by mistake, as functions of the gt box
MIXUPS = (("x1,y1,x2,y2", lambda g: np.array([g[0], g[1], g[0] + g[2], g[1] + g[3]])),
          ("x1,y1,x2,y2 (1-based, inclusive)", lambda g: np.array([g[0] + 1, g[1] + 1, g[0] + g[2], g[1] + g[3]])),
          ("cx,cy,w,h", lambda g: np.array([g[0] + g[2] / 2, g[1] + g[3] / 2, g[2], g[3]])),
          ("a 1-based x,y,w,h", lambda g: np.array([g[0] + 1, g[1] + 1, g[2], g[3]])))


def first_row_mixup(row, gt0, tol: float = 1.0) -> Optional[str]:
    """The format mix-up that explains a result's first row, when it is not the gt box itself (within
    ``tol`` pixels) but equals the gt box written in another format (SiamRPN's published OTB files
    start with ``x1,y1,x2,y2``); None otherwise."""
    row, g = np.asarray(row, dtype=np.float64), np.asarray(gt0, dtype=np.float64)
    if not (np.all(np.isfinite(row)) and np.all(np.isfinite(g))) or np.all(np.abs(row - g) <= tol):
        return None
    for name, fmt in MIXUPS:
        if np.all(np.abs(row - fmt(g)) <= tol):
            return name
    return None


def sequence_attributes(dataset) -> Dict[str, Sequence[str]]:
    """``{sequence: attributes}`` of a dataset (sequences that cannot be loaded are left out)."""
    from ..core.errors import BenchError

    out: Dict[str, Sequence[str]] = {}
    for name in dataset.names():
        try:
            attrs = getattr(dataset[name], "attributes", ())
        except BenchError:
            continue
        if attrs:
            out[name] = tuple(attrs)
    return out


def dataset_title(dataset) -> str:
    """``otb100``, or ``otb100 (2 of 100 sequences)`` for a selection."""
    total = getattr(dataset, "total", None)
    if total and total != len(dataset):
        return f"{dataset.name} ({len(dataset)} of {total} sequences)"
    return dataset.name
