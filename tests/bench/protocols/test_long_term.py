"""The VOT long-term protocol ``vot-lt`` end to end: run, result files, reading rules, evaluation, plots."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import BenchError, DataError
from bench.core.sequence import GeneratedFrames, SOTSequence
from bench.core.tracker import SOTTracker
from bench.datasets import open_dataset
from bench.datasets.base import Dataset
from bench.evaluate import evaluate
from bench.protocols.base import get_protocol
from bench.protocols.long_term import LongTermRun, LongTermSettings, run_long_term
from bench.run import run_dataset

W, H = 64, 48
NAN = float("nan")


def frames(n):
    return GeneratedFrames(n, lambda i: np.full((H, W, 3), i, dtype=np.uint8))


def fake_seq(name="fake", n=8, absent=(3, 4)):
    gt = np.tile([10.0, 10.0, 20.0, 16.0], (n, 1))
    gt[list(absent)] = np.nan
    return SOTSequence(name, gt, frames(n), image_size=(W, H))


class Scripted(SOTTracker):
    """Frame i (read from the image) -> outputs[i] = (box, score)."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs
        self.inits = []

    def init(self, image, box):
        self.inits.append((int(image[0, 0, 0]), np.asarray(box).tolist()))

    def update(self, image):
        return self.outputs[int(image[0, 0, 0])]


def _dataset(seqs, **settings):
    by = {s.name: s for s in seqs}
    return Dataset("toy-lt", list(by), by.__getitem__, protocol="vot-lt", settings=LongTermSettings(**settings),
                   has_gt=True)


GOOD = [10.0, 10.0, 20.0, 16.0]
OUTPUTS = {1: (GOOD, 0.9), 2: ([10.0, 10.0, 20.0, 8.0], 0.6),
           3: ([NAN] * 4, 0.7),            # NaN box: not visible
           4: ([40.0, 30.0, 10.0, 10.0], -np.inf),   # score -inf: not visible (box dropped)
           5: ([40.0, 30.0, 10.0, 10.0], 0.6), 6: (GOOD, NAN), 7: (GOOD, 0.25)}


def test_run_write_and_read_back(tmp_path):
    seq = fake_seq()
    t = Scripted(OUTPUTS)
    proto = get_protocol("vot-lt")
    run = proto.run(t, seq)
    assert t.inits == [(0, GOOD)] and run.frames == 8
    r = run.result
    assert isinstance(r, LongTermRun) and np.isnan(r.boxes[3]).all() and np.isnan(r.boxes[4]).all()
    path = proto.write(tmp_path, "fake", run)
    assert path == tmp_path / "longterm" / "fake" / "fake_001.txt"
    assert path.read_text().splitlines() == ["1", "10.0000,10.0000,20.0000,16.0000", "10.0000,10.0000,20.0000,8.0000",
                                             "0", "0", "40.0000,30.0000,10.0000,10.0000",
                                             "10.0000,10.0000,20.0000,16.0000", "10.0000,10.0000,20.0000,16.0000"]
    conf = (tmp_path / "longterm" / "fake" / "fake_001_confidence.value").read_text()
    assert conf == "\n0.900000\n0.600000\nnan\nnan\n0.600000\nnan\n0.250000\n"
    assert len((tmp_path / "longterm" / "fake" / "fake_time.txt").read_text().splitlines()) == 8
    assert proto.is_finished(tmp_path, "fake")
    back = proto.read(tmp_path, seq)
    assert back.warnings == []
    traj = back.runs[0]
    assert traj.regions.codes().tolist() == [1, -1, -1, 0, 0, -1, -1, -1]
    np.testing.assert_array_equal(traj.confidence, [0, 0.9, 0.6, NAN, NAN, 0.6, NAN, 0.25])
    # file evaluation == in-memory evaluation of the run
    ds = _dataset([seq])
    from_files = evaluate(ds, tmp_path)
    in_memory = ds.protocol_object().score(ds, {"fake": [r]})
    for k in ("f_score", "precision", "recall", "threshold", "pr_curve", "f_curve"):
        assert from_files["metrics"][k] == in_memory["metrics"][k], k
    # by hand (n_visible = 6: frames 3, 4 absent): overlaps / confidences per frame
    #   0 init: 0 / 0;  1: 1 / .9;  2: .5 / .6;  3, 4 not visible: (1) / NaN, never counted;
    #   5 box far away: 0 / .6;  6: 1 / NaN, never counted;  7: 1 / .25
    # thresholds inf, .9, .6, .6, .25, 0, -inf; F: 0, 2/7, 1/3, 1/3, .5, .4545, .4545
    # best at t = .25: frames 1, 2, 5, 7 -> Pr 2.5 / 4, Re 2.5 / 6, F .5
    m = from_files["metrics"]
    assert m["threshold"] == 0.25
    assert (m["precision"], m["recall"]) == pytest.approx((0.625, 2.5 / 6))
    assert m["f_score"] == pytest.approx(0.5) and m["f_curve"][1] == pytest.approx(2 / 7)
    assert m["n_visible"] == 6 and m["n_frames"] == 8 and from_files["protocol"]["name"] == "vot-lt"


