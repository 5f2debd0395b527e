"""bench.compare: run or reuse trackers of any protocol, one table, JSON and plots."""
import json
import warnings

import pytest

from bench.core.errors import BenchError
from tests.helpers import shared_path


@pytest.fixture(scope="module")
def mot15_root():
    return shared_path("mot", "MOT15")


@pytest.fixture(scope="module")
def first_run(mot15_root, tmp_path_factory):
    from bench.compare import compare

    warnings.simplefilter("ignore")
    out = tmp_path_factory.mktemp("cmp")
    res = compare("mot15", "sort,bytetrack", root=mot15_root, out=out, progress=False,
                  sequences=["TUD-Campus", "TUD-Stadtmitte", "KITTI-17"])
    return out, res


def test_compare_rows_match_evaluate(first_run, mot15_root):
    from bench.evaluate import evaluate

    out, res = first_run
    assert [r["tracker"] for r in res["rows"]] == ["sort", "bytetrack"]
    for row in res["rows"]:
        rep = evaluate("mot15", out / "mot15" / row["tracker"], row["tracker"], root=mot15_root,
                       sequences=["TUD-Campus", "TUD-Stadtmitte", "KITTI-17"])
        for k in ("mota", "idf1", "hota", "idsw", "fp", "fn"):
            assert row[k] == rep["metrics"][k]
        assert isinstance(row["idsw"], int) and 0 <= row["hota"] <= 1
        assert row["fps"] > 0
    data = json.loads((out / "mot15" / "compare.json").read_text())
    assert data["rows"] == res["rows"] and [r["tracker"] for r in data["reports"]] == ["sort", "bytetrack"]
    assert (out / "mot15" / "compare.png").stat().st_size > 1000
    assert len(json.loads((out / "mot15" / "reports.json").read_text())) == 2


def test_compare_reuses_finished_results(first_run, mot15_root, monkeypatch):
    from bench.compare import compare
    from bench.protocols.mot import MOT

    out, res = first_run

    def boom(*a, **k):
        raise AssertionError("no sequence may be run again when every one is finished")

    monkeypatch.setattr(MOT, "run", boom)
    again = compare("mot15", ["sort"], root=mot15_root, out=out, progress=False, plot=False,
                    sequences=["TUD-Campus", "TUD-Stadtmitte", "KITTI-17"])
    assert again["rows"][0] == res["rows"][0]
    assert not (out / "mot15" / "compare.png").stat().st_size == 0


def test_compare_table_in_percent_like_run_and_cli(first_run, mot15_root, capsys):
    from bench.cli import main

    out, res = first_run
    lines = res["table"].splitlines()
    assert lines[0].split() == ["Tracker", "HOTA", "MOTA", "IDF1", "MOTP", "FP", "FN", "IDSW", "MT", "ML", "FPS"]
    sort = res["rows"][0]
    assert lines[2].split()[:4] == ["sort", f"{100 * sort['hota']:.2f}", f"{100 * sort['mota']:.2f}",
                                    f"{100 * sort['idf1']:.2f}"]
    capsys.readouterr()
    assert main(["compare", "--dataset", "mot15", "--trackers", "sort", "--root", str(mot15_root),
                 "--out", str(out), "--quiet", "--sequences", "TUD-Campus,TUD-Stadtmitte,KITTI-17"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[2].split()[:4] == lines[2].split()[:4]
    # bench eval prints the same convention (percent) for the same folder
    assert main(["eval", "--dataset", "mot15", "--root", str(mot15_root), "--results", str(out / "mot15" / "sort"),
                 "--sequences", "TUD-Campus,TUD-Stadtmitte,KITTI-17"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:4] == lines[2].split()[:4]


def test_compare_sot_trackers(tmp_path):
    from bench.compare import compare

    res = compare("synthetic", "identity,ncc", out=tmp_path, progress=False,
                  dataset_options={"length": 20, "num_sequences": 2})
    assert [r["tracker"] for r in res["rows"]] == ["identity", "ncc"]
    assert "success_auc" in res["rows"][0] and (tmp_path / "synthetic" / "success.png").is_file()


def test_compare_overrides_change_results(mot15_root, tmp_path):
    from bench.compare import compare

    warnings.simplefilter("ignore")
    res = compare("mot15", "sort", root=mot15_root, out=tmp_path, progress=False, plot=False,
                  sequences=["TUD-Campus"], overrides={"sort": ["min_hits=1"]})
    base = compare("mot15", "sort", root=mot15_root, out=tmp_path / "b", progress=False, plot=False,
                   sequences=["TUD-Campus"])
    assert res["sequences"] == ["TUD-Campus"]
    assert res["rows"][0]["fn"] < base["rows"][0]["fn"]          # min_hits 1 reports tracks earlier
    with pytest.raises(BenchError, match="holds results of another run"):  # the same folder, other settings
        compare("mot15", "sort", root=mot15_root, out=tmp_path, progress=False, plot=False,
                sequences=["TUD-Campus"])


def test_compare_errors(mot15_root, tmp_path):
    from bench.compare import compare

    with pytest.raises(BenchError, match="twice"):
        compare("mot15", "sort,sort", root=mot15_root, out=tmp_path)
    with pytest.raises(BenchError, match="sot-identity"):
        compare("mot15", "identity", root=mot15_root, out=tmp_path, progress=False)
    with pytest.raises(BenchError, match="single-object dataset"):
        compare("synthetic", "sort", out=tmp_path, progress=False)
