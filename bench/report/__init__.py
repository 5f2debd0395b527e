"""Reports: text tables, JSON files and PNG plots of evaluation results.

:func:`write_outputs` writes, for one or several report dicts of one dataset,
``report.json`` (one report) or ``reports.json`` (a list), ``table.txt`` and the
protocol's plots into a folder, and returns the paths written.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Union

from ..core.io import atomic_write_text
from .jsonio import read_json, to_jsonable, write_json  # noqa: F401
from .table import fmt_value, format_table, protocol_name, sequence_table, summary_table  # noqa: F401


def write_outputs(reports: Sequence[Mapping], out_dir: Union[str, Path], dataset, *,
                  per_sequence: bool = True, json_name: Optional[str] = None, plots: bool = True) -> List[Path]:
    """Write JSON, table and the protocol's plots for ``reports`` (all of ``dataset``) into ``out_dir``.

    ``json_name`` defaults to ``report.json`` (one report, a JSON object) or
    ``reports.json`` (several, a JSON list); ``reports.json`` always holds a list.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    protocol = dataset.protocol_object()
    written: List[Path] = []
    json_name = json_name or ("report.json" if len(reports) == 1 else "reports.json")
    write_json(out / json_name, reports[0] if json_name == "report.json" else list(reports))
    written.append(out / json_name)
    text = summary_table(reports, protocol)
    if per_sequence:
        for r in reports:
            if r.get("sequences"):
                text += f"\n\nPer sequence: {r.get('tracker')}\n" + sequence_table(r, protocol)
    atomic_write_text(out / "table.txt", text + "\n")
    written.append(out / "table.txt")
    if plots and reports:
        written += protocol.plots(reports, out, dataset)
    return written
