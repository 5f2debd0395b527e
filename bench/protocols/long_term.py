"""VOT long-term protocol ``vot-lt`` (VOT2018-LT, VOT2019-LT / LTB50): one pass, confidence per frame.

Running as vot-toolkit 0.9.0 ``UnsupervisedExperiment`` (``vot/experiment/multirun.py``) runs
the ``longterm`` experiment of ``vot/stack/vot2018/longterm.yaml`` / ``vot2019/longterm.yaml``:

* the tracker is initialised once on frame 0 with the ground truth and updated on every
  other frame; no failure detection, no reset; ``repetitions`` runs (1 in both stacks),
  run ``r`` reseeded ``seed + r - 1``;
* each update returns ``(box, score)``; the score is the frame's **confidence**. A tracker
  reports "target not visible" with a NaN box or a score of ``-inf``: the frame is written
  as the region ``0`` with confidence ``nan`` (never counted at any threshold). A NaN score
  with a box keeps the box and writes ``nan``. ``+inf`` or an infinite box is an error.

Results (vot-toolkit ``Trajectory.write`` layout, :data:`bench.results.sot.VOT_LONGTERM`)::

    <tracker>/longterm/<seq>/<seq>_001.txt               1 | x,y,w,h (%.4f) | 0   one line per frame
    <tracker>/longterm/<seq>/<seq>_001_confidence.value  (empty) | %.6f | nan    one line per frame
    <tracker>/longterm/<seq>/<seq>_time.txt              seconds per frame (this project's time file)

The first line of the region file is ``1`` (the toolkit's ``Special(INITIALIZATION)``) and
the first line of the confidence file is empty (no confidence at initialisation), as
vot-toolkit and pysot (``tools/test.py``, VOT2018-LT) write them.

Reading: the region file by :func:`bench.results.sot.read_vot_file` (codes, boxes, polygons;
NaN rows read as ``0``; longer than the sequence: truncated with a warning; shorter: an
error), the confidence file by :func:`bench.results.sot.read_value_file` (empty lines read
as 0, as the toolkit does). A missing confidence file makes every confidence 0, as the
toolkit reads it, with a warning.

Evaluation (:mod:`bench.metrics.long_term`, every rule and its vot-toolkit source there):
tracking precision / recall curves per sequence at thresholds drawn from the confidences of
all sequences, averaged over sequences, F-score = max of F over the thresholds, with
precision and recall at that threshold. Overlaps are bounded by the image (``bounded``);
without images, by the ground truth's extent (with a warning). Per sequence, the report
holds the measures of the sequence alone (its own thresholds: the toolkit's numbers for a
one-sequence dataset), which ``bench report --paired`` compares.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import BenchError
from ..core.regions import Regions, as_regions, gt_extent_size
from ..core.registry import register_protocol
from ..core.sequence import SOTSequence
from ..core.tracker import SOTTracker
from ..metrics import long_term as lt_metrics
from ..results import sot as results_io
from .base import Column, Protocol, ProtocolSettings, Run, SequenceResults
from .one_pass import dataset_title

CONFIDENCE_SUFFIX = "_confidence.value"


@dataclasses.dataclass
class LongTermSettings(ProtocolSettings):
    """Long-term protocol constants (vot-toolkit 0.9.0 stacks ``vot2018/longterm``, ``vot2019/longterm``)."""

    edition: Optional[int] = None      # VOT edition (report only)
    repetitions: int = 1               # runs per sequence (stacks: repetitions: 1), for every tracker
    resolution: int = lt_metrics.RESOLUTION  # thresholds (``_Thresholds.resolution``, default 100)
    beta: float = lt_metrics.BETA      # F-score beta (``FScoreCurve.beta``, default 1)
    bounded: bool = True               # overlaps inside the image (``PrecisionRecallCurves.bounded``)


@dataclasses.dataclass
class LongTermRun:
    """One long-term run over one sequence.

    ``boxes`` (N, 4) ``xywh`` (row 0 the initial box; NaN rows: target reported not
    visible); ``confidence`` (N,) (NaN: not reported; entry 0 unused: written as an empty
    line, read back as 0); ``times`` (N,) seconds of tracker time."""

    boxes: np.ndarray
    confidence: np.ndarray
    times: np.ndarray

    @property
    def fps(self) -> float:
        total = float(np.sum(self.times))
        return len(self.times) / total if total > 0 else float("inf")

    def regions(self) -> Regions:
        """The region file's content: ``1`` on frame 0, ``0`` where not visible, else the box."""
        rows: List[List[float]] = [[1.0]]
        for b in self.boxes[1:]:
            rows.append([0.0] if np.isnan(b).any() else b.tolist())
        return as_regions(rows)

    def confidences(self) -> np.ndarray:
        """The confidences as the evaluation reads them back (frame 0: 0)."""
        c = np.asarray(self.confidence, dtype=np.float64).copy()
        if len(c):
            c[0] = 0.0
        return c

    def region_text(self) -> str:
        return results_io.format_vot(self.regions())

    def confidence_text(self) -> str:
        """``<seq>_001_confidence.value``: an empty first line, then ``%.6f`` or ``nan``."""
        return "\n" + results_io.format_values(self.confidence[1:]) if len(self.confidence) else ""


