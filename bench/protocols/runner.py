"""Run a tracker over a whole dataset: resume, atomic per-sequence results, failures, evaluation.

:func:`run_dataset` drives one single-object tracker over every sequence of a dataset
with the dataset's protocol (``ope`` / ``got10k``: one pass; ``vot``: supervised
resets) and writes each finished sequence through :mod:`bench.results.sot` (every file
written atomically, so a killed run leaves only complete files). A rerun skips the
sequences whose results are complete unless ``overwrite``. A sequence that raises is
recorded (message, and the traceback in ``errors.log``) and the run goes on.

:func:`run_and_report` adds what ``bench run`` does after tracking: evaluation when the
dataset has ground truth, the JSON report, the text table and the plots.

Layout under ``out``::

    <out>/<dataset>/<tracker>/...                 raw results (bench.results layouts)
    <out>/<dataset>/<tracker>/.bench-run.json     how they were produced (tracker, config, seed)
    <out>/reports/<dataset>/<tracker>/            report.json, table.txt, *.png, errors.log
"""
from __future__ import annotations

import dataclasses
import json
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..core.config import to_dict
from ..core.errors import BenchError
from ..core.io import atomic_write_text
from ..core.tracker import SOTTracker
from ..results.sot import is_finished
from .one_pass import run_one_pass
from .vot_reset import run_vot

GOT10K_REPETITIONS = 3  # got10k ExperimentGOT10k: 3 runs for stochastic trackers, 1 for deterministic


@dataclasses.dataclass
class RunSummary:
    """What a dataset run did. ``frames`` / ``seconds`` count the sequences run now (tracker time)."""

    dataset: str
    tracker: str
    results_dir: Path
    done: List[str] = dataclasses.field(default_factory=list)
    skipped: List[str] = dataclasses.field(default_factory=list)
    failed: Dict[str, str] = dataclasses.field(default_factory=dict)
    tracebacks: Dict[str, str] = dataclasses.field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> Optional[float]:
        return self.frames / self.seconds if self.seconds > 0 else None


def _progress(total: int, desc: str, enabled: bool, leave: bool = True, position: int = 0):
    """A tqdm bar on stderr; frame bars (``position`` 1) only on a terminal, to keep logs short."""
    import sys

    if not enabled or (position > 0 and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="seq" if position == 0 else "frame", leave=leave,
                position=position, dynamic_ncols=True)


def repetitions_for(tracker: SOTTracker, protocol: str) -> int:
    """Runs per sequence: VOT 15 / GOT-10k 3 for stochastic trackers, else 1."""
    if protocol == "vot":
        from .vot_reset import repetitions

        return repetitions(tracker)
    if protocol == "got10k" and not getattr(tracker, "is_deterministic", True):
        return GOT10K_REPETITIONS
    return 1


def run_sequence(tracker: SOTTracker, seq, protocol: str, results_dir: Path, seed: int,
                 frame_bar=None) -> tuple:
    """Track ``seq`` with the protocol and write its result files (all repetitions, each
    atomically, after the last one finished); returns (frames run, tracker seconds)."""
    from ..results.sot import write_sequence

    if protocol == "vot":
        runs = run_vot(tracker, seq, seed=seed, frame_bar=frame_bar)
        frames = sum(int(np.sum(r.codes != 0)) for r in runs)
    else:
        runs = []
        for r in range(repetitions_for(tracker, protocol)):
            tracker.reseed(seed + r)
            runs.append(run_one_pass(tracker, seq, frame_bar=frame_bar))
        frames = sum(len(r.times) for r in runs)
    for rep, run in enumerate(runs, start=1):
        result = run if protocol == "vot" else run.boxes
        write_sequence(results_dir, seq.name, protocol, result, run.times, rep=rep)
    return frames, float(sum(np.sum(r.times) for r in runs))


def remove_stale_temporaries(results_dir: Path) -> List[Path]:
    """Delete the hidden ``.<name>.*.tmp`` files an atomic write leaves when its process is killed."""
    stale = [p for p in results_dir.rglob(".*.tmp") if p.is_file()]
    for p in stale:
        p.unlink()
    return stale


def check_run_info(results_dir: Path, info: Mapping[str, Any], overwrite: bool) -> None:
    """Refuse to resume into results produced with another tracker, config or seed."""
    path = results_dir / ".bench-run.json"
    if path.is_file() and not overwrite:
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            old = None
        if old is not None:
            diffs = [k for k in ("tracker", "params", "weights", "seed", "dataset_options")
                     if old.get(k) != info.get(k)]
            if diffs:
                raise BenchError(
                    f"{results_dir} holds results of another run (differs in: {', '.join(diffs)}); "
                    "use --name to write them elsewhere, or --overwrite to replace them")
    atomic_write_text(path, json.dumps(info, indent=2, default=str) + "\n")


def run_dataset(tracker: SOTTracker, dataset, results_dir: Path, *, tracker_name: str,
                overwrite: bool = False, progress: bool = True, seed: int = 0) -> RunSummary:
    """Run ``tracker`` over every sequence of ``dataset`` (see the module docstring)."""
    protocol = dataset.protocol
    if protocol not in ("ope", "got10k", "vot"):
        raise BenchError(f"dataset '{dataset.name}' has protocol '{protocol}'; single-object runs "
                         "support ope, got10k and vot")
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(results_dir)
    summary = RunSummary(dataset.name, tracker_name, results_dir)
    names = dataset.names()
    bar = _progress(len(names), f"{tracker_name} on {dataset.name}", progress)
    try:
        for name in names:
            if bar is not None:
                bar.set_postfix_str(name)
            try:
                reps = repetitions_for(tracker, protocol)
                if not overwrite and is_finished(results_dir, name, protocol, reps):
                    summary.skipped.append(name)
                    continue
                seq = dataset[name]
                fbar = _progress(len(seq) * reps, name, progress, leave=False, position=1)
                try:
                    frames, secs = run_sequence(tracker, seq, protocol, results_dir, seed, fbar)
                finally:
                    if fbar is not None:
                        fbar.close()
                summary.done.append(name)
                summary.frames += frames
                summary.seconds += secs
            except BenchError as exc:
                summary.failed[name] = str(exc)
                summary.tracebacks[name] = traceback.format_exc()
            except Exception as exc:  # a tracker bug in one sequence must not stop the others
                summary.failed[name] = f"{type(exc).__name__}: {exc}"
                summary.tracebacks[name] = traceback.format_exc()
            finally:
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return summary


