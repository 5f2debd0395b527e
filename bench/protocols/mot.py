"""The MOT protocol: a multi-object tracker over every sequence, scored with CLEAR, Identity and HOTA.

Running: the tracker is reset per sequence (``reset(fps=seq.fps)``) and fed each frame's
public detections (``(M, 5)`` ``x, y, w, h, score`` from ``det/det.txt``) and the RGB
frame only when ``tracker.needs_images``. Each finished sequence is written atomically
in TrackEval's layout (:mod:`bench.results.mot`)::

    <tracker>/data/<seq>.txt       frame,id,x,y,w,h,conf,-1,-1,-1
    <tracker>/timing/<seq>.json    frames, seconds, fps

Times are the tracker's own (``reset`` + ``update`` calls), without frame reading.

Evaluation as TrackEval 1.3.0 ``MotChallenge2DBox`` + ``CLEAR`` / ``Identity`` /
``HOTA`` (:mod:`bench.metrics.mot`): the MOTChallenge preprocessing (distractor classes
and the evaluated class declared in the dataset's YAML), per-sequence field dicts, and
TrackEval's ``combine_sequences``.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import BenchError, DataError
from ..core.registry import register_protocol
from ..core.sequence import MOTSequence
from ..core.tracker import MOTTracker
from ..metrics import mot as mot_metrics
from ..metrics.mot_data import as_preprocess, prepare_sequence
from ..results import mot as results_io
from .base import Column, Protocol, ProtocolSettings, Run, SequenceResults


@dataclasses.dataclass
class MOTSettings(ProtocolSettings):
    """MOT evaluation settings (TrackEval 1.3.0 ``MotChallenge2DBox`` defaults; per benchmark in its YAML)."""

    missing: str = "skip"   # sequences without a result file are listed in the warnings
    #: MOTChallenge preprocessing (TrackEval ``DO_PREPROC``)
    preprocess: bool = True
    #: gt classes whose matched predictions are removed (TrackEval ``distractor_class_names``)
    distractor_classes: List[int] = dataclasses.field(default_factory=lambda: [2, 7, 8, 12])
    #: the evaluated class (pedestrian)
    eval_class: int = 1
    #: IoU for matching predictions to distractors (TrackEval ``matching_scores < 0.5 - eps`` set to 0)
    preprocess_iou: float = 0.5
    #: CLEAR and Identity match threshold (TrackEval ``THRESHOLD``)
    threshold: float = 0.5
    #: add TrackEval's own field dicts (CLEAR / Identity / HOTA per sequence) to the report under ``trackeval``
    raw: bool = False


def check_output(out, name: str, frame: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tracker's ``(boxes, ids, scores)`` as checked arrays, or a :class:`BenchError` (``frame`` 1-based)."""
    where = f"sequence '{name}' frame {frame}"
    try:
        boxes, ids, scores = out
    except (TypeError, ValueError):
        raise BenchError(f"{where}: tracker.update must return (boxes, ids, scores), got {type(out).__name__}") \
            from None
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    ids_f = np.asarray(ids, dtype=np.float64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1) if np.size(scores) else np.zeros(0)
    if not (len(boxes) == len(ids_f) == len(scores)):
        raise BenchError(f"{where}: tracker returned {len(boxes)} boxes, {len(ids_f)} ids and {len(scores)} scores")
    if not np.all(np.isfinite(boxes)):
        raise BenchError(f"{where}: tracker returned a non-finite box")
    if len(ids_f) and (np.any(ids_f != np.round(ids_f)) or np.any(ids_f < 0)):
        raise BenchError(f"{where}: track ids must be non-negative integers, got {ids_f.tolist()}")
    ids = ids_f.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise BenchError(f"{where}: the tracker reported one id twice in a frame ({ids.tolist()})")
    if not np.all(np.isfinite(scores)):
        scores = np.nan_to_num(scores, nan=0.0, posinf=1.0, neginf=0.0)
    return boxes, ids, scores