@dataclasses.dataclass
class LongTermTrajectory:
    """A run as the evaluation uses it: regions (:class:`Regions`) and confidences (N,)."""

    regions: Regions
    confidence: np.ndarray


def tracker_output(box, score, name: str, frame: int) -> Tuple[np.ndarray, float]:
    """A long-term update's ``(box, score)`` -> (``xywh`` or NaN row, confidence or NaN); ``frame`` 0-based."""
    try:
        b = np.asarray(box, dtype=np.float64).reshape(4)
    except (TypeError, ValueError):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned {box!r}, "
                         "expected an x, y, w, h box (NaN: target not visible)") from None
    try:
        s = float(score)
    except (TypeError, ValueError):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned the score {score!r}, "
                         "expected a number (-inf: target not visible)") from None
    if np.isnan(b).any() or s == -np.inf:
        return np.full(4, np.nan), float("nan")
    if not np.all(np.isfinite(b)):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned a non-finite box {b.tolist()}")
    if s == np.inf:
        raise BenchError(f"sequence '{name}' frame {frame + 1}: confidence +inf (a long-term confidence is a "
                         "finite number, NaN for none, or -inf for 'target not visible')")
    return b, s


def run_long_term(tracker: SOTTracker, seq: SOTSequence, frame_bar: Optional[object] = None) -> LongTermRun:
    """Run ``tracker`` over ``seq`` once: init on frame 0, then one update per frame (no resets)."""
    n = len(seq)
    boxes = np.full((n, 4), np.nan)
    conf = np.full(n, np.nan)
    times = np.zeros(n)
    for i in range(n):
        image = seq.frame(i)
        if i == 0:
            box0 = np.asarray(seq.init_box, dtype=np.float64).reshape(4)
            t0 = time.perf_counter()
            tracker.init(image, box0.copy())
            times[0] = time.perf_counter() - t0
            boxes[0] = box0
        else:
            t0 = time.perf_counter()
            box, score = tracker.update(image)
            times[i] = time.perf_counter() - t0
            boxes[i], conf[i] = tracker_output(box, score, seq.name, i)
        if frame_bar is not None:
            frame_bar.update(1)
    return LongTermRun(boxes, conf, times)


def as_trajectory(run: Any) -> LongTermTrajectory:
    """A run in any accepted form -> :class:`LongTermTrajectory`: a :class:`LongTermRun`, a
    :class:`LongTermTrajectory`, or a pair ``(regions, confidence)`` with regions as
    :class:`Regions`, per-frame rows or an (N, 4) array (NaN rows: not visible; used as given)."""
    if isinstance(run, LongTermTrajectory):
        return run
    if isinstance(run, LongTermRun):
        return LongTermTrajectory(run.regions(), run.confidences())
    if isinstance(run, tuple) and len(run) == 2:
        return LongTermTrajectory(as_regions(run[0]), np.asarray(run[1], dtype=np.float64).ravel())
    raise BenchError(f"a long-term run is a LongTermRun or a pair (regions, confidence), not {type(run).__name__}")


def _gt_regions(seq) -> Regions:
    gt = seq.meta.get("regions") if getattr(seq, "meta", None) else None
    if gt is None:
        gt = seq.polygons if seq.polygons is not None else seq.gt
    return as_regions(gt)


def _times(t: List[Optional[np.ndarray]]) -> Tuple[float, int]:
    parts = [np.asarray(x, dtype=np.float64).ravel() for x in (t or []) if x is not None]
    if not parts:
        return 0.0, 0
    a = np.concatenate(parts)
    a = a[np.isfinite(a) & (a > 0)]
    return float(a.sum()), int(a.size)


_KEYS = ("f_score", "precision", "recall", "threshold", "threshold_index")
_CURVES = ("pr_curve", "f_curve", "thresholds")


@register_protocol("vot-lt", kind="sot",
                   description="VOT long-term: one pass with confidences; tracking precision / recall / F-score")