def test_tracker_errors_and_first_frame():
    seq = fake_seq()
    with pytest.raises(BenchError, match="frame 3: confidence \\+inf"):
        run_long_term(Scripted({**OUTPUTS, 2: (GOOD, np.inf)}), seq)
    with pytest.raises(BenchError, match="frame 2: tracker returned a non-finite box"):
        run_long_term(Scripted({**OUTPUTS, 1: ([0, 0, np.inf, 1], 0.5)}), seq)
    with pytest.raises(BenchError, match="frame 2: tracker returned the score"):
        run_long_term(Scripted({**OUTPUTS, 1: (GOOD, "high")}), seq)
    with pytest.raises(BenchError, match="no target on frame 1"):
        get_protocol("vot-lt").check_sequence(Scripted(OUTPUTS), fake_seq(absent=(0,)))


def _write(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_reading_rules(tmp_path):
    seq = fake_seq(n=4, absent=())
    proto = get_protocol("vot-lt")
    d = tmp_path / "longterm" / "fake"
    _write(d / "fake_001.txt", "1\n10,10,20,16\n0\n10\t10 20 16\n")
    # no confidence file: every confidence 0 (vot-toolkit), with a warning
    r = proto.read(tmp_path, seq)
    assert r.runs[0].confidence.tolist() == [0, 0, 0, 0] and "every confidence read as 0" in r.warnings[0]
    # names matched case-insensitively, '-' == '_'; empty lines read as 0
    _write(d / "FAKE_001_Confidence.value", "\n0.5\n\n0.7\n")
    r = proto.read(tmp_path, seq)
    assert r.runs[0].confidence.tolist() == [0, 0.5, 0, 0.7] and "1 empty line(s)" in r.warnings[0]
    (d / "FAKE_001_Confidence.value").unlink()
    _write(d / "fake_001_confidence.value", "\n0.5\n0.6\n0.7\n0.8\n0.9\n")
    r = proto.read(tmp_path, seq)
    assert r.runs[0].confidence.tolist() == [0, 0.5, 0.6, 0.7] and "the last 2 are ignored" in r.warnings[0]
    _write(d / "fake_001_confidence.value", "\n0.5\n")
    with pytest.raises(DataError, match="2 lines for 4 frames") as e:
        proto.read(tmp_path, seq)
    assert e.value.path.endswith("fake_001_confidence.value")
    _write(d / "fake_001_confidence.value", "\n0.5\nhigh\n0.7\n")
    with pytest.raises(DataError, match="one number per line") as e:
        proto.read(tmp_path, seq)
    assert e.value.line == 3
    _write(d / "fake_001_confidence.value", "\n0.5\n0.6\n0.7\n")
    _write(d / "fake_001.txt", "1\n10,10,20,16\n")
    with pytest.raises(DataError, match="2 lines for 4 ground-truth frames"):
        proto.read(tmp_path, seq)
    _write(d / "fake_001.txt", "1\n10,10,20,16\n1,2,3\n0\n")
    with pytest.raises(DataError) as e:
        proto.read(tmp_path, seq)
    assert e.value.line == 3
    _write(d / "fake_001.txt", "1\n10,10,20,16\nnan,nan,nan,nan\n0\n0\n")     # NaN row -> 0; one line too many
    r = proto.read(tmp_path, seq)
    assert r.runs[0].regions.codes().tolist() == [1, -1, 0, 0]
    assert any("NaN" in w for w in r.warnings) and any("truncated" in w for w in r.warnings)
    assert get_protocol("vot-lt").read(tmp_path / "nothing", seq) is None


def test_vot_lt_folder_and_json_layouts(tmp_path):
    import cv2

    root = tmp_path / "VOT2018-LT"
    (root / "car1" / "color").mkdir(parents=True)
    (root / "list.txt").write_text("car1\n")
    (root / "car1" / "groundtruth.txt").write_text("1,2,10,12\nnan,nan,nan,nan\n0\n3,4,10,12\n")
    for i in range(4):
        cv2.imwrite(str(root / "car1" / "color" / f"{i + 1:08d}.jpg"), np.zeros((40, 50, 3), np.uint8))
    ds = open_dataset("vot2018-lt", root)
    assert ds.protocol == "vot-lt" and ds.settings.resolution == 100 and ds.settings.repetitions == 1
    car = ds["car1"]
    assert car.image_size == (50, 40) and np.isnan(car.gt[1:3]).all()
    assert car.meta["regions"].codes()[1:3].tolist() == [0, 0]
    entry = {"video_dir": "bike1", "init_rect": [1, 2, 10, 12], "img_names": ["bike1/color/00000001.jpg"] * 4,
             "gt_rect": [[1, 2, 10, 12], [NAN, NAN, NAN, NAN], [], [0]]}
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "VOT2019-LT.json").write_text(json.dumps({"bike1": entry}))   # NaN written as NaN
    b = open_dataset("vot2019-lt", tmp_path / "j")["bike1"]
    assert len(b) == 4 and np.isnan(b.gt[1:]).all()
    assert b.meta["regions"].is_special.tolist() == [False, True, True, True]


