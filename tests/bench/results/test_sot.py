"""Single-object result files: layouts, atomic writes / resume, tolerant readers, bad input."""
import numpy as np
import pytest

from bench.core.errors import DataError
from bench.core.regions import Regions
from bench.results import sot as R


def test_layout_paths(tmp_path):
    t = tmp_path / "otb100" / "siamfc"
    assert R.ONE_PASS.result_path(t, "Jogging-1") == t / "Jogging-1.txt"
    assert R.ONE_PASS.time_path(t, "Jogging-1") == t / "Jogging-1_time.txt"
    assert R.VOT_BASELINE.result_path(t, "bag") == t / "baseline" / "bag" / "bag_001.txt"
    assert R.VOT_BASELINE.result_path(t, "bag", rep=3) == t / "baseline" / "bag" / "bag_003.txt"
    assert R.VOT_BASELINE.time_path(t, "bag") == t / "baseline" / "bag" / "bag_time.txt"
    assert R.VOT_BASELINE.time_path(t, "bag", rep=2) == t / "baseline" / "bag" / "bag_002_time.txt"
    assert R.PER_SEQUENCE.result_path(t, "GOT-10k_Val_000001") == \
        t / "GOT-10k_Val_000001" / "GOT-10k_Val_000001_001.txt"
    assert R.VOT_LONGTERM.sidecar_path(t, "car1", 1, "_confidence.value") == \
        t / "longterm" / "car1" / "car1_001_confidence.value"


def test_write_ope_roundtrip_and_resume(tmp_path):
    boxes = np.array([[1.23456, 2, 3, 4], [5, 6, 7.5, 8]])
    assert not R.ONE_PASS.is_finished(tmp_path, "Couple")
    path = R.write_sequence(R.ONE_PASS, tmp_path, "Couple", boxes, times=[0.1, 0.02])
    assert path.read_text() == "1.2346,2.0000,3.0000,4.0000\n5.0000,6.0000,7.5000,8.0000\n"
    assert R.ONE_PASS.is_finished(tmp_path, "Couple")
    np.testing.assert_allclose(R.read_time_file(R.ONE_PASS.time_path(tmp_path, "Couple")), [0.1, 0.02])
    got, warn = R.read_ope_file(path, 2)
    np.testing.assert_allclose(got, np.round(boxes, 4))
    assert warn == []
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_time_file_written_before_result(tmp_path, monkeypatch):
    order = []
    real = R.atomic_write_text

    def spy(path, text):
        order.append(path.name)
        real(path, text)

    monkeypatch.setattr(R, "atomic_write_text", spy)
    R.write_sequence(R.VOT_BASELINE, tmp_path, "bag", [[1.0], [1, 2, 3, 4], [2.0]], times=[0.1, 0.1, 0.1])
    assert order == ["bag_time.txt", "bag_001.txt"]


def test_killed_write_leaves_no_result(tmp_path, monkeypatch):
    import bench.core.io as io

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        R.write_sequence(R.ONE_PASS, tmp_path, "Couple", np.zeros((2, 4)))
    assert not R.ONE_PASS.is_finished(tmp_path, "Couple")
    assert list(tmp_path.rglob("*")) == []


def test_write_vot_formats(tmp_path):
    class Run:  # the VOT run loop's result: codes -1 = box
        codes = np.array([1, -1, 2, 0, 0])
        boxes = np.array([[np.nan] * 4, [1.5, 2, 3, 4], [np.nan] * 4, [np.nan] * 4, [np.nan] * 4])

    path = R.write_sequence(R.VOT_BASELINE, tmp_path, "bag", Run())
    assert path.read_text().splitlines() == ["1", "1.5000,2.0000,3.0000,4.0000", "2", "0", "0"]
    reg, warn = R.read_vot_file(path, 5)
    assert reg.codes().tolist() == [1, -1, 2, 0, 0]
    poly = R.format_vot([[1.0], [0, 0, 4, 0, 4, 3, 0, 3]])
    assert poly == "1\n0.0000,0.0000,4.0000,0.0000,4.0000,3.0000,0.0000,3.0000\n"


