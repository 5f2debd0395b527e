"""The one run loop: a tracker over a dataset with the dataset's protocol, for SOT and MOT alike.

:func:`run_dataset` drives any tracker over every sequence of a dataset. The unit of work
is one repetition of one sequence (:meth:`~bench.protocols.base.Protocol.units`); each
finished unit is written atomically by the protocol (a killed run leaves only complete
files), so a rerun skips the finished units unless ``overwrite``. A unit that raises is
recorded (message, and the traceback in ``errors.log``) and the run goes on.

:func:`run_and_report` adds what ``bench run`` does after tracking: evaluation when the
dataset has ground truth, the JSON report, the text table and the plots.

Layout under ``out``::

    <out>/<dataset>/<tracker>/...                 raw results (the protocol's layout)
    <out>/<dataset>/<tracker>/.bench-run.json     how they were produced (tracker, config, seed)
    <out>/reports/<dataset>/<tracker>/            report.json, table.txt, *.png, errors.log
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from .core.config import to_dict
from .core.errors import BenchError, DatasetNotFoundError
from .core.io import atomic_write_text


@dataclasses.dataclass
class RunSummary:
    """What a dataset run did: sequences run now, skipped (already finished) and failed.

    ``frames`` / ``seconds`` total the tracker time of the units run now; ``recorded``
    holds (frames, seconds) of every finished sequence whose time files say so.
    """

    dataset: str
    tracker: str
    results_dir: Path
    done: List[str] = dataclasses.field(default_factory=list)
    skipped: List[str] = dataclasses.field(default_factory=list)
    failed: Dict[str, str] = dataclasses.field(default_factory=dict)
    tracebacks: Dict[str, str] = dataclasses.field(default_factory=dict)
    #: sequences whose files are not under the root (a subset of ``failed``), with the download hint
    missing: Dict[str, str] = dataclasses.field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0
    wall: float = 0.0

    @property
    def fps(self) -> Optional[float]:
        return self.frames / self.seconds if self.seconds > 0 else None


def progress_bar(total: int, desc: str, enabled: bool, leave: bool = True, position: int = 0):
    """A tqdm bar on stderr; frame bars (``position`` 1) only on a terminal, to keep logs short."""
    if not enabled or (position > 0 and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="seq" if position == 0 else "frame", leave=leave,
                position=position, dynamic_ncols=True)


def remove_stale_temporaries(results_dir: Path) -> List[Path]:
    """Delete the hidden ``.<name>.*.tmp`` files an atomic write leaves when its process is killed."""
    stale = [p for p in results_dir.rglob(".*.tmp") if p.is_file()]
    for p in stale:
        p.unlink()
    return stale


RUN_INFO_KEYS = ("tracker", "params", "weights", "seed", "dataset_options")


def check_run_info(results_dir: Path, info: Mapping[str, Any], overwrite: bool) -> None:
    """Refuse to resume into results produced with another tracker, config, weights, seed or dataset options."""
    path = results_dir / ".bench-run.json"
    if path.is_file() and not overwrite:
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            old = None
        if old is not None:
            diffs = [k for k in RUN_INFO_KEYS if old.get(k) != info.get(k)]
            if diffs:
                raise BenchError(
                    f"{results_dir} holds results of another run (differs in: {', '.join(diffs)}); "
                    "use --name to write them elsewhere, or --overwrite to replace them")
    atomic_write_text(path, json.dumps(info, indent=2, default=str) + "\n")


def tracker_params(tracker) -> Any:
    """The tracker's config as plain JSON values (recorded in the run info)."""
    cfg = getattr(tracker, "config", None)
    try:
        return json.loads(json.dumps(to_dict(cfg), default=str))
    except TypeError:
        return repr(cfg)


def check_kinds(tracker_name: str, tracker_kind: str, dataset_name: str, protocol) -> None:
    """A clear error when a SOT tracker meets a MOT dataset or the other way round."""
    if protocol.tracker_kind == tracker_kind:
        return
    if protocol.tracker_kind == "mot":
        raise BenchError(f"'{tracker_name}' is a single-object tracker and '{dataset_name}' a multi-object "
                         f"dataset; run it as 'sot-{tracker_name}' (one {tracker_name} per target)")
    raise BenchError(f"'{tracker_name}' is a multi-object tracker; '{dataset_name}' is a single-object dataset "
                     f"(protocol {protocol.name})")


