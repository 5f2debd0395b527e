"""The ``bench`` command line (also ``python -m bench``).

Commands: ``list``, ``run``, ``eval``, ``report``, ``reproduce``, ``export``, ``export-results``, ``compare``,
``show``, ``refine``.
Exit codes: 0 success; 1 a :class:`~bench.core.errors.BenchError` (message on stderr,
no traceback), a sequence that failed, or a published value not reproduced; 2 an unknown
tracker / dataset name (the message lists the known names and the closest match) or a
command-line usage error; 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .core.errors import BenchError


class UsageError(BenchError):
    """A command-line usage error (exit code 2, like argparse's own)."""

    exit_code = 2


# ----------------------------------------------------------------------------------
# argument helpers (parsing only; the work is done by the library)
# ----------------------------------------------------------------------------------
def _csv(text: Optional[str]) -> Optional[List[str]]:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _options(pairs: Optional[Sequence[str]], flag: str = "--option") -> Dict[str, Any]:
    """``key=value`` pairs (values parsed as YAML) -> dict; a pair without ``=`` is a usage error."""
    import yaml

    out: Dict[str, Any] = {}
    for p in pairs or ():
        if "=" not in p:
            raise UsageError(f"{flag} '{p}': expected key=value")
        k, _, v = p.partition("=")
        try:
            out[k.strip()] = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k.strip()] = v
    return out


def _per_tracker(pairs: Optional[Sequence[str]], what: str) -> Dict[str, List[str]]:
    """``NAME:VALUE`` strings -> ``{NAME: [VALUE, ...]}`` (``--set sort:max_age=5``)."""
    out: Dict[str, List[str]] = {}
    for p in pairs or ():
        name, sep, value = p.partition(":")
        if not sep or not name or not value:
            raise UsageError(f"{what} '{p}': expected TRACKER:VALUE (e.g. sort:max_age=5)")
        out.setdefault(name.strip(), []).append(value)
    return out


def _check_overrides(pairs: Optional[Sequence[str]], flag: str = "--set") -> List[str]:
    for p in pairs or ():
        if "=" not in p:
            raise UsageError(f"{flag} '{p}': expected key=value")
    return list(pairs or ())


def _dataset_options(args) -> Dict[str, Any]:
    options = _options(getattr(args, "dataset_option", None), "--dataset-option")
    if getattr(args, "detections", None):
        options["detections"] = args.detections
    return options


def _open(args, options: Optional[Dict[str, Any]] = None):
    from .datasets import open_dataset
    from .datasets.base import dataset_entry

    dataset_entry(args.dataset)  # unknown name -> exit 2 before any file access
    ds = open_dataset(args.dataset, args.root, **(options if options is not None else _dataset_options(args)))
    return ds.select(_csv(getattr(args, "sequences", None)))


def _print(text: str = "") -> None:
    print(text, flush=True)


def _indent(text: str, n: int = 2) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


def _rel_config(path: Optional[str]) -> str:
    if not path:
        return "-"
    return path if Path(path).is_absolute() else f"configs/{path}"


# ----------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------
def cmd_list(args) -> int:
    from .core.registry import DATASETS, METRICS, PROTOCOLS, TRACKERS
    from .report.table import format_table

    what = args.what
    if what in (None, "trackers"):
        rows = [[e.name, e.kind.upper(), _rel_config(e.config), e.description] for e in TRACKERS.entries()]
        _print(f"Trackers ({len(rows)}):")
        _print(_indent(format_table(["name", "kind", "config", "description"], rows, "llll")))
        if TRACKERS.plugin_errors:
            _print("\nTracker plugins that failed to load:")
            for n, e in sorted(TRACKERS.plugin_errors.items()):
                _print(f"  {n}: {e}")
        _print()
    if what in (None, "datasets"):
        rows = [[e.name, e.kind, _rel_config(e.config), e.description] for e in DATASETS.entries()]
        _print(f"Datasets ({len(rows)}):")
        _print(_indent(format_table(["name", "protocol", "config", "description"], rows, "llll")))
        _print()
    if what in (None, "protocols"):
        rows = [[e.name, e.kind.upper(), e.description] for e in PROTOCOLS.entries()]
        _print(f"Protocols ({len(rows)}):")
        _print(_indent(format_table(["name", "trackers", "description"], rows, "lll")))
        _print()
    if what in (None, "metrics"):
        import bench.metrics  # noqa: F401  (the metric modules register their names on import)

        rows = [[e.name, e.kind, e.description] for e in METRICS.entries()]
        _print(f"Metrics ({len(rows)}):")
        _print(_indent(format_table(["name", "kind", "description"], rows, "lll")))
    return 0


