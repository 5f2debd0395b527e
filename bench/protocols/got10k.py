"""The GOT-10k protocol: one pass per repetition, AO / SR pooled over the frames of all sequences.

Running as got10k's ``ExperimentGOT10k``: a stochastic tracker (``is_deterministic =
False``) runs ``repetitions`` times (3), each reseeded ``seed + r - 1``; a deterministic
one once. Results: ``<tracker>/<seq>/<seq>_001.txt`` (:data:`bench.results.sot.PER_SEQUENCE`).

Evaluation (:mod:`bench.metrics.got10k`): the IoUs of frames ``1:`` whose cover label is
above 0, bounded by the image resolution, of every repetition, pooled over all
sequences: AO (their mean), SR at 0.5 and 0.75, the 101-point success curve.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..core.errors import BenchError
from ..core.registry import register_protocol
from ..metrics import got10k as got10k_metrics
from ..results import sot as results_io
from .base import Column, ProtocolSettings
from .one_pass import OnePass, dataset_title


@dataclasses.dataclass
class GOT10kSettings(ProtocolSettings):
    #: runs of a stochastic tracker (got10k ExperimentGOT10k ``repetitions = 3``; 1 for deterministic ones)
    repetitions: int = 3


def _run_times(t) -> Optional[np.ndarray]:
    parts = [np.asarray(x, dtype=np.float64).ravel() for x in (t or []) if x is not None]
    return np.concatenate(parts) if parts else None


@register_protocol("got10k", kind="sot", description="GOT-10k: AO / SR pooled over frames, 3 runs if stochastic")
class GOT10k(OnePass):
    """GOT-10k one-pass protocol with repetitions (got10k toolkit ``ExperimentGOT10k``)."""

    name = "got10k"
    Settings = GOT10kSettings
    files = results_io.PER_SEQUENCE
    columns = (Column("ao", "AO"), Column("sr_50", "SR@0.5"), Column("sr_75", "SR@0.75"), Column("fps", "FPS", ".1f"))
    paired_key = "ao"
    layout = results_io.PER_SEQUENCE.describe()

    def repetitions(self, tracker) -> int:
        return 1 if getattr(tracker, "is_deterministic", True) else int(self.settings.repetitions)

    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Dict[str, Any]:
        if len(seq) > 1 and not np.isfinite(seq.gt[1:]).any():
            raise BenchError(f"sequence '{seq.name}' has no ground truth beyond the first frame "
                             "(test split: submit to the evaluation server)")
        runs = [np.asarray(r, dtype=np.float64).reshape(-1, 4) for r in runs]
        return got10k_metrics.sequence_metrics(runs, seq.gt, cover=seq.flags.get("cover"),
                                               resolution=seq.image_size, times=_run_times(times))

    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        overall = got10k_metrics.combine(per.values())
        keys = ("ao", "sr_50", "sr_75")
        metrics = {k: overall[k] for k in keys}
        metrics.update({"success_curve": overall["success_curve"], "fps": overall["fps"],
                        "n_sequences": overall["n_sequences"], "n_frames": overall["n_frames"]})
        seqs = {n: dict({k: p[k] for k in keys}, n_frames=p["n_frames"], fps=p["fps"]) for n, p in per.items()}
        protocol = {"name": self.name, "pooling": "frames of all sequences", "frames": "1: with cover > 0",
                    "bounds": "image resolution", "success_thresholds": len(got10k_metrics.CURVE_THRESHOLDS)}
        return {"protocol": protocol, "metrics": metrics, "sequences": seqs, "attributes": {}}

    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, dataset) -> List[Path]:
        from ..report import plots

        p = plots.success_plot(reports, out_dir / "success.png", f"Success plot on {dataset_title(dataset)}",
                               score_key="ao")
        return [p] if p is not None else []
