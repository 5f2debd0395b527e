"""VOT reset-based metrics: hand-worked trajectories (EAO written out by hand) and the
VOT2019 Ocean raw results against the two reference implementations' numbers."""
import numpy as np
import pytest

from bench.core.regions import as_regions
from bench.metrics import vot as V
from tests.helpers import shared_path

SIZE = (100, 100)
# per convention: a gt rectangle and two predictions whose rasterised overlap is 1.0 and 0.5
# vot-toolkit: [0,0,10,10] covers 10 x 10 pixels; [0,0,10,5] covers 10 x 5 -> 50 / 100
# pysot: a box covers (w + 1) x (h + 1) pixels: [0,0,9,9] -> 100, [0,0,9,4] -> 50 -> 0.5
BOXES = {"vot-toolkit": ([0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 5]),
         "pysot": ([0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 4])}


def _case(convention):
    gt_box, one, half = BOXES[convention]
    # A (8 frames): init, 1.0, 0.5, failure at frame 3; 3 + 5 = 8 is past the end: no re-init
    a = as_regions([[1.0], one, half, [2.0], [0.0], [0.0], [0.0], [0.0]])
    # B (4 frames): init, 0.5, 0.5, 1.0, no failure
    b = as_regions([[1.0], half, half, one])
    # C (12 frames): init, 1.0, failure at 2, skipped 3..6, re-init at 7 = 2 + 5, 0.5, 0.5, 1.0, 1.0
    c = as_regions([[1.0], one, [2.0], [0.0], [0.0], [0.0], [0.0], [1.0], half, half, one, one])
    gts = {k: as_regions([gt_box] * n) for k, n in (("A", 8), ("B", 4), ("C", 12))}
    return {"A": a, "B": b, "C": c}, gts


def _seq(conv, names, burnin=1):
    runs, gts = _case(conv)
    return [V.sequence_metrics([runs[n]], gts[n], SIZE, convention=conv, burnin=burnin) for n in names]


def test_eao_by_hand_vot_toolkit():
    per = _seq("vot-toolkit", "AB")
    # fragments: A -> o[0:3] = [0, 1, .5] failed (zero-padded, masked everywhere);
    #            B -> o[0:4] = [0, .5, .5, 1] succeeded (masked over its 4 frames)
    # c[j] = mean over fragments of mean(o[1:j+1]):
    #   c[1] = (1 + .5) / 2 = .75; c[2] = (.75 + .5) / 2 = .625; c[3] = (.5 + 2/3) / 2 = 7/12
    out = V.combine(per, (1, 3), convention="vot-toolkit")
    np.testing.assert_allclose(out["eao_curve"][1:], [0.75, 0.625, 7 / 12], atol=1e-12)
    assert out["eao"] == pytest.approx((0.75 + 0.625 + 7 / 12) / 3, abs=1e-12)   # 0.652778
    # accuracy with burn-in 1: A mean(1, .5) = .75, B mean(.5, .5, 1) = 2/3, weighted 8 : 4
    assert out["accuracy"] == pytest.approx((0.75 * 8 + 2 / 3 * 4) / 12)
    # robustness: failures per sequence (1, 0) weighted by length -> 8/12; AR exp(-30 * R / 6)
    assert out["failures"] == 1 and out["robustness"] == pytest.approx(8 / 12)
    assert out["ar_robustness"] == pytest.approx(np.exp(-30 * (8 / 12) / 6))
    # the VOT burn-in of 10 masks every frame of A and B: accuracy 0 by vot-toolkit's rule
    assert V.combine(_seq("vot-toolkit", "AB", burnin=10), (1, 3))["accuracy"] == 0.0


def test_eao_by_hand_pysot():
    per = _seq("pysot", "AB")
    # A: failure 3, 3 + 5 = 8 <= 8 -> points [0, 8]; fragment o[0:9] (8 values, NaN -> 0)
    #    = [0, 1, .5, 0, 0, 0, 0, 0], weight sum(all[0:9]) / 9 = 8/9; last fragment o[8:] empty, weight 0
    # B: no failure: [nan, .5, .5, 1], weight 1
    # e[1] = (1 * 8/9 + .5) / (17/9) = 25/34; e[2] = (.75 * 8/9 + .5) / (17/9) = 21/34;
    # e[3] = (.5 * 8/9 + 2/3) / (17/9) = 20/34; e[4..7] = A alone: 1.5/4, 1.5/5, 1.5/6, 1.5/7
    out = V.combine(per, (2, 4), convention="pysot")
    expect = [1, 25 / 34, 21 / 34, 20 / 34, 1.5 / 4, 1.5 / 5, 1.5 / 6, 1.5 / 7]
    np.testing.assert_allclose(out["eao_curve"], expect, atol=1e-7)  # float32 curve, as pysot
    # pysot averages e[low - 1 : high] = e[1:4]
    assert out["eao"] == pytest.approx((25 + 21 + 20) / 34 / 3, abs=1e-7)
    # accuracy: pooled NaN-mean of frames 1.0, .5 (A) and .5, .5, 1.0 (B) = 3.5 / 5
    assert out["accuracy"] == pytest.approx(0.7)
    # robustness: 1 failure in 12 frames, per 100 frames
    assert out["robustness"] == pytest.approx(100 / 12)


