"""Plain-text tables with aligned columns (the summary the CLI prints and writes to ``table.txt``)."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

# (report key, column header, format) per protocol; fractions print with 3 decimals
COLUMNS: Dict[str, List[Tuple[str, str, str]]] = {
    "ope": [("success_auc", "AUC", ".3f"), ("precision_20", "Prec@20", ".3f"),
            ("norm_precision_20", "NormPrec", ".3f"), ("success_rate_50", "SR@0.5", ".3f"),
            ("fps", "FPS", ".1f")],
    "got10k": [("ao", "AO", ".3f"), ("sr_50", "SR@0.5", ".3f"), ("sr_75", "SR@0.75", ".3f"),
               ("fps", "FPS", ".1f")],
    "vot": [("accuracy", "Accuracy", ".4f"), ("robustness", "Robustness", ".4f"),
            ("failures", "Failures", ".1f"), ("failure_rate_100", "Fail/100fr", ".3f"), ("eao", "EAO", ".4f"),
            ("fps", "FPS", ".1f")],
    "mot": [("hota", "HOTA", ".3f"), ("mota", "MOTA", ".3f"), ("idf1", "IDF1", ".3f"),
            ("motp", "MOTP", ".3f"), ("fp", "FP", "d"), ("fn", "FN", "d"), ("idsw", "IDSW", "d"),
            ("mt", "MT", "d"), ("ml", "ML", "d"), ("fps", "FPS", ".1f")],
}


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


def columns_for(protocol: str, metrics: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    """Known columns of ``protocol`` that appear in ``metrics`` (else every scalar metric)."""
    cols = [c for c in COLUMNS.get(protocol, []) if c[0] in metrics]
    if not cols:
        cols = [(k, k, ".3f") for k, v in metrics.items() if isinstance(v, (int, float))]
    return cols


def summary_table(reports: Sequence[Dict[str, Any]]) -> str:
    """One row per report (tracker): the protocol's headline metrics."""
    if not reports:
        return "(no results)"
    protocol = protocol_name(reports[0])
    keys: Dict[str, Any] = {}
    for r in reports:
        keys.update(r.get("metrics", {}))
    cols = columns_for(protocol, keys)
    rows = [[r.get("tracker") or "-"] + [fmt_value(r.get("metrics", {}).get(k), f) for k, _, f in cols]
            for r in reports]
    return format_table(["Tracker"] + [h for _, h, _ in cols], rows)


def sequence_table(report: Dict[str, Any]) -> str:
    """One row per sequence of a report."""
    seqs = report.get("sequences") or {}
    items = list(seqs.items()) if isinstance(seqs, dict) else [(s.get("name"), s) for s in seqs]
    if not items:
        return "(no sequences)"
    keys: Dict[str, Any] = {}
    for _, m in items:
        keys.update(m)
    cols = columns_for(protocol_name(report), keys)
    rows = [[name] + [fmt_value(m.get(k), f) for k, _, f in cols] for name, m in items]
    return format_table(["Sequence"] + [h for _, h, _ in cols], rows)