def check_detections(tracker: MOTTracker, seq: MOTSequence) -> None:
    """A :class:`DataError` when ``tracker`` needs detections (``needs_detections``) and ``seq`` has none.

    The message says whether the benchmark has no public detections at all (DanceTrack,
    SportsMOT, KITTI: the dataset's ``detections_file`` is empty) or the file is missing, and
    how to give detections."""
    if seq.detections is not None or not tracker.needs_detections:
        return
    declared = seq.meta.get("detections_file", "det/det.txt")
    path = seq.meta.get("path")
    bench_name = seq.meta.get("benchmark") or "this dataset"
    how = ("run a tracker with its own detector (needs_detections = False), or give detections in MOTChallenge "
           "det format (frame,-1,x,y,w,h,score) with --dataset-option detections_file=<path>")
    if not declared:
        raise DataError(f"sequence '{seq.name}': {bench_name} has no public detections and this tracker needs "
                        f"detections; {how}")
    raise DataError(f"sequence '{seq.name}' has no public detections ({declared} not found"
                    + ("" if path is None else f" in {path}") + f"); {how}")


def track_sequence(tracker: MOTTracker, seq: MOTSequence, frame_bar=None) -> Tuple[np.ndarray, float]:
    """Run ``tracker`` over ``seq``: (rows (N, 7) ``frame, id, x, y, w, h, score``, seconds)."""
    check_detections(tracker, seq)
    needs_images = tracker.needs_images
    chunks: List[np.ndarray] = []
    t0 = time.perf_counter()
    tracker.reset(fps=seq.fps)
    seconds = time.perf_counter() - t0
    for t in range(len(seq)):
        image = seq.frame(t) if needs_images else None
        dets = seq.detections_at(t)
        t0 = time.perf_counter()
        out = tracker.update(image, dets)
        seconds += time.perf_counter() - t0
        boxes, ids, scores = check_output(out, seq.name, t + 1)
        if len(ids):
            rows = np.empty((len(ids), 7))
            rows[:, 0] = t + 1
            rows[:, 1] = ids
            rows[:, 2:6] = boxes
            rows[:, 6] = scores
            chunks.append(rows)
        if frame_bar is not None:
            frame_bar.update(1)
    rows = np.concatenate(chunks) if chunks else np.zeros((0, 7))
    return rows, seconds