def test_eao_reinit_fragment_both_conventions():
    # C: vot-toolkit fragments o[0:2] = [0, 1] (failed) and o[7:12] = [0, .5, .5, 1, 1] (success);
    # pysot fragments o[0:8] = [0, 1, 0, ..., 0] (failed, weight 8/8) and o[7:] (weight 5/5)
    # c[1] = (1 + .5)/2 = .75, c[2] = (.5 + .5)/2 = .5, c[3] = (1/3 + 2/3)/2 = .5, c[4] = (1/4 + 3/4)/2 = .5
    vt = V.combine(_seq("vot-toolkit", "C"), (1, 4), convention="vot-toolkit")
    np.testing.assert_allclose(vt["eao_curve"][1:5], [0.75, 0.5, 0.5, 0.5], atol=1e-12)
    assert len(vt["eao_curve"]) == 5
    ps = V.combine(_seq("pysot", "C"), (2, 5), convention="pysot")
    np.testing.assert_allclose(ps["eao_curve"][1:5], [0.75, 0.5, 0.5, 0.5], atol=1e-7)
    np.testing.assert_allclose(ps["eao_curve"][5:], [1 / 5, 1 / 6, 1 / 7], atol=1e-7)  # the failed one alone
    assert vt["eao"] == pytest.approx(ps["eao"], abs=1e-7)  # same windows shifted by one: 0.5625


def test_eao_curve_functions_directly():
    frags = [(np.array([0, 0.8, 0.6]), False), (np.array([0, 0.4]), True)]
    c = V.eao_curve_vot(frags)
    # c[1] = (.8 + .4) / 2; c[2]: the success fragment (length 2) is no longer masked: .7
    np.testing.assert_allclose(c, [0, 0.6, 0.7])
    assert V.eao_score(c, (1, 2), "vot-toolkit") == pytest.approx(0.65)
    assert V.eao_score(c, (1, 2), "pysot") == pytest.approx(0.3)  # c[0:2]
    p = V.eao_curve_pysot([(np.array([0, 0.8, 0.6]), "zero"), (np.array([np.nan, 0.4]), "nan")], [1, 3])
    np.testing.assert_allclose(p, [1, (0.8 + 3 * 0.4) / 4, 0.7], atol=1e-7)


def test_burnin_mask_and_bad_runs():
    codes = np.array([1, -1, -1, 2, 0, 0, 1, -1, -1])
    assert V.burnin_mask(codes, 2).tolist() == [1, 1, 0, 0, 0, 0, 1, 1, 0]
    with pytest.raises(ValueError):
        V.sequence_metrics([as_regions([[2.0], [0, 0, 1, 1]])], as_regions([[0, 0, 1, 1]] * 2), SIZE)
    with pytest.raises(ValueError):
        V.sequence_metrics([as_regions([[1.0]] * 3)], as_regions([[0, 0, 1, 1]] * 2), SIZE)
    with pytest.raises(ValueError):
        V.combine(_seq("pysot", "A"), (1, 2), convention="vot-toolkit")


def test_repetitions_average():
    runs, gts = _case("vot-toolkit")
    two = V.sequence_metrics([runs["A"], runs["A"]], gts["A"], SIZE, burnin=1)
    one = V.sequence_metrics([runs["A"]], gts["A"], SIZE, burnin=1)
    assert two["failures"] == one["failures"] == 1 and two["accuracy"] == one["accuracy"]
    assert len(two["_fragments"]) == 2


# ----------------------------------------------------------------------------------
# real data: VOT2019 Ocean (no images: frame size from the ground truth's extent)
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("convention, accuracy, eao, robustness", [
    ("vot-toolkit", 0.5783, 0.2909, 1.1527),
    ("pysot", 0.5804, 0.2976, 0.4113),
])
def test_vot2019_ocean_matches_references(convention, accuracy, eao, robustness):
    from bench.evaluate import evaluate as evaluate_results

    root = shared_path("sot", "vot2019")
    rep = evaluate_results("vot2019", root / "results" / "Ocean", root=root, convention=convention)
    m = rep["metrics"]
    assert m["failures"] == 82
    assert abs(m["accuracy"] - accuracy) < 5e-4
    assert abs(m["eao"] - eao) < 5e-4
    assert abs(m["robustness"] - robustness) < 5e-4
    if convention == "vot-toolkit":
        assert abs(m["ar_robustness"] - 0.9012) < 5e-4
    assert rep["protocol"]["convention"] == convention and rep["protocol"]["eao_interval"] == [46, 291]
    assert any("fish1_001.txt" in w and "truncated" in w for w in rep["warnings"])
    assert any("extent" in w for w in rep["warnings"])
    assert len(rep["sequences"]) == 60 and sum(s["failures"] for s in rep["sequences"].values()) == 82
