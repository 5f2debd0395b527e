"""KITTI tracking: layout, lengths, malformed files (file and line), result files, and run / eval end to end."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import ConfigError, DataError, DatasetNotFoundError
from bench.core.tracker import MOTTracker
from bench.datasets import open_dataset
from bench.evaluate import evaluate
from bench.results.kitti import read_kitti_results, write_kitti_results
from bench.run import run_dataset
from tests.bench.kitti_fixtures import INVALID_TAIL, kitti_scene, write_kitti

TAIL = "1.50 1.60 3.90 1.00 1.50 20.00 0.10"


def _label(t, i, typ, x1, y1, x2, y2, trunc=0, occ=0):
    return f"{t} {i} {typ} {trunc} {occ} -1.57 {x1} {y1} {x2} {y2} {TAIL}"


def _tiny(root: Path, n: int = 6, seqmap: bool = True, images=None) -> Path:
    """Two sequences: a car moving right (id 1), a pedestrian (id 2), a van, a DontCare region."""
    seqs = {}
    for k, name in enumerate(("0000", "0001")):
        gt, tr = [], []
        for t in range(n):
            x = 10 + 5 * t
            gt.append(_label(t, 1, "Car", x, 20, x + 60, 60))
            gt.append(_label(t, 2, "Pedestrian", 200, 10, 215, 50))
            gt.append(_label(t, 3, "Van", 300, 20, 360, 60))
            gt.append(f"{t} -1 DontCare -1 -1 -10 400 0 450 40 {INVALID_TAIL}")
            tr.append(f"{t} 7 Car -1 -1 -10 {x} 20 {x + 60} 60 {INVALID_TAIL} 0.9")
        seqs[name] = (gt, tr)
    return write_kitti(root, seqs, {s: n for s in seqs}, seqmap=seqmap, images=images)


# ---------------------------------------------------------------- layout
def test_layout_lengths_and_rows(tmp_path):
    root = _tiny(tmp_path / "kitti", images=(64, 48))
    ds = open_dataset("kitti-tracking", root)
    assert ds.protocol == "kitti" and ds.names() == ["0000", "0001"]
    seq = ds["0000"]
    assert len(seq) == 6 and seq.fps == 10.0 and seq.image_size == (64, 48)
    assert seq.meta["length_source"] == "seqmap" and seq.detections is None
    # gt rows: frame (1-based), id, x1, y1, x2, y2, class, truncated, occluded; DontCare kept as class 9
    assert seq.gt.shape == (24, 9) and seq.gt[:, 0].min() == 1 and seq.gt[:, 0].max() == 6
    np.testing.assert_array_equal(seq.gt[0], [1, 1, 10, 20, 70, 60, 1, 0, 0])
    assert sorted(set(seq.gt[:, 6].astype(int))) == [1, 2, 4, 9]
    assert seq.frame(5).shape == (48, 64, 3) and str(seq.frames.paths[0]).endswith("image_02/0000/000000.png")


def test_lengths_without_seqmap(tmp_path):
    root = _tiny(tmp_path / "k", n=6, seqmap=False)
    seq = open_dataset("kitti-tracking", root)["0000"]
    assert len(seq) == 6 and seq.meta["length_source"] == "labels"
    d = root / "training" / "image_02" / "0000"
    d.mkdir(parents=True)
    import cv2

    for t in range(9):  # more images than labelled frames: the images' extent wins
        cv2.imwrite(str(d / f"{t:06d}.png"), np.zeros((8, 10, 3), np.uint8))
    seq = open_dataset("kitti-tracking", root)["0000"]
    assert len(seq) == 9 and seq.meta["length_source"] == "images" and seq.image_size == (10, 8)


def test_seqmap_option_and_negative_ids(tmp_path):
    root = _tiny(tmp_path / "k")
    (root / "training" / "evaluate_tracking.seqmap.val").write_text("0001 empty 000000 000006\n")
    assert open_dataset("kitti-tracking", root, seqmap="evaluate_tracking.seqmap.val").names() == ["0001"]
    lab = root / "training" / "label_02" / "0000.txt"
    lab.write_text(lab.read_text() + _label(2, -1, "Car", 1, 1, 50, 50) + "\n")  # TrackEval drops negative ids
    seq = open_dataset("kitti-tracking", root)["0000"]
    assert seq.gt.shape == (24, 9) and seq.meta["negative_id_rows_dropped"] == 1


def test_testing_split_has_no_gt(tmp_path):
    import cv2

    d = tmp_path / "k" / "testing" / "image_02" / "0003"
    d.mkdir(parents=True)
    for t in range(4):
        cv2.imwrite(str(d / f"{t:06d}.png"), np.zeros((8, 10, 3), np.uint8))
    ds = open_dataset("kitti-tracking", tmp_path / "k", split="testing")
    assert ds.names() == ["0003"] and len(ds["0003"]) == 4 and not ds.has_ground_truth()


def test_missing_folders(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="cvlibs.net"):
        open_dataset("kitti-tracking", tmp_path / "nowhere")
    (tmp_path / "k").mkdir()
    with pytest.raises(DatasetNotFoundError, match="no 'training' folder"):
        open_dataset("kitti-tracking", tmp_path / "k")
    (tmp_path / "k" / "training").mkdir()
    with pytest.raises(DatasetNotFoundError, match="no sequences"):
        open_dataset("kitti-tracking", tmp_path / "k")
    (tmp_path / "k" / "training" / "evaluate_tracking.seqmap.training").write_text("0000 empty 000000 000010\n")
    with pytest.raises(DatasetNotFoundError, match="no label file"):
        open_dataset("kitti-tracking", tmp_path / "k")
    with pytest.raises(ConfigError, match="split"):
        open_dataset("kitti-tracking", tmp_path / "k", split="val")
    with pytest.raises(ConfigError, match=r"\{seq\}"):
        open_dataset("kitti-tracking", tmp_path / "k", detections_file="det.txt")


GOOD = _label(0, 1, "Car", 10, 20, 70, 60) + "\n" + _label(1, 1, "Car", 11, 20, 71, 60) + "\n"


@pytest.mark.parametrize("extra,what", [
    ("2 1 Car 0 0 -1.5 1 2 3\n", "at least 10|wrong field count"),
    (_label(2, 1, "Bus", 1, 1, 9, 9) + "\n", "unknown KITTI type 'Bus'"),
    (_label(2, 1, "Car", 1, "x", 9, 9) + "\n", "cannot read value 'x'"),
    (_label(6, 1, "Car", 1, 1, 9, 9) + "\n", "beyond the sequence"),
    (_label(-1, 1, "Car", 1, 1, 9, 9) + "\n", "0-based"),
    (_label(2.5, 1, "Car", 1, 1, 9, 9) + "\n", "not an integer"),
    (_label(2, 1.5, "Car", 1, 1, 9, 9) + "\n", "track id"),
    (_label(1, 1, "car", 1, 1, 9, 9) + "\n", "appears twice in frame 1 .*also on line 2"),
    (_label(2, 1, "Car", 1, 1, "nan", 9) + "\n", "not finite"),
])
def test_malformed_labels_name_file_and_line(tmp_path, extra, what):
    root = _tiny(tmp_path / "k")
    lab = root / "training" / "label_02" / "0000.txt"
    lab.write_text(GOOD + extra)
    with pytest.raises(DataError, match=what) as e:
        open_dataset("kitti-tracking", root)["0000"]
    assert e.value.path == str(lab) and e.value.line == 3


def test_malformed_seqmap(tmp_path):
    root = _tiny(tmp_path / "k")
    (root / "training" / "evaluate_tracking.seqmap.training").write_text("0000 empty 000000 000006\n0001 empty\n")
    with pytest.raises(DataError, match="seqmap rows") as e:
        open_dataset("kitti-tracking", root)
    assert e.value.line == 2


def test_malformed_results_name_file_and_line(tmp_path):
    root = _tiny(tmp_path / "k")
    res = root / "trackers" / "T" / "data" / "0000.txt"
    res.write_text(f"0 7 Car -1 -1 -10 1 1 50 50 {INVALID_TAIL} 0.9\n0 7 Car -1 -1 -10 2 2 50 50 {INVALID_TAIL} 0.8\n")
    with pytest.raises(DataError, match="track id 7 appears twice in frame 0") as e:
        evaluate(open_dataset("kitti-tracking", root), root / "trackers" / "T")
    assert e.value.path == str(res) and e.value.line == 2
    res.write_text(f"9 7 Car -1 -1 -10 1 1 50 50 {INVALID_TAIL} 0.9\n")
    with pytest.raises(DataError, match="beyond the sequence"):
        evaluate(open_dataset("kitti-tracking", root), root / "trackers" / "T")


def test_result_files_roundtrip(tmp_path):
    rows = np.array([[2, 7, 1.5, 2.25, 30.125, 40, 1, 0.5], [1, 3, -4.0, 5.0, 6.0, 7.0, 4, 1.0]])
    p = write_kitti_results(tmp_path / "data" / "0000.txt", rows)
    first = p.read_text().splitlines()[0].split()
    assert first[:3] == ["0", "3", "Pedestrian"] and len(first) == 18  # 0-based frames, 17 fields + score
    back, dropped = read_kitti_results(p, length=5)
    np.testing.assert_allclose(back, rows[::-1], atol=5e-4)
    assert dropped == 0


def test_evaluation_report_and_table(tmp_path, capsys):
    root = _tiny(tmp_path / "k")
    rep = evaluate(open_dataset("kitti-tracking", root), root / "trackers" / "T")
    car, ped = rep["classes"]["car"]["metrics"], rep["classes"]["pedestrian"]["metrics"]
    assert (car["tp"], car["fp"], car["fn"], car["idsw"], car["mota"]) == (12, 0, 0, 0, 1.0)
    assert (ped["tp"], ped["fn"], ped["mota"]) == (0, 12, 0.0)
    assert rep["metrics"] == car and rep["protocol"]["headline_class"] == "car"
    assert main(["eval", "--dataset", "kitti-tracking", "--root", str(root), "--results",
                 str(root / "trackers" / "T"), "--per-sequence"]) == 0
    out = capsys.readouterr().out
    assert "T (car)" in out and "T (pedestrian)" in out and "0001 (pedestrian)" in out
    rep = evaluate(open_dataset("kitti-tracking", root), root / "trackers" / "T", headline_class="pedestrian",
                   classes=["pedestrian"])
    assert list(rep["classes"]) == ["pedestrian"] and rep["metrics"]["mota"] == 0.0


# ---------------------------------------------------------------- running
def _with_detections(root: Path, first_frame: int = 1) -> Path:
    """Detections in MOTChallenge det format (frame,-1,x,y,w,h,score) beside the labels: det_02/<seq>.txt."""
    d = root / "training" / "det_02"
    d.mkdir(parents=True, exist_ok=True)
    for lab in sorted((root / "training" / "label_02").glob("*.txt")):
        rows = []
        for line in lab.read_text().splitlines():
            f = line.split()
            if f[2] in ("Car", "Van", "Pedestrian"):
                x1, y1, x2, y2 = map(float, f[6:10])
                rows.append(f"{int(f[0]) + first_frame},-1,{x1 + 0.5},{y1},{x2 - x1},{y2 - y1},0.9")
        (d / lab.name).write_text("\n".join(rows) + "\n")
    return root


def test_detections_file(tmp_path):
    root = _with_detections(_tiny(tmp_path / "k"))
    seq = open_dataset("kitti-tracking", root, detections_file="det_02/{seq}.txt")["0000"]
    np.testing.assert_allclose(seq.detections_at(0)[0], [10.5, 20, 60, 40, 0.9])
    root0 = _with_detections(_tiny(tmp_path / "k0"), first_frame=0)
    seq0 = open_dataset("kitti-tracking", root0, detections_file="det_02/{seq}.txt",
                        detections_first_frame=0)["0000"]
    np.testing.assert_array_equal(seq0.detections_at(3), seq.detections_at(3))


class _OwnDetector(MOTTracker):
    """A tracker with its own 'detector' (reports one fixed box)."""

    needs_detections = False

    def reset(self, fps=None):
        pass

    def update(self, image, dets):
        assert len(dets) == 0
        return np.array([[10.0, 20.0, 60.0, 40.0]]), np.array([1]), np.array([0.8])


def test_no_detections_message_and_own_detector(tmp_path):
    from mot.trackers.sort import Sort

    ds = open_dataset("kitti-tracking", _tiny(tmp_path / "k"))
    s = run_dataset(Sort(), ds, tmp_path / "runs" / "sort", tracker_name="sort", progress=False)
    assert not s.done and "KITTI has no public detections and this tracker needs detections" in s.failed["0000"]
    assert "detections_file" in s.failed["0000"]
    s = run_dataset(_OwnDetector(), ds, tmp_path / "runs" / "own", tracker_name="own", progress=False)
    assert s.done == ["0000", "0001"]
    rows, _ = read_kitti_results(tmp_path / "runs" / "own" / "data" / "0000.txt")
    assert rows.shape == (6, 8) and set(rows[:, 6]) == {1.0}  # written as result_type Car


def test_cli_run_sort_then_eval(tmp_path):
    """`bench run --tracker sort --dataset kitti-tracking` on user detections, then `bench eval` on its files."""
    root = _with_detections(_tiny(tmp_path / "k"))
    out = tmp_path / "runs"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["run", "--tracker", "sort", "--dataset", "kitti-tracking", "--root", str(root), "--out", str(out),
                     "--dataset-option", "detections_file=det_02/{seq}.txt", "--quiet"])
    text = buf.getvalue()
    assert code == 0, text
    assert "sort (car)" in text and "sort (pedestrian)" in text
    res = out / "kitti-tracking" / "sort" / "data" / "0000.txt"
    first = res.read_text().splitlines()[0].split()
    assert first[0] == "0" and first[2] == "Car" and len(first) == 18
    report = json.loads((out / "reports" / "kitti-tracking" / "sort" / "report.json").read_text())
    assert report["protocol"]["name"] == "kitti" and set(report["classes"]) == {"car", "pedestrian"}
    # SORT on the car, pedestrian and van detections: every car found (the van's track is removed as a distractor)
    car = report["classes"]["car"]["metrics"]
    assert car["fn"] == 0 and car["tp"] > 0 and report["protocol"]["removed_tracker_boxes"]["car"] > 0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["eval", "--dataset", "kitti-tracking", "--root", str(root), "--results",
                     str(out / "kitti-tracking" / "sort"), "--json", str(tmp_path / "e.json")])
    assert code == 0
    again = json.loads((tmp_path / "e.json").read_text())
    assert again["classes"] == report["classes"]


def test_random_scene_through_files_is_stable(tmp_path):
    """A generated scene evaluates without warnings; rows with negative track ids in results are ignored."""
    rng = np.random.default_rng(1)
    gt, tr = kitti_scene(rng, 20)
    tr.append(f"3 -4 Car -1 -1 -10 1 1 50 50 {INVALID_TAIL} 0.5")
    write_kitti(tmp_path, {"0000": (gt, tr)}, {"0000": 20})
    rep = evaluate(open_dataset("kitti-tracking", tmp_path), tmp_path / "trackers" / "T")
    assert any("negative track id" in w for w in rep["warnings"])