def _vot_toolkit_on_files(data_dir: Path, res_dir: Path):
    """vot-toolkit 0.9.0 reading our files (vot.tracker.results.Trajectory.read, vot.region.io.read_trajectory)
    and computing the measures with its own analyses (tests/bench/metrics/test_long_term.py)."""
    from tests.bench.metrics.test_long_term import _Exp, _Seq, _vot

    vlt = _vot()
    import cv2
    from vot.region.io import read_trajectory
    from vot.tracker.results import Results, Trajectory
    from vot.utilities.data import Grid
    from vot.workspace.storage import LocalStorage

    seqs, trajs = [], {}
    for name in (data_dir / "list.txt").read_text().split():
        img = cv2.imread(str(data_dir / name / "color" / "00000001.jpg"))
        seqs.append(_Seq(name, read_trajectory(str(data_dir / name / "groundtruth.txt")), (img.shape[1], img.shape[0])))
        trajs[name] = [Trajectory.read(Results(LocalStorage(str(res_dir / "longterm" / name))), f"{name}_001")]
    exp = _Exp(trajs)
    scores = [t.properties(i).get("confidence", 0) for s in seqs for t in trajs[s.name] for i in range(len(t))]
    dep = Grid(1, 1)
    dep[0, 0] = ((vlt.determine_thresholds(scores, 100),),)
    per = [vlt.PrecisionRecallCurves().subcompute(exp, None, s, dep) for s in seqs]
    g = Grid(1, 1)
    g[0, 0] = vlt.PrecisionRecallCurve().aggregate(None, seqs, per)
    fg = vlt.FScoreCurve().compute(exp, [None], seqs, [g])
    return vlt.PrecisionRecall().compute(exp, [None], seqs, [g, fg])[0, 0]


