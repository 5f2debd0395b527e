"""Paired tracker comparison (bench/report/paired.py): hand-worked cases."""
from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import BenchError, UnknownNameError
from bench.report.paired import paired_difference, paired_rows, paired_table, per_sequence


def _report(name, values, protocol="ope", key="success_auc"):
    return {"tracker": name, "protocol": {"name": protocol},
            "sequences": {s: {key: v} for s, v in values.items()}}


def test_paired_difference_by_hand():
    a = {"s1": 0.5, "s2": 0.6, "s3": 0.7, "only_a": 0.9}
    b = {"s1": 0.6, "s2": 0.6, "s3": 0.5, "only_b": 0.1}
    r = paired_difference(a, b, n_boot=2000)
    assert r["n"] == 3 and r["sequences"] == ["s1", "s2", "s3"]          # common sequences only
    assert r["mean_diff"] == pytest.approx((0.1 + 0.0 - 0.2) / 3)
    assert r["mean_a"] == pytest.approx(0.6) and r["mean_b"] == pytest.approx(17 / 30)
    assert (r["wins"], r["ties"], r["losses"]) == (1, 1, 1)
    lo, hi = r["ci95"]
    assert -0.2 <= lo < r["mean_diff"] < hi <= 0.1                    # bootstrap means lie within the diffs
    assert paired_difference(a, b, n_boot=2000) == r                    # fixed seed: deterministic
    same = paired_difference({"x": 0.2, "y": 0.4}, {"x": 0.3, "y": 0.5})
    assert same["ci95"] == pytest.approx([0.1, 0.1]) and same["wins"] == 2
    with pytest.raises(BenchError, match="no sequence in common"):
        paired_difference({"x": 1.0}, {"y": 1.0})


def test_interval_narrows_with_more_sequences():
    rng = np.random.default_rng(1)
    def ci(n):
        d = rng.normal(0.02, 0.1, n)
        r = paired_difference({str(i): 0.5 for i in range(n)}, {str(i): 0.5 + d[i] for i in range(n)})
        return r["ci95"][1] - r["ci95"][0]
    assert ci(400) < ci(25) / 2      # width ~ 1 / sqrt(n): 16x the sequences, ~1/4 the width


def test_paired_rows_and_errors():
    reps = [_report("A", {"s1": 0.5, "s2": 0.5}), _report("B", {"s1": 0.7, "s2": float("nan")}),
            _report("C", {"s1": 0.4, "s2": 0.6})]
    assert per_sequence(reps[1], "success_auc") == {"s1": 0.7}          # NaN skipped
    rows = paired_rows(reps)
    assert [r["tracker"] for r in rows] == ["B", "C"] and rows[0]["n"] == 1
    assert rows[0]["mean_diff"] == pytest.approx(0.2)
    rows = paired_rows(reps, "C")
    assert [r["tracker"] for r in rows] == ["A", "B"] and rows[0]["baseline"] == "C"
    assert "95% CI" in paired_table(rows) and "A" in paired_table(rows)
    assert paired_rows(reps[:1]) == [] and "nothing to compare" in paired_table([])
    with pytest.raises(UnknownNameError):
        paired_rows(reps, "D")
    vot = [_report("A", {"s": 1.0}, "vot", "accuracy"), _report("B", {"s": 1.0}, "vot", "accuracy")]
    with pytest.raises(BenchError, match="vot"):
        paired_rows(vot)
    got = [_report("A", {"s": 0.5}, "got10k", "ao"), _report("B", {"s": 0.75}, "got10k", "ao")]
    assert paired_rows(got)[0]["metric"] == "ao" and paired_rows(got)[0]["mean_diff"] == pytest.approx(0.25)
