"""The ``bench`` command line (also ``python -m bench``).

Commands: ``list``, ``run``, ``eval``, ``report``, ``reproduce``, ``export``, ``compare``.
Exit codes: 0 success; 1 a :class:`~bench.core.errors.BenchError` (message on stderr,
no traceback), a sequence that failed, or a published value not reproduced; 2 an unknown
tracker / dataset name (the message lists the known names and the closest match) or a
command-line usage error; 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .core.errors import BenchError, UnknownNameError


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------
def _csv(text: Optional[str]) -> Optional[List[str]]:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _options(pairs: Sequence[str]) -> Dict[str, Any]:
    """``key=value`` pairs (values parsed as YAML) -> dict."""
    import yaml

    out: Dict[str, Any] = {}
    for p in pairs or ():
        if "=" not in p:
            raise BenchError(f"'{p}': expected key=value")
        k, _, v = p.partition("=")
        try:
            out[k.strip()] = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k.strip()] = v
    return out


def _load_metric_modules() -> None:
    """Import every module of ``bench.metrics`` so that their metrics are registered."""
    try:
        pkg = importlib.import_module("bench.metrics")
    except ModuleNotFoundError:
        return
    for m in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        try:
            importlib.import_module(f"bench.metrics.{m.name}")
        except ImportError as exc:  # a metric module whose optional dependency is missing
            warnings.warn(f"bench.metrics.{m.name} not loaded: {exc}")


def tracker_entry(name: str):
    """The registry entry of tracker ``name``; a plugin that failed to import is named with its error."""
    from .core.registry import TRACKERS

    try:
        return TRACKERS.get(name)
    except UnknownNameError:
        err = TRACKERS.plugin_errors.get(name)
        if err:
            raise BenchError(f"tracker '{name}' is declared but failed to load: {err}") from None
        raise


def dataset_entry(name: str):
    import bench.datasets  # noqa: F401  (registers the built-in datasets)
    from .core.registry import DATASETS

    return DATASETS.get(name)


def open_dataset_cli(name: str, root: Optional[str], sequences: Optional[List[str]] = None, **options):
    from .datasets import open_dataset

    dataset_entry(name)  # unknown name -> exit 2 before any file access
    try:
        ds = open_dataset(name, root, **options)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise BenchError(f"dataset '{name}' does not take the option(s) {', '.join(sorted(options))}: {exc}") from None
    return ds.select(sequences) if sequences else ds


def _rel_config(path: Optional[str]) -> str:
    if not path:
        return "-"
    return path if Path(path).is_absolute() else f"configs/{path}"


def _print(text: str = "") -> None:
    print(text, flush=True)


def print_warnings(report: Dict[str, Any], limit: int = 10) -> None:
    """The evaluator's warnings (documented reading rules that applied) on stderr."""
    warns = list(report.get("warnings") or [])
    for w in warns[:limit]:
        print(f"warning: {report.get('tracker', '')}: {w}", file=sys.stderr)
    if len(warns) > limit:
        print(f"warning: ... {len(warns) - limit} more in the JSON report", file=sys.stderr)


def dataset_attributes(dataset) -> Dict[str, Sequence[str]]:
    """``{sequence: attributes}`` of a dataset (empty when the dataset has none)."""
    out: Dict[str, Sequence[str]] = {}
    for name in dataset.names():
        try:
            attrs = getattr(dataset[name], "attributes", ())
        except BenchError:
            continue
        if attrs:
            out[name] = tuple(attrs)
    return out


# ----------------------------------------------------------------------------------
# list
# ----------------------------------------------------------------------------------
def cmd_list(args) -> int:
    from .core.registry import DATASETS, METRICS, TRACKERS
    from .report.table import format_table
    import bench.datasets  # noqa: F401

    _load_metric_modules()
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
    if what in (None, "metrics"):
        rows = [[e.name, e.kind, e.description] for e in METRICS.entries()]
        _print(f"Metrics ({len(rows)}):")
        _print(_indent(format_table(["name", "kind", "description"], rows, "lll")))
    return 0


def _indent(text: str, n: int = 2) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