def run_dataset(tracker, dataset, results_dir: Path, *, tracker_name: str, overwrite: bool = False,
                progress: bool = True, seed: int = 0) -> RunSummary:
    """Run ``tracker`` over every sequence of ``dataset`` with its protocol (see the module docstring)."""
    protocol = dataset.protocol_object()
    check_kinds(tracker_name, getattr(tracker, "kind", "sot"), dataset.name, protocol)
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(results_dir)
    summary = RunSummary(dataset.name, tracker_name, results_dir)
    t_start = time.perf_counter()
    names = dataset.names()
    bar = progress_bar(len(names), f"{tracker_name} on {dataset.name}", progress)
    try:
        for name in names:
            if bar is not None:
                bar.set_postfix_str(name)
            try:
                reps = protocol.units(tracker, name)
                todo = [r for r in reps if overwrite or not protocol.is_finished(results_dir, name, r)]
                if not todo:
                    summary.skipped.append(name)
                    continue
                seq = dataset[name]
                protocol.check_sequence(tracker, seq)
                fbar = progress_bar(len(seq) * len(todo), name, progress, leave=False, position=1)
                try:
                    for rep in todo:
                        run = protocol.run(tracker, seq, rep=rep, seed=seed, frame_bar=fbar)
                        protocol.write(results_dir, name, run, rep)
                        summary.frames += run.frames
                        summary.seconds += run.seconds
                finally:
                    if fbar is not None:
                        fbar.close()
                summary.done.append(name)
            except KeyboardInterrupt:
                raise
            except DatasetNotFoundError as exc:
                summary.failed[name] = str(exc)
                summary.missing[name] = exc.hint
                summary.tracebacks[name] = str(exc)
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
    summary.wall = time.perf_counter() - t_start
    return summary


@dataclasses.dataclass
class Outcome:
    """What ``bench run`` did and prints."""

    summary: RunSummary
    report: Optional[Dict[str, Any]]
    report_dir: Path
    text: str
    exit_code: int


def write_errors(report_dir: Path, summary: RunSummary) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    log = "".join(f"== {n}\n{summary.tracebacks.get(n, summary.failed[n])}\n" for n in summary.failed)
    atomic_write_text(report_dir / "errors.log", log)
    return report_dir / "errors.log"


def failure_lines(summary: RunSummary, dataset, report_dir: Path) -> List[str]:
    """What failed, one line per sequence; sequences whose files are absent in one line with the hint once."""
    out: List[str] = []
    missing = [n for n in summary.failed if n in summary.missing]
    others = [n for n in summary.failed if n not in summary.missing]
    if missing:
        have = [n for n in dataset.names() if n not in summary.missing]
        root = dataset.root or "the dataset root"
        how = f"run with --sequences {','.join(have[:10])}{',...' if len(have) > 10 else ''}" if have else ""
        hint = next((summary.missing[n] for n in missing if summary.missing[n]), "")
        out.append(f"{len(missing)} of {len(dataset)} sequences not found under {root}"
                   + (f"; {how}" if how else "") + (f"; or download them: {hint}" if hint else ""))
    if others:
        out.append(f"FAILED sequences ({len(others)}), tracebacks in {report_dir / 'errors.log'}:")
        out.extend(f"  {n}: {summary.failed[n]}" for n in others)
    return out


def run_and_report(tracker, dataset, *, out: Path, tracker_name: str, overwrite: bool = False,
                   progress: bool = True, seed: int = 0, run_info: Optional[Dict[str, Any]] = None) -> Outcome:
    """``bench run``: track, evaluate, write report files; returns the printed text and exit code."""
    from .evaluate import evaluate, print_warnings
    from .report import summary_table, write_outputs

    out = Path(out)
    results_dir = out / dataset.name / tracker_name
    report_dir = out / "reports" / dataset.name / tracker_name
    info = dict(run_info or {})
    info.update({"tracker_name": tracker_name, "dataset": dataset.name, "params": tracker_params(tracker),
                 "seed": seed})
    results_dir.mkdir(parents=True, exist_ok=True)
    check_run_info(results_dir, info, overwrite)

    summary = run_dataset(tracker, dataset, results_dir, tracker_name=tracker_name, overwrite=overwrite,
                          progress=progress, seed=seed)
    protocol = dataset.protocol_object()
    failed = summary.failed
    lines = [f"{tracker_name} on {dataset.name} ({protocol.name}): {len(summary.done)} sequences run, "
             f"{len(summary.skipped)} already finished (skipped), {len(failed)} failed; {summary.wall:.1f} s"]
    report = None
    if failed:
        write_errors(report_dir, summary)
    complete = [n for n in dataset.names() if n not in failed]
    run_fps = summary.fps
    if complete and dataset.has_ground_truth():
        ds_eval = dataset.select(complete) if failed else dataset
        report = evaluate(ds_eval, results_dir, tracker_name)
        print_warnings(report)
        metrics = report.get("metrics") or {}
        if run_fps and (metrics.get("fps") is None or not summary.skipped):
            metrics["fps"] = run_fps  # every sequence ran now: the table shows this run's speed
        written = write_outputs([report], report_dir, ds_eval)
        lines += ["", summary_table([report], protocol), ""]
        if run_fps:
            lines.append(f"Tracking speed of this run: {run_fps:.1f} FPS (tracker time, {summary.frames} frames)")
        lines.append(f"Results: {results_dir}")
        lines.append("Report: " + ", ".join(str(p) for p in written))
    elif complete:
        lines.append(f"Results: {results_dir} (no ground truth: not evaluated)")
        if run_fps:
            lines.append(f"Tracking speed: {run_fps:.1f} FPS")
    if failed:
        lines += [""] + failure_lines(summary, dataset, report_dir)
    return Outcome(summary, report, report_dir, "\n".join(lines), 1 if failed else 0)
