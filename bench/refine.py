"""Offline refinement of MOT results (``python -m bench refine``): read, refine, write, evaluate.

:func:`refine` takes any MOT result folder in the toolkit's layout (or any folder of
MOTChallenge ``<seq>.txt`` files), runs a registered refiner (:data:`bench.core.registry.
REFINERS`, e.g. ``remots``) sequence by sequence and writes::

    <out>/data/<seq>.txt           refined results (MOTChallenge rows; the evaluator reads them)
    <out>/refine/<seq>.json        the refiner's report (thresholds, histograms, timings)
    <out>/refine/<seq>_short.png   ReMOTS Fig. 4: intra-frame similarities, normal fit, θ_short
    <out>/refine/<seq>_merge.png   ReMOTS Fig. 5: intra-frame vs within-tracklet, θ_merge
    <out>/refine/summary.json      before / after metrics (with ground truth) and the run's settings

``<out>`` defaults to ``<input tracker folder>+<refiner>`` beside the input (so ``bench
compare --trackers sort,sort+remots`` finds both). Each sequence's files are written
atomically, its result file last: a finished sequence is skipped when the command runs
again (``--overwrite`` redoes it), and a run with other settings into the same folder is
refused, as for ``bench run``.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .core.errors import BenchError
from .core.io import atomic_write_bytes, atomic_write_text

PathLike = Union[str, Path]

#: before / after columns: (metric key, header, percent?)
COLUMNS = (("hota", "HOTA", True), ("idf1", "IDF1", True), ("mota", "MOTA", True), ("idsw", "IDSW", False),
           ("frag", "Frag", False), ("fp", "FP", False), ("fn", "FN", False), ("pred_ids", "IDs", False))


def build_refiner(name: str, *, config_file: Optional[PathLike] = None, overrides: Iterable[str] = (), seed: int = 0):
    """Instantiate refiner ``name`` from its YAML (``configs/refine/<name>.yaml``), a user file and ``--set``s."""
    from .core.build import config_files
    from .core.config import load_config
    from .core.registry import REFINERS

    entry = REFINERS.get(name)
    cfg = load_config(entry.obj.Config, config_files(entry, config_file), overrides)
    return entry.obj(cfg, seed=seed)


def is_refined_name(name: str) -> bool:
    """``<tracker>+<refiner>``: the folder name refined results get by default."""
    return "+" in name and all(name.split("+"))


def _plot_histograms(info: Dict[str, Any], seq: str, dest: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    hs = info.get("histograms") or {}
    short, merge = hs.get("short"), hs.get("merge")
    if short:
        h = short["intra_frame"]
        edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"], dtype=float)
        fit = info["theta_short"]["normal_fit"]
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        width = edges[1] - edges[0]
        ax.bar(edges[:-1], counts, width=width, align="edge", color="#7a9cc6", label="intra-frame pairs")
        if fit["sigma"] > 0:
            x = np.linspace(-1, 1, 400)
            pdf = np.exp(-0.5 * ((x - fit["mu"]) / fit["sigma"]) ** 2) / (fit["sigma"] * np.sqrt(2 * np.pi))
            ax.plot(x, pdf * counts.sum() * width, color="k", lw=1, label=f"N({fit['mu']:.2f}, {fit['sigma']:.2f}²)")
        th = info["theta_short"]["value"]
        ax.axvline(th, color="#c0392b", ls="--", label=f"θ_short = {th:.3f}")
        ax.set_xlabel("cosine similarity")
        ax.set_ylabel("pairs")
        ax.set_title(f"{seq}: short-term threshold (ReMOTS Fig. 4)", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = dest / f"{seq}_short.png"
        written.append(_save(fig, p))
        plt.close(fig)
    if merge:
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        for key, colour, label in (("intra_frame", "#7a9cc6", "intra-frame"), ("within_tracklet", "#e59866", "within tracklet")):
            h = merge[key]
            edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"], dtype=float)
            dens = counts / max(counts.sum(), 1)
            ax.step(edges[:-1], dens, where="post", color=colour, label=label)
        th = info["theta_merge"]["value"]
        ax.axvline(th, color="#c0392b", ls="--", label=f"θ_merge = {th:.3f}")
        ax.set_xlabel("cosine similarity")
        ax.set_ylabel("share of pairs")
        ax.set_title(f"{seq}: merge threshold (ReMOTS Fig. 5)", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, dest / f"{seq}_merge.png"))
        plt.close(fig)
    return written


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return path


def refine_folder(refiner, ds, input_dir: Path, out_dir: Path, *, overwrite: bool = False, plot: bool = True,
                  progress: bool = True, extra_dirs: Sequence[Path] = ()) -> Dict[str, Any]:
    """Refine every sequence of ``ds`` found in ``input_dir`` into ``out_dir`` (resumable)."""
    from .results.mot import read_mot_results, result_file, write_mot_results
    from .run import progress_bar

    done: List[str] = []
    skipped: List[str] = []
    missing: List[str] = []
    failed: Dict[str, str] = {}
    tracebacks: Dict[str, str] = {}
    names = ds.names()
    bar = progress_bar(len(names), f"refine {out_dir.name}", progress)
    for name in names:
        src = input_dir / f"{name}.txt"
        dst = result_file(out_dir, name)
        try:
            if not src.is_file():
                missing.append(name)
                continue
            if dst.is_file() and not overwrite:
                skipped.append(name)
                continue
            seq = ds[name]
            rows = read_mot_results(src, seq.length)
            extra = [read_mot_results(Path(d) / f"{name}.txt", seq.length) for d in extra_dirs
                     if (Path(d) / f"{name}.txt").is_file()]
            t0 = time.perf_counter()
            refined, info = refiner.refine(rows, seq, extra)
            info["seconds"] = time.perf_counter() - t0
            info["input"] = str(src)
            rdir = out_dir / "refine"
            if plot:
                info["plots"] = [str(p) for p in _plot_histograms(info, name, rdir)]
            atomic_write_text(rdir / f"{name}.json", json.dumps(info, indent=1, default=float) + "\n")
            write_mot_results(dst, refined)  # last: the finished-sequence marker
            done.append(name)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one bad sequence must not lose the others
            failed[name] = f"{type(exc).__name__}: {exc}"
            tracebacks[name] = traceback.format_exc()
        finally:
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    if failed:
        log = "".join(f"== {n}\n{tracebacks[n]}\n" for n in failed)
        atomic_write_text(out_dir / "refine" / "errors.log", log)
    return {"done": done, "skipped": skipped, "missing": missing, "failed": failed}


def refine(dataset: str, results: PathLike, *, refiner: str = "remots", root: Optional[PathLike] = None,
           out: Optional[PathLike] = None, name: Optional[str] = None, config_file: Optional[PathLike] = None,
           overrides: Iterable[str] = (), sequences: Optional[Sequence[str]] = None,
           dataset_options: Optional[Mapping[str, Any]] = None, extra_results: Sequence[PathLike] = (),
           seed: int = 0, overwrite: bool = False, plot: bool = True, progress: bool = True) -> Dict[str, Any]:
    """``bench refine`` (module docstring). Returns the summary (also written as ``summary.json``)."""
    from .datasets import open_dataset
    from .evaluate import evaluate
    from .results.mot import find_results_folder, guess_tracker_name
    from .run import check_run_info, remove_stale_temporaries, tracker_params

    ds = open_dataset(dataset, root, **dict(dataset_options or {}))
    if sequences:
        ds = ds.select(list(sequences))
    if ds.protocol_object().tracker_kind != "mot":
        raise BenchError(f"refine: {ds.name} is not a MOT dataset (refinement rewrites MOT identities)")
    input_dir = find_results_folder(results, ds.names())
    if input_dir is None:
        raise BenchError(f"refine: no result file of {ds.name}'s sequences ({', '.join(ds.names()[:5])}"
                         f"{', ...' if len(ds) > 5 else ''}) under {results}")
    tracker = guess_tracker_name(input_dir)
    tracker_dir = input_dir.parent if input_dir.name == "data" else input_dir
    out_name = name or f"{tracker}+{refiner}"
    out_dir = Path(out) if out is not None else tracker_dir.parent / out_name
    if out_dir.resolve() == tracker_dir.resolve():
        raise BenchError(f"refine: the output folder {out_dir} is the input's; choose another --out or --name")
    obj = build_refiner(refiner, config_file=config_file, overrides=overrides, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    check_run_info(out_dir, {"tracker": refiner, "tracker_name": out_name, "dataset": ds.name,
                             "params": tracker_params(obj), "weights": str(input_dir), "seed": seed,
                             "dataset_options": dict(dataset_options or {})}, overwrite)
    t0 = time.perf_counter()
    status = refine_folder(obj, ds, input_dir, out_dir, overwrite=overwrite, plot=plot, progress=progress,
                           extra_dirs=[Path(d) for d in extra_results])
    summary: Dict[str, Any] = {"dataset": ds.name, "refiner": refiner, "input": str(input_dir), "output": str(out_dir),
                               "tracker": tracker, "name": out_name, "seed": seed, "wall_seconds": time.perf_counter() - t0,
                               **status, "before": None, "after": None, "sequences": {}}
    evaluated = [n for n in ds.names() if (out_dir / "data" / f"{n}.txt").is_file()]
    if evaluated and ds.has_ground_truth():
        sub = ds.select(evaluated)
        before = evaluate(sub, input_dir, tracker)
        after = evaluate(sub, out_dir, out_name)
        summary["before"], summary["after"] = before["metrics"], after["metrics"]
        summary["sequences"] = {n: {"before": before["sequences"].get(n), "after": after["sequences"].get(n)}
                                for n in evaluated}
        summary["evaluated"] = evaluated
    for n in evaluated:
        p = out_dir / "refine" / f"{n}.json"
        if p.is_file():
            info = json.loads(p.read_text())
            summary["sequences"].setdefault(n, {})["refine"] = {
                k: info.get(k) for k in ("boxes", "input_ids", "tracklets", "output_ids", "seconds", "timings")}
            summary["sequences"][n]["theta_short"] = (info.get("theta_short") or {}).get("value")
            summary["sequences"][n]["theta_merge"] = (info.get("theta_merge") or {}).get("value")
    atomic_write_text(out_dir / "refine" / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    summary["table"] = before_after_table(summary)
    return summary


def before_after_table(summary: Mapping[str, Any]) -> str:
    """The before / after table (percent for HOTA, IDF1, MOTA, as every printed table)."""
    from .report.table import format_table

    if not summary.get("before"):
        return f"{summary.get('name')}: {len(summary.get('done', []))} sequences refined (no ground truth to evaluate)"
    header = ["Results"] + [h for _, h, _ in COLUMNS]
    rows = []
    for label, key in ((summary["tracker"], "before"), (summary["name"], "after")):
        m = summary[key]
        rows.append([label] + [_cell(m.get(k), pct) for k, _, pct in COLUMNS])
    b, a = summary["before"], summary["after"]
    rows.append(["change"] + [_delta(b.get(k), a.get(k), pct) for k, _, pct in COLUMNS])
    return format_table(header, rows)


def _cell(v, pct: bool) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.2f}" if pct else f"{int(v)}"


def _delta(b, a, pct: bool) -> str:
    if a is None or b is None:
        return "-"
    d = (a - b) * (100 if pct else 1)
    return f"{d:+.2f}" if pct else f"{int(d):+d}"
