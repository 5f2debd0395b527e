"""Evaluate single-object tracking results: result folders or in-memory arrays -> JSON report.

Public API (stable; the CLI ``bench eval / run / report / reproduce`` is built on it):

``evaluate_results(dataset, results_dir, tracker=None, *, root=None, sequences=None, **options) -> dict``
    Read the result files of one tracker and evaluate them. ``dataset`` is a
    :class:`bench.datasets.Dataset` or a registered name (opened at ``root``).
    ``results_dir`` is the tracker's folder: for one-pass datasets the folder holding
    ``<seq>.txt`` (``<seq>_time.txt`` optional), for VOT the folder holding
    ``baseline/<seq>/<seq>_001.txt`` (e.g. ``.../vot2019/results/Ocean``), for GOT-10k
    the folder holding ``<seq>/<seq>_001.txt``. ``tracker`` defaults to the folder name.

``evaluate_arrays(dataset, results, tracker=None, *, times=None, sequences=None, **options) -> dict``
    The same on in-memory results (the run loop calls it right after tracking):
    ``results[seq]`` is an (N, 4) ``xywh`` array (one-pass); for VOT a list of runs, each a
    :class:`bench.core.regions.Regions`, a list of per-frame rows, a ``(codes, boxes)`` pair
    or an object with ``codes`` / ``boxes`` (the VOT run loop's result; a single such
    object is one run); for GOT-10k an (N, 4) array or a list of them (repetitions).
    ``times[seq]``: per-frame seconds (an array, or a list per run).

Options (defaults from the dataset's ``configs/datasets/<name>.yaml``; unknown keys raise
:class:`ConfigError`):

* one-pass (``ope``): ``invalid_gt`` = ``fail`` | ``pysot`` | ``exclude``,
  ``first_frame`` = ``gt`` | ``result``, ``use_flags`` (LaSOT: treat frames flagged
  ``full_occlusion`` / ``out_of_view`` as without target; default true);
* VOT: ``convention`` = ``vot-toolkit`` | ``pysot``, ``burnin``, ``skip_initialize``,
  ``sensitivity``, ``eao_interval``;
* GOT-10k: none.
* all: ``missing`` = ``error`` (default) | ``skip`` (sequences without a result file).

Report (JSON-ready: floats, lists, None for NaN)::

    {"dataset": str, "tracker": str,
     "protocol": {"name": "ope" | "vot" | "got10k", <settings incl. convention>},
     "metrics": {...}, "sequences": {seq: {...}}, "attributes": {attr: {...}},
     "warnings": [str, ...]}

Metric keys (fractions in [0, 1]): one-pass ``success_auc``, ``precision_20``,
``norm_precision_20``, ``norm_precision_auc``, ``success_rate_50``, ``success_curve``
(21 values), ``precision_curve`` (51), ``norm_precision_curve`` (51), ``fps``; VOT
``accuracy``, ``robustness``, ``failures``, ``failure_rate_100``, ``ar_robustness``,
``eao``, ``eao_curve``, ``fps``; GOT-10k ``ao``, ``sr_50``, ``sr_75``, ``success_curve``
(101), ``fps``. ``attributes`` holds the one-pass metrics per attribute (OTB attributes,
synthetic labels), for VOT the EAO per tag (pysot tag weights), empty for GOT-10k.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from .core.errors import BenchError, ConfigError, DataError
from .core.regions import Regions, as_regions
from .metrics import got10k as got10k_metrics
from .metrics import ope as ope_metrics
from .metrics import vot as vot_metrics
from .results import sot as results_io

PathLike = Union[str, Path]

_OPTIONS = {
    "ope": {"invalid_gt": "fail", "first_frame": "gt", "use_flags": True, "missing": "error"},
    "vot": {"convention": "vot-toolkit", "burnin": 10, "skip_initialize": 5, "sensitivity": 30,
            "eao_interval": None, "missing": "error"},
    "got10k": {"missing": "error"},
}
_ABSENT_FLAGS = ("full_occlusion", "out_of_view", "absent")


def evaluate_results(dataset, results_dir: PathLike, tracker: Optional[str] = None, *, root=None,
                     sequences: Optional[Sequence[str]] = None, **options) -> Dict[str, Any]:
    """Evaluate the result files in ``results_dir`` on ``dataset`` (see the module docstring)."""
    ds = _dataset(dataset, root, sequences)
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise DataError("results folder not found", path=results_dir)
    protocol = ds.protocol
    opts = _options(ds, protocol, options)
    tracker = tracker or results_dir.name
    warnings: List[str] = []
    results: Dict[str, Any] = {}
    times: Dict[str, Any] = {}
    missing = []
    for name in ds.names():
        seq = ds[name]
        n = len(seq)
        if protocol == "ope":
            f = results_io.find_result_file(results_dir, name, "ope")
            if f is None:
                missing.append(name)
                continue
            boxes, w = results_io.read_ope_file(f, n)
            warnings += w
            results[name] = boxes
            tf = results_io.find_time_file(results_dir, name, "ope")
            times[name] = results_io.read_time_file(tf) if tf else None
        else:
            files = results_io.find_repetitions(results_dir, name, protocol)
            if not files:
                missing.append(name)
                continue
            runs, run_times = [], []
            for r, f in enumerate(files, start=1):
                if protocol == "vot":
                    reg, w = results_io.read_vot_file(f, n)
                    runs.append(reg)
                else:
                    boxes, w = results_io.read_ope_file(f, n)
                    runs.append(boxes)
                warnings += w
                tf = results_io.find_time_file(results_dir, name, protocol, r)
                run_times.append(results_io.read_time_file(tf) if tf else None)
            results[name] = runs
            times[name] = run_times
    if missing:
        where = {"ope": "<seq>.txt", "vot": "baseline/<seq>/<seq>_001.txt", "got10k": "<seq>/<seq>_001.txt"}[protocol]
        msg = (f"no result file ({where}) for {len(missing)} of {len(ds)} sequences: "
               + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
        if opts["missing"] != "skip":
            raise DataError(msg + " (option missing=skip evaluates the others)", path=results_dir)
        warnings.append(f"{results_dir}: {msg}; skipped")
    return _evaluate(ds, results, times, tracker, opts, warnings)


def evaluate_arrays(dataset, results: Mapping[str, Any], tracker: Optional[str] = None, *,
                    times: Optional[Mapping[str, Any]] = None, root=None,
                    sequences: Optional[Sequence[str]] = None, **options) -> Dict[str, Any]:
    """Evaluate in-memory results (see the module docstring). Sequences of the dataset
    missing from ``results`` follow the ``missing`` option."""
    ds = _dataset(dataset, root, sequences)
    opts = _options(ds, ds.protocol, options)
    warnings: List[str] = []
    res: Dict[str, Any] = {}
    missing = [n for n in ds.names() if n not in results]
    if missing:
        msg = f"no results for {len(missing)} of {len(ds)} sequences: " + ", ".join(missing[:10])
        if opts["missing"] != "skip":
            raise BenchError(msg)
        warnings.append(msg + "; skipped")
    for name in ds.names():
        if name not in results:
            continue
        n = len(ds[name])
        r = results[name]
        if ds.protocol == "ope":
            arr = np.asarray(r, dtype=np.float64).reshape(-1, 4)
            if len(arr) != n:
                raise BenchError(f"sequence '{name}': {len(arr)} boxes for {n} frames")
            res[name] = arr
        elif ds.protocol == "vot":
            runs = [_vot_run(x) for x in ([r] if isinstance(r, Regions) or hasattr(r, "codes") else list(r))]
            for k, x in enumerate(runs):
                if len(x) != n:
                    raise BenchError(f"sequence '{name}' run {k + 1}: {len(x)} frames for {n}")
            res[name] = runs
        else:
            runs = r if isinstance(r, (list, tuple)) else [r]
            res[name] = [np.asarray(x, dtype=np.float64).reshape(-1, 4) for x in runs]
    tm = dict(times or {})
    return _evaluate(ds, res, tm, tracker or "tracker", opts, warnings)


# ----------------------------------------------------------------------------------

def _dataset(dataset, root, sequences):
    if isinstance(dataset, str):
        from .datasets import open_dataset

        dataset = open_dataset(dataset, root)
    if sequences:
        dataset = dataset.select(list(sequences))
    if dataset.protocol not in _OPTIONS:
        raise BenchError(f"dataset '{dataset.name}' uses protocol '{dataset.protocol}'; "
                         "bench.evaluate handles ope, vot and got10k")
    return dataset


def _options(ds, protocol: str, options: Mapping[str, Any]) -> Dict[str, Any]:
    valid = _OPTIONS[protocol]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"unknown evaluation option(s) for {protocol} datasets: {', '.join(unknown)}; "
                          f"valid: {', '.join(sorted(valid))}")
    settings = dict(ds.meta.get("settings", {}))
    out = {}
    for k, default in valid.items():
        if k in options:
            out[k] = options[k]
        elif k == "eao_interval":
            out[k] = ds.meta.get("eao_interval") or settings.get("eao_interval")
        elif k in settings:
            out[k] = settings[k]
        else:
            out[k] = default
    if protocol == "ope":
        if out["invalid_gt"] not in ope_metrics.INVALID_GT_RULES:
            raise ConfigError(f"invalid_gt must be one of {', '.join(ope_metrics.INVALID_GT_RULES)}, "
                              f"not {out['invalid_gt']!r}")
        if out["first_frame"] not in ope_metrics.FIRST_FRAME_RULES:
            raise ConfigError(f"first_frame must be one of {', '.join(ope_metrics.FIRST_FRAME_RULES)}, "
                              f"not {out['first_frame']!r}")
    if protocol == "vot":
        if out["convention"] not in vot_metrics.CONVENTIONS:
            raise ConfigError(f"convention must be one of {', '.join(vot_metrics.CONVENTIONS)}, "
                              f"not {out['convention']!r}")
        if out["eao_interval"] is None:
            raise ConfigError(f"dataset '{ds.name}' has no EAO interval; pass eao_interval=[low, high]")
        for k in ("burnin", "skip_initialize", "sensitivity"):
            out[k] = int(out[k]) if k != "sensitivity" else float(out[k])
    if out["missing"] not in ("error", "skip"):
        raise ConfigError(f"missing must be 'error' or 'skip', not {out['missing']!r}")
    return out


def _vot_run(x) -> Regions:
    if isinstance(x, Regions):
        return x
    if hasattr(x, "codes") and hasattr(x, "boxes"):
        x = (x.codes, x.boxes)
    if isinstance(x, tuple) and len(x) == 2:
        codes, boxes = np.asarray(x[0]), np.asarray(x[1], dtype=np.float64)
        return as_regions([[float(c)] if c >= 0 else boxes[i].tolist() for i, c in enumerate(codes.tolist())])
    return as_regions(x)


def _evaluate(ds, results: Mapping[str, Any], times: Mapping[str, Any], tracker: str, opts: Dict[str, Any],
              warnings: List[str]) -> Dict[str, Any]:
    names = [n for n in ds.names() if n in results]
    if not names:
        raise BenchError(f"nothing to evaluate: no results for any sequence of {ds.name}")
    for n in names:
        warnings += list(ds[n].meta.get("warnings", []))
    protocol = ds.protocol
    if protocol == "ope":
        body = _evaluate_ope(ds, names, results, times, opts)
    elif protocol == "vot":
        body = _evaluate_vot(ds, names, results, times, opts, warnings)
    else:
        body = _evaluate_got10k(ds, names, results, times)
    report = {"dataset": ds.name, "tracker": tracker, "protocol": body.pop("protocol"),
              "metrics": body["metrics"], "sequences": body["sequences"],
              "attributes": body.get("attributes", {}), "warnings": warnings}
    return _jsonable(report)


def _evaluate_ope(ds, names, results, times, opts) -> Dict[str, Any]:
    per: Dict[str, Dict[str, Any]] = {}
    attrs: Dict[str, Sequence[str]] = {}
    for n in names:
        seq = ds[n]
        absent = None
        if opts["use_flags"]:
            flags = [np.asarray(seq.flags[f], dtype=bool) for f in _ABSENT_FLAGS if f in seq.flags]
            if flags:
                absent = np.logical_or.reduce(flags)
        per[n] = ope_metrics.sequence_metrics(results[n], seq.gt, absent=absent, invalid_gt=opts["invalid_gt"],
                                              first_frame=opts["first_frame"], times=times.get(n))
        if seq.attributes:
            attrs[n] = seq.attributes
    overall = ope_metrics.combine(per.values())
    keys = ("success_auc", "precision_20", "norm_precision_20", "norm_precision_auc", "success_rate_50")
    curves = ("success_curve", "precision_curve", "norm_precision_curve")

    def pick(d, with_curves=True):
        out = {k: d[k] for k in keys}
        if with_curves:
            out.update({k: d[k] for k in curves})
        out["fps"] = d.get("fps")
        out["n_frames"] = d["n_frames"]
        if "n_sequences" in d:
            out["n_sequences"] = d["n_sequences"]
        return out

    settings = dict(ds.meta.get("settings", {}))
    protocol = {"name": "ope", "invalid_gt": opts["invalid_gt"], "first_frame": opts["first_frame"],
                "use_flags": opts["use_flags"], "success_thresholds": len(ope_metrics.SUCCESS_THRESHOLDS),
                "success_test": "iou > t", "precision_thresholds_px": [0, 50], "precision_at_px": 20,
                "norm_precision_at": 0.2, "center": "x + (w - 1) / 2",
                "list": settings.get("list", ds.name)}
    return {"protocol": protocol, "metrics": pick(overall),
            "sequences": {n: pick(per[n]) for n in names},
            "attributes": {a: pick(v) for a, v in ope_metrics.by_attribute(per, attrs).items()}}


def _run_times(t) -> Optional[np.ndarray]:
    if t is None:
        return None
    if isinstance(t, (list, tuple)):
        parts = [np.asarray(x, dtype=np.float64).ravel() for x in t if x is not None]
        return np.concatenate(parts) if parts else None
    return np.asarray(t, dtype=np.float64).ravel()


def _evaluate_vot(ds, names, results, times, opts, warnings) -> Dict[str, Any]:
    conv = opts["convention"]
    per: Dict[str, Dict[str, Any]] = {}
    from_gt = []
    sec, frames_timed = 0.0, 0
    tags_present = set()
    for n in names:
        seq = ds[n]
        gt = seq.meta.get("regions")
        if gt is None:
            gt = seq.polygons if seq.polygons is not None else seq.gt
        size = seq.image_size
        if size is None:
            from .core.regions import gt_extent_size

            size = gt_extent_size(gt)
            from_gt.append(n)
        elif seq.meta.get("image_size_source") == "gt-extent":
            from_gt.append(n)
        tags = {k: v for k, v in seq.flags.items()}
        tags_present.update(k for k, v in tags.items() if np.any(v))
        if tags:
            any_tag = np.logical_or.reduce([np.asarray(v, dtype=bool) for v in tags.values()])
            tags["empty"] = ~any_tag
        try:
            per[n] = vot_metrics.sequence_metrics(results[n], gt, size, convention=conv, burnin=opts["burnin"],
                                                  skip=opts["skip_initialize"], tags=tags)
        except ValueError as exc:
            raise BenchError(f"sequence '{n}': {exc}") from None
        t = _run_times(times.get(n))
        if t is not None:
            t = t[np.isfinite(t) & (t > 0)]
            sec += float(t.sum())
            frames_timed += int(t.size)
            per[n]["fps"] = t.size / t.sum() if t.sum() > 0 else None
    if from_gt:
        warnings.append(f"{ds.name}: no images for {len(from_gt)} sequence(s); frame size taken from the "
                        "ground truth's extent (ceil(max x), ceil(max y)) as the overlap bounds")
    overall = vot_metrics.combine(per.values(), opts["eao_interval"], convention=conv,
                                  sensitivity=opts["sensitivity"])
    metrics = {k: overall[k] for k in ("accuracy", "robustness", "failures", "failure_rate_100", "ar_robustness",
                                       "eao", "eao_curve", "n_sequences", "n_frames")}
    metrics["fps"] = frames_timed / sec if sec > 0 else None
    seqs = {n: {"accuracy": p["accuracy"], "failures": p["failures"], "n_frames": p["n_frames"],
                "n_runs": p["n_runs"], "fps": p.get("fps")} for n, p in per.items()}
    tag_list = sorted(tags_present) + (["empty"] if tags_present else [])
    attributes = {t: {"eao": v} for t, v in vot_metrics.eao_by_tag(per.values(), opts["eao_interval"], tag_list,
                                                                    convention=conv).items()}
    robustness_def = ("length-weighted mean failures per sequence (vot-toolkit)" if conv == "vot-toolkit"
                      else "failures per 100 frames (pysot)")
    protocol = {"name": "vot", "convention": conv, "edition": ds.meta.get("edition"),
                "eao_interval": list(opts["eao_interval"]), "burnin": opts["burnin"],
                "skip_initialize": opts["skip_initialize"], "sensitivity": opts["sensitivity"],
                "robustness": robustness_def,
                "bounds": "ground-truth extent" if from_gt and len(from_gt) == len(names)
                else ("image size" if not from_gt else "image size / ground-truth extent")}
    return {"protocol": protocol, "metrics": metrics, "sequences": seqs, "attributes": attributes}


def _evaluate_got10k(ds, names, results, times) -> Dict[str, Any]:
    per = {}
    for n in names:
        seq = ds[n]
        if not np.isfinite(seq.gt[1:]).any() and len(seq) > 1:
            raise BenchError(f"sequence '{n}' of {ds.name} has no ground truth beyond the first frame "
                             "(test split: submit to the evaluation server)")
        cover = seq.flags.get("cover")
        per[n] = got10k_metrics.sequence_metrics(results[n], seq.gt, cover=cover, resolution=seq.image_size,
                                                 times=_run_times(times.get(n)))
    overall = got10k_metrics.combine(per.values())
    keys = ("ao", "sr_50", "sr_75")
    metrics = {k: overall[k] for k in keys}
    metrics.update({"success_curve": overall["success_curve"], "fps": overall["fps"],
                    "n_sequences": overall["n_sequences"], "n_frames": overall["n_frames"]})
    seqs = {n: dict({k: p[k] for k in keys}, n_frames=p["n_frames"], fps=p["fps"]) for n, p in per.items()}
    protocol = {"name": "got10k", "pooling": "frames of all sequences", "frames": "1: with cover > 0",
                "bounds": "image resolution", "success_thresholds": len(got10k_metrics.CURVE_THRESHOLDS)}
    return {"protocol": protocol, "metrics": metrics, "sequences": seqs, "attributes": {}}


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
