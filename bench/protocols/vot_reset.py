"""VOT supervised ("baseline") protocol: run with failure detection and re-initialisation.

Running as in vot-toolkit ``SupervisedExperiment`` and pysot ``tools/test.py``:

* the tracker starts on frame 0 (result line ``1``);
* after each update the predicted box is compared with the ground truth region
  (VOT polygon or box) bounded by the image; an overlap of at most ``failure_overlap``
  (0) is a **failure** (line ``2``);
* the tracker is re-initialised ``skip_initialize`` = 5 frames after the failure
  (line ``1``); the frames in between are skipped (line ``0``). Frames whose ground
  truth is empty are never failures, and a re-initialisation waits for the next frame
  with a ground truth region;
* stochastic trackers (``is_deterministic = False``) run ``repetitions`` (15) times, each
  reseeded (``seed + r - 1``); deterministic trackers run once.

A run is returned as arrays: ``codes[i]`` is ``-1`` for a frame with a box (``boxes[i]``
``xywh``), else ``1`` / ``2`` / ``0`` (``boxes[i]`` NaN). Results:
``<tracker>/baseline/<seq>/<seq>_001.txt`` (:data:`bench.results.sot.VOT_BASELINE`).

Evaluation (:mod:`bench.metrics.vot`): accuracy (burn-in 10 frames), robustness,
failures, EAO over the edition's interval, EAO per tag, in the ``vot-toolkit``
(default) or ``pysot`` convention.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence

import numpy as np

from ..core.errors import BenchError, ConfigError
from ..core.regions import gt_extent_size
from ..core.registry import register_protocol
from ..core.sequence import SOTSequence
from ..core.tracker import SOTTracker
from ..metrics import vot as vot_metrics
from ..results import sot as results_io
from .base import Column, Protocol, ProtocolSettings, Run, SequenceResults, check_box
from .one_pass import dataset_title

BOX, INIT, FAILURE, SKIP = -1, 1, 2, 0

OverlapFn = Callable[[np.ndarray, np.ndarray, tuple], float]


@dataclasses.dataclass
class VOTSettings(ProtocolSettings):
    """Protocol constants (vot-toolkit stacks vot2016..vot2019 ``baseline`` experiment)."""

    edition: Optional[int] = None                              # VOT edition (report only)
    skip_initialize: int = 5                                   # re-init this many frames after a failure
    failure_overlap: float = 0.0                               # overlap <= this is a failure
    repetitions: int = 15                                      # runs of a stochastic tracker (deterministic: 1)
    burnin: int = 10                                           # frames after a (re-)init not in the accuracy
    sensitivity: float = 30.0                                  # AR plot: robustness = exp(-S * failures / length)
    eao_interval: Optional[List[int]] = None                   # [low, high] sequence lengths of the EAO score
    convention: Literal["vot-toolkit", "pysot"] = "vot-toolkit"
    #: a result file shorter than the sequence: refused (``error``, vot-toolkit) or scored as far as it goes (``pysot``)
    short_results: Literal["error", "pysot"] = "error"


@dataclasses.dataclass
class VOTRunResult:
    """One supervised run over one sequence."""

    boxes: np.ndarray   # (N, 4) xywh, NaN on special frames
    codes: np.ndarray   # (N,) int8: -1 box, 1 init, 2 failure, 0 skipped
    times: np.ndarray   # (N,) seconds of tracker time (0 on skipped frames)

    @property
    def failures(self) -> int:
        return int(np.sum(self.codes == FAILURE))

    @property
    def fps(self) -> float:
        ran = self.codes != SKIP
        total = float(np.sum(self.times[ran]))
        return int(np.sum(ran)) / total if total > 0 else float("inf")

    def lines(self) -> List[str]:
        """Result file lines in the VOT layout: ``1``, ``2``, ``0`` or ``x,y,w,h``."""
        out = []
        for code, b in zip(self.codes.tolist(), self.boxes):
            out.append(",".join(f"{v:.4f}" for v in b) if code == BOX else str(code))
        return out


def default_overlap(pred: np.ndarray, gt: np.ndarray, bounds: tuple) -> float:
    """Overlap of a predicted ``xywh`` box with a gt region (4 or 8 values) inside ``bounds = (W, H)``.

    Rasterised as vot-toolkit does (:func:`bench.core.regions.overlap`, the default
    convention), the overlap the supervised experiment's failure test uses.
    """
    from ..core.regions import overlap as region_overlap

    a = np.asarray(pred, dtype=np.float64).reshape(1, -1)
    b = np.asarray(gt, dtype=np.float64).reshape(1, -1)
    return float(region_overlap(a, b, bounds)[0])


def _gt_region(seq: SOTSequence, i: int) -> np.ndarray:
    return seq.polygons[i] if seq.polygons is not None else seq.gt[i]


def run_supervised(tracker: SOTTracker, seq: SOTSequence, *, settings: VOTSettings = VOTSettings(),
                   overlap: Optional[OverlapFn] = None, frame_bar: Optional[object] = None) -> VOTRunResult:
    """One supervised run of ``tracker`` over ``seq`` (see the module docstring)."""
    overlap = overlap or default_overlap
    n = len(seq)
    boxes = np.full((n, 4), np.nan)
    codes = np.full(n, SKIP, dtype=np.int8)
    times = np.zeros(n)
    has_gt = np.all(np.isfinite(seq.gt), axis=1)
    init_at = 0
    for i in range(n):
        if i < init_at:
            if frame_bar is not None:
                frame_bar.update(1)
            continue
        if i == init_at and not has_gt[i]:
            init_at = i + 1  # wait for a frame with a ground truth region
            if frame_bar is not None:
                frame_bar.update(1)
            continue
        image = seq.frame(i)
        if i == init_at:
            t0 = time.perf_counter()
            tracker.init(image, np.asarray(seq.init_box_at(i), dtype=np.float64).copy())
            times[i] = time.perf_counter() - t0
            codes[i] = INIT
        else:
            t0 = time.perf_counter()
            box, _ = tracker.update(image)
            times[i] = time.perf_counter() - t0
            box = check_box(box, seq.name, i)
            bounds = (image.shape[1], image.shape[0])
            if has_gt[i] and overlap(box, _gt_region(seq, i), bounds) <= settings.failure_overlap:
                codes[i] = FAILURE
                init_at = i + settings.skip_initialize
            else:
                codes[i], boxes[i] = BOX, box
        if frame_bar is not None:
            frame_bar.update(1)
    return VOTRunResult(boxes, codes, times)


def repetitions(tracker: SOTTracker, settings: VOTSettings = VOTSettings()) -> int:
    """15 (``settings.repetitions``) for stochastic trackers, 1 for deterministic ones."""
    return 1 if getattr(tracker, "is_deterministic", True) else int(settings.repetitions)


def run_vot(tracker: SOTTracker, seq: SOTSequence, *, seed: int = 0, settings: VOTSettings = VOTSettings(),
            overlap: Optional[OverlapFn] = None, frame_bar: Optional[object] = None) -> List[VOTRunResult]:
    """All repetitions of the supervised run, reseeded ``seed + r``."""
    runs = []
    for r in range(repetitions(tracker, settings)):
        tracker.reseed(seed + r)
        runs.append(run_supervised(tracker, seq, settings=settings, overlap=overlap, frame_bar=frame_bar))
    return runs


def _times(t: List[Optional[np.ndarray]]) -> Optional[np.ndarray]:
    parts = [np.asarray(x, dtype=np.float64).ravel() for x in (t or []) if x is not None]
    return np.concatenate(parts) if parts else None


@register_protocol("vot", kind="sot", description="VOT supervised reset protocol: accuracy, robustness, EAO")
class VOTReset(Protocol):
    """The VOT short-term supervised experiment (vot-toolkit ``SupervisedExperiment``)."""

    name = "vot"
    Settings = VOTSettings
    files = results_io.VOT_BASELINE
    columns = (Column("accuracy", "Accuracy", ".4f"), Column("robustness", "Robustness", ".4f"),
               Column("failures", "Failures", ".1f"), Column("failure_rate_100", "Fail/100fr", ".3f"),
               Column("eao", "EAO", ".4f"), Column("fps", "FPS", ".1f"))
    layout = results_io.VOT_BASELINE.describe()

    def __init__(self, settings=None):
        super().__init__(settings)
        if self.settings.eao_interval is not None and len(self.settings.eao_interval) != 2:
            raise ConfigError(f"eao_interval must be [low, high], not {self.settings.eao_interval!r}")

    # -- running
    def repetitions(self, tracker) -> int:
        return repetitions(tracker, self.settings)

    def run(self, tracker, seq, *, rep: int = 1, seed: int = 0, frame_bar=None) -> Run:
        tracker.reseed(seed + rep - 1)
        r = run_supervised(tracker, seq, settings=self.settings, frame_bar=frame_bar)
        return Run(r, int(np.sum(r.codes != SKIP)), float(np.sum(r.times)), r.times)

    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        return results_io.write_sequence(self.files, results_dir, seq_name, run.result, run.times, rep)

    def is_finished(self, results_dir: Path, seq_name: str, rep: int = 1) -> bool:
        return self.files.is_finished(results_dir, seq_name, rep)

    def recorded_time(self, results_dir, seq_name, rep=1):
        t = results_io.read_time_file(self.files.time_path(results_dir, seq_name, rep))
        return None if t is None else (int(np.sum(t > 0)), float(np.sum(t)))

    # -- evaluation
    def read(self, results_dir: Path, seq) -> Optional[SequenceResults]:
        files = self.files.find_repetitions(results_dir, seq.name)
        if not files:
            return None
        out = SequenceResults([], [])
        for r, f in enumerate(files, start=1):
            reg, w = results_io.read_vot_file(f, len(seq), short=self.settings.short_results)
            out.runs.append(reg)
            out.warnings += w
            tf = self.files.find_time_file(results_dir, seq.name, r)
            out.times.append(results_io.read_time_file(tf) if tf else None)
        return out

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Dict[str, Any]:
        s = self.settings
        if s.eao_interval is None:
            raise ConfigError("this dataset has no EAO interval; pass eao_interval=[low, high]")
        gt = seq.meta.get("regions")
        if gt is None:
            gt = seq.polygons if seq.polygons is not None else seq.gt
        size = seq.image_size
        from_gt = size is None or seq.meta.get("image_size_source") == "gt-extent"
        if size is None:
            size = gt_extent_size(gt)
        tags = {k: v for k, v in seq.flags.items()}
        present = {k for k, v in tags.items() if np.any(v)}
        if tags:
            any_tag = np.logical_or.reduce([np.asarray(v, dtype=bool) for v in tags.values()])
            tags["empty"] = ~any_tag
        regions = [results_io.vot_regions(r) for r in runs]
        for k, r in enumerate(regions):
            if len(r) > len(seq) or (len(r) < len(seq) and s.short_results != "pysot"):
                raise BenchError(f"sequence '{seq.name}' run {k + 1}: {len(r)} frames for {len(seq)}")
        try:
            m = vot_metrics.sequence_metrics(regions, gt, size, convention=s.convention, burnin=s.burnin,
                                             skip=s.skip_initialize, tags=tags)
        except ValueError as exc:
            raise BenchError(f"sequence '{seq.name}': {exc}") from None
        t = _times(times)
        m["_seconds"], m["_timed"] = 0.0, 0
        if t is not None:
            t = t[np.isfinite(t) & (t > 0)]
            m["_seconds"], m["_timed"] = float(t.sum()), int(t.size)
            m["fps"] = t.size / t.sum() if t.sum() > 0 else None
        m["_from_gt"] = from_gt
        m["_tags_present"] = present
        return m

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        s = self.settings
        from_gt = [n for n, p in per.items() if p.pop("_from_gt")]
        tags_present = set().union(*[p.pop("_tags_present") for p in per.values()])
        sec = sum(p.pop("_seconds") for p in per.values())
        timed = sum(p.pop("_timed") for p in per.values())
        warnings = []
        if from_gt:
            warnings.append(f"{dataset.name}: no images for {len(from_gt)} sequence(s); frame size taken from the "
                            "ground truth's extent (ceil(max x), ceil(max y)) as the overlap bounds")
        overall = vot_metrics.combine(per.values(), s.eao_interval, convention=s.convention,
                                      sensitivity=s.sensitivity)
        metrics = {k: overall[k] for k in ("accuracy", "robustness", "failures", "failure_rate_100",
                                           "ar_robustness", "eao", "eao_curve", "n_sequences", "n_frames")}
        metrics["fps"] = timed / sec if sec > 0 else None
        seqs = {n: {"accuracy": p["accuracy"], "failures": p["failures"], "n_frames": p["n_frames"],
                    "n_runs": p["n_runs"], "fps": p.get("fps")} for n, p in per.items()}
        tag_list = sorted(tags_present) + (["empty"] if tags_present else [])
        attributes = {t: {"eao": v} for t, v in vot_metrics.eao_by_tag(per.values(), s.eao_interval, tag_list,
                                                                        convention=s.convention).items()}
        robustness_def = ("length-weighted mean failures per sequence (vot-toolkit)" if s.convention == "vot-toolkit"
                          else "failures per 100 frames (pysot)")
        protocol = {"name": self.name, "convention": s.convention, "edition": s.edition,
                    "eao_interval": list(s.eao_interval), "burnin": s.burnin,
                    "skip_initialize": s.skip_initialize, "sensitivity": s.sensitivity,
                    "robustness": robustness_def,
                    "bounds": "ground-truth extent" if from_gt and len(from_gt) == len(per)
                    else ("image size" if not from_gt else "image size / ground-truth extent")}
        return {"protocol": protocol, "metrics": metrics, "sequences": seqs, "attributes": attributes,
                "warnings": warnings}

    # -- reporting
    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, dataset) -> List[Path]:
        from ..report import plots

        title = dataset_title(dataset)
        made = [plots.eao_plot(reports, out_dir / "eao.png", self.settings.eao_interval, f"EAO curve on {title}"),
                plots.ar_plot(reports, out_dir / "ar.png", title=f"Accuracy-robustness on {title}")]
        return [p for p in made if p is not None]