def cmd_run(args) -> int:
    from .core.build import build_tracker
    from .core.registry import TRACKERS
    from .datasets.base import dataset_entry
    from .protocols.base import protocol_class
    from .run import check_kinds, run_and_report

    kind = TRACKERS.kind_of(args.tracker)  # unknown name -> exit 2
    check_kinds(args.tracker, kind, args.dataset, protocol_class(dataset_entry(args.dataset).kind))
    options = _dataset_options(args)
    dataset = _open(args, options)
    overrides = _check_overrides(args.set)
    tracker = build_tracker(args.tracker, config_file=args.config, overrides=overrides, weights=args.weights,
                            seed=args.seed)
    outcome = run_and_report(tracker, dataset, out=Path(args.out), tracker_name=args.name or args.tracker,
                             overwrite=args.overwrite, progress=not args.quiet, seed=args.seed,
                             run_info={"tracker": args.tracker, "config": args.config, "set": overrides,
                                       "weights": args.weights, "seed": args.seed, "dataset_options": options})
    _print(outcome.text)
    return outcome.exit_code


def cmd_eval(args) -> int:
    from .evaluate import evaluate, print_warnings
    from .report import sequence_table, summary_table, write_json

    dataset = _open(args)
    report = evaluate(dataset, Path(args.results), args.tracker, **_options(args.option))
    print_warnings(report)
    if args.per_sequence:
        _print(sequence_table(report))
        _print()
    _print(summary_table([report]))
    if args.json:
        write_json(args.json, report)
        _print(f"\nJSON report: {args.json}")
    return 0


def cmd_report(args) -> int:
    from .evaluate import evaluate, print_warnings
    from .report import summary_table, write_json, write_outputs
    from .report.folders import tracker_folders

    dataset = _open(args).with_settings(**_options(args.option))
    folders = tracker_folders(Path(args.results), _csv(args.trackers))
    reports = [evaluate(dataset, f, f.name) for f in folders]
    for r in reports:
        print_warnings(r)
    written = write_outputs(reports, args.out, dataset, json_name="reports.json")
    _print(summary_table(reports))
    if args.paired is not None:
        from .core.io import atomic_write_text
        from .report.paired import paired_rows, paired_table

        rows = paired_rows(reports, args.paired or None)
        text = paired_table(rows)
        _print("\n" + text)
        out = Path(args.out)
        write_json(out / "paired.json", rows)
        atomic_write_text(out / "paired.txt", text + "\n")
        written += [out / "paired.json", out / "paired.txt"]
    _print("\nWritten: " + ", ".join(str(p) for p in written))
    return 0


def cmd_reproduce(args) -> int:
    from .datasets import open_dataset
    from .evaluate import evaluate
    from .published import compare, failed, format_rows, load_published, nothing_checked, published_path

    table = load_published(published_path(args.published))
    dataset = open_dataset(table.dataset, args.root).select(_csv(args.sequences) or table.sequences)
    extra = _options(args.option)

    def run_eval(name: str, folder: Path, options):
        return evaluate(dataset, folder, name, **dict(options, **extra))

    rows = compare(table, args.results, run_eval, _csv(args.trackers))
    _print(format_rows(table, rows))
    return 1 if failed(rows) or nothing_checked(rows) else 0