@pytest.fixture(scope="module")
def synthetic_lt(tmp_path_factory):
    """3 synthetic sequences (occlusion / out-of-view: frames with the target absent) in the VOT layout,
    opened as vot2018-lt and run by ncc through bench.run.run_dataset."""
    from bench.core.build import build_tracker
    from bench.datasets.synthetic import export

    base = tmp_path_factory.mktemp("lt")
    src = open_dataset("synthetic", length=40, num_sequences=3)
    export(src, "vot", base / "data")
    ds = open_dataset("vot2018-lt", base / "data")
    summary = run_dataset(build_tracker("ncc"), ds, base / "res" / "ncc", tracker_name="ncc", progress=False)
    assert summary.failed == {} and len(summary.done) == 3
    return base, ds, src


def test_end_to_end_synthetic(synthetic_lt):
    base, ds, src = synthetic_lt
    assert sum(int(np.isnan(src[n].gt[:, 0]).sum()) for n in src.names()) > 0   # the target is absent somewhere
    res = base / "res" / "ncc"
    for n in ds.names():
        d = res / "longterm" / n
        lines = (d / f"{n}_001.txt").read_text().splitlines()
        conf = (d / f"{n}_001_confidence.value").read_text().split("\n")
        assert len(lines) == 40 and lines[0] == "1" and all(len(x.split(",")) == 4 for x in lines[1:])
        assert len(conf) == 41 and conf[0] == "" and conf[-1] == ""
        assert (d / f"{n}_time.txt").is_file()
    rep = evaluate(ds, res)
    m = rep["metrics"]
    assert rep["tracker"] == "ncc" and rep["warnings"] == []
    assert 0 < m["f_score"] <= 1 and 0 < m["precision"] <= 1 and 0 < m["recall"] <= 1 and m["fps"] > 0
    assert len(m["thresholds"]) == 100 and m["thresholds"][0] is None and m["thresholds"][-1] is None  # +-inf
    assert m["n_sequences"] == 3 and m["n_frames"] == 120
    assert m["n_visible"] == sum(int((~np.isnan(src[n].gt[:, 0])).sum()) for n in src.names())
    assert set(rep["sequences"]) == set(ds.names()) and all("f_score" in v for v in rep["sequences"].values())
    # rerun: every sequence already finished
    from bench.core.build import build_tracker

    again = run_dataset(build_tracker("ncc"), ds, res, tracker_name="ncc", progress=False)
    assert again.skipped == ds.names() and again.done == []


def test_end_to_end_agrees_with_vot_toolkit_reading_the_files(synthetic_lt):
    base, ds, _ = synthetic_lt
    pr, re, f = _vot_toolkit_on_files(base / "data", base / "res" / "ncc")
    m = evaluate(ds, base / "res" / "ncc")["metrics"]
    assert (m["precision"], m["recall"], m["f_score"]) == pytest.approx((pr, re, f), abs=1e-12)


def test_table_and_plots(synthetic_lt, tmp_path):
    from bench.report import summary_table, write_outputs

    base, ds, _ = synthetic_lt
    rep = evaluate(ds, base / "res" / "ncc")
    table = summary_table([rep], ds.protocol_object())
    assert table.splitlines()[0].split() == ["Tracker", "F-score", "Precision", "Recall", "FPS"]
    written = write_outputs([rep], tmp_path / "report", ds)
    names = {p.name for p in written}
    assert {"report.json", "table.txt", "precision_recall.png", "f_score.png"} <= names
    assert all((tmp_path / "report" / n).stat().st_size > 1000 for n in ("precision_recall.png", "f_score.png"))
