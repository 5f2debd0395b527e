"""Metrics: pure vectorised functions of arrays (no files, no dataset objects).

Each protocol module has a per-sequence computation and a combine step (the TrackEval
pattern), so metrics are testable on hand-made arrays and reusable from a notebook:

* :mod:`.ope`: one-pass evaluation (OTB, LaSOT, synthetic): success / precision curves,
  AUC, precision at 20 px, normalised precision, success rate at 0.5, per attribute.
* :mod:`.vot`: VOT reset-based accuracy, robustness, failures, EAO curve and score, in
  the ``vot-toolkit`` (default) or ``pysot`` convention.
* :mod:`.got10k`: GOT-10k AO, SR0.50, SR0.75 pooled over frames.
* :mod:`.mot` / :mod:`.clear` / :mod:`.identity` / :mod:`.hota`: multi-object metrics.

Metric names are registered in :data:`bench.core.registry.METRICS` (``bench list metrics``).
"""
from __future__ import annotations

import dataclasses

from ..core.registry import METRICS, register_metric


@dataclasses.dataclass(frozen=True)
class MetricInfo:
    """A registered metric name: the protocol that reports it and what it measures."""

    name: str
    protocol: str
    description: str
    higher_is_better: bool = True


def register(name: str, protocol: str, description: str, higher_is_better: bool = True) -> MetricInfo:
    """Register ``name`` once (re-imports are harmless)."""
    if name not in METRICS:
        register_metric(name, kind=protocol, description=description)(
            MetricInfo(name, protocol, description, higher_is_better))
    return METRICS.get(name).obj


from . import got10k, mot, ope, vot  # noqa: E402,F401  (register the metric names)