def cmd_export(args) -> int:
    from .datasets.synthetic import export

    dataset = _open(args, {})
    written = export(dataset, args.format, Path(args.out))
    n = len(written) if hasattr(written, "__len__") else len(dataset)
    _print(f"exported {len(dataset)} sequences of {dataset.name} in the {args.format} layout to {args.out}"
           + (f" ({n} files)" if n != len(dataset) else ""))
    return 0


def cmd_show(args) -> int:
    """Result files drawn over the frames (:func:`bench.show.show`)."""
    from .show import show

    dataset = _open(args)
    results = _csv(args.results) or []
    out = args.out or f"runs/show/{dataset.name}-{args.sequence}.{args.format}"
    path = show(dataset, args.sequence, results, out, frames=args.frames, step=args.step, trail=args.trail,
                scale=args.scale, progress=not args.quiet, names=_csv(args.names))
    _print(f"Written: {path}")
    return 0


def cmd_export_results(args) -> int:
    """Pack one tracker's one-pass results for the server (:func:`bench.datasets.trackingnet.pack_results`)."""
    from .datasets.trackingnet import pack_results

    packed = pack_results(_open(args), Path(args.results), Path(args.out), allow_missing=args.allow_missing)
    for w in packed.warnings:
        print(f"warning: {w}", file=sys.stderr)
    _print(f"packed {len(packed.sequences)} sequences of {args.dataset} into {packed.path}")
    return 0


def cmd_compare(args) -> int:
    """Trackers side by side (:func:`bench.compare.compare`): run or reuse, evaluate, table + JSON + plots."""
    from .compare import compare, split_names
    from .core.registry import TRACKERS
    from .datasets.base import dataset_entry

    from .refine import is_refined_name

    names = split_names(args.trackers or "")
    for n in names:
        if not is_refined_name(n):
            TRACKERS.kind_of(n)  # unknown name -> exit 2
    dataset_entry(args.dataset)
    eval_options = _options(args.option)
    if args.no_preprocess:
        eval_options["preprocess"] = False
    configs = {k: v[-1] for k, v in _per_tracker(args.config, "--config").items()}
    weights = {k: v[-1] for k, v in _per_tracker(args.weights, "--weights").items()}
    result = compare(args.dataset, names, args.root, args.out, dataset_options=_dataset_options(args),
                     sequences=_csv(args.sequences), overrides=_per_tracker(args.set, "--set"),
                     config_files=configs, weights=weights, seed=args.seed, overwrite=args.overwrite,
                     progress=not args.quiet, eval_options=eval_options)
    _print(result["table"])
    _print("\nWritten: " + ", ".join(result["written"]))
    return 0