@register_protocol("mot", kind="mot", description="multi-object tracking: CLEAR, Identity and HOTA (TrackEval)")
class MOT(Protocol):
    """MOTChallenge-style multi-object evaluation (TrackEval 1.3.0 arithmetic)."""

    name = "mot"
    tracker_kind = "mot"
    Settings = MOTSettings
    columns = (Column("hota", "HOTA", "%"), Column("mota", "MOTA", "%"), Column("idf1", "IDF1", "%"),
               Column("motp", "MOTP", "%"), Column("fp", "FP", "d"), Column("fn", "FN", "d"),
               Column("idsw", "IDSW", "d"), Column("mt", "MT", "d"), Column("ml", "ML", "d"),
               Column("fps", "FPS", ".1f"))
    paired_key = None
    layout = "data/<seq>.txt"
    #: where a sequence's ground truth lives, for messages
    gt_layout = "gt/gt.txt"

    # -- running
    def check_sequence(self, tracker, seq) -> None:
        """Refuse a sequence the tracker cannot run, before any frame is read: no detections for a tracker
        that needs them; images only partly there for a tracker that reads images (MOT17's shared frames,
        a partial download), naming the way out."""
        check_detections(tracker, seq)
        present = seq.meta.get("images_present")
        if tracker.needs_images and present is not None and present < len(seq):
            where = seq.meta.get("path")
            raise DataError(f"sequence '{seq.name}' has {present} of its {len(seq)} frames as images and this "
                            "tracker reads images: run with --dataset-option frames=available to cut each sequence "
                            "to the leading frames present", where)

    def run(self, tracker, seq, *, rep: int = 1, seed: int = 0, frame_bar=None) -> Run:
        rows, seconds = track_sequence(tracker, seq, frame_bar)
        return Run(rows, len(seq), seconds)

    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        results_io.write_timing(results_io.timing_file(results_dir, seq_name), run.frames, run.seconds)
        return results_io.write_mot_results(results_io.result_file(results_dir, seq_name), run.result)

    def is_finished(self, results_dir: Path, seq_name: str, rep: int = 1) -> bool:
        return results_io.result_file(results_dir, seq_name).is_file()

    def recorded_time(self, results_dir, seq_name, rep=1):
        tm = results_io.read_timing(results_io.timing_file(results_dir, seq_name))
        if tm and tm.get("seconds") is not None:
            return int(tm.get("frames", 0)), float(tm["seconds"])
        return None

    # -- evaluation
    def results_folder(self, results_dir: Path, dataset, tracker: Optional[str]) -> Tuple[Path, str]:
        """``results_dir`` may be the folder of ``<seq>.txt`` files (``.../Lif_T/data``), the
        tracker folder holding ``data/``, or a run output root holding ``<dataset>/<tracker>/data/``."""
        name = tracker
        if not name or (name == "data" == results_dir.name):
            name = results_io.guess_tracker_name(results_dir)  # ".../Lif_T/data" -> "Lif_T"
        folder = results_io.find_results_folder(results_dir, dataset.names(), dataset.name, name)
        if folder is None:
            names = dataset.names()
            raise DataError(f"no result file <sequence>.txt for any of the {len(names)} sequences of "
                            f"'{dataset.name}' (e.g. {names[0]}.txt)", results_dir)
        return folder, name

    def read(self, results_dir: Path, seq) -> Optional[SequenceResults]:
        f = results_dir / f"{seq.name}.txt"
        if not f.is_file():
            return None
        return SequenceResults([(results_io.read_mot_results(f, length=len(seq)), f)], [None])

    def evaluate(self, dataset, results_dir, tracker: Optional[str] = None) -> Dict[str, Any]:
        with_gt = []
        no_gt = []
        for n in dataset.names():
            (with_gt if dataset[n].gt is not None else no_gt).append(n)
        if not with_gt:
            raise DataError(f"nothing to evaluate: no sequence of this dataset has ground truth ({self.gt_layout})",
                            results_dir)
        report = super().evaluate(dataset.select(with_gt) if no_gt else dataset, results_dir, tracker)
        report["warnings"] += [f"{n}: no ground truth ({self.gt_layout}); not evaluated" for n in no_gt]
        return report

    def _preprocess(self):
        s = self.settings
        return as_preprocess(bool(s.preprocess), s.distractor_classes, s.eval_class, s.preprocess_iou)

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Any:
        rows, path = runs[0] if isinstance(runs[0], tuple) else (runs[0], None)
        data = prepare_sequence(seq.gt, np.asarray(rows, dtype=np.float64), len(seq), preprocess=self._preprocess(),
                                name=seq.name, gt_path=seq.meta.get("gt_path"), tracker_path=path,
                                gt_row_index=seq.meta.get("gt_row_index"), check=path is None)
        return mot_metrics.evaluate_data(data, float(self.settings.threshold)), mot_metrics.counts(data), \
            int(data.removed_tracker_dets)

    @staticmethod
    def combine_results(per: Mapping[str, Tuple[Any, Dict[str, int], int]]) -> Dict[str, Any]:
        """Per-sequence ``(field dicts, counts, removed boxes)`` -> ``metrics`` (TrackEval's
        ``combine_sequences``, counts summed), ``sequences``, ``removed`` and ``trackeval``
        (TrackEval's field dicts per sequence and ``COMBINED_SEQ``)."""
        totals = {k: 0 for k in mot_metrics.TOTAL_KEYS}
        seqs: Dict[str, Dict[str, object]] = {}
        removed = 0
        for name, (res, counts, rem) in per.items():
            seqs[name] = mot_metrics.summarize(*res, extra=counts)
            for k in totals:
                totals[k] += counts[k]
            removed += rem
        combined = mot_metrics.combine([r for r, _, _ in per.values()])
        return {"metrics": mot_metrics.summarize(*combined, extra=totals), "sequences": seqs,
                "removed": int(removed),
                "trackeval": {"COMBINED_SEQ": mot_metrics.plain(combined),
                              **{k: mot_metrics.plain(v[0]) for k, v in per.items()}}}

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        res = self.combine_results(per)
        s = self.settings
        pre = self._preprocess()
        protocol = {"name": self.name, "preprocess": pre is not None,
                    "distractor_classes": list(pre.distractor_classes) if pre else [],
                    "eval_class": int(s.eval_class), "threshold": float(s.threshold),
                    "removed_tracker_boxes": res["removed"]}
        body = {"protocol": protocol, "metrics": res["metrics"], "sequences": res["sequences"], "attributes": {}}
        if s.raw:
            body["extra"] = {"trackeval": res["trackeval"]}
        return body

    # -- reporting
    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, dataset) -> List[Path]:
        if len(reports) < 2:
            return []
        from ..report.plots import mot_bars

        return [mot_bars(reports, out_dir / "compare.png", title=dataset.name)]
