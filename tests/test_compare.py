"""bench.compare: run or reuse MOT trackers, one table, JSON and plot."""
import json
import warnings

import pytest

from bench.core.errors import BenchError

from tests.conftest import shared_path


@pytest.fixture(scope="module")
def mot15_root():
    return shared_path("mot", "MOT15")


@pytest.fixture(scope="module")
def first_run(mot15_root, tmp_path_factory):
    from bench.compare import compare

    warnings.simplefilter("ignore")
    out = tmp_path_factory.mktemp("cmp")
    res = compare("mot15", "sort,bytetrack", root=mot15_root, out=out, progress=False)
    return out, res


def test_compare_rows_match_evaluate_mot(first_run, mot15_root):
    from bench.metrics.mot import evaluate_mot
    from bench.results.mot import tracker_dir

    out, res = first_run
    assert [r["tracker"] for r in res["rows"]] == ["sort", "bytetrack"]
    for row in res["rows"]:
        rep = evaluate_mot("mot15", tracker_dir(out, "mot15", row["tracker"]), tracker=row["tracker"],
                           root=mot15_root)
        for k in ("mota", "idf1", "hota", "idsw", "fp", "fn"):
            assert row[k] == rep["metrics"][k]
        assert isinstance(row["idsw"], int) and 0 <= row["hota"] <= 1
        assert row["fps"] > 0
    data = json.loads((out / "mot15" / "compare.json").read_text())
    assert data["rows"] == res["rows"] and set(data["reports"]) == {"sort", "bytetrack"}
    assert (out / "mot15" / "compare.png").stat().st_size > 1000


def test_compare_reuses_finished_results(first_run, mot15_root, monkeypatch):
    import bench.protocols.mot as proto
    from bench.compare import compare

    out, res = first_run

    def boom(*a, **k):
        raise AssertionError("run_mot must not be called when every sequence is finished")

    monkeypatch.setattr(proto, "run_mot", boom)
    again = compare("mot15", ["sort"], root=mot15_root, out=out, progress=False, plot=False)
    assert again["rows"][0] == res["rows"][0] and again["plot"] is None


def test_compare_table_and_cli(first_run, mot15_root, capsys):
    from bench.cli import main
    from bench.compare import format_compare

    out, res = first_run
    table = format_compare(res["rows"])
    lines = table.splitlines()
    assert lines[0].split() == ["tracker", "MOTA", "IDF1", "HOTA", "IDSW", "FP", "FN", "FPS"]
    sort = res["rows"][0]
    assert lines[2].split()[:7] == ["sort", f"{100 * sort['mota']:.2f}", f"{100 * sort['idf1']:.2f}",
                                    f"{100 * sort['hota']:.2f}", str(sort["idsw"]), str(sort["fp"]), str(sort["fn"])]
    capsys.readouterr()
    assert main(["compare", "--dataset", "mot15", "--trackers", "sort", "--root", str(mot15_root),
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[2].split()[:4] == lines[2].split()[:4]


def test_compare_overrides_change_results(mot15_root, tmp_path):
    from bench.compare import compare

    warnings.simplefilter("ignore")
    res = compare("mot15", "sort", root=mot15_root, out=tmp_path, progress=False, plot=False,
                  sequences=["TUD-Campus"], overrides={"sort": ["min_hits=1"]})
    base = compare("mot15", "sort", root=mot15_root, out=tmp_path / "b", progress=False, plot=False,
                   sequences=["TUD-Campus"])
    assert res["sequences"] == ["TUD-Campus"]
    assert res["rows"][0]["fn"] < base["rows"][0]["fn"]          # min_hits 1 reports tracks earlier


def test_compare_errors(mot15_root, tmp_path):
    from bench.compare import compare

    with pytest.raises(BenchError, match="twice"):
        compare("mot15", "sort,sort", root=mot15_root, out=tmp_path)
    with pytest.raises(BenchError, match="sot-identity"):
        compare("mot15", "identity", root=mot15_root, out=tmp_path, progress=False)
    with pytest.raises(BenchError, match="not a multi-object"):
        compare("synthetic", "sort", out=tmp_path, progress=False)