def cmd_refine(args) -> int:
    """Offline refinement of MOT results (:func:`bench.refine.refine`), then before / after."""
    from .core.registry import REFINERS
    from .datasets.base import dataset_entry
    from .refine import refine

    REFINERS.get(args.refiner)  # unknown name -> exit 2
    dataset_entry(args.dataset)
    summary = refine(args.dataset, args.results, refiner=args.refiner, root=args.root, out=args.out, name=args.name,
                     config_file=args.config, overrides=_check_overrides(args.set), sequences=_csv(args.sequences),
                     dataset_options=_dataset_options(args), extra_results=_csv(args.fuse) or (), seed=args.seed,
                     overwrite=args.overwrite, plot=not args.no_plot, progress=not args.quiet)
    _print(summary["table"])
    if summary["skipped"]:
        _print(f"\nAlready refined (kept): {', '.join(summary['skipped'])}")
    if summary["missing"]:
        _print(f"No input results for: {', '.join(summary['missing'])}")
    _print(f"\nRefined results: {summary['output']}/data; reports, histograms: {summary['output']}/refine")
    if summary["failed"]:
        for n, msg in summary["failed"].items():
            print(f"FAILED {n}: {msg}", file=sys.stderr)
        print(f"tracebacks in {summary['output']}/refine/errors.log", file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------------
# parser
# ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench", description="Run and evaluate SOT / MOT trackers on standard benchmarks.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("list", help="trackers (SOT/MOT, config file), datasets (protocol), protocols and metrics")
    s.add_argument("what", nargs="?", choices=["trackers", "datasets", "protocols", "metrics"],
                   help="list only these")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="run a tracker on a dataset, then evaluate (JSON, table, plots)")
    s.add_argument("--tracker", required=True, help="tracker name (see 'bench list')")
    s.add_argument("--dataset", required=True, help="dataset name (see 'bench list')")
    s.add_argument("--root", help="dataset folder (synthetic: none needed)")
    s.add_argument("--out", default="runs", help="output folder (default: runs)")
    s.add_argument("--config", help="YAML file overriding the tracker's configs/trackers/<name>.yaml")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one hyperparameter (repeatable)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--weights", help="weight file (default: the tracker's shipped weights)")
    s.add_argument("--overwrite", action="store_true", help="rerun sequences that already have results")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--detections", help="MOT17: which public detections (DPM, FRCNN, SDP)")
    s.add_argument("--name", help="name of the results folder (default: the tracker name)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE",
                   help="dataset option, e.g. split=train or length=60 for synthetic (repeatable)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("eval", help="evaluate existing result files of one tracker")
    s.add_argument("--dataset", required=True)
    s.add_argument("--root", help="dataset folder (annotations suffice)")
    s.add_argument("--results", required=True, help="folder of one tracker's result files")
    s.add_argument("--json", help="write the JSON report here")
    s.add_argument("--tracker", help="tracker name in the report (default: the folder name)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--per-sequence", action="store_true", help="also print the per-sequence table")
    s.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="evaluation option, e.g. convention=pysot (repeatable)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("report", help="several trackers side by side: table, JSON, plots")
    s.add_argument("--dataset", required=True)
    s.add_argument("--root", help="dataset folder (annotations suffice)")
    s.add_argument("--results", required=True, help="folder holding one results folder per tracker")
    s.add_argument("--trackers", help="comma-separated tracker folders (default: all)")
    s.add_argument("--out", default="runs/report", help="output folder (default: runs/report)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="evaluation option (repeatable)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.add_argument("--paired", nargs="?", const="", metavar="BASELINE",
                   help="also compare every tracker with BASELINE (default: the first) sequence by sequence: "
                        "mean difference of success AUC / AO, bootstrap 95%% interval, wins/ties/losses")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("reproduce", help="published vs measured; fails when a difference exceeds the rounding")
    s.add_argument("--published", required=True,
                   help="published table: a YAML file or a name in configs/published (otb100, vot2016, vot2018)")
    s.add_argument("--root", help="dataset folder (annotations suffice)")
    s.add_argument("--results", required=True, help="folder holding one results folder per tracker")
    s.add_argument("--trackers", help="comma-separated entries (tracker or results names; default: all)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="evaluation option (repeatable)")
    s.set_defaults(func=cmd_reproduce)

    s = sub.add_parser("export", help="write a generated dataset to disk (synthetic: OTB / VOT; synthetic-mot: MOT)")
    s.add_argument("--dataset", default="synthetic")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.add_argument("--format", required=True, choices=["otb", "vot", "mot"],
                   help="layout on disk (otb / vot for synthetic, mot for synthetic-mot)")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("show", help="draw result files over the frames (MP4, GIF or a PNG contact sheet)")
    s.add_argument("--dataset", required=True)
    s.add_argument("--root", help="dataset folder (synthetic: none needed)")
    s.add_argument("--sequence", required=True, help="the sequence to show")
    s.add_argument("--results", required=True,
                   help="tracker result folder(s), comma-separated (SOT: several trackers; MOT: one)")
    s.add_argument("--names", help="legend names, comma-separated (default: the folder names)")
    s.add_argument("--out", help="output file: .mp4, .gif or .png (default: runs/show/<dataset>-<seq>.<format>)")
    s.add_argument("--format", default="mp4", choices=["mp4", "gif", "png"], help="format when --out is not given")
    s.add_argument("--frames", help="FIRST:LAST, 1-based inclusive (default: all)")
    s.add_argument("--step", type=int, default=1, help="show every STEP-th frame")
    s.add_argument("--trail", type=int, default=20, help="MOT: frames of trail behind each identity")
    s.add_argument("--scale", type=float, default=1.0, help="resize the frames by this factor")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.add_argument("--detections", help="MOT17: which public detections (DPM, FRCNN, SDP)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("export-results", help="pack a tracker's one-pass results for an evaluation server "
                                              "(TrackingNet: a zip of <seq>.txt files)")
    s.add_argument("--dataset", default="trackingnet", help="dataset (default: trackingnet)")
    s.add_argument("--root", help="dataset folder (the frames give the sequence lengths)")
    s.add_argument("--results", required=True, help="folder of one tracker's result files (<seq>.txt)")
    s.add_argument("--out", required=True, help="zip file to write")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--allow-missing", action="store_true", help="pack the sequences that have results, leave out "
                                                                "the others (default: refuse)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.set_defaults(func=cmd_export_results)

    s = sub.add_parser("compare", help="trackers side by side: run (or reuse), evaluate, table, JSON, plots")
    s.add_argument("--dataset", required=True, help="dataset name (see 'bench list')")
    s.add_argument("--trackers", required=True, help="comma-separated tracker names, e.g. sort,bytetrack")
    s.add_argument("--root", help="dataset folder (synthetic-mot: none needed)")
    s.add_argument("--out", default="runs/compare", help="output folder (default: runs/compare)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--set", action="append", metavar="TRACKER:KEY=VALUE", help="override one hyperparameter")
    s.add_argument("--config", action="append", metavar="TRACKER:FILE", help="YAML overriding a tracker's config")
    s.add_argument("--weights", action="append", metavar="TRACKER:FILE", help="weight file of a tracker")
    s.add_argument("--detections", help="MOT17: which public detections (DPM, FRCNN, SDP)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--overwrite", action="store_true", help="rerun trackers whose results exist")
    s.add_argument("--no-preprocess", action="store_true", help="MOT: evaluate without the MOTChallenge preprocessing")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="evaluation option (repeatable)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("refine", help="refine the identities of MOT results offline (ReMOTS), before / after")
    s.add_argument("--dataset", required=True, help="MOT dataset name (see 'bench list')")
    s.add_argument("--results", required=True, help="tracker folder (holding data/<seq>.txt) or a folder of <seq>.txt")
    s.add_argument("--refiner", default="remots", help="refiner name (default: remots)")
    s.add_argument("--root", help="dataset folder (synthetic-mot: none needed)")
    s.add_argument("--out", help="output tracker folder (default: <input>+<refiner> beside the input)")
    s.add_argument("--name", help="name of the output folder beside the input (default: <tracker>+<refiner>)")
    s.add_argument("--config", help="YAML overriding configs/refine/<refiner>.yaml")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one setting, e.g. flow=false, retraining=false, thresholds=fixed (repeatable)")
    s.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    s.add_argument("--fuse", help="comma-separated result / detection folders fused with the input by IoM NMS")
    s.add_argument("--detections", help="MOT17: which public detections (DPM, FRCNN, SDP)")
    s.add_argument("--dataset-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--overwrite", action="store_true", help="refine again sequences already refined")
    s.add_argument("--no-plot", action="store_true", help="no histogram PNGs")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_refine)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``bench`` / ``python -m bench``; returns the exit code."""
    warnings.filterwarnings("ignore", message=r".*plugin '.*' .*failed to load")
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
