"""`bench reproduce`: published tables vs the shared raw result files."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import ConfigError
from bench.published import compare, failed, load_published
from tests.conftest import ROOT, shared_path

OTB100 = str(ROOT / "configs" / "published" / "otb100.yaml")


def test_reproduce_otb100_passes_on_shared_files(capsys):
    root = shared_path("sot", "otb100")
    code = main(["reproduce", "--published", OTB100, "--root", str(root),
                 "--results", str(root / "results")])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {(l.split()[0], l.split()[2]): l for l in out.splitlines() if l.startswith(("DaSiamRPN ", "SiamFC "))}
    auc = rows[("DaSiamRPN", "success_auc")].split()
    assert auc[3] == "0.6580" and auc[4].startswith("0.657") and auc[-1] == "ok"
    prec = rows[("DaSiamRPN", "precision_20")].split()
    assert prec[3] == "0.8800" and prec[4].startswith("0.880") and prec[-1] == "ok"
    assert rows[("SiamFC", "success_auc")].split()[-1] == "ok"
    assert "0.58" in rows[("SiamFC", "success_auc")]
    assert "No results (not checked): " in out and "MDNet" in out and "ADNet" in out
    assert "SiamRPN++" in out and "not checked" in out  # the documented caveat is shown


def test_reproduce_by_name_and_tracker_subset(capsys):
    root = shared_path("sot", "otb100")
    assert main(["reproduce", "--published", "otb100", "--root", str(root), "--results", str(root / "results"),
                 "--trackers", "SiamFC-3s"]) == 0
    out = capsys.readouterr().out
    assert "SiamFC-3s" in out and "DaSiamRPN " not in out
    assert main(["reproduce", "--published", "otb99", "--root", str(root), "--results", str(root)]) == 2
    assert "Did you mean 'otb100'" in capsys.readouterr().err


def test_doctored_results_fail(tmp_path, capsys):
    root = shared_path("sot", "otb100")
    doctored = tmp_path / "results" / "DaSiamRPN"
    shutil.copytree(root / "results" / "DaSiamRPN", doctored)
    # shift every box of three sequences by 30 px: the AUC moves far beyond the rounding
    for name in ("Basketball.txt", "Biker.txt", "Bird1.txt"):
        p = doctored / name
        rows = np.loadtxt(p, delimiter=",")
        rows[:, 0] += 30
        np.savetxt(p, rows, delimiter=",", fmt="%.2f")
    code = main(["reproduce", "--published", "otb100", "--root", str(root), "--results", str(tmp_path / "results"),
                 "--trackers", "DaSiamRPN"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "FAILED: DaSiamRPN/success_auc" in out


def test_rule_and_validation(tmp_path):
    table = load_published(OTB100)
    fake = {"success_auc": 0.6584, "precision_20": 0.8796, "success_rate_50": 0.86549}

    def evaluate(name, folder):
        return {"metrics": fake}

    (tmp_path / "DaSiamRPN").mkdir()
    rows = compare(table, tmp_path, evaluate, ["DaSiamRPN"])
    assert [r.status for r in rows] == ["ok", "ok", "ok", "ok"]
    fake["success_auc"] = 0.6586  # rounds to 0.659: exceeds half a unit of the stated rounding
    rows = compare(table, tmp_path, evaluate, ["DaSiamRPN"])
    assert [r.metric for r in failed(rows)] == ["success_auc"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: otb100\nentries:\n  - tracker: X\n    source: somewhere\n"
                   "    values:\n      success_auc: {value: 0.5, rounding: 0.001, tolerance: 0.01}\n")
    with pytest.raises(ConfigError, match="tolerance_reason"):
        load_published(bad)
    bad.write_text("dataset: otb100\nentries:\n  - tracker: X\n    values:\n      success_auc: {value: 0.5}\n")
    with pytest.raises(ConfigError, match="missing 'source'"):
        load_published(bad)