@dataclasses.dataclass
class Outcome:
    summary: Any
    report: Optional[Dict[str, Any]]
    report_dir: Path
    text: str
    exit_code: int


def has_ground_truth(dataset) -> bool:
    """False when the dataset declares no ground truth (e.g. GOT-10k test) or the first sequence has none."""
    if "has_gt" in dataset.meta:
        return bool(dataset.meta["has_gt"])
    for name in dataset.names()[:1]:
        try:
            seq = dataset[name]
        except BenchError:
            return True
        gt = getattr(seq, "gt", None)
        if gt is None:
            return False
        gt = np.asarray(gt, dtype=float)
        if gt.ndim == 2 and gt.shape[1] == 4 and len(gt) > 1 and not np.isfinite(gt[1:]).any():
            return False
    return True


def run_and_report(tracker, dataset, *, out: Path, tracker_name: str, overwrite: bool = False,
                   progress: bool = True, seed: int = 0, run_info: Optional[Dict[str, Any]] = None,
                   attributes_of: Optional[Callable[[Any], Mapping[str, Sequence[str]]]] = None) -> Outcome:
    """``bench run``: track, evaluate, write report files; returns the printed text and exit code."""
    from ..report import summary_table, write_outputs

    out = Path(out)
    results_dir = out / dataset.name / tracker_name
    report_dir = out / "reports" / dataset.name / tracker_name
    info = dict(run_info or {})
    info.update({"tracker_name": tracker_name, "dataset": dataset.name,
                 "params": _params(tracker), "seed": seed})
    results_dir.mkdir(parents=True, exist_ok=True)
    check_run_info(results_dir, info, overwrite)
    remove_stale_temporaries(results_dir)

    t0 = time.perf_counter()
    if dataset.protocol == "mot":
        summary = _run_mot(tracker, dataset, results_dir, tracker_name, overwrite, progress)
    else:
        summary = run_dataset(tracker, dataset, results_dir, tracker_name=tracker_name,
                              overwrite=overwrite, progress=progress, seed=seed)
    wall = time.perf_counter() - t0

    lines: List[str] = []
    skipped = getattr(summary, "skipped", [])
    done = getattr(summary, "done", [])
    failed: Dict[str, str] = dict(getattr(summary, "failed", {}) or {})
    lines.append(f"{tracker_name} on {dataset.name} ({dataset.protocol}): {len(done)} sequences run, "
                 f"{len(skipped)} already finished (skipped), {len(failed)} failed; {wall:.1f} s")
    run_fps = getattr(summary, "fps", None)
    report = None
    if failed:
        report_dir.mkdir(parents=True, exist_ok=True)
        log = "".join(f"== {n}\n{getattr(summary, 'tracebacks', {}).get(n, failed[n])}\n" for n in failed)
        atomic_write_text(report_dir / "errors.log", log)
    complete = [n for n in dataset.names() if n not in failed]
    if complete and has_ground_truth(dataset):
        from ..cli import evaluate_folder

        ds_eval = dataset.select(complete) if failed else dataset
        report = evaluate_folder(ds_eval, results_dir, tracker_name)
        from ..cli import print_warnings

        print_warnings(report)
        if report.get("metrics") is not None and report["metrics"].get("fps") is None and run_fps:
            report["metrics"]["fps"] = run_fps
        attributes = attributes_of(ds_eval) if (attributes_of and dataset.protocol in ("ope", "got10k")) else None
        written = write_outputs([report], report_dir, attributes=attributes,
                                eao_interval=dataset.meta.get("eao_interval"))
        lines.append("")
        lines.append(summary_table([report]))
        lines.append("")
        if run_fps:
            lines.append(f"Tracking speed of this run: {run_fps:.1f} FPS (tracker time, "
                         f"{summary.frames} frames)")
        lines.append(f"Results: {results_dir}")
        lines.append("Report: " + ", ".join(str(p) for p in written))
    elif complete:
        lines.append(f"Results: {results_dir} (no ground truth: not evaluated)")
        if run_fps:
            lines.append(f"Tracking speed: {run_fps:.1f} FPS")
    if failed:
        lines.append("")
        lines.append(f"FAILED sequences ({len(failed)}), tracebacks in {report_dir / 'errors.log'}:")
        lines.extend(f"  {n}: {msg}" for n, msg in failed.items())
    return Outcome(summary, report, report_dir, "\n".join(lines), 1 if failed else 0)


def _params(tracker) -> Any:
    cfg = getattr(tracker, "config", None)
    try:
        return json.loads(json.dumps(to_dict(cfg), default=str))
    except TypeError:
        return repr(cfg)


def _run_mot(tracker, dataset, results_dir: Path, tracker_name: str, overwrite: bool, progress: bool):
    from .mot import run_mot

    # run_mot writes <out>/<dataset>/<tracker>/data/<seq>.txt (TrackEval layout)
    return run_mot(tracker, dataset, results_dir.parent.parent, tracker_name, overwrite=overwrite,
                   progress=progress)
