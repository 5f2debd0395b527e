"""Published result tables (``configs/published/*.yaml``) and the published-vs-measured check.

A table names a dataset and lists entries; each entry is one published row (tracker,
source, the results folder that should reproduce it) with values::

    values:
      success_auc: {value: 0.658, rounding: 0.001}
      precision_20: {value: 0.914, rounding: 0.001, check: false, check_reason: "..."}

Values are fractions in the JSON report's units. An entry may also give values per sequence
(``sequences: {SEQ: {metric: {value, rounding}}}``: a published per-sequence table) and its own
``eval_options`` (merged over the table's). A table may name the ``sequences`` its numbers
cover (the evaluation is restricted to them). ``rounding`` is the unit of the last
printed digit: a measured value **agrees** when ``|measured - published| <= rounding / 2``
(it rounds to the published number). ``tolerance`` (absolute) may replace that bound
only with a ``tolerance_reason``; ``check: false`` (with ``check_reason``) makes a value
informational. Entries whose results folder is absent are reported as "no results" and
never fail the check; but a run in which no value at all was checked fails, naming what is
missing (an empty check is not a reproduction).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .core.config import read_yaml
from .core.errors import ConfigError, UnknownNameError
from .report.table import format_table

_EPS = 1e-9


@dataclasses.dataclass
class PublishedValue:
    metric: str
    value: float
    rounding: float
    tolerance: Optional[float] = None
    tolerance_reason: str = ""
    check: bool = True
    check_reason: str = ""

    @property
    def bound(self) -> float:
        """Largest absolute difference that still agrees."""
        return self.tolerance if self.tolerance is not None else self.rounding / 2.0


@dataclasses.dataclass
class PublishedEntry:
    tracker: str
    results: str
    source: str
    values: List[PublishedValue]
    note: str = ""
    eval_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    #: per-sequence published values: {sequence: [values]}
    sequences: Dict[str, List[PublishedValue]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class PublishedTable:
    path: Path
    dataset: str
    protocol: str
    description: str
    entries: List[PublishedEntry]
    metrics: Dict[str, str] = dataclasses.field(default_factory=dict)
    eval_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    #: the sequences the published numbers cover (None: the whole dataset)
    sequences: Optional[List[str]] = None


@dataclasses.dataclass
class Row:
    """One published-vs-measured comparison."""

    tracker: str
    results: str
    metric: str
    published: float
    measured: Optional[float]
    bound: float
    status: str  # "ok", "FAIL", "info", "no results", "no metric"

    @property
    def diff(self) -> Optional[float]:
        return None if self.measured is None else self.measured - self.published


def _need(d: Dict[str, Any], key: str, where: str) -> Any:
    if key not in d or d[key] in (None, ""):
        raise ConfigError(f"{where}: missing '{key}'")
    return d[key]


def _values(vals_raw: Any, where: str) -> List[PublishedValue]:
    if not isinstance(vals_raw, dict):
        raise ConfigError(f"{where}: 'values' must be a mapping")
    values = []
    for metric, v in vals_raw.items():
        vw = f"{where}, value '{metric}'"
        if not isinstance(v, dict):
            raise ConfigError(f"{vw}: expected {{value: ..., rounding: ...}}")
        unknown = set(v) - {f.name for f in dataclasses.fields(PublishedValue)}
        if unknown:
            raise ConfigError(f"{vw}: unknown key(s) {sorted(unknown)}")
        try:
            pv = PublishedValue(metric=str(metric), value=float(_need(v, "value", vw)),
                                rounding=float(_need(v, "rounding", vw)),
                                tolerance=None if v.get("tolerance") is None else float(v["tolerance"]),
                                tolerance_reason=str(v.get("tolerance_reason", "")),
                                check=bool(v.get("check", True)), check_reason=str(v.get("check_reason", "")))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{vw}: {exc}") from None
        if pv.tolerance is not None and not pv.tolerance_reason:
            raise ConfigError(f"{vw}: 'tolerance' needs a 'tolerance_reason'")
        if not pv.check and not pv.check_reason:
            raise ConfigError(f"{vw}: 'check: false' needs a 'check_reason'")
        values.append(pv)
    return values


def load_published(path: Union[str, Path]) -> PublishedTable:
    """Read and validate a published table; errors name the file and the entry."""
    path = Path(path)
    data = read_yaml(path)
    dataset = _need(data, "dataset", str(path))
    entries_raw = _need(data, "entries", str(path))
    if not isinstance(entries_raw, list):
        raise ConfigError(f"{path}: 'entries' must be a list")
    entries = []
    for i, e in enumerate(entries_raw):
        where = f"{path}: entry {i + 1}"
        if not isinstance(e, dict):
            raise ConfigError(f"{where}: expected a mapping")
        tracker = str(_need(e, "tracker", where))
        where = f"{path}: entry '{tracker}'"
        source = str(_need(e, "source", where))
        vals_raw = _need(e, "values", where)
        if not isinstance(vals_raw, dict):
            raise ConfigError(f"{where}: 'values' must be a mapping")
        values = _values(vals_raw, where)
        seqs_raw = e.get("sequences") or {}
        if not isinstance(seqs_raw, dict):
            raise ConfigError(f"{where}: 'sequences' must map sequence names to values")
        per_seq = {str(k): _values(v, f"{where}, sequence '{k}'") for k, v in seqs_raw.items()}
        opts = e.get("eval_options") or {}
        if not isinstance(opts, dict):
            raise ConfigError(f"{where}: 'eval_options' must be a mapping")
        entries.append(PublishedEntry(tracker=tracker, results=str(e.get("results") or tracker),
                                      source=source, values=values, note=str(e.get("note", "") or ""),
                                      eval_options=dict(opts), sequences=per_seq))
    return PublishedTable(path=path, dataset=str(dataset), protocol=str(data.get("protocol", "")),
                          description=str(data.get("description", "")), entries=entries,
                          metrics=dict(data.get("metrics") or {}),
                          eval_options=dict(data.get("eval_options") or {}),
                          sequences=[str(x) for x in data["sequences"]] if data.get("sequences") else None)


Evaluator = Callable[[str, Path, Dict[str, Any]], Dict[str, Any]]


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


def compare(table: PublishedTable, results_root: Union[str, Path], evaluate: Evaluator,
            trackers: Optional[Sequence[str]] = None) -> List[Row]:
    """Compare each entry with ``evaluate(results_name, results_root / results_name, eval_options)``.

    ``trackers`` restricts the entries (by tracker or results name). A results folder that
    does not exist gives rows with status "no results". Reports are evaluated once per folder
    and option set. Per-sequence values are compared with the report's ``sequences``.
    """
    results_root = Path(results_root)
    entries = table.entries
    if trackers:
        known = {e.tracker for e in entries} | {e.results for e in entries}
        for t in trackers:
            if t not in known:
                raise UnknownNameError("published tracker", t, known)
        entries = [e for e in entries if e.tracker in trackers or e.results in trackers]
    cache: Dict[str, Optional[Dict[str, Any]]] = {}
    rows: List[Row] = []
    for e in entries:
        opts = dict(table.eval_options, **e.eval_options)
        key = f"{e.results}|{sorted(opts.items())}"
        if key not in cache:
            folder = results_root / e.results
            cache[key] = evaluate(e.results, folder, opts) if folder.is_dir() else None
        report = cache[key]
        groups = [("", e.values, (report or {}).get("metrics"))]
        for seq, vals in e.sequences.items():
            groups.append((seq, vals, ((report or {}).get("sequences") or {}).get(seq)))
        for seq, vals, metrics in groups:
            label = f"{e.tracker} / {seq}" if seq else e.tracker
            for v in vals:
                if report is None:
                    rows.append(Row(label, e.results, v.metric, v.value, None, v.bound, "no results"))
                    continue
                m = None if metrics is None else metrics.get(v.metric)
                if m is None:
                    rows.append(Row(label, e.results, v.metric, v.value, None, v.bound, "no metric"))
                    continue
                m = float(m)
                status = "info" if not v.check else ("ok" if abs(m - v.value) <= v.bound + _EPS else "FAIL")
                rows.append(Row(label, e.results, v.metric, v.value, m, v.bound, status))
    return rows


def failed(rows: Sequence[Row]) -> List[Row]:
    """Rows that fail the check (a metric the evaluator did not produce also fails)."""
    return [r for r in rows if r.status in ("FAIL", "no metric")]


def nothing_checked(rows: Sequence[Row]) -> bool:
    """True when no value was compared at all (every folder missing, or only informational values)."""
    return not any(r.status in ("ok", "FAIL", "no metric") for r in rows)


def format_rows(table: PublishedTable, rows: Sequence[Row]) -> str:
    """The published-vs-measured table, then the sources and notes of the entries shown."""

    def num(x: Optional[float], counts: bool, sign: bool = False) -> str:
        if x is None:
            return "-"
        if counts:  # a count (rounding 1): printed as an integer
            return f"{x:+.0f}" if sign else f"{x:.0f}"
        return f"{x:+.4f}" if sign else f"{x:.4f}"

    body = []
    for r in rows:
        c = r.bound >= 0.5
        body.append([r.tracker, r.results, r.metric, num(r.published, c), num(r.measured, c), num(r.diff, c, True),
                     f"{r.bound:.4f}" if not c else f"{r.bound:g}", r.status])
    text = format_table(["Tracker", "Results", "Metric", "Published", "Measured", "Diff", "Allowed", "Status"],
                        body, align="lllrrrrl")
    shown = {r.tracker.split(" / ")[0] for r in rows}
    lines = [f"{table.description or table.dataset} ({table.path.name})", "", text, "", "Sources:"]
    for e in table.entries:
        if e.tracker not in shown:
            continue
        lines.append(f"  {e.tracker}: {e.source}")
        if e.note:
            lines.append(f"    note: {e.note}")
        for v in e.values:
            if v.tolerance is not None:
                lines.append(f"    {v.metric}: tolerance {v.tolerance:g} ({v.tolerance_reason})")
            if not v.check:
                lines.append(f"    {v.metric}: not checked ({v.check_reason})")
    bad = failed(rows)
    missing = sorted({r.results for r in rows if r.status == "no results"})
    lines.append("")
    if missing:
        lines.append("No results (not checked): " + ", ".join(missing))
    checked = [r for r in rows if r.status in ("ok", "FAIL", "no metric")]
    if not checked:
        lines.append("FAILED: nothing was checked: " + (
            f"no results folder for any entry (looked for {', '.join(missing)} under --results)" if missing
            else "every value shown is informational"))
        return "\n".join(lines)
    lines.append(f"{len(checked) - len(bad)}/{len(checked)} checked values agree with the published table"
                 + ("" if not bad else "; FAILED: " + ", ".join(f"{r.results}/{r.metric}" for r in bad)))
    return "\n".join(lines)
