"""VOT reset-based ("baseline") metrics: accuracy, robustness, failures, EAO.

Input per sequence: the runs (repetitions) of the tracker as :class:`Regions` (codes
``1`` init, ``2`` failure, ``0`` skipped, else boxes / polygons), the ground-truth
regions and the image size ``(W, H)``. :func:`sequence_metrics` computes everything
per sequence; :func:`combine` pools the sequences. Two conventions reproduce the two
reference implementations exactly (vot-toolkit 0.9.0 and pysot; checked on the Ocean VOT2019
raw results in ``tests/bench/metrics/test_vot.py``; the differences are listed in docs/sot-eval.md):

``convention="vot-toolkit"`` (default; vot-toolkit 0.9.0 ``analysis/supervised.py``)
    * overlaps rasterised with ``bench.core.regions`` "vot-toolkit" inside ``(W, H)``;
    * accuracy of a run = mean overlap over frames that are not skipped, not failures
      and not in ``[init, init + burnin)`` (0 when no frame is left); a sequence's
      accuracy = mean over runs; the dataset accuracy = mean over sequences weighted by
      sequence length;
    * failures of a sequence = mean over runs; ``robustness`` = length-weighted mean of
      the failures per sequence; ``ar_robustness`` = ``exp(-sensitivity * robustness /
      mean length)`` (the AR-plot coordinate);
    * EAO fragments ``overlaps[init_k : fail_k]`` (failed, zero-padded, fully masked)
      and the last ``overlaps[init : end]`` when it does not fail (masked over its
      length); a failure too close to the end for a re-initialisation still makes a
      failed fragment; curve ``c[j] = sum_w mean(o[1 : j + 1]) / sum_w mask``;
      ``eao = mean(c[low : high + 1])``.

``convention="pysot"`` (pysot ``toolkit/evaluation/ar_benchmark.py`` / ``eao_benchmark.py``)
    * overlaps with pysot's region rasterisation, bounds ``(W, H)`` for accuracy and
      ``(W - 1, H - 1)`` for EAO; special frames are NaN;
    * accuracy: frames ``[init, init + burnin)`` become NaN, per frame the mean over runs,
      then the NaN-mean over all frames of all sequences (pooled);
    * ``robustness`` = failures per 100 frames (mean over runs of total failures / total
      frames x 100);
    * EAO fragments start at ``failure + skip`` (failures with ``failure + skip`` beyond
      the end are dropped, so the last fragment stays open-ended), failed fragments run
      to the next start inclusive (zero-filled), the last is NaN-padded;
      ``eao = mean(c[low - 1 : high])``.

Reported keys: ``accuracy``, ``robustness``, ``failures`` (total over sequences, mean
over runs), ``failure_rate_100`` (failures per 100 frames), ``ar_robustness``, ``eao``,
``eao_curve`` and ``n_frames``.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.regions import FAILURE, INIT, UNKNOWN, as_regions, overlap
from . import register

CONVENTIONS = ("vot-toolkit", "pysot")

for _name, _desc, _hib in [
    ("accuracy", "VOT: mean overlap outside burn-in / failures (convention-specific pooling)", True),
    ("robustness", "VOT: vot-toolkit length-weighted failures per sequence, pysot failures per 100 frames", False),
    ("failures", "VOT: number of failures (mean over repetitions, summed over sequences)", False),
    ("eao", "VOT: expected average overlap over the edition's length interval", True),
    ("eao_curve", "VOT: expected average overlap as a function of sequence length", True),
]:
    register(_name, "vot", _desc, _hib)


def _check(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown VOT convention '{convention}' (known: {', '.join(CONVENTIONS)})")


def burnin_mask(codes: np.ndarray, burnin: int) -> np.ndarray:
    """True on frames inside ``[i, i + burnin)`` of every initialisation frame ``i``."""
    n = len(codes)
    diff = np.zeros(n + 1, dtype=np.int64)
    inits = np.flatnonzero(codes == INIT)
    np.add.at(diff, inits, 1)
    np.add.at(diff, np.minimum(inits + burnin, n), -1)
    return np.cumsum(diff[:n]) > 0


def _run_fragments_vot(ov: np.ndarray, codes: np.ndarray) -> List[Tuple[np.ndarray, bool, int, int]]:
    """vot-toolkit EAOCurve fragments of one run: (overlaps, success, start, stop)."""
    fails = np.flatnonzero(codes == FAILURE)
    inits = np.flatnonzero(codes == INIT)
    n = len(ov)
    if len(fails) == 0:
        return [(ov, True, 0, n)]
    if len(inits) < len(fails):
        raise ValueError("a failure without a preceding initialisation")
    frags = [(ov[inits[i]:fails[i]], False, int(inits[i]), int(fails[i])) for i in range(len(fails))]
    if len(inits) > len(fails):
        frags.append((ov[inits[-1]:], True, int(inits[-1]), n))
    return frags


def _run_fragments_pysot(ov: np.ndarray, codes: np.ndarray, skip: int, traj_len: int):
    """pysot EAOBenchmark fragments of one run: (values, padding, weight range)."""
    fails = np.flatnonzero(codes == FAILURE)
    n = len(ov)
    out = []
    if len(fails) == 0:
        out.append((ov.copy(), "nan", (0, n, n)))
        return out
    points = [0] + [int(f) + skip for f in fails if f + skip <= n]
    for i, p in enumerate(points):
        if i != len(points) - 1:
            frag = ov[p:points[i + 1] + 1].copy()
            frag[np.isnan(frag)] = 0
            out.append((frag, "zero", (p, points[i + 1] + 1, points[i + 1] - p + 1)))
        else:
            frag = ov[p:].copy()
            frag[np.isnan(frag)] = 0
            out.append((frag, "nan", (p, n, traj_len - p + 1e-16)))
    return out


def sequence_metrics(runs: Sequence, gt, size: Tuple[float, float], *, convention: str = "vot-toolkit",
                     burnin: int = 10, skip: int = 5, tags: Optional[Mapping[str, np.ndarray]] = None
                     ) -> Dict[str, object]:
    """Per-sequence VOT results from the runs (``Regions`` or region lists) of one sequence.

    ``gt``: ground-truth regions (N entries); ``size``: image ``(W, H)``; ``tags``:
    optional per-frame flags for per-tag EAO weights. Runs longer than the ground
    truth must be truncated by the caller (the readers do it, with a warning).
    Returns ``accuracy``, ``failures`` (mean over runs), ``n_frames``, ``n_runs`` and
    private ``_``-prefixed intermediate arrays for :func:`combine`.
    """
    _check(convention)
    gt = as_regions(gt)
    n = len(gt)
    runs = [as_regions(r) for r in runs]
    if not runs:
        raise ValueError("no runs")
    for r in runs:
        if len(r) > n:
            raise ValueError(f"a run has {len(r)} frames for {n} ground-truth frames")
    w, h = float(size[0]), float(size[1])
    fails_per_run = []
    out: Dict[str, object] = {"n_frames": n, "n_runs": len(runs)}
    fragments = []
    if convention == "vot-toolkit":
        accs = []
        for r in runs:
            codes = r.codes()
            ov = overlap(r, gt[: len(r)], (w, h), "vot-toolkit")
            mask = (codes != UNKNOWN) & (codes != FAILURE) & ~burnin_mask(codes, burnin)
            accs.append(float(np.mean(ov[mask])) if mask.any() else 0.0)
            fails_per_run.append(int(np.sum(codes == FAILURE)))
            for frag, success, a, b in _run_fragments_vot(ov, codes):
                fragments.append((frag, success, {**_tag_weights(tags, n, a, b, b - a), "all": 1.0}))
        out["accuracy"] = float(np.mean(accs))
    else:
        per_frame = []
        for r in runs:
            codes = r.codes()
            ov_ar = overlap(r, gt[: len(r)], (w, h), "pysot")
            ov_ar[burnin_mask(codes, burnin)] = np.nan
            per_frame.append(ov_ar)
            ov_eao = overlap(r, gt[: len(r)], (w - 1, h - 1), "pysot")
            fails_per_run.append(int(np.sum(codes == FAILURE)))
            for frag, pad, (a, b, denom) in _run_fragments_pysot(ov_eao, codes, skip, n):
                fragments.append((frag, pad, _tag_weights(tags, n, a, b, denom)))
        lengths = {len(p) for p in per_frame}
        if len(lengths) != 1:
            raise ValueError("pysot convention: all runs of a sequence must have the same length")
        with np.errstate(invalid="ignore"), _quiet():
            frame_acc = np.nanmean(np.stack(per_frame), axis=0)
        out["_frame_accuracy"] = frame_acc
        valid = frame_acc[~np.isnan(frame_acc)]
        out["accuracy"] = float(valid.mean()) if valid.size else float("nan")
        out["_scored_length"] = int(len(frame_acc))
    out["failures"] = float(np.mean(fails_per_run))
    out["_failures_per_run"] = fails_per_run
    out["_fragments"] = fragments
    out["_convention"] = convention
    return out


def _tag_weights(tags: Optional[Mapping[str, np.ndarray]], n: int, a: int, b: int, denom: float
                 ) -> Dict[str, float]:
    """Weight of a fragment per tag: tagged frames in ``[a, b)`` / ``denom`` (pysot
    ``select_tag`` slices; ``all`` is a tag set on all ``n`` frames)."""
    out = {"all": float(min(b, n) - min(a, n)) / denom if denom > 0 else 0.0}
    for t, v in (tags or {}).items():
        v = np.asarray(v, dtype=np.float64)
        out[t] = float(np.sum(v[a:b]) / denom) if denom > 0 else 0.0
    return out


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def eao_curve_vot(fragments: Sequence[Tuple[np.ndarray, bool]], weights: Optional[Sequence[float]] = None
                  ) -> np.ndarray:
    """vot-toolkit ``compute_eao_curve``: failed fragments zero-padded and masked over the full
    length, successful ones masked over their own length; ``c[j] = sum_w mean(o[1:j+1]) / sum_w mask``."""
    if not fragments:
        return np.zeros(0)
    k = len(fragments)
    m = max(len(f) for f, _ in fragments)
    arr = np.zeros((k, m))
    mask = np.zeros((k, m))
    for i, (f, success) in enumerate(fragments):
        arr[i, :len(f)] = f
        if success:
            mask[i, :len(f)] = 1
        else:
            mask[i, :] = 1
    wv = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
    means = arr.copy()
    if m > 1:
        cs = np.cumsum(arr[:, 1:], axis=1)
        means[:, 1:] = cs / np.arange(1, m)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(wv[:, None] * means * mask, 0) / np.sum(mask * wv[:, None], 0)


def eao_curve_pysot(fragments: Sequence[Tuple[np.ndarray, str]], weights: Optional[Sequence[float]] = None
                    ) -> np.ndarray:
    """pysot ``calculate_expected_overlap``: rows zero- ("zero") or NaN- ("nan") padded;
    ``c[0] = 1``, ``c[i]`` = weighted mean over rows defined at ``i`` of ``mean(row[1:i+1])``
    (0 where no row is defined). float32, as pysot stores it."""
    if not fragments:
        return np.zeros(0)
    k = len(fragments)
    m = max(len(f) for f, _ in fragments)
    arr = np.full((k, m), np.nan)
    for i, (f, pad) in enumerate(fragments):
        if pad == "zero":
            arr[i, :] = 0
        arr[i, :len(f)] = f
    wv = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
    curve = np.zeros(m, dtype=np.float32)
    curve[0] = 1
    if m > 1:
        cs = np.cumsum(arr[:, 1:], axis=1)  # NaN propagates like np.sum in pysot
        means = cs / np.arange(1, m)[None, :]
        defined = ~np.isnan(arr[:, 1:])
        wm = np.where(defined, wv[:, None], 0.0)
        num = np.sum(np.where(defined, means, 0.0) * wm, 0)
        nan_in_defined = np.any(defined & np.isnan(means), 0)
        den = wm.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            val = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
        val = np.where(nan_in_defined, np.nan, val)
        curve[1:] = val.astype(np.float32)
    return curve.astype(np.float64)


def eao_score(curve: np.ndarray, interval: Sequence[int], convention: str = "vot-toolkit") -> float:
    """Mean of the EAO curve over the edition's interval ``[low, high]``.

    vot-toolkit averages ``curve[low : high + 1]`` (NaN if any is NaN); pysot averages the
    non-NaN values of ``curve[low - 1 : high]``."""
    _check(convention)
    low, high = int(interval[0]), int(interval[1])
    if convention == "vot-toolkit":
        seg = curve[low:high + 1]
        return float(np.mean(seg)) if seg.size else float("nan")
    seg = curve[max(low - 1, 0):high]
    seg = seg[~np.isnan(seg)]
    return float(np.mean(seg)) if seg.size else float("nan")


def combine(per_sequence: Iterable[Mapping[str, object]], interval: Sequence[int], *,
            convention: str = "vot-toolkit", sensitivity: float = 30.0, tag: str = "all") -> Dict[str, object]:
    """Dataset metrics from :func:`sequence_metrics` results (one convention throughout)."""
    _check(convention)
    items = list(per_sequence)
    if not items:
        return {}
    for s in items:
        if s.get("_convention", convention) != convention:
            raise ValueError("per-sequence results were computed with another convention")
    lengths = np.array([float(s["n_frames"]) for s in items])
    fails = np.array([float(s["failures"]) for s in items])
    out: Dict[str, object] = {"n_sequences": len(items), "n_frames": int(lengths.sum())}
    out["failures"] = float(fails.sum())
    if convention == "vot-toolkit":
        accs = np.array([float(s["accuracy"]) for s in items])
        out["accuracy"] = float(np.sum(accs * lengths) / lengths.sum())
        robust = float(np.sum(fails * lengths) / lengths.sum())
        out["robustness"] = robust
        out["ar_robustness"] = float(np.exp(-(robust / (lengths.sum() / len(items))) * sensitivity))
        out["failure_rate_100"] = float(fails.sum() / lengths.sum() * 100)
        frags = [(f, succ) for s in items for f, succ, _ in s["_fragments"]]
        wts = [wt.get(tag, 0.0) for s in items for _, _, wt in s["_fragments"]]
        curve = eao_curve_vot(frags, wts)
    else:
        with _quiet():
            pooled = np.concatenate([np.asarray(s["_frame_accuracy"]) for s in items])
            out["accuracy"] = float(np.nanmean(pooled)) if pooled.size else float("nan")
        scored = sum(int(s["_scored_length"]) for s in items)
        runs = max(len(s["_failures_per_run"]) for s in items)
        per_run_total = np.zeros(runs)
        for s in items:
            f = np.asarray(s["_failures_per_run"], dtype=np.float64)
            per_run_total[: len(f)] += f
        rate = float(np.mean(per_run_total / scored) * 100) if scored else float("nan")
        out["robustness"] = rate
        out["failure_rate_100"] = rate
        out["failures"] = float(np.mean(per_run_total))
        robust = float(np.sum(fails * lengths) / lengths.sum())
        out["ar_robustness"] = float(np.exp(-(robust / (lengths.sum() / len(items))) * sensitivity))
        frags = [(f, pad) for s in items for f, pad, _ in s["_fragments"]]
        wts = [wt.get(tag, 0.0) for s in items for _, _, wt in s["_fragments"]]
        curve = eao_curve_pysot(frags, wts)
    out["eao"] = eao_score(curve, interval, convention)
    out["eao_curve"] = curve
    return out


def eao_by_tag(per_sequence: Iterable[Mapping[str, object]], interval: Sequence[int], tags: Sequence[str], *,
               convention: str = "vot-toolkit") -> Dict[str, float]:
    """EAO per VOT tag, each fragment weighted by the fraction of its frames carrying the tag
    (pysot ``EAOBenchmark`` tag weights; vot-toolkit has no per-tag EAO, the same weights are
    applied to its fragments)."""
    items = list(per_sequence)
    return {t: float(combine(items, interval, convention=convention, tag=t)["eao"]) for t in tags}