# ----------------------------------------------------------------------------------
# run
# ----------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .core.build import build_tracker
    from .protocols.runner import run_and_report

    entry = tracker_entry(args.tracker)
    ds_entry = dataset_entry(args.dataset)
    protocol = ds_entry.kind
    if protocol == "mot" and entry.kind != "mot":
        raise BenchError(f"'{args.tracker}' is a single-object tracker and '{args.dataset}' a multi-object "
                         f"dataset; run it as 'sot-{args.tracker}' (one {args.tracker} per target)")
    if protocol != "mot" and entry.kind == "mot":
        raise BenchError(f"'{args.tracker}' is a multi-object tracker; '{args.dataset}' is a "
                         f"single-object dataset (protocol {protocol})")
    options = _options(args.dataset_option)
    if args.detections:
        options["detections"] = args.detections
    dataset = open_dataset_cli(args.dataset, args.root, _csv(args.sequences), **options)
    tracker = build_tracker(args.tracker, config_file=args.config, overrides=args.set or (),
                            weights=args.weights, seed=args.seed)
    outcome = run_and_report(tracker, dataset, out=Path(args.out), tracker_name=args.name or args.tracker,
                             overwrite=args.overwrite, progress=not args.quiet, seed=args.seed,
                             run_info={"tracker": args.tracker, "config": args.config, "set": list(args.set or ()),
                                       "weights": args.weights, "seed": args.seed,
                                       "dataset_options": options},
                             attributes_of=dataset_attributes)
    _print(outcome.text)
    return outcome.exit_code


# ----------------------------------------------------------------------------------
# eval / report
# ----------------------------------------------------------------------------------
def evaluate_folder(dataset, results_dir: Path, tracker: Optional[str] = None, **options) -> Dict[str, Any]:
    """Evaluate the result files in ``results_dir`` on ``dataset`` (SOT or MOT)."""
    if not results_dir.is_dir():
        raise BenchError(f"{results_dir}: results folder not found")
    tracker = tracker or results_dir.name
    if dataset.protocol == "mot":
        from .metrics.mot import evaluate_mot

        return evaluate_mot(dataset, results_dir, tracker=tracker, **options)
    from .evaluate import evaluate_results

    return evaluate_results(dataset, results_dir, tracker=tracker, **options)


def cmd_eval(args) -> int:
    from .report import summary_table, sequence_table, write_json

    dataset = open_dataset_cli(args.dataset, args.root, _csv(args.sequences), **_options(args.dataset_option))
    report = evaluate_folder(dataset, Path(args.results), args.tracker, **_options(args.option))
    print_warnings(report)
    if args.per_sequence:
        _print(sequence_table(report))
        _print()
    _print(summary_table([report]))
    if args.json:
        write_json(args.json, report)
        _print(f"\nJSON report: {args.json}")
    return 0


