"""The KITTI tracking protocol ``kitti``: the MOT protocol with KITTI's result format and per-class scoring.

Why a protocol of its own (and not a result-format parameter of the dataset): KITTI differs
from MOTChallenge in more than the file format. Its evaluation (TrackEval 1.3.0
``Kitti2DBox``) scores each class (``car``, ``pedestrian``) separately, with its own
distractor class, don't-care regions, occlusion / truncation / height rules, and reports one
result per class. All of that is what a protocol owns (result layout, reading, per-sequence
evaluation, combine, table rows), so it lives here, registered as ``kitti``; the dataset's
YAML names it (``protocol: kitti``) and nothing outside the protocol modules asks which
protocol it is.

Running is the MOT protocol's (:func:`bench.protocols.mot.track_sequence`: detections in,
``x, y, w, h`` boxes with ids out). Trackers report no class, so every box is written with
the type ``result_type`` (default ``Car``; ``--option result_type=Pedestrian`` for a
pedestrian run). Each finished sequence is written atomically in the KITTI format
(:mod:`bench.results.kitti`)::

    <tracker>/data/<seq>.txt       frame id type -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000 -10 score
    <tracker>/timing/<seq>.json    frames, seconds, fps

Evaluation (:mod:`bench.metrics.kitti_data`, then CLEAR / Identity / HOTA of
:mod:`bench.metrics.mot`): per class and sequence, then TrackEval's ``combine_sequences``
per class (its ``COMBINED_SEQ`` row). TrackEval computes no class-combined rows for KITTI
(``Kitti2DBox.should_classes_combine = False``), so neither does this protocol. The report
holds ``metrics`` / ``sequences`` of the headline class (``headline_class``, default car),
and every class under ``classes: {cls: {"metrics", "sequences"}}``; the printed table has
one row per class.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from ..core.errors import DataError
from ..core.kitti_text import CLASS_IDS, class_id
from ..core.registry import register_protocol
from ..metrics import mot as mot_metrics
from ..metrics.kitti_data import KITTIClassRule, prepare_kitti_sequence
from ..results import kitti as kitti_io
from ..results import mot as results_io
from .base import ProtocolSettings, Run, SequenceResults
from .mot import MOT


@dataclasses.dataclass
class KITTISettings(ProtocolSettings):
    """KITTI evaluation settings (TrackEval 1.3.0 ``Kitti2DBox``; values and sources in the dataset YAML)."""

    missing: str = "skip"
    #: the evaluated classes (TrackEval ``CLASSES_TO_EVAL``)
    classes: List[str] = dataclasses.field(default_factory=lambda: ["car", "pedestrian"])
    #: the class whose results are the report's ``metrics`` / ``sequences``
    headline_class: str = "car"
    #: per class, the gt classes whose matched predictions are removed (car: van; pedestrian: person sitting)
    distractor_classes: Dict[str, List[str]] = dataclasses.field(
        default_factory=lambda: {"car": ["van"], "pedestrian": ["person"]})
    #: gt with a larger occlusion level is a distractor (TrackEval ``max_occlusion``)
    max_occlusion: float = 2
    #: gt with a larger truncation level is a distractor (TrackEval ``max_truncation``)
    max_truncation: float = 0
    #: unmatched predictions this tall or less (pixels) are removed (TrackEval ``min_height``)
    min_height: float = 25
    #: unmatched predictions with more of their area inside a DontCare region are removed
    dontcare_ioa: float = 0.5
    #: IoU for the preprocessing match (TrackEval ``matching_scores < 0.5 - eps`` set to 0)
    preprocess_iou: float = 0.5
    #: CLEAR and Identity match threshold (TrackEval ``THRESHOLD``)
    threshold: float = 0.5
    #: the KITTI type written for the boxes of a tracker that reports no class
    result_type: str = "Car"
    #: add TrackEval's own field dicts per class (CLEAR / Identity / HOTA per sequence) under ``trackeval``
    raw: bool = False

    def __post_init__(self):
        self.classes = [str(c).lower() for c in self.classes]
        if not self.classes:
            raise ValueError("classes: give at least one class to evaluate (car, pedestrian)")
        for c in self.classes:
            if class_id(c) is None or c not in self.distractor_classes:
                raise ValueError(f"classes: {c!r} cannot be evaluated; evaluable: "
                                 f"{', '.join(sorted(self.distractor_classes))}")
            for d in self.distractor_classes[c]:
                if class_id(d) is None:
                    raise ValueError(f"distractor_classes[{c}]: unknown KITTI type {d!r} "
                                     f"(known: {', '.join(sorted(CLASS_IDS))})")
        self.headline_class = str(self.headline_class).lower()
        if self.headline_class not in self.classes:
            raise ValueError(f"headline_class must be one of the evaluated classes {self.classes}, "
                             f"not {self.headline_class!r}")
        if class_id(self.result_type) is None:
            raise ValueError(f"result_type: unknown KITTI type {self.result_type!r}")

    def rule(self, cls: str) -> KITTIClassRule:
        return KITTIClassRule(class_id(cls), tuple(class_id(d) for d in self.distractor_classes[cls]),
                              max_occlusion=float(self.max_occlusion), max_truncation=float(self.max_truncation),
                              min_height=float(self.min_height), dontcare_ioa=float(self.dontcare_ioa),
                              iou=float(self.preprocess_iou))


@register_protocol("kitti", kind="mot", description="KITTI tracking: CLEAR, Identity and HOTA per class (TrackEval)")
class KITTI(MOT):
    """KITTI tracking evaluation (TrackEval 1.3.0 ``Kitti2DBox`` arithmetic), results in the KITTI format."""

    name = "kitti"
    Settings = KITTISettings
    layout = "data/<seq>.txt (KITTI format)"
    gt_layout = "label_02/<seq>.txt"

    # -- running (MOT's run loop; KITTI files)
    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        results_io.write_timing(results_io.timing_file(results_dir, seq_name), run.frames, run.seconds)
        rows = kitti_io.mot_rows_to_kitti(run.result, class_id(self.settings.result_type))
        return kitti_io.write_kitti_results(results_io.result_file(results_dir, seq_name), rows)

    # -- evaluation
    def read(self, results_dir: Path, seq) -> Optional[SequenceResults]:
        f = results_dir / f"{seq.name}.txt"
        if not f.is_file():
            return None
        rows, dropped = kitti_io.read_kitti_results(f, length=len(seq))
        warnings = [f"{f}: {dropped} rows with a negative track id ignored (TrackEval remove_negative_ids)"] \
            if dropped else []
        return SequenceResults([(rows, f)], [None], warnings)

    def _tracker_rows(self, run) -> np.ndarray:
        """File rows (from :meth:`read`) as they are; in-memory tracker output (``frame, id, x, y, w, h,
        score``, :func:`bench.protocols.mot.track_sequence`) typed ``result_type``."""
        if isinstance(run, tuple):
            return np.asarray(run[0], dtype=np.float64)
        rows = np.asarray(run, dtype=np.float64)
        return kitti_io.mot_rows_to_kitti(rows, class_id(self.settings.result_type))

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Any:
        tr = self._tracker_rows(runs[0])
        if len(tr) and (tr[:, 0].min() < 1 or tr[:, 0].max() > len(seq)):
            raise DataError(f"sequence '{seq.name}': tracker frame outside the sequence (0..{len(seq) - 1})")
        out = {}
        for cls in self.settings.classes:
            data = prepare_kitti_sequence(seq.gt, tr, len(seq), self.settings.rule(cls), name=seq.name)
            out[cls] = (mot_metrics.evaluate_data(data, float(self.settings.threshold)), mot_metrics.counts(data),
                        int(data.removed_tracker_dets))
        return out

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        s = self.settings
        classes: Dict[str, Dict[str, Any]] = {}
        removed: Dict[str, int] = {}
        raw: Dict[str, Any] = {}
        for cls in s.classes:
            body = MOT.combine_results({n: r[cls] for n, r in per.items()})
            classes[cls] = {"metrics": body["metrics"], "sequences": body["sequences"]}
            removed[cls] = body["removed"]
            if s.raw:
                raw[cls] = body["trackeval"]
        protocol = {"name": self.name, "classes": list(s.classes), "headline_class": s.headline_class,
                    "distractor_classes": {c: list(s.distractor_classes[c]) for c in s.classes},
                    "max_occlusion": s.max_occlusion, "max_truncation": s.max_truncation,
                    "min_height": s.min_height, "dontcare_ioa": s.dontcare_ioa, "threshold": float(s.threshold),
                    "result_type": s.result_type, "removed_tracker_boxes": removed}
        head = classes[s.headline_class]
        extra: Dict[str, Any] = {"classes": classes}
        if s.raw:
            extra["trackeval"] = raw
        return {"protocol": protocol, "metrics": head["metrics"], "sequences": head["sequences"], "attributes": {},
                "extra": extra}

    # -- reporting
    def table_rows(self, report: Mapping[str, Any], per_sequence: bool = False
                   ) -> List[Tuple[str, Mapping[str, Any]]]:
        classes = report.get("classes")
        if not isinstance(classes, dict) or not classes:
            return super().table_rows(report, per_sequence)
        if per_sequence:
            return [(f"{seq} ({cls})", m) for cls, body in classes.items()
                    for seq, m in (body.get("sequences") or {}).items()]
        fps = (report.get("metrics") or {}).get("fps")
        tracker = str(report.get("tracker") or "-")
        return [(f"{tracker} ({cls})", dict(body.get("metrics") or {}, **({"fps": fps} if fps is not None else {})))
                for cls, body in classes.items()]
