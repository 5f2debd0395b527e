"""Every number of benchmarks/RESULTS.md section 1 (evaluation), recomputed from ../shared/data.

Each value is asserted twice: the evaluation produces it (rounded as printed), and the
RESULTS.md section prints it, so neither can change without the other.
"""
from __future__ import annotations

import re

import pytest

from bench.evaluate import evaluate
from tests.helpers import ROOT, shared_path


@pytest.fixture(scope="module")
def section1() -> str:
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    return text.split("## 1.", 1)[1].split("\n## 2.", 1)[0]


def _printed(section: str, value: float, digits: int) -> None:
    s = f"{value:.{digits}f}"
    assert re.search(r"(?<![\d.])" + re.escape(s) + r"(?![\d])", section), f"{s} is not in RESULTS.md section 1"


def test_otb100_rows(section1):
    root = shared_path("sot", "otb100")
    rep = evaluate("otb100", root / "results" / "DaSiamRPN", root=root)
    m = rep["metrics"]
    assert (round(m["success_auc"], 4), round(m["precision_20"], 4)) == (0.6578, 0.8802)
    for v in (0.6578, 0.8802):
        _printed(section1, v, 4)
    for tracker, auc in (("SiamFC-3s", 0.5824), ("cfnet-conv2", 0.5679), ("SiamRPN++", 0.6956)):
        got = evaluate("otb100", root / "results" / tracker, root=root)["metrics"]["success_auc"]
        assert round(got, 4) == auc
        _printed(section1, auc, 4)


@pytest.mark.parametrize("convention, acc, eao", [("vot-toolkit", 0.57826, 0.29085), ("pysot", 0.58042, 0.29759)])
def test_vot2019_ocean_rows(section1, convention, acc, eao):
    root = shared_path("sot", "vot2019")
    m = evaluate("vot2019", root / "results" / "Ocean", root=root, convention=convention)["metrics"]
    assert (round(m["accuracy"], 5), round(m["eao"], 5)) == (acc, eao)
    assert m["failures"] == 82
    _printed(section1, acc, 5)
    _printed(section1, eao, 5)


def test_reproduce_otb100_row(section1, capsys):
    from bench.cli import main

    root = shared_path("sot", "otb100")
    assert main(["reproduce", "--published", "otb100", "--root", str(root), "--results", str(root / "results")]) == 0
    out = capsys.readouterr().out
    got = re.search(r"(\d+)/(\d+) checked values agree", out)
    assert got and got.group(1) == got.group(2) == "7"
    assert "7/7 checked values agree" in section1


def test_lif_t_row(section1):
    root = shared_path("mot", "MOT17")
    m = evaluate("mot17", root / "trackers" / "Lif_T" / "data", root=root)["metrics"]
    pct = {k: round(100 * m[k], 2) for k in ("mota", "idf1", "hota")}
    assert pct == {"mota": 66.98, "idf1": 72.35, "hota": 62.86}
    counts = {k: m[k] for k in ("fp", "fn", "idsw", "mt", "ml")}
    assert counts == {"fp": 2655, "fn": 107803, "idsw": 791, "mt": 679, "ml": 364}
    for v in pct.values():
        _printed(section1, v, 2)
    for k, v in counts.items():
        assert f"{k.upper()} {v}" in section1


def test_tud_rows(section1):
    root = shared_path("mot", "MOT15")
    rep = evaluate("mot15", root / "trackers" / "motmetrics-sample" / "data", root=root,
                   sequences=["TUD-Campus", "TUD-Stadtmitte"])
    hota = [round(100 * rep["sequences"][s]["hota"], 2) for s in ("TUD-Campus", "TUD-Stadtmitte")]
    assert hota == [39.14, 39.78]
    assert "HOTA 39.14 / 39.78" in section1
