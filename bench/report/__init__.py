"""Reports: text tables, JSON files and PNG plots of evaluation results.

:func:`write_outputs` writes, for one or several report dicts of one dataset,
``report.json`` (one report) or ``reports.json`` (a list), ``table.txt`` and the
protocol's plots into a folder, and returns the paths written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

from ..core.io import atomic_write_text
from . import plots
from .jsonio import read_json, to_jsonable, write_json  # noqa: F401
from .table import fmt_value, format_table, protocol_name, sequence_table, summary_table  # noqa: F401


def write_outputs(reports: Sequence[Mapping], out_dir: Union[str, Path], *,
                  attributes: Optional[Mapping[str, Sequence[str]]] = None,  # {seq: attrs}, fallback
                  eao_interval: Optional[Sequence[int]] = None,
                  per_sequence: bool = True, json_name: Optional[str] = None) -> List[Path]:
    """Write JSON, table and plots for ``reports`` (same dataset) into ``out_dir``.

    ``json_name`` defaults to ``report.json`` (one report, a JSON object) or
    ``reports.json`` (several, a JSON list); ``reports.json`` always holds a list.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    json_name = json_name or ("report.json" if len(reports) == 1 else "reports.json")
    write_json(out / json_name, reports[0] if json_name == "report.json" else list(reports))
    written.append(out / json_name)
    text = summary_table(reports)
    if per_sequence:
        for r in reports:
            if r.get("sequences"):
                text += f"\n\nPer sequence: {r.get('tracker')}\n" + sequence_table(r)
    atomic_write_text(out / "table.txt", text + "\n")
    written.append(out / "table.txt")
    protocol = protocol_name(reports[0]) if reports else None
    dataset = reports[0].get("dataset", "") if reports else ""
    made = []
    if protocol == "ope":
        made += [plots.success_plot(reports, out / "success.png", f"Success plot on {dataset}"),
                 plots.precision_plot(reports, out / "precision.png", f"Precision plot on {dataset}")]
        if attributes or any(r.get("attributes") for r in reports):
            made.append(plots.attribute_plot(reports, attributes, out / "attributes.png",
                                             title=f"Success AUC per attribute on {dataset}"))
    elif protocol == "got10k":
        made.append(plots.success_plot(reports, out / "success.png", f"Success plot on {dataset}", score_key="ao"))
    elif protocol == "vot":
        if eao_interval is None:
            p0 = reports[0].get("protocol")
            eao_interval = p0.get("eao_interval") if isinstance(p0, dict) else None
        made += [plots.eao_plot(reports, out / "eao.png", eao_interval, f"EAO curve on {dataset}"),
                 plots.ar_plot(reports, out / "ar.png", title=f"Accuracy-robustness on {dataset}")]
    written += [p for p in made if p is not None]
    return written
