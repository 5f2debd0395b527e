"""Paired comparison of trackers over the same sequences.

On a benchmark of a few dozen sequences a tracker's mean score moves by several hundredths
when one sequence flips between "tracked" and "lost", so a difference of means says little
without its spread. :func:`paired_difference` takes the per-sequence scores of two trackers
on the same sequences and returns the mean difference, a percentile bootstrap 95% interval
(sequences resampled with replacement, fixed seed: deterministic) and wins / ties / losses.

The per-sequence score is the protocol's headline metric: success AUC (OPE) or AO (GOT-10k).
VOT's EAO and the MOT metrics are not per-sequence means and are not compared here.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..core.errors import BenchError, UnknownNameError
from .table import fmt_value, format_table, protocol_name

def per_sequence(report: Mapping[str, Any], key: str) -> Dict[str, float]:
    """``{sequence: value}`` of ``key`` in a report's per-sequence results (NaN skipped)."""
    seqs = report.get("sequences") or {}
    items = seqs.items() if isinstance(seqs, dict) else ((s.get("name"), s) for s in seqs)
    out = {}
    for name, m in items:
        v = m.get(key) if isinstance(m, Mapping) else None
        if isinstance(v, (int, float)) and np.isfinite(v):
            out[str(name)] = float(v)
    return out


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], *, n_boot: int = 10000,
                      seed: int = 0, tie: float = 1e-3) -> Dict[str, Any]:
    """Statistics of ``b - a`` over the sequences both have.

    Returns ``n``, ``mean_a``, ``mean_b``, ``mean_diff``, ``ci95`` (percentile bootstrap of the
    mean difference, ``n_boot`` resamples, ``seed``), ``wins`` / ``ties`` / ``losses`` of ``b``
    (``|diff| <= tie`` is a tie) and ``sequences`` (the common names, sorted).
    """
    names = sorted(set(a) & set(b))
    if not names:
        raise BenchError("paired comparison: the two trackers have no sequence in common")
    va = np.array([a[n] for n in names])
    vb = np.array([b[n] for n in names])
    d = vb - va
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    boot = d[idx].mean(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"n": len(names), "mean_a": float(va.mean()), "mean_b": float(vb.mean()),
            "mean_diff": float(d.mean()), "ci95": [float(lo), float(hi)],
            "wins": int((d > tie).sum()), "ties": int((np.abs(d) <= tie).sum()), "losses": int((d < -tie).sum()),
            "sequences": names}


def paired_rows(reports: Sequence[Mapping[str, Any]], baseline: Optional[str] = None,
                **kwargs) -> List[Dict[str, Any]]:
    """Each report against ``baseline`` (a tracker name; default: the first report)."""
    if len(reports) < 2:
        return []
    from ..core.registry import PROTOCOLS

    protocol = protocol_name(dict(reports[0]))
    key = PROTOCOLS.get(protocol).obj.paired_key
    if key is None:
        with_key = [e.name for e in PROTOCOLS.entries() if getattr(e.obj, "paired_key", None)]
        raise BenchError(f"paired comparison: protocol '{protocol}' has no per-sequence headline score "
                         f"(supported: {', '.join(sorted(with_key))})")
    names = [str(r.get("tracker")) for r in reports]
    base = baseline or names[0]
    if base not in names:
        raise UnknownNameError("baseline tracker", base, names)
    ref = per_sequence(reports[names.index(base)], key)
    rows = []
    for name, r in zip(names, reports):
        if name == base:
            continue
        row = paired_difference(ref, per_sequence(r, key), **kwargs)
        row.update({"tracker": name, "baseline": base, "metric": key})
        rows.append(row)
    return rows


def paired_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Text table of :func:`paired_rows`."""
    if not rows:
        return "(nothing to compare: give at least two trackers)"
    head = ["Tracker", "vs", "n", "mean", "base", "diff", "95% CI", "W/T/L"]
    body = [[r["tracker"], r["baseline"], r["n"], fmt_value(r["mean_b"]), fmt_value(r["mean_a"]),
             f"{r['mean_diff']:+.3f}", f"[{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]",
             f"{r['wins']}/{r['ties']}/{r['losses']}"] for r in rows]
    return f"Paired {rows[0]['metric']} differences (bootstrap over sequences):\n" + format_table(head, body)