class LongTerm(Protocol):
    """The VOT long-term experiment (vot-toolkit ``UnsupervisedExperiment`` + ``average_tpr`` analyses)."""

    name = "vot-lt"
    Settings = LongTermSettings
    files = results_io.VOT_LONGTERM
    columns = (Column("f_score", "F-score", ".4f"), Column("precision", "Precision", ".4f"),
               Column("recall", "Recall", ".4f"), Column("fps", "FPS", ".1f"))
    paired_key = "f_score"
    layout = results_io.VOT_LONGTERM.describe() + " + <seq>_001" + CONFIDENCE_SUFFIX

    # -- running
    def repetitions(self, tracker) -> int:
        return int(self.settings.repetitions)

    def check_sequence(self, tracker, seq) -> None:
        if not np.all(np.isfinite(np.asarray(seq.init_box, dtype=np.float64))):
            raise BenchError(f"sequence '{seq.name}': no target on frame 1 to initialise the tracker on "
                             "(a long-term sequence starts with a visible target)")

    def run(self, tracker, seq, *, rep: int = 1, seed: int = 0, frame_bar=None) -> Run:
        tracker.reseed(seed + rep - 1)
        r = run_long_term(tracker, seq, frame_bar=frame_bar)
        return Run(r, len(r.times), float(np.sum(r.times)), r.times)

    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        r: LongTermRun = run.result
        return results_io.write_files(self.files, results_dir, seq_name, r.region_text(), run.times, rep,
                                      sidecars={CONFIDENCE_SUFFIX: r.confidence_text()})

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
            reg, w = results_io.read_vot_file(f, len(seq))
            out.warnings += w
            cf = self.files.find_sidecar(results_dir, seq.name, r, CONFIDENCE_SUFFIX)
            if cf is None:
                conf = np.zeros(len(reg))
                out.warnings.append(f"{f}: no confidence file {f.name[:-len('.txt')]}{CONFIDENCE_SUFFIX}; every "
                                    "confidence read as 0, as vot-toolkit does")
            else:
                conf, w = results_io.read_value_file(cf, len(reg))
                out.warnings += w
            out.runs.append(LongTermTrajectory(reg, conf))
            tf = self.files.find_time_file(results_dir, seq.name, r)
            out.times.append(results_io.read_time_file(tf) if tf else None)
        return out

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Dict[str, Any]:
        s = self.settings
        gt = _gt_regions(seq)
        size = seq.image_size
        from_gt = size is None or seq.meta.get("image_size_source") == "gt-extent"
        if size is None:
            size = gt_extent_size(gt)
        bounds = tuple(size) if s.bounded else None
        overlaps, confs = [], []
        for k, run in enumerate(runs):
            traj = as_trajectory(run)
            if len(traj.regions) != len(seq) or len(traj.confidence) != len(seq):
                raise BenchError(f"sequence '{seq.name}' run {k + 1}: {len(traj.regions)} regions and "
                                 f"{len(traj.confidence)} confidences for {len(seq)} frames")
            overlaps.append(lt_metrics.sequence_overlaps(traj.regions, gt, bounds))
            confs.append(traj.confidence)
        n_visible = lt_metrics.visible_frames(gt)
        m = {k: v for k, v in lt_metrics.sequence_metrics(overlaps, confs, n_visible, s.resolution,
                                                          s.beta).items() if k in _KEYS}
        m.update({"n_frames": len(seq), "n_visible": n_visible, "n_runs": len(runs)})
        sec, timed = _times(times)
        m["fps"] = timed / sec if sec > 0 else None
        m.update({"_overlaps": overlaps, "_confidence": confs, "_seconds": sec, "_timed": timed,
                  "_from_gt": bool(from_gt and s.bounded)})
        return m

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        s = self.settings
        data = [{"overlaps": p.pop("_overlaps"), "confidence": p.pop("_confidence"), "n_visible": p["n_visible"]}
                for p in per.values()]
        sec = sum(p.pop("_seconds") for p in per.values())
        timed = sum(p.pop("_timed") for p in per.values())
        from_gt = [n for n, p in per.items() if p.pop("_from_gt")]
        overall = lt_metrics.combine(data, s.resolution, s.beta)
        metrics = {k: overall[k] for k in _KEYS + _CURVES}
        metrics.update({"n_sequences": len(per), "n_frames": sum(p["n_frames"] for p in per.values()),
                        "n_visible": sum(p["n_visible"] for p in per.values()),
                        "fps": timed / sec if sec > 0 else None})
        warnings = []
        if from_gt:
            warnings.append(f"{dataset.name}: no images for {len(from_gt)} sequence(s); frame size taken from the "
                            "ground truth's extent (ceil(max x), ceil(max y)) as the overlap bounds")
        protocol = {"name": self.name, "edition": s.edition, "repetitions": s.repetitions,
                    "resolution": s.resolution, "beta": s.beta, "bounded": s.bounded,
                    "thresholds": "vot-toolkit determine_thresholds over all confidences (+inf first, -inf last)",
                    "averaging": "precision and recall averaged over sequences per threshold, then F",
                    "bounds": "image size" if not from_gt else
                    ("ground-truth extent" if len(from_gt) == len(per) else "image size / ground-truth extent")}
        return {"protocol": protocol, "metrics": metrics, "sequences": per, "warnings": warnings}

    # -- reporting
    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, dataset) -> List[Path]:
        from ..report import plots

        title = dataset_title(dataset)
        made = [plots.pr_plot(reports, out_dir / "precision_recall.png", f"Tracking precision-recall on {title}"),
                plots.f_score_plot(reports, out_dir / "f_score.png", f"Tracking F-score on {title}")]
        return [p for p in made if p is not None]