def test_find_result_file_case_and_dash(tmp_path):
    (tmp_path / "jogging_1.txt").write_text("1,2,3,4\n")
    (tmp_path / "human4_2.txt").write_text("1,2,3,4\n")
    (tmp_path / "BOARD.txt").write_text("1,2,3,4\n")
    assert R.ONE_PASS.find_result_file(tmp_path, "Jogging-1").name == "jogging_1.txt"
    assert R.ONE_PASS.find_result_file(tmp_path, "Human4-2").name == "human4_2.txt"
    assert R.ONE_PASS.find_result_file(tmp_path, "Board").name == "BOARD.txt"
    assert R.ONE_PASS.find_result_file(tmp_path, "Jogging-2") is None
    d = tmp_path / "baseline" / "Ball_2"
    d.mkdir(parents=True)
    (d / "ball_2_001.txt").write_text("1\n")
    (d / "ball_2_002.txt").write_text("1\n")
    assert R.VOT_BASELINE.find_result_file(tmp_path, "ball-2").name == "ball_2_001.txt"
    assert [p.name for p in R.VOT_BASELINE.find_repetitions(tmp_path, "ball-2")] == ["ball_2_001.txt", "ball_2_002.txt"]


def test_read_ope_separators_and_length_rules(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1,2,3,4\n5\t6\t7\t8\n9 10  11 12\n13, 14, 15, 16\n\n")
    boxes, warn = R.read_ope_file(f)
    assert boxes.shape == (4, 4) and boxes[2].tolist() == [9, 10, 11, 12] and warn == []
    longer, warn = R.read_ope_file(f, 3)
    assert len(longer) == 3 and "a.txt" in warn[0] and "truncated" in warn[0]
    shorter, warn = R.read_ope_file(f, 5)
    assert len(shorter) == 5 and np.isnan(shorter[4]).all() and "failures" in warn[0]
    g = tmp_path / "nan.txt"
    g.write_text("1,2,3,4\nnan,nan,nan,nan\n")
    boxes, warn = R.read_ope_file(g, 2)
    assert np.isnan(boxes[1]).all() and "NaN" in warn[0] and "nan.txt" in warn[0]


@pytest.mark.parametrize("text, line", [("1,2,3,4\n1,2,x,4\n", 2), ("1,2,3,4\n\n1,2,3,4\n", 2),
                                        ("1,2,3\n", 1)])
def test_read_ope_malformed_names_file_and_line(tmp_path, text, line):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(DataError) as e:
        R.read_ope_file(f)
    assert e.value.path == str(f) and e.value.line == line
    assert str(e.value).startswith(f"{f}:{line}:")


def test_read_vot_codes_and_rules(tmp_path):
    f = tmp_path / "s_001.txt"
    f.write_text("1.0\n1,2,3,4\n2.0\n0\n0\n0\n0\n1\n0,0,4,0,4,3,0,3\nnan,nan,nan,nan\n")
    reg, warn = R.read_vot_file(f, 10)
    assert isinstance(reg, Regions)
    assert reg.codes().tolist() == [1, -1, 2, 0, 0, 0, 0, 1, -1, 0]
    assert reg.sizes.tolist() == [1, 4, 1, 1, 1, 1, 1, 1, 8, 1]
    assert "NaN" in warn[0]
    # longer than the gt: truncated with a warning naming the file (vot-toolkit would refuse it)
    reg, warn = R.read_vot_file(f, 8)
    assert len(reg) == 8 and "s_001.txt" in warn[-1] and "truncated" in warn[-1]
    with pytest.raises(DataError, match="lines for 12"):
        R.read_vot_file(f, 12)
    g = tmp_path / "bad_001.txt"
    g.write_text("1\n3\n")
    with pytest.raises(DataError) as e:
        R.read_vot_file(g)
    assert e.value.line == 2 and "0, 1 or 2" in str(e.value)
    g.write_text("1\n1,2,3\n")
    with pytest.raises(DataError) as e:
        R.read_vot_file(g)
    assert e.value.line == 2


def test_time_files(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("0.1,0.3\n0.2,0.4\n")  # got10k: one column per repetition
    np.testing.assert_allclose(R.read_time_file(f), [0.2, 0.3])
    assert R.read_time_file(tmp_path / "missing.txt") is None
    (tmp_path / "times").mkdir()
    (tmp_path / "Couple.txt").write_text("1,2,3,4\n")
    (tmp_path / "times" / "Couple_time.txt").write_text("0.5\n")  # got10k OTB layout
    assert R.ONE_PASS.find_time_file(tmp_path, "Couple") == tmp_path / "times" / "Couple_time.txt"


def test_short_vot_file_refused_or_kept_as_pysot(tmp_path):
    f = tmp_path / "bag_001.txt"
    f.write_text("1\n1,2,3,4\n")
    with pytest.raises(DataError, match="short_results=pysot"):
        R.read_vot_file(f, 3)
    reg, warn = R.read_vot_file(f, 3, short="pysot")
    assert len(reg) == 2 and "not scored" in warn[0]
