"""Plain-text tables with aligned columns (the summary the CLI prints and writes to ``table.txt``)."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

def protocol_name(report: Dict[str, Any]) -> str:
    """The protocol of a report: ``report["protocol"]`` is a dict with ``name`` (or a plain string)."""
    p = report.get("protocol")
    return str(p.get("name", "")) if isinstance(p, dict) else str(p or "")


def fmt_value(v: Any, spec: str = ".3f") -> str:
    """Format a number (``-`` for missing / NaN); integers stay integers."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and (math.isnan(v)):
            return "-"
        if isinstance(v, float) and math.isinf(v):
            return "inf"
        if spec == "d":
            return str(int(round(v)))
        if spec == "%":  # a fraction printed in percent, as TrackEval and the MOTChallenge devkit print it
            return format(100.0 * v, ".2f")
        return format(v, spec)
    return str(v)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: Optional[str] = None) -> str:
    """Aligned text table. ``align`` is one char per column, ``l`` or ``r`` (default: first left)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    n = len(header)
    align = align or ("l" + "r" * (n - 1))
    widths = [max(len(r[i]) for r in cells) for i in range(n)]

    def line(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(r, widths, align)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def columns_for(report: Dict[str, Any], metrics: Dict[str, Any], protocol=None) -> List[Tuple[str, str, str]]:
    """The protocol's columns that appear in ``metrics`` (else every scalar metric), as (key, header, format)."""
    if protocol is None:
        from ..core.errors import BenchError
        from ..protocols.base import protocol_class

        try:
            protocol = protocol_class(protocol_name(report))
        except BenchError:
            protocol = None
    cols = [(c.key, c.header, c.fmt) for c in getattr(protocol, "columns", ()) if c.key in metrics]
    if not cols:
        cols = [(k, k, ".3f") for k, v in metrics.items() if isinstance(v, (int, float))]
    return cols


def _protocol_of(report: Dict[str, Any], protocol=None):
    if protocol is not None:
        return protocol
    from ..core.errors import BenchError
    from ..protocols.base import get_protocol

    try:
        return get_protocol(protocol_name(report))
    except BenchError:
        return None


def _rows(report: Dict[str, Any], protocol, per_sequence: bool) -> List[Tuple[str, Dict[str, Any]]]:
    """(label, metrics) rows of a report: the protocol's :meth:`~bench.protocols.base.Protocol.table_rows`."""
    if protocol is not None and hasattr(protocol, "table_rows"):
        if isinstance(protocol, type):
            protocol = protocol()
        return [(str(k), dict(v)) for k, v in protocol.table_rows(report, per_sequence)]
    if per_sequence:
        seqs = report.get("sequences") or {}
        return list(seqs.items()) if isinstance(seqs, dict) else [(s.get("name"), s) for s in seqs]
    return [(report.get("tracker") or "-", report.get("metrics", {}))]


def summary_table(reports: Sequence[Dict[str, Any]], protocol=None) -> str:
    """One row per report (tracker), or the protocol's rows (one per class for KITTI): its
    headline metrics (MOT fractions in percent)."""
    if not reports:
        return "(no results)"
    protocol = _protocol_of(reports[0], protocol)
    items = [row for r in reports for row in _rows(r, protocol, False)]
    keys: Dict[str, Any] = {}
    for _, m in items:
        keys.update(m)
    cols = columns_for(reports[0], keys, protocol)
    rows = [[name] + [fmt_value(m.get(k), f) for k, _, f in cols] for name, m in items]
    return format_table(["Tracker"] + [h for _, h, _ in cols], rows)


def sequence_table(report: Dict[str, Any], protocol=None) -> str:
    """One row per sequence of a report (per sequence and class for KITTI)."""
    protocol = _protocol_of(report, protocol)
    items = _rows(report, protocol, True)
    if not items:
        return "(no sequences)"
    keys: Dict[str, Any] = {}
    for _, m in items:
        keys.update(m)
    cols = columns_for(report, keys, protocol)
    rows = [[name] + [fmt_value(m.get(k), f) for k, _, f in cols] for name, m in items]
    return format_table(["Sequence"] + [h for _, h, _ in cols], rows)
