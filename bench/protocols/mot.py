"""The MOT run loop: a multi-object tracker over every sequence of a ``"mot"`` dataset.

:func:`run_mot` resets the tracker per sequence, feeds each frame's public detections
(``(M, 5)`` ``x, y, w, h, score`` from ``det/det.txt``) and the RGB frame only when
``tracker.needs_images``, and writes each finished sequence atomically in TrackEval's
layout (:mod:`bench.results.mot`)::

    <out_dir>/<dataset>/<tracker_name>/data/<seq>.txt       frame,id,x,y,w,h,conf,-1,-1,-1
    <out_dir>/<dataset>/<tracker_name>/timing/<seq>.json    frames, seconds, fps

A sequence whose result file exists is skipped (resume) unless ``overwrite``. A sequence
that raises is recorded in ``failed`` (message) and ``tracebacks`` while the others
continue; callers exit non-zero naming them. Times are the tracker's own
(``reset`` + ``update`` calls), without frame reading.
"""
from __future__ import annotations

import dataclasses
import time
import traceback
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ..core.errors import BenchError, DataError
from ..core.sequence import MOTSequence
from ..core.tracker import MOTTracker
from ..results.mot import (is_finished, read_timing, result_path, timing_path, tracker_dir,
                           write_mot_results, write_timing)

PathLike = Union[str, Path]


@dataclasses.dataclass
class SequenceTiming:
    """Tracker time of one sequence: ``frames``, ``seconds``; ``fps = frames / seconds``."""

    frames: int
    seconds: float

    @property
    def fps(self) -> Optional[float]:
        return self.frames / self.seconds if self.seconds > 0 else None


@dataclasses.dataclass
class MOTRunSummary:
    """What :func:`run_mot` did.

    ``timings``: per sequence run now or skipped with a timing file; ``done`` / ``skipped``
    / ``failed`` (name -> message) / ``tracebacks``; ``frames`` and ``seconds`` total the
    sequences run now.
    """

    dataset: str
    tracker: str
    results_dir: Path
    timings: Dict[str, SequenceTiming] = dataclasses.field(default_factory=dict)
    done: List[str] = dataclasses.field(default_factory=list)
    skipped: List[str] = dataclasses.field(default_factory=list)
    failed: Dict[str, str] = dataclasses.field(default_factory=dict)
    tracebacks: Dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def frames(self) -> int:
        return sum(self.timings[n].frames for n in self.done)

    @property
    def seconds(self) -> float:
        return sum(self.timings[n].seconds for n in self.done)

    @property
    def fps(self) -> Optional[float]:
        s = self.seconds
        return self.frames / s if s > 0 else None


def _check_output(out, name: str, frame: int):
    """The tracker's ``(boxes, ids, scores)`` as checked arrays, or a :class:`BenchError`."""
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


def track_sequence(tracker: MOTTracker, seq: MOTSequence, frame_bar=None):
    """Run ``tracker`` over ``seq``: (rows (N, 7) ``frame, id, x, y, w, h, score``, seconds)."""
    if seq.detections is None and tracker.needs_detections:
        path = seq.meta.get("path")
        raise DataError(f"sequence '{seq.name}' has no public detections (det/det.txt)"
                        + ("" if path is None else f" in {path}"))
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
        boxes, ids, scores = _check_output(out, seq.name, t + 1)
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


def run_mot(tracker: MOTTracker, dataset, out_dir: PathLike, tracker_name: str, overwrite: bool = False,
            progress: bool = True, sequences: Optional[List[str]] = None) -> MOTRunSummary:
    """Run ``tracker`` over ``dataset`` (protocol ``"mot"``) writing ``<out_dir>/<dataset>/<tracker_name>/``.

    Returns a :class:`MOTRunSummary` (per-sequence timings and FPS, done / skipped / failed).
    """
    if dataset.protocol != "mot":
        raise BenchError(f"run_mot: dataset '{dataset.name}' uses protocol '{dataset.protocol}', not 'mot'")
    names = list(sequences) if sequences else dataset.names()
    summary = MOTRunSummary(dataset.name, tracker_name, tracker_dir(out_dir, dataset.name, tracker_name))
    seq_bar = frame_bar = None
    if progress:
        from tqdm import tqdm

        seq_bar = tqdm(total=len(names), desc=f"{tracker_name} on {dataset.name}", unit="seq", leave=True)
    try:
        for name in names:
            if not overwrite and is_finished(out_dir, dataset.name, tracker_name, name):
                summary.skipped.append(name)
                tm = read_timing(timing_path(out_dir, dataset.name, tracker_name, name))
                if tm and tm.get("seconds") is not None:
                    summary.timings[name] = SequenceTiming(int(tm.get("frames", 0)), float(tm["seconds"]))
                if seq_bar is not None:
                    seq_bar.update(1)
                continue
            try:
                seq = dataset[name]
                if progress:
                    from tqdm import tqdm

                    frame_bar = tqdm(total=len(seq), desc=name, unit="fr", leave=False)
                rows, seconds = track_sequence(tracker, seq, frame_bar)
                write_timing(timing_path(out_dir, dataset.name, tracker_name, name), len(seq), seconds)
                write_mot_results(result_path(out_dir, dataset.name, tracker_name, name), rows)
                summary.timings[name] = SequenceTiming(len(seq), seconds)
                summary.done.append(name)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a failing sequence is reported; the others still run
                msg = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
                summary.failed[name] = msg
                summary.tracebacks[name] = traceback.format_exc()
            finally:
                if frame_bar is not None:
                    frame_bar.close()
                    frame_bar = None
                if seq_bar is not None:
                    seq_bar.update(1)
    finally:
        if seq_bar is not None:
            seq_bar.close()
    return summary
