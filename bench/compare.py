"""Trackers side by side on one dataset (``python -m bench compare``): run or reuse, evaluate, report.

:func:`compare` runs each tracker with the dataset's protocol through the one run loop
(:func:`bench.run.run_dataset`: finished sequences are reused, so a comparison resumes;
the run info guards against mixing results of other settings), evaluates every tracker's
folder with the protocol, and writes into ``<out>/<dataset>/``: ``reports.json`` (one report
per tracker), ``table.txt``, the protocol's plots (MOT: ``compare.png``, accuracy bars and
FPS; one-pass: success and precision plots) and ``compare.json`` (the table's rows and the
reports). Works for every protocol: SOT trackers on SOT datasets, MOT trackers (including
``sot-<name>``) on MOT datasets. Refined results (``<tracker>+<refiner>``, written by
``bench refine`` into ``<out>/<dataset>/``) are listed beside the trackers: evaluated, not run.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .core.errors import BenchError
from .core.io import atomic_write_text

PathLike = Union[str, Path]


def split_names(trackers: Union[str, Iterable[str]]) -> List[str]:
    names = [t.strip() for t in (trackers.split(",") if isinstance(trackers, str) else trackers)]
    names = [n for n in names if n]
    if not names:
        raise BenchError("compare: no tracker names given (e.g. --trackers sort,bytetrack)")
    if len(set(names)) != len(names):
        raise BenchError(f"compare: a tracker is named twice in {','.join(names)}")
    return names


def compare(dataset_name: str, trackers: Union[str, Iterable[str]], root: Optional[PathLike] = None,
            out: PathLike = "runs/compare", *, dataset_options: Optional[Mapping[str, object]] = None,
            sequences: Optional[Sequence[str]] = None, overrides: Optional[Mapping[str, Sequence[str]]] = None,
            config_files: Optional[Mapping[str, PathLike]] = None, weights: Optional[Mapping[str, str]] = None,
            seed: int = 0, overwrite: bool = False, progress: bool = True, plot: bool = True,
            eval_options: Optional[Mapping[str, object]] = None) -> Dict[str, object]:
    """Run (or reuse) and evaluate every tracker of ``trackers`` on ``dataset_name``.

    ``overrides`` / ``config_files`` / ``weights`` are per tracker name (``--set`` style
    strings, a YAML file, a weight file). Returns ``{"dataset", "reports": [...], "rows":
    [...], "table", "written": [paths], "json": path}``.
    """
    from .core.build import build_tracker
    from .core.registry import TRACKERS
    from .datasets import open_dataset
    from .evaluate import evaluate
    from .report import summary_table, write_outputs
    from .report.table import columns_for
    from .run import check_kinds, check_run_info, run_dataset, tracker_params, write_errors

    from .refine import is_refined_name

    names = split_names(trackers)
    ds = open_dataset(dataset_name, root, **dict(dataset_options or {}))
    if sequences:
        ds = ds.select(list(sequences))
    ds = ds.with_settings(**dict(eval_options or {}))
    protocol = ds.protocol_object()
    refined = {n for n in names if is_refined_name(n) and n not in TRACKERS}
    for name in names:
        if name not in refined:
            check_kinds(name, TRACKERS.kind_of(name), ds.name, protocol)
    out = Path(out)
    overrides, config_files, weights = dict(overrides or {}), dict(config_files or {}), dict(weights or {})
    reports: List[Dict[str, object]] = []
    for name in names:
        tdir = out / ds.name / name
        if name in refined:  # refined results (bench refine): evaluated as they are, never run
            if not (tdir / "data").is_dir():
                raise BenchError(f"compare: {name} looks like refined results but {tdir / 'data'} does not exist; "
                                 f"make it with: bench refine --dataset {ds.name} --results {out / ds.name / name.split('+')[0]}")
            reports.append(evaluate(ds, tdir, name))
            continue
        tracker = build_tracker(name, config_file=config_files.get(name), overrides=overrides.get(name, ()),
                                weights=weights.get(name), seed=seed)
        tdir.mkdir(parents=True, exist_ok=True)
        check_run_info(tdir, {"tracker": name, "tracker_name": name, "dataset": ds.name,
                              "params": tracker_params(tracker), "weights": weights.get(name), "seed": seed,
                              "dataset_options": dict(dataset_options or {})}, overwrite)
        summary = run_dataset(tracker, ds, tdir, tracker_name=name, overwrite=overwrite, progress=progress,
                              seed=seed)  # finished sequences are skipped: a comparison resumes
        if summary.failed:
            log = write_errors(out / "reports" / ds.name / name, summary)
            raise BenchError(f"compare: {name} failed on " + "; ".join(f"{k}: {v}" for k, v in summary.failed.items())
                             + f" (see {log})")
        report = evaluate(ds, tdir, name)
        m = report["metrics"]
        if m.get("fps") is None:
            m["fps"] = recorded_fps(protocol, tdir, ds.names())
        reports.append(report)
    dest = out / ds.name
    written = write_outputs(reports, dest, ds, json_name="reports.json", plots=plot)
    cols = columns_for(reports[0], reports[0]["metrics"], protocol)
    rows = [dict({"tracker": r["tracker"]}, **{k: r["metrics"].get(k) for k, _, _ in cols}) for r in reports]
    result: Dict[str, object] = {
        "dataset": ds.name, "sequences": ds.names(), "root": str(ds.root) if ds.root else None,
        "dataset_options": {k: v for k, v in dict(dataset_options or {}).items()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows, "reports": reports,
    }
    json_path = dest / "compare.json"
    atomic_write_text(json_path, json.dumps(result, indent=1, default=str) + "\n")
    result["json"] = str(json_path)
    result["written"] = [str(p) for p in written] + [str(json_path)]
    result["table"] = summary_table(reports, protocol)
    return result


def recorded_fps(protocol, tdir: Path, names: Sequence[str]) -> Optional[float]:
    """Frames per second of tracker time from the time files of a results folder (None without them)."""
    frames = seconds = 0.0
    for n in names:
        t = protocol.recorded_time(tdir, n)
        if t is None:
            continue
        frames += t[0]
        seconds += t[1]
    return frames / seconds if seconds > 0 else None
