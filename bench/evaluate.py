"""Evaluate result files (or in-memory results) on a dataset with its protocol -> JSON report.

Public API (stable; ``bench eval / run / report / reproduce / compare`` are built on it):

``evaluate(dataset, results_dir, tracker=None, *, root=None, sequences=None, **options) -> dict``
    Read one tracker's result files and evaluate them. ``dataset`` is a
    :class:`bench.datasets.Dataset` or a registered name (opened at ``root``);
    ``results_dir`` the tracker's folder in the protocol's layout (one-pass
    ``<seq>.txt``; VOT ``baseline/<seq>/<seq>_001.txt``; GOT-10k ``<seq>/<seq>_001.txt``;
    MOT the folder of ``<seq>.txt`` files, its parent holding ``data/``, or a run output
    root). ``tracker`` defaults to the folder name. ``options`` are protocol settings
    (``convention="pysot"``, ``invalid_gt="exclude"``, ``preprocess=False``,
    ``missing="skip"``...), checked against the protocol's ``Settings``.

``score(dataset, results, tracker="tracker", *, times=None, **options) -> dict``
    The same on in-memory results: ``results[seq]`` is a list with one run per
    repetition in the protocol's form (one-pass / GOT-10k ``(N, 4)`` boxes; VOT a
    :class:`~bench.core.regions.Regions`, per-frame rows, ``(codes, boxes)`` or the VOT
    run loop's result; MOT rows ``frame, id, x, y, w, h, conf``); a bare array or run is
    taken as one repetition. ``times[seq]`` likewise (per-frame seconds).

The report (JSON-ready: floats, lists, None for NaN)::

    {"dataset": str, "tracker": str, "protocol": {"name": ..., <settings>},
     "metrics": {...}, "sequences": {seq: {...}}, "attributes": {...}, "warnings": [str, ...]}
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from .core.errors import BenchError

PathLike = Union[str, Path]


def _dataset(dataset, root, sequences, options: Mapping[str, Any]):
    if isinstance(dataset, str):
        from .datasets import open_dataset

        dataset = open_dataset(dataset, root)
    if sequences:
        dataset = dataset.select(list(sequences))
    return dataset.with_settings(**options)


def evaluate(dataset, results_dir: PathLike, tracker: Optional[str] = None, *, root: Optional[PathLike] = None,
             sequences: Optional[Sequence[str]] = None, **options) -> Dict[str, Any]:
    """Evaluate the result files in ``results_dir`` on ``dataset`` (see the module docstring)."""
    ds = _dataset(dataset, root, sequences, options)
    return ds.protocol_object().evaluate(ds, Path(results_dir), tracker)


def _as_runs(x) -> List[Any]:
    if isinstance(x, list):
        return x
    if isinstance(x, tuple) and not (len(x) == 2 and np.ndim(x[0]) == 1):
        return list(x)
    return [x]


def score(dataset, results: Mapping[str, Any], tracker: str = "tracker", *,
          times: Optional[Mapping[str, Any]] = None, root: Optional[PathLike] = None,
          sequences: Optional[Sequence[str]] = None, **options) -> Dict[str, Any]:
    """Evaluate in-memory results (see the module docstring)."""
    ds = _dataset(dataset, root, sequences, options)
    protocol = ds.protocol_object()
    missing = [n for n in ds.names() if n not in results]
    warnings: List[str] = []
    if missing:
        msg = f"no results for {len(missing)} of {len(ds)} sequences: " + ", ".join(missing[:10])
        if protocol.settings.missing != "skip":
            raise BenchError(msg)
        warnings.append(msg + "; skipped")
    runs = {n: _as_runs(results[n]) for n in ds.names() if n in results}
    tm = {n: _as_runs(v) for n, v in (times or {}).items()}
    return protocol.score(ds, runs, tm, tracker, warnings)


def print_warnings(report: Dict[str, Any], limit: int = 10) -> None:
    """The evaluator's warnings (documented reading rules that applied) on stderr."""
    warns = list(report.get("warnings") or [])
    for w in warns[:limit]:
        print(f"warning: {report.get('tracker', '')}: {w}", file=sys.stderr)
    if len(warns) > limit:
        print(f"warning: ... {len(warns) - limit} more in the JSON report", file=sys.stderr)