def tracker_folders(results_root: Path, trackers: Optional[List[str]]) -> List[Path]:
    if not results_root.is_dir():
        raise BenchError(f"{results_root}: results folder not found")
    present = sorted(p.name for p in results_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if trackers:
        for t in trackers:
            if t not in present:
                raise UnknownNameError(f"tracker results folder in {results_root}", t, present)
        return [results_root / t for t in trackers]
    if not present:
        raise BenchError(f"{results_root}: no tracker folders (expected one folder of result files per tracker)")
    return [results_root / t for t in present]


def cmd_report(args) -> int:
    from .report import summary_table, write_json, write_outputs

    dataset = open_dataset_cli(args.dataset, args.root, _csv(args.sequences), **_options(args.dataset_option))
    folders = tracker_folders(Path(args.results), _csv(args.trackers))
    options = _options(args.option)
    reports = [evaluate_folder(dataset, f, f.name, **options) for f in folders]
    for r in reports:
        print_warnings(r)
    interval = dataset.meta.get("eao_interval")
    written = write_outputs(reports, args.out, attributes=dataset_attributes(dataset)
                            if dataset.protocol in ("ope", "got10k") else None, eao_interval=interval,
                            json_name="reports.json")
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


# ----------------------------------------------------------------------------------
# reproduce
# ----------------------------------------------------------------------------------
def published_path(text: str) -> Path:
    """A published table: a file path, or a name under ``configs/published/`` (``otb100``)."""
    from .core.registry import configs_dir

    p = Path(text)
    if p.is_file():
        return p
    cand = configs_dir() / "published" / (text if text.endswith(".yaml") else text + ".yaml")
    if cand.is_file():
        return cand
    known = sorted(q.stem for q in (configs_dir() / "published").glob("*.yaml"))
    raise UnknownNameError("published table", text, known)


def cmd_reproduce(args) -> int:
    from .published import compare, failed, format_rows, load_published

    table = load_published(published_path(args.published))
    dataset = open_dataset_cli(table.dataset, args.root, _csv(args.sequences))
    options = dict(table.eval_options)
    options.update(_options(args.option))

    def evaluate(name: str, folder: Path):
        return evaluate_folder(dataset, folder, name, **options)

    rows = compare(table, args.results, evaluate, _csv(args.trackers))
    _print(format_rows(table, rows))
    return 1 if failed(rows) else 0


# ----------------------------------------------------------------------------------
# export / compare
# ----------------------------------------------------------------------------------
def cmd_export(args) -> int:
    from .datasets.synthetic import export

    dataset = open_dataset_cli(args.dataset, args.root, _csv(args.sequences))
    written = export(dataset, args.format, Path(args.out))
    n = len(written) if hasattr(written, "__len__") else len(dataset)
    _print(f"exported {len(dataset)} sequences of {dataset.name} in the {args.format} layout to {args.out}"
           + (f" ({n} files)" if n != len(dataset) else ""))
    return 0


def _per_tracker(pairs: Optional[Sequence[str]], what: str) -> Dict[str, List[str]]:
    """``NAME:VALUE`` strings -> ``{NAME: [VALUE, ...]}`` (``--set sort:max_age=5``)."""
    out: Dict[str, List[str]] = {}
    for p in pairs or ():
        name, sep, value = p.partition(":")
        if not sep or not name or not value:
            raise BenchError(f"{what} '{p}': expected TRACKER:VALUE (e.g. sort:max_age=5)")
        out.setdefault(name.strip(), []).append(value)
    return out


def cmd_compare(args) -> int:
    """MOT trackers side by side (:func:`bench.compare.compare`): run or reuse, evaluate, table + JSON + plot."""
    from .compare import compare, format_compare

    names = _csv(args.trackers) or []
    for n in names:
        tracker_entry(n)  # unknown name -> exit 2
    dataset_entry(args.dataset)
    options = _options(args.dataset_option)
    if args.detections:
        options["detections"] = args.detections
    configs = {k: v[-1] for k, v in _per_tracker(args.config, "--config").items()}
    weights = {k: v[-1] for k, v in _per_tracker(args.weights, "--weights").items()}
    result = compare(args.dataset, names, args.root, args.out, dataset_options=options,
                     sequences=_csv(args.sequences), overrides=_per_tracker(args.set, "--set"),
                     config_files=configs, weights=weights, seed=args.seed, overwrite=args.overwrite,
                     preprocess=not args.no_preprocess, progress=not args.quiet)
    _print(format_compare(result["rows"]))
    _print(f"\nWritten: {result['json']}" + (f", {result['plot']}" if result.get("plot") else ""))
    return 0


# ----------------------------------------------------------------------------------
# parser
# ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench", description="Run and evaluate SOT / MOT trackers on standard benchmarks.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("list", help="trackers (SOT/MOT, config file), datasets (protocol) and metrics")
    s.add_argument("what", nargs="?", choices=["trackers", "datasets", "metrics"], help="list only these")
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

    s = sub.add_parser("compare", help="MOT trackers side by side: run (or reuse), evaluate, table, JSON, plot")
    s.add_argument("--dataset", required=True, help="multi-object dataset (mot17, synthetic-mot, ...)")
    s.add_argument("--trackers", required=True, help="comma-separated MOT tracker names, e.g. sort,bytetrack")
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
    s.add_argument("--no-preprocess", action="store_true", help="evaluate without the MOTChallenge preprocessing")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_compare)
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
