"""The command line end to end: run (synthetic, OPE and VOT), eval and report on real files, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.registry import TRACKERS, register_tracker
from bench.core.tracker import SOTTracker
from tests.conftest import shared_path

SEQS = ["test000-distractors", "test004-scale", "test005-illumination"]
PNG = b"\x89PNG\r\n\x1a\n"


def is_png(p: Path) -> bool:
    return p.is_file() and p.read_bytes()[:8] == PNG


def check_fraction(v):
    assert v is not None and 0.0 <= v <= 1.0, v


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    import io
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--sequences", ",".join(SEQS),
                     "--dataset-option", "length=40", "--out", str(out), "--quiet"])
    return code, buf.getvalue(), out


def test_run_writes_results_report_table_plots(synthetic_run):
    code, stdout, out = synthetic_run
    assert code == 0, stdout
    tdir = out / "synthetic" / "ncc"
    for s in SEQS:
        rows = np.loadtxt(tdir / f"{s}.txt", delimiter=",")
        assert rows.shape == (40, 4)
        assert np.loadtxt(tdir / f"{s}_time.txt").shape == (40,)
    rdir = out / "reports" / "synthetic" / "ncc"
    report = json.loads((rdir / "report.json").read_text())
    assert {"dataset", "tracker", "protocol", "metrics", "sequences"} <= set(report)
    assert report["dataset"] == "synthetic" and report["tracker"] == "ncc" and report["protocol"]["name"] == "ope"
    m = report["metrics"]
    for k in ("success_auc", "precision_20", "norm_precision_20", "success_rate_50"):
        check_fraction(m[k])
    assert len(m["success_curve"]) == 21 and len(m["precision_curve"]) == 51
    assert all(0 <= v <= 1 for v in m["success_curve"] + m["precision_curve"])
    assert m["fps"] > 0
    assert set(report["sequences"]) == set(SEQS)
    assert m["success_auc"] == pytest.approx(np.mean([report["sequences"][s]["success_auc"] for s in SEQS]))
    table = (rdir / "table.txt").read_text()
    assert "AUC" in table and "FPS" in table and "test004-scale" in table
    for png in ("success.png", "precision.png", "attributes.png"):
        assert is_png(rdir / png), png
    # the printed summary: the metrics table and the speed
    assert "AUC" in stdout and f"{m['success_auc']:.3f}" in stdout and "FPS" in stdout
    assert "3 sequences run, 0 already finished" in stdout


def test_rerun_skips_and_reports_again(synthetic_run, capsys):
    _, _, out = synthetic_run
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--sequences", ",".join(SEQS),
                 "--dataset-option", "length=40", "--out", str(out), "--quiet"]) == 0
    stdout = capsys.readouterr().out
    assert "0 sequences run, 3 already finished (skipped)" in stdout and "AUC" in stdout


class Crashy(SOTTracker):
    """Raises in the second sequence it is started on."""

    calls = 0

    def init(self, image, box):
        type(self).calls += 1
        if type(self).calls == 2:
            raise RuntimeError("simulated tracker bug")
        self.box = np.asarray(box, float)

    def update(self, image):
        return self.box, 1.0


if "test-crashy" not in TRACKERS._entries:
    register_tracker("test-crashy", kind="sot")(Crashy)


def test_failing_sequence_is_reported_and_others_continue(tmp_path, capsys):
    Crashy.calls = 0
    code = main(["run", "--tracker", "test-crashy", "--dataset", "synthetic", "--sequences", ",".join(SEQS),
                 "--dataset-option", "length=20", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED sequences (1)" in out and f"{SEQS[1]}: RuntimeError: simulated tracker bug" in out
    tdir = tmp_path / "synthetic" / "test-crashy"
    assert (tdir / f"{SEQS[0]}.txt").is_file() and (tdir / f"{SEQS[2]}.txt").is_file()
    assert not (tdir / f"{SEQS[1]}.txt").exists()
    log = (tmp_path / "reports" / "synthetic" / "test-crashy" / "errors.log").read_text()
    assert "Traceback" in log and "simulated tracker bug" in log
    # the others were still evaluated
    report = json.loads((tmp_path / "reports" / "synthetic" / "test-crashy" / "report.json").read_text())
    assert set(report["sequences"]) == {SEQS[0], SEQS[2]}


def test_eval_shared_otb_files(tmp_path, capsys):
    root = shared_path("sot", "otb100")
    js = tmp_path / "r.json"
    assert main(["eval", "--dataset", "otb100", "--root", str(root), "--results",
                 str(root / "results" / "DaSiamRPN"), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("DaSiamRPN"))
    assert line.split()[1:3] == ["0.658", "0.880"]
    report = json.loads(js.read_text())
    assert report["tracker"] == "DaSiamRPN" and len(report["sequences"]) == 100
    assert round(report["metrics"]["success_auc"], 3) == 0.658


def test_report_two_trackers(tmp_path, capsys):
    root = shared_path("sot", "otb100")
    out_dir = tmp_path / "rep"
    assert main(["report", "--dataset", "otb100", "--root", str(root), "--results", str(root / "results"),
                 "--trackers", "DaSiamRPN,SiamFC-3s", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "DaSiamRPN" in out and "SiamFC-3s" in out
    reports = json.loads((out_dir / "reports.json").read_text())
    assert [r["tracker"] for r in reports] == ["DaSiamRPN", "SiamFC-3s"]
    assert round(reports[1]["metrics"]["success_auc"], 3) == 0.582
    for png in ("success.png", "precision.png", "attributes.png"):
        assert is_png(out_dir / png), png
    assert "SiamFC-3s" in (out_dir / "table.txt").read_text()


def test_report_paired_comparison(tmp_path, capsys):
    """--paired BASELINE: per-sequence differences over the 100 OTB sequences of the published raw results."""
    root = shared_path("sot", "otb100")
    out_dir = tmp_path / "rep"
    assert main(["report", "--dataset", "otb100", "--root", str(root), "--results", str(root / "results"),
                 "--trackers", "DaSiamRPN,SiamFC-3s", "--out", str(out_dir), "--paired", "SiamFC-3s"]) == 0
    out = capsys.readouterr().out
    assert "Paired success_auc differences" in out
    rows = json.loads((out_dir / "paired.json").read_text())
    reports = json.loads((out_dir / "reports.json").read_text())
    (row,) = rows
    assert row["tracker"] == "DaSiamRPN" and row["baseline"] == "SiamFC-3s" and row["n"] == 100
    diff = reports[0]["metrics"]["success_auc"] - reports[1]["metrics"]["success_auc"]
    assert row["mean_diff"] == pytest.approx(diff, abs=1e-9) and round(diff, 3) == 0.075
    assert 0 < row["ci95"][0] < diff < row["ci95"][1]      # a real difference: the interval excludes 0
    assert row["wins"] + row["ties"] + row["losses"] == 100 and row["wins"] > row["losses"]
    assert "DaSiamRPN" in (out_dir / "paired.txt").read_text()
    assert main(["report", "--dataset", "otb100", "--root", str(root), "--results", str(root / "results"),
                 "--trackers", "DaSiamRPN,SiamFC-3s", "--out", str(out_dir), "--paired", "SiamFX"]) == 2


def test_exit_codes(tmp_path, capsys):
    root = shared_path("sot", "otb100")
    assert main(["eval", "--dataset", "otb100", "--root", str(root), "--results", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert main(["eval", "--dataset", "otb100", "--root", str(tmp_path / "no-otb"), "--results", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no-otb" in err and "Traceback" not in err
    assert main(["report", "--dataset", "otb100", "--root", str(root), "--results", str(root / "results"),
                 "--trackers", "DaSiamRPM"]) == 2
    assert "Did you mean 'DaSiamRPN'" in capsys.readouterr().err
    assert main(["run", "--tracker", "ncc"]) == 2  # usage error: --dataset missing
    assert main(["run", "--tracker", "sort", "--dataset", "synthetic"]) == 1
    assert "multi-object tracker" in capsys.readouterr().err


def test_export_then_run_vot_protocol(tmp_path, capsys):
    exported = tmp_path / "vot"
    assert main(["export", "--dataset", "synthetic", "--format", "vot", "--out", str(exported),
                 "--sequences", "test003-fast-motion,test004-scale"]) == 0
    capsys.readouterr()
    code = main(["run", "--tracker", "ncc", "--dataset", "vot2018", "--root", str(exported),
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    base = tmp_path / "out" / "vot2018" / "ncc" / "baseline"
    lines = (base / "test004-scale" / "test004-scale_001.txt").read_text().split()
    assert lines[0] == "1" and all(l in ("0", "1", "2") or l.count(",") == 3 for l in lines)
    report = json.loads((tmp_path / "out" / "reports" / "vot2018" / "ncc" / "report.json").read_text())
    assert report["protocol"]["name"] == "vot"
    for k in ("accuracy", "eao"):
        check_fraction(report["metrics"][k])
    assert report["metrics"]["failures"] >= 0 and len(report["metrics"]["eao_curve"]) > 0
    rdir = tmp_path / "out" / "reports" / "vot2018" / "ncc"
    assert is_png(rdir / "eao.png") and is_png(rdir / "ar.png")
    assert "EAO" in out and "Accuracy" in out


def test_run_and_compare_mot(tmp_path, capsys):
    code = main(["run", "--tracker", "sort", "--dataset", "synthetic-mot", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "HOTA" in out and "MOTA" in out and "IDF1" in out
    assert len(list((tmp_path / "synthetic-mot" / "sort" / "data").glob("*.txt"))) == 4
    report = json.loads((tmp_path / "reports" / "synthetic-mot" / "sort" / "report.json").read_text())
    for k in ("mota", "idf1", "hota"):
        assert report["metrics"][k] <= 1.0
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic-mot", "--out", str(tmp_path)]) == 1
    assert "sot-ncc" in capsys.readouterr().err
    # compare reuses sort's finished results and runs bytetrack
    code = main(["compare", "--dataset", "synthetic-mot", "--trackers", "sort,bytetrack", "--out", str(tmp_path),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [l.split() for l in out.splitlines()]
    assert [l[0] for l in lines if l and l[0] in ("sort", "bytetrack")] == ["sort", "bytetrack"]
    assert (tmp_path / "synthetic-mot" / "compare.json").is_file() and is_png(tmp_path / "synthetic-mot" / "compare.png")


def test_readme_quick_start_is_what_ci_runs():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [l.strip() for l in block.strip().splitlines() if l.strip()]
    assert len(commands) == 2 and commands[0].startswith("pip install -e") and "bench run" in commands[0]
    ci = (root / ".ci" / "run").read_text()
    ci_lines = [l.strip() for l in ci.splitlines()]
    for c in commands:
        assert c in ci_lines, f".ci/run does not run the README command: {c}"
    assert "set -euo pipefail" in ci and "export BENCH_REQUIRE_SHARED=1" in ci
