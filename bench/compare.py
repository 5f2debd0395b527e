"""Side-by-side comparison of MOT trackers on one dataset (``python -m bench compare``, wired in
:mod:`bench.cli`).

:func:`compare` runs each tracker with the MOT protocol (:func:`bench.protocols.mot.run_mot`;
sequences whose result file exists are reused, so a comparison resumes), scores it with
:func:`bench.metrics.mot.evaluate_mot`, and returns one row per tracker with ``mota idf1
hota idsw fp fn fps`` (fractions in [0, 1], counts as int, FPS = frames / tracking seconds
from the run's timing files). It writes ``<out>/<dataset>/compare.json`` (the rows plus each
tracker's full report) and ``compare.png`` (MOTA / IDF1 / HOTA bars and FPS), and
:func:`format_compare` prints the table::

    tracker          MOTA   IDF1   HOTA   IDSW      FP      FN     FPS
    sort            45.60  49.77  40.12    694    5124   55269  3021.4
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .core.errors import BenchError
from .core.io import atomic_write_text

PathLike = Union[str, Path]

COLUMNS = ("mota", "idf1", "hota", "idsw", "fp", "fn", "fps")


def _split_names(trackers: Union[str, Iterable[str]]) -> List[str]:
    names = [t.strip() for t in (trackers.split(",") if isinstance(trackers, str) else trackers)]
    names = [n for n in names if n]
    if not names:
        raise BenchError("compare: no tracker names given (e.g. --trackers sort,bytetrack)")
    if len(set(names)) != len(names):
        raise BenchError(f"compare: a tracker is named twice in {','.join(names)}")
    return names


def _fps(out: Path, dataset: str, tracker: str, names: Sequence[str]) -> Optional[float]:
    from .results.mot import read_timing, timing_path

    frames = seconds = 0.0
    for n in names:
        t = read_timing(timing_path(out, dataset, tracker, n))
        if t is None:
            continue
        frames += float(t.get("frames", 0))
        seconds += float(t.get("seconds", 0))
    return frames / seconds if seconds > 0 else None


def compare(dataset_name: str, trackers: Union[str, Iterable[str]], root: Optional[PathLike] = None,
            out: PathLike = "runs/compare", *, dataset_options: Optional[Mapping[str, object]] = None,
            sequences: Optional[Sequence[str]] = None, overrides: Optional[Mapping[str, Sequence[str]]] = None,
            config_files: Optional[Mapping[str, PathLike]] = None, weights: Optional[Mapping[str, str]] = None,
            seed: int = 0, overwrite: bool = False, preprocess: bool = True, progress: bool = True,
            plot: bool = True) -> Dict[str, object]:
    """Run (or reuse) and evaluate every tracker of ``trackers`` on ``dataset_name``.

    ``overrides`` / ``config_files`` / ``weights`` are per tracker name (``--set`` style
    strings, a YAML file, a weight file). Returns ``{"dataset", "rows": [...], "reports":
    {tracker: evaluate_mot report}, "json": path, "plot": path or None}``.
    """
    from .core.build import build_tracker
    from .datasets.base import open_dataset
    from .metrics.mot import evaluate_mot
    from .protocols.mot import run_mot
    from .results.mot import is_finished, tracker_dir

    names = _split_names(trackers)
    ds = open_dataset(dataset_name, root, **dict(dataset_options or {}))
    if ds.protocol != "mot":
        raise BenchError(f"compare: dataset '{dataset_name}' is not a multi-object dataset "
                         f"(protocol '{ds.protocol}'); use python -m bench run for SOT datasets")
    if sequences:
        ds = ds.select(list(sequences))
    out = Path(out)
    overrides, config_files, weights = dict(overrides or {}), dict(config_files or {}), dict(weights or {})
    rows: List[Dict[str, object]] = []
    reports: Dict[str, object] = {}
    from .core.registry import TRACKERS

    for name in names:
        if TRACKERS.get(name).kind != "mot":
            raise BenchError(f"compare: '{name}' is a single-object tracker; use sot-{name} for its "
                             "SOT-per-target MOT form")
    for name in names:
        done = all(is_finished(out, ds.name, name, s) for s in ds.names())
        if overwrite or not done:
            tracker = build_tracker(name, config_file=config_files.get(name), overrides=overrides.get(name, ()),
                                    weights=weights.get(name), seed=seed)
            summary = run_mot(tracker, ds, out, name, overwrite=overwrite, progress=progress)
            failed = getattr(summary, "failed", None)
            if failed:
                raise BenchError(f"compare: {name} failed on " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
        report = evaluate_mot(ds, tracker_dir(out, ds.name, name), tracker=name, preprocess=preprocess)
        m = report["metrics"]
        row: Dict[str, object] = {"tracker": name}
        for k in COLUMNS[:-1]:
            row[k] = m[k]
        row["fps"] = _fps(out, ds.name, name, ds.names())
        rows.append(row)
        reports[name] = report
    result: Dict[str, object] = {
        "dataset": ds.name, "sequences": ds.names(), "root": str(ds.root) if ds.root else None,
        "dataset_options": {k: v for k, v in dict(dataset_options or {}).items()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows, "reports": reports,
    }
    dest = out / ds.name
    dest.mkdir(parents=True, exist_ok=True)
    json_path = dest / "compare.json"
    atomic_write_text(json_path, json.dumps(result, indent=1, default=str) + "\n")
    result["json"] = str(json_path)
    result["plot"] = str(plot_compare(rows, dest / "compare.png", title=ds.name)) if plot else None
    return result


def format_compare(rows: Sequence[Mapping[str, object]]) -> str:
    """The comparison table: MOTA / IDF1 / HOTA in percent, IDSW / FP / FN counts, FPS."""
    width = max([len(str(r["tracker"])) for r in rows] + [7])
    head = f"{'tracker':<{width}} {'MOTA':>6} {'IDF1':>6} {'HOTA':>6} {'IDSW':>6} {'FP':>7} {'FN':>7} {'FPS':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        fps = r.get("fps")
        lines.append(f"{str(r['tracker']):<{width}} {100 * r['mota']:6.2f} {100 * r['idf1']:6.2f} "
                     f"{100 * r['hota']:6.2f} {r['idsw']:6d} {r['fp']:7d} {r['fn']:7d} "
                     + (f"{fps:8.1f}" if fps else f"{'-':>8}"))
    return "\n".join(lines)


def plot_compare(rows: Sequence[Mapping[str, object]], path: PathLike, title: str = "") -> Path:
    """Grouped bars of MOTA / IDF1 / HOTA (percent) per tracker, and FPS (log scale) beside them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [str(r["tracker"]) for r in rows]
    x = np.arange(len(names))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(max(6.0, 1.6 * len(names) + 4), 3.8),
                                  gridspec_kw={"width_ratios": [3, 1.4]})
    for k, key in enumerate(("mota", "idf1", "hota")):
        vals = [100 * float(r[key]) for r in rows]
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=key.upper())
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("percent")
    ax.axhline(0, color="k", lw=0.6)
    lo = min(0.0, min(100 * float(r[k]) for r in rows for k in ("mota", "idf1", "hota")))
    ax.set_ylim(lo * 1.1, 115)
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    ax.set_title(f"{title}: accuracy" if title else "accuracy")
    fps = [float(r["fps"]) if r.get("fps") else 0.0 for r in rows]
    ax2.bar(x, fps, 0.6, color="0.4")
    ax2.set_xticks(x)
    ax2.set_xticklabels(names, rotation=20, ha="right")
    pos = [f for f in fps if f > 0]
    if pos and max(pos) / min(pos) > 20:
        ax2.set_yscale("log")
    ax2.set_ylabel("frames / s (tracking only)")
    ax2.set_title("speed")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

