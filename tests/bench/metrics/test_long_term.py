"""VOT long-term measures (bench.metrics.long_term): a case worked out by hand, and vot-toolkit itself.

The comparison with vot-toolkit 0.9.0 runs where it is importable (``pip install vot-toolkit``;
on Python 3.11 its latest dependency attributee 0.1.10 fails to import, ``attributee==0.1.9``
works). It is not in the test extras: it pulls numba / llvmlite and opencv-python.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.core.regions import as_regions
from bench.metrics import long_term as lt

NAN = float("nan")
BOUNDS = (100, 100)   # large enough: no clipping, overlaps are plain pixel IoUs
GT = [0, 0, 10, 10]   # covers pixels 0..9 x 0..9 (vot-toolkit rasterisation)

# Sequence A, 6 frames: target visible on 0-3, absent on 4-5 (n_visible = 4).
#   frame  region          confidence  overlap  why
#   0      1 (init)        0 (empty)   0        special region vs visible gt
#   1      0,0,10,10       0.9         1
#   2      0,0,10,5        0.6         0.5      50 / 100 pixels
#   3      0 (not visible) NaN         0        never counted (NaN >= t is false)
#   4      20,20,5,5       0.6         0        a box while the target is absent; ties with frame 2
#   5      0 (no target)   0.3         1        empty vs absent: 1 "by definition" (vot-toolkit)
SEQ_A = dict(
    traj=[[1], [0, 0, 10, 10], [0, 0, 10, 5], [0], [20, 20, 5, 5], [0]],
    conf=[0.0, 0.9, 0.6, NAN, 0.6, 0.3],
    gt=[GT, GT, GT, GT, [NAN] * 4, [NAN] * 4],
    overlaps=[0, 1, 0.5, 0, 0, 1],
)
# Sequence B, 5 frames: target absent on frame 2 (n_visible = 4).
#   0      1 (init)        0           0
#   1      0,0,10,8        0.9         0.8      ties with A frame 1
#   2      0,0,10,10       0.5         0        a box while the target is absent
#   3      0,0,5,5         0.3         0.25     ties with A frame 5
#   4      50,50,10,10     0.2         0        lost
SEQ_B = dict(
    traj=[[1], [0, 0, 10, 8], [0, 0, 10, 10], [0, 0, 5, 5], [50, 50, 10, 10]],
    conf=[0.0, 0.9, 0.5, 0.3, 0.2],
    gt=[GT, GT, [NAN] * 4, GT, GT],
    overlaps=[0, 0.8, 0, 0.25, 0],
)

# Thresholds: the 10 non-NaN confidences of both sequences, decreasing, duplicates kept
# (10 <= resolution - 2 = 98: all of them), between +inf and -inf.
THRESHOLDS = [math.inf, 0.9, 0.9, 0.6, 0.6, 0.5, 0.3, 0.3, 0.2, 0.0, 0.0, -math.inf]
# Per threshold: frames with c >= t; Pr = mean overlap, Re = sum / 4.
#   t      A frames       A (Pr, Re)       B frames          B (Pr, Re)        mean (Pr, Re)         F
#   inf    -              (1, 0)           -                 (1, 0)            (1, 0)                0
#   0.9    1              (1, .25)         1                 (.8, .2)          (.9, .225)            .36
#   0.6    1,2,4          (.5, .375)       1                 (.8, .2)          (.65, .2875)          .398667
#   0.5    1,2,4          (.5, .375)       1,2               (.4, .2)          (.45, .2875)          .350847
#   0.3    1,2,4,5        (.625, .625)     1,2,3             (.35, .2625)      (.4875, .44375)       .464597
#   0.2    1,2,4,5        (.625, .625)     1,2,3,4           (.2625, .2625)    (.44375, .44375)      .44375
#   0      0,1,2,4,5      (.5, .625)       0..4              (.21, .2625)      (.355, .44375)        .394444
#   -inf   as 0           (.5, .625)       as 0              (.21, .2625)      (.355, .44375)        .394444
PR = [1, .9, .9, .65, .65, .45, .4875, .4875, .44375, .355, .355, .355]
RE = [0, .225, .225, .2875, .2875, .2875, .44375, .44375, .44375, .44375, .44375, .44375]
# Best F = 2 x .4875 x .44375 / (.4875 + .44375) = .43265625 / .93125 at the first 0.3 (index 6).
F_BEST = 0.43265625 / 0.93125


def _data(seq):
    o = lt.sequence_overlaps(seq["traj"], seq["gt"], BOUNDS)
    return {"overlaps": [o], "confidence": [np.asarray(seq["conf"])], "n_visible": lt.visible_frames(seq["gt"])}


def test_hand_overlaps_and_visible_frames():
    for seq in (SEQ_A, SEQ_B):
        np.testing.assert_allclose(lt.sequence_overlaps(seq["traj"], seq["gt"], BOUNDS), seq["overlaps"], atol=1e-12)
        assert lt.visible_frames(seq["gt"]) == 4


def test_hand_case():
    m = lt.combine([_data(SEQ_A), _data(SEQ_B)])
    assert m["thresholds"] == THRESHOLDS
    np.testing.assert_allclose(np.asarray(m["pr_curve"])[:, 1], PR, atol=1e-12)
    np.testing.assert_allclose(np.asarray(m["pr_curve"])[:, 0], RE, atol=1e-12)
    assert m["threshold_index"] == 6 and m["threshold"] == 0.3      # first of the tied 0.3 thresholds
    assert m["f_score"] == pytest.approx(F_BEST, abs=1e-12) and m["f_score"] == pytest.approx(0.4645973154, abs=1e-9)
    assert m["precision"] == pytest.approx(0.4875, abs=1e-12) and m["recall"] == pytest.approx(0.44375, abs=1e-12)
    np.testing.assert_allclose(m["f_curve"][:4], [0, 0.36, 0.36, 0.37375 / 0.9375], atol=1e-12)
    assert m["n_sequences"] == 2


def test_hand_case_sequences_alone():
    # A alone: thresholds inf, .9, .6, .6, .3, 0, -inf; F .4, .428571, .625 (t = .3, Pr = Re = .625), .5556
    a = lt.combine([_data(SEQ_A)])
    assert a["thresholds"] == [math.inf, 0.9, 0.6, 0.6, 0.3, 0.0, -math.inf]
    assert (a["f_score"], a["precision"], a["recall"], a["threshold"]) == pytest.approx((0.625, 0.625, 0.625, 0.3))
    # B alone: F .32 at t = .9 (Pr .8, Re .2), then .2667, .3, .2625, .2333
    b = lt.sequence_metrics(*[_data(SEQ_B)[k] for k in ("overlaps", "confidence", "n_visible")])
    assert (b["f_score"], b["precision"], b["recall"], b["threshold"]) == pytest.approx((0.32, 0.8, 0.2, 0.9))


def test_measures_convenience_matches_combine():
    m = lt.measures([(SEQ_A["traj"], SEQ_A["conf"]), (SEQ_B["traj"], SEQ_B["conf"])],
                    [SEQ_A["gt"], SEQ_B["gt"]], [BOUNDS, BOUNDS])
    assert m["f_score"] == pytest.approx(F_BEST, abs=1e-12)


def test_thresholds_subsampled():
    scores = list(np.arange(250.0)) + [NAN] * 5
    t = lt.determine_thresholds(scores, 100)
    desc = np.arange(250.0)[::-1]
    delta = 250 // 98  # 2
    idx = np.round(np.linspace(delta, 250 - delta, 98)).astype(int)
    assert len(t) == 100 and t[0] == math.inf and t[-1] == -math.inf
    np.testing.assert_array_equal(t[1:-1], desc[idx])
    assert t[1] == 247.0 and t[-2] == 1.0   # indices 2 .. 248 of the decreasing scores
    assert lt.determine_thresholds([], 100).tolist() == [math.inf, -math.inf]
    assert lt.determine_thresholds([0.5, 0.5, NAN], 100).tolist() == [math.inf, 0.5, 0.5, -math.inf]


def test_no_frame_passes_gives_precision_one_recall_zero():
    pr, re = lt.tpr_curves([0.5, 0.7], [NAN, NAN], 2, np.array([math.inf, 0.0, -math.inf]))
    assert pr.tolist() == [1, 1, 1] and re.tolist() == [0, 0, 0]
    pr, re = lt.tpr_curves([0.5, 0.7], [math.inf, 0.1], 2, np.array([math.inf, 0.0]))  # inf >= inf
    assert pr.tolist() == [0.5, 0.6] and re.tolist() == [0.25, 0.6]


def test_f_curve_beta_and_nan_rules():
    f = lt.f_curve(np.array([0.5, 0.0]), np.array([0.25, 0.0]))
    assert f[0] == pytest.approx(2 * 0.5 * 0.25 / 0.75) and np.isnan(f[1])
    # beta weighs the toolkit's first pair member (recall) as the usual formula weighs precision
    assert lt.f_curve(np.array([0.5]), np.array([0.25]), beta=2)[0] == pytest.approx(5 * 0.25 * 0.5 / (4 * 0.25 + 0.5))
    assert lt.best_index([0.0, np.nan, 0.3, 0.3, np.nan]) == 2    # NaN passed over, first maximum
    assert lt.best_index([np.nan, 0.5, 0.9]) == 0                 # Python max keeps a NaN first entry


# ------------------------------------------------------------------ vot-toolkit itself

def _vot():
    try:
        from vot.analysis import longterm as vlt  # noqa: F401
        from vot.region import Special  # noqa: F401
    except Exception as exc:  # ImportError, or attributee 0.1.10's TypeError on Python 3.11
        pytest.skip(f"vot-toolkit not importable ({type(exc).__name__}: {exc}); pip install vot-toolkit "
                    "(on Python 3.11 with attributee==0.1.9)")
    return vlt


def _vot_region(row):
    from vot.region import Special
    from vot.region.shapes import Polygon, Rectangle

    row = [float(v) for v in row]
    if len(row) == 1:
        return Special(int(row[0]))
    if any(math.isnan(v) for v in row):
        return Special(0)
    if len(row) == 4:
        return Rectangle(*row)
    return Polygon(list(zip(row[0::2], row[1::2])))


class _Seq:
    def __init__(self, name, gt, size):
        self.name, self._gt, self.size = name, gt, size

    def groundtruth(self):
        return self._gt

    def object(self, _):
        return None


class _Traj:
    def __init__(self, regions, conf):
        self._r, self._c = regions, conf

    def regions(self):
        return list(self._r)

    def properties(self, i):
        return {} if self._c[i] is None else {"confidence": self._c[i]}

    def __len__(self):
        return len(self._r)


class _Exp:
    def __init__(self, trajs):
        self.trajs = trajs

    def gather(self, tracker, sequence):
        return self.trajs[sequence.name]


def toolkit_measures(sequences):
    """vot-toolkit 0.9.0's own analyses on ``sequences`` = [(name, gt rows, size, [(traj rows, confidences)])]:
    _ConfidenceScores + determine_thresholds, PrecisionRecallCurves.subcompute, PrecisionRecallCurve.aggregate,
    FScoreCurve.compute, PrecisionRecall.compute. A confidence of None is a missing value."""
    vlt = _vot()
    from vot.utilities.data import Grid

    seqs, trajs = [], {}
    for name, gt, size, runs in sequences:
        seqs.append(_Seq(name, [_vot_region(r) for r in gt], size))
        trajs[name] = [_Traj([_vot_region(r) for r in traj], list(conf)) for traj, conf in runs]
    exp = _Exp(trajs)
    scores = [t.properties(i).get("confidence", 0) for s in seqs for t in trajs[s.name] for i in range(len(t))]
    thresholds = vlt.determine_thresholds(scores, 100)
    dep = Grid(1, 1)
    dep[0, 0] = ((thresholds,),)
    per = [vlt.PrecisionRecallCurves().subcompute(exp, None, s, dep) for s in seqs]
    agg = vlt.PrecisionRecallCurve().aggregate(None, seqs, per)
    g = Grid(1, 1)
    g[0, 0] = agg
    fg = vlt.FScoreCurve().compute(exp, [None], seqs, [g])
    pr, re, f = vlt.PrecisionRecall().compute(exp, [None], seqs, [g, fg])[0, 0]
    return {"precision": pr, "recall": re, "f_score": f, "thresholds": thresholds, "curve": agg[0],
            "f_curve": fg[0, 0][0]}


def _random_sequence(rng, name, n, size):
    W, H = size
    gt = []
    visible = rng.random(n) > 0.25
    visible[0] = True
    for i in range(n):
        if not visible[i]:
            gt.append([NAN] * 4)
        elif rng.random() < 0.3:   # a rotated 4-point polygon
            cx, cy, w, h, a = rng.uniform(10, W - 10), rng.uniform(10, H - 10), rng.uniform(4, 30), \
                rng.uniform(4, 30), rng.uniform(0, np.pi)
            c, s = np.cos(a), np.sin(a)
            pts = [(cx + c * dx - s * dy, cy + s * dx + c * dy) for dx, dy in
                   [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]]
            gt.append([v for p in pts for v in p])
        else:
            gt.append([rng.uniform(-5, W - 5), rng.uniform(-5, H - 5), rng.uniform(1, 40), rng.uniform(1, 40)])
    runs = []
    for _ in range(int(rng.integers(1, 3))):
        traj, conf = [[1.0]], [None]                                 # init frame: code 1, no confidence
        for i in range(1, n):
            u = rng.random()
            if u < 0.12:
                traj.append([0.0])                                   # no region ...
                conf.append(NAN if rng.random() < 0.5 else float(rng.choice([0.1, 0.5])))  # ... NaN or a value
            else:
                if visible[i] and rng.random() < 0.7:
                    b = np.asarray(gt[i][:4] if len(gt[i]) == 4 else [gt[i][0] - 8, gt[i][1] - 8, 16, 16])
                    b = b + rng.normal(0, 4, 4)
                    b[2:] = np.abs(b[2:]) + 1
                else:
                    b = [rng.uniform(0, W), rng.uniform(0, H), rng.uniform(2, 30), rng.uniform(2, 30)]
                traj.append([float(v) for v in b])
                conf.append(float(np.round(rng.random(), 2)) if rng.random() < 0.8 else None)  # ties; some missing
        runs.append((traj, conf))
    return name, gt, size, runs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_vot_toolkit_on_random_sequences(seed):
    _vot()
    rng = np.random.default_rng(seed)
    sequences = [_random_sequence(rng, f"s{k}", int(rng.integers(20, 90)), (int(rng.integers(60, 200)),
                                                                           int(rng.integers(60, 160))))
                 for k in range(int(rng.integers(2, 5)))]
    ref = toolkit_measures(sequences)
    data = []
    for _, gt, size, runs in sequences:
        ov = [lt.sequence_overlaps(as_regions(traj), gt, size) for traj, _ in runs]
        cf = [np.array([0.0 if c is None else c for c in conf]) for _, conf in runs]   # missing -> 0
        data.append({"overlaps": ov, "confidence": cf, "n_visible": lt.visible_frames(gt)})
    m = lt.combine(data)
    assert len(m["thresholds"]) == len(ref["thresholds"])
    np.testing.assert_array_equal(m["thresholds"], ref["thresholds"])
    np.testing.assert_allclose(np.asarray(m["pr_curve"]), np.asarray(ref["curve"], dtype=float), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["f_curve"], np.asarray(ref["f_curve"], dtype=float), rtol=0, atol=1e-12)
    for k in ("f_score", "precision", "recall"):
        assert m[k] == pytest.approx(ref[k], abs=1e-12), k


def test_hand_case_agrees_with_vot_toolkit():
    seqs = [(n, s["gt"], BOUNDS, [(s["traj"], [None] + s["conf"][1:])]) for n, s in (("A", SEQ_A), ("B", SEQ_B))]
    ref = toolkit_measures(seqs)
    assert ref["thresholds"] == THRESHOLDS
    assert (ref["f_score"], ref["precision"], ref["recall"]) == pytest.approx((F_BEST, 0.4875, 0.44375), abs=1e-12)


def test_overlaps_agree_with_vot_toolkit():
    _vot()
    from vot.region.raster import calculate_overlaps

    rng = np.random.default_rng(5)
    for k in range(3):
        name, gt, size, runs = _random_sequence(rng, "x", 150, (120, 90))
        traj = runs[0][0]
        ref = calculate_overlaps([_vot_region(r) for r in traj], [_vot_region(r) for r in gt], size)
        np.testing.assert_array_equal(lt.sequence_overlaps(traj, gt, size), ref)


def test_thresholds_agree_with_vot_toolkit():
    vlt = _vot()
    rng = np.random.default_rng(3)
    for n in (0, 5, 98, 99, 250, 1234):
        scores = list(np.round(rng.random(n), 2)) + [NAN] * 3
        assert lt.determine_thresholds(scores, 100).tolist() == vlt.determine_thresholds(scores, 100)
