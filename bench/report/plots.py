"""PNG plots of reports (matplotlib, Agg backend: no display needed).

* OTB-style success and precision plots, the score in the legend (``Tracker [0.658]``),
  trackers sorted by that score;
* a per-attribute breakdown (success AUC per OTB attribute and tracker; the AUC of an
  attribute is the mean of its sequences' AUCs, which equals the AUC of their mean
  success curve);
* for VOT, the expected-overlap curve with the EAO interval shaded, and the
  accuracy-robustness plot;
* for VOT long-term, the tracking precision-recall curve and the F-score over the
  confidence thresholds.

Every function takes report dicts (the JSON report contract) and writes one file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, Path]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: PathLike) -> Path:
    from ..core.io import atomic_write_bytes
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def _curves(reports, curve_key: str, score_key: str):
    out = []
    for r in reports:
        m = r.get("metrics", {})
        if m.get(curve_key) is None:
            continue
        out.append((r.get("tracker") or "?", np.asarray(m[curve_key], dtype=float), m.get(score_key)))
    out.sort(key=lambda t: -(t[2] if t[2] is not None else -1))
    return out


def success_plot(reports: Sequence[Mapping], path: PathLike, title: str = "Success plot",
                 score_key: str = "success_auc") -> Optional[Path]:
    """Success rate vs overlap threshold; legend ``name [score]`` (AUC; AO for GOT-10k)."""
    curves = _curves(reports, "success_curve", score_key)
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, c, s in curves:
        ax.plot(np.linspace(0, 1, len(c)), c, lw=2, label=f"{name} [{s:.3f}]")
    ax.set(xlabel="Overlap threshold", ylabel="Success rate", title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def precision_plot(reports: Sequence[Mapping], path: PathLike, title: str = "Precision plot") -> Optional[Path]:
    """Precision vs location error threshold (px); legend ``name [precision at 20 px]``."""
    curves = _curves(reports, "precision_curve", "precision_20")
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, c, s in curves:
        ax.plot(np.arange(len(c)), c, lw=2, label=f"{name} [{s:.3f}]")
    ax.set(xlabel="Location error threshold (px)", ylabel="Precision", title=title,
           xlim=(0, len(curves[0][1]) - 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def attribute_scores(report: Mapping, attributes: Optional[Mapping[str, Sequence[str]]] = None,
                     key: str = "success_auc") -> Dict[str, Tuple[float, int]]:
    """Per attribute: (score, number of sequences).

    Taken from the report's ``attributes`` section when present, else the mean of the
    per-sequence ``key`` over the sequences carrying the attribute (``attributes``:
    ``{sequence: attribute names}``).
    """
    section = report.get("attributes") or {}
    if section and all(isinstance(v, Mapping) and v.get(key) is not None for v in section.values()):
        return {a: (float(v[key]), int(v.get("n_sequences") or 0)) for a, v in sorted(section.items())}
    if not attributes:
        return {}
    seqs = report.get("sequences") or {}
    per: Dict[str, List[float]] = {}
    for name, m in seqs.items():
        v = m.get(key)
        if v is None:
            continue
        for a in attributes.get(name, ()):
            per.setdefault(a, []).append(float(v))
    return {a: (float(np.mean(v)), len(v)) for a, v in sorted(per.items())}


def attribute_plot(reports: Sequence[Mapping], attributes: Optional[Mapping[str, Sequence[str]]], path: PathLike,
                   key: str = "success_auc", title: str = "Success AUC per attribute") -> Optional[Path]:
    """Grouped bars: one group per attribute (``name (n sequences)``), one bar per tracker."""
    table = [(r.get("tracker") or "?", attribute_scores(r, attributes, key)) for r in reports]
    attrs = sorted({a for _, s in table for a in s})
    if not attrs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(attrs) + 2), 4.5))
    width = 0.8 / max(len(table), 1)
    x = np.arange(len(attrs))
    for i, (name, scores) in enumerate(table):
        vals = [scores.get(a, (np.nan, 0))[0] for a in attrs]
        overall = (reports[i].get("metrics") or {}).get(key)
        label = name if overall is None else f"{name} [{overall:.3f}]"
        ax.bar(x + (i - (len(table) - 1) / 2) * width, vals, width, label=label)
    counts = {a: max(s.get(a, (0, 0))[1] for _, s in table) for a in attrs}
    ax.set_xticks(x, [f"{a} ({counts[a]})" for a in attrs], rotation=35, ha="right", fontsize=8)
    ax.set(ylabel=key, title=title, ylim=(0, 1))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def eao_plot(reports: Sequence[Mapping], path: PathLike, interval: Optional[Sequence[int]] = None,
             title: str = "Expected average overlap") -> Optional[Path]:
    """Expected-overlap curve per tracker, the EAO interval shaded; legend ``name [EAO]``."""
    curves = _curves(reports, "eao_curve", "eao")
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, c, s in curves:
        label = name if s is None else f"{name} [{s:.3f}]"
        ax.plot(np.arange(len(c)), c, lw=1.5, label=label)
    if interval is not None:
        ax.axvspan(interval[0], interval[1], color="grey", alpha=0.15, label=f"interval {list(interval)}")
    ax.set(xlabel="Sequence length (frames)", ylabel="Expected overlap", title=title, ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def ar_plot(reports: Sequence[Mapping], path: PathLike, title: str = "Accuracy-robustness") -> Optional[Path]:
    """Accuracy vs AR-plot robustness ``ar_robustness`` (vot-toolkit: ``exp(-S * failures / length)``, S = 30)."""
    pts = []
    xlabel = "Robustness (reliability, exp(-S x failures / length))"
    for r in reports:
        m = r.get("metrics", {})
        if m.get("accuracy") is None or m.get("ar_robustness") is None:
            continue
        pts.append((r.get("tracker") or "?", float(m["ar_robustness"]), float(m["accuracy"])))
    if not pts:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, x, y in pts:
        ax.scatter([x], [y], s=50, label=f"{name} [A {y:.3f}]")
    ax.set(xlabel=xlabel, ylabel="Accuracy", title=title, xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def _lt_curves(reports: Sequence[Mapping]):
    out = []
    for r in reports:
        m = r.get("metrics", {})
        if not m.get("pr_curve"):
            continue
        pr = np.asarray([[np.nan if v is None else v for v in p] for p in m["pr_curve"]], dtype=float)
        f = np.asarray([np.nan if v is None else v for v in (m.get("f_curve") or [])], dtype=float)
        out.append((r.get("tracker") or "?", pr, f, m))
    out.sort(key=lambda t: -(t[3].get("f_score") if t[3].get("f_score") is not None else -1))
    return out


def pr_plot(reports: Sequence[Mapping], path: PathLike, title: str = "Tracking precision-recall") -> Optional[Path]:
    """VOT-LT tracking precision vs tracking recall over the confidence thresholds (vot-toolkit
    ``pr_curve``), the F-score's point marked, iso-F lines in grey; legend ``name [F]``."""
    curves = _lt_curves(reports)
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for f in np.arange(0.1, 1.0, 0.1):
        re = np.linspace(f / 2 + 1e-6, 1, 200)
        pr = f * re / (2 * re - f)
        ok = (pr >= 0) & (pr <= 1)
        ax.plot(re[ok], pr[ok], color="0.85", lw=0.7, zorder=0)
    for name, pr, _, m in curves:
        s = m.get("f_score")
        line, = ax.plot(pr[:, 0], pr[:, 1], lw=2, label=name if s is None else f"{name} [{s:.3f}]")
        if m.get("recall") is not None and m.get("precision") is not None:
            ax.plot([m["recall"]], [m["precision"]], "o", color=line.get_color(), ms=6)
    ax.set(xlabel="Tracking recall", ylabel="Tracking precision", title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def f_score_plot(reports: Sequence[Mapping], path: PathLike, title: str = "Tracking F-score") -> Optional[Path]:
    """VOT-LT F-score vs the threshold's rank, normalised to [0, 1] (0: threshold +inf, 1: -inf; the
    thresholds are each tracker's own confidence quantiles, vot-toolkit ``f_curve``); legend ``name [F]``."""
    curves = [c for c in _lt_curves(reports) if len(c[2])]
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, _, f, m in curves:
        s = m.get("f_score")
        x = np.linspace(0, 1, len(f)) if len(f) > 1 else np.zeros(1)
        line, = ax.plot(x, f, lw=1.5, label=name if s is None else f"{name} [{s:.3f}]")
        k = m.get("threshold_index")
        if k is not None and 0 <= k < len(f):
            ax.plot([x[k]], [f[k]], "o", color=line.get_color(), ms=5)
    ax.set(xlabel="Normalised threshold (rank among the confidence thresholds, high to low)", ylabel="F-score",
           title=title, xlim=(0, 1), ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def mot_bars(reports: Sequence[Mapping], path: PathLike, title: str = "") -> Path:
    """Grouped bars of MOTA / IDF1 / HOTA (percent) per tracker, and FPS (log scale) beside them."""
    plt = _plt()
    names = [str(r.get("tracker")) for r in reports]
    ms = [r.get("metrics") or {} for r in reports]
    x = np.arange(len(names))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(max(6.0, 1.6 * len(names) + 4), 3.8),
                                  gridspec_kw={"width_ratios": [3, 1.4]})
    for k, key in enumerate(("mota", "idf1", "hota")):
        vals = [100 * float(m.get(key) or 0.0) for m in ms]
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=key.upper())
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("percent")
    ax.axhline(0, color="k", lw=0.6)
    lo = min(0.0, min(100 * float(m.get(k) or 0.0) for m in ms for k in ("mota", "idf1", "hota")))
    ax.set_ylim(lo * 1.1, 115)
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    ax.set_title(f"{title}: accuracy" if title else "accuracy")
    fps = [float(m["fps"]) if m.get("fps") else 0.0 for m in ms]
    ax2.bar(x, fps, 0.6, color="0.4")
    ax2.set_xticks(x)
    ax2.set_xticklabels(names, rotation=20, ha="right")
    pos = [f for f in fps if f > 0]
    if pos and max(pos) / min(pos) > 20:
        ax2.set_yscale("log")
    ax2.set_ylabel("frames / s (tracking only)")
    ax2.set_title("speed")
    fig.tight_layout()
    return _save(fig, path)
