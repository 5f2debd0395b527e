"""MOTChallenge datasets, tracker result files (read / write / validate) and the MOT run loop."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.core.errors import ConfigError, DataError, DatasetNotFoundError
from bench.core.tracker import MOTTracker
from bench.datasets import open_dataset
from bench.datasets.motchallenge import read_mot_text
from bench.protocols.mot import run_mot
from bench.results.mot import (find_result_files, guess_tracker_name, is_finished, read_mot_results,
                               read_timing, result_path, timing_path, write_mot_results)
from tests.conftest import shared_path


# ---------------------------------------------------------------- shared data
def test_mot17_layout_and_detector_copies():
    root = shared_path("mot", "MOT17")
    ds = open_dataset("mot17", root)
    assert ds.protocol == "mot" and len(ds) == 21
    assert ds.meta["preprocess"] and ds.meta["distractor_classes"] == [2, 7, 8, 12]
    frcnn = open_dataset("mot17", root, detections="frcnn")
    assert frcnn.names() == [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]
    assert len(open_dataset("mot17", root, detections="SDP")) == 7
    seq = frcnn["MOT17-02-FRCNN"]
    assert len(seq) == 600 and seq.fps == 30.0 and seq.image_size == (1920, 1080)
    assert seq.gt.shape == (30003, 9) and seq.meta["detector"] == "FRCNN"
    # only 4 real frames exist: the length still comes from seqinfo.ini
    assert seq.meta["images_present"] == 4 and len(seq.frames) == 600
    img = seq.frame(0)
    assert img.shape == (1080, 1920, 3) and img.dtype == np.uint8
    with pytest.raises(DataError, match="000005.jpg"):
        seq.frame(4)


def test_detections_in_any_frame_order():
    root = shared_path("mot", "MOT17")
    seq = open_dataset("mot17", root, detections="FRCNN")["MOT17-02-FRCNN"]
    raw = np.loadtxt(root / "train" / "MOT17-02-FRCNN" / "det" / "det.txt", delimiter=",")
    assert np.any(np.diff(raw[:, 0]) < 0)  # the shared file is not sorted by frame
    for t in (0, 68, 599):
        want = raw[raw[:, 0] == t + 1][:, [2, 3, 4, 5, 6]]
        np.testing.assert_array_equal(seq.detections_at(t), want)


def test_frames_available_truncates():
    root = shared_path("mot", "MOT17")
    seq = open_dataset("mot17", root, detections="FRCNN", frames="available")["MOT17-02-FRCNN"]
    assert len(seq) == 4 and seq.meta["truncated_from"] == 600
    assert seq.gt[:, 0].max() <= 4 and seq.detections[:, 0].max() <= 4
    assert seq.frame(3).shape == (1080, 1920, 3)


def test_mot15_tud():
    ds = open_dataset("mot15", shared_path("mot", "MOT15"))
    # all 11 MOT15 training sequences of ../shared/data, in name order
    assert len(ds) == 11 and ds.names() == sorted(ds.names())
    assert {"TUD-Campus", "TUD-Stadtmitte", "KITTI-17", "Venice-2"} <= set(ds.names())
    assert not ds.meta["preprocess"]  # TrackEval never preprocesses MOT15
    seq = ds["TUD-Campus"]
    assert len(seq) == 71 and seq.gt.shape[1] == 9 and seq.detections.shape[1] == 7


def test_mot15_without_seqinfo(tmp_path):
    src = shared_path("mot", "MOT15", "train", "TUD-Campus")
    dst = tmp_path / "MOT15" / "train" / "TUD-Campus"
    shutil.copytree(src, dst)
    (dst / "seqinfo.ini").unlink()
    seq = open_dataset("mot15", tmp_path / "MOT15")["TUD-Campus"]
    assert len(seq) == 71 and seq.meta["length_source"] == "annotation extent"
    # with images, their count wins
    (dst / "img1").mkdir()
    for i in range(1, 81):
        cv2.imwrite(str(dst / "img1" / f"{i:06d}.jpg"), np.zeros((8, 10, 3), np.uint8))
    seq = open_dataset("mot15", tmp_path / "MOT15")["TUD-Campus"]
    assert len(seq) == 80 and seq.meta["length_source"] == "images" and seq.image_size == (10, 8)


def test_dataset_option_errors(tmp_path):
    root = shared_path("mot", "MOT17")
    with pytest.raises(ConfigError, match="detections"):
        open_dataset("mot17", root, detections="YOLO")
    with pytest.raises(ConfigError, match="MOT17"):
        open_dataset("mot16", tmp_path, detections="FRCNN")
    with pytest.raises(ConfigError, match="unknown option 'detector'"):
        open_dataset("mot17", root, detector="FRCNN")
    with pytest.raises(DatasetNotFoundError, match="motchallenge.net"):
        open_dataset("mot20", tmp_path / "nowhere")


# ---------------------------------------------------------------- tracker files
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


GOOD = "1,1,10,20,30,40,0.9,-1,-1,-1\n1,2,50,20,30,40,0.8,-1,-1,-1\n2,1,11,21,30,40,0.9,-1,-1,-1\n"


@pytest.mark.parametrize("text,line,what", [
    (GOOD + "2,1,12,22,30,40,0.9,-1,-1,-1\n", 4, "id 1 appears twice in frame 2"),
    (GOOD + "2.5,3,12,22,30,40,0.9,-1,-1,-1\n", 4, "not an integer"),
    (GOOD + "3,3,nan,22,30,40,0.9,-1,-1,-1\n", 4, "not finite"),
    (GOOD + "3,3,12,22,30,40,0.9,-1,-1\n", 4, "wrong column count"),
    ("1,1,10,20,30,40\n", 1, "at least 7 columns"),
    (GOOD + "3,-4,12,22,30,40,0.9,-1,-1,-1\n", 4, "non-negative integer"),
    (GOOD + "0,3,12,22,30,40,0.9,-1,-1,-1\n", 4, "frames are 1-based"),
    (GOOD + "3,x,12,22,30,40,0.9,-1,-1,-1\n", 4, "cannot read value 'x'"),
])
def test_malformed_tracker_files(tmp_path, text, line, what):
    p = _write(tmp_path / "SEQ.txt", text)
    with pytest.raises(DataError, match=what) as e:
        read_mot_results(p)
    assert e.value.path == str(p) and e.value.line == line
    assert str(e.value).startswith(f"{p}:{line}: ")


def test_frame_beyond_length_and_blank_lines(tmp_path):
    p = _write(tmp_path / "S.txt", "\n" + GOOD + "\n9,1,1,1,5,5,1,-1,-1,-1\n")
    assert read_mot_results(p).shape == (4, 10)
    with pytest.raises(DataError, match="beyond the sequence length 5") as e:
        read_mot_results(p, length=5)
    assert e.value.line == 6


def test_tolerant_formats(tmp_path):
    spaces = _write(tmp_path / "a.txt", "1 1 10 20 30 40 0.9 -1 -1 -1\n2 1 11 21 30 40 0.9 -1 -1 -1\n")
    trailing = _write(tmp_path / "b.txt", "1,1,10,20,30,40,0.9,-1,-1,-1,\r\n2,1,11,21,30,40,0.9,-1,-1,-1,\r\n")
    a, b = read_mot_results(spaces), read_mot_results(trailing)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 10) and read_mot_results(_write(tmp_path / "e.txt", "")).shape == (0, 7)


def test_identical_files_parsed_once(tmp_path):
    a = _write(tmp_path / "a.txt", GOOD)
    b = _write(tmp_path / "b.txt", GOOD)
    cache = {}
    ra, rb = read_mot_text(a, 7, cache), read_mot_text(b, 7, cache)
    assert ra is rb and not ra.flags.writeable and len(cache) == 1


def test_write_read_roundtrip(tmp_path):
    rows = np.array([[2, 7, 1.23456, 2.5, 30, 40, 0.5], [1, 3, -4.0, 5.0, 6.0, 7.0, 1.0], [1, 1, 1, 1, 2, 2, 0.25]])
    path = result_path(tmp_path, "mot17", "mine", "MOT17-02-FRCNN")
    assert path == tmp_path / "mot17" / "mine" / "data" / "MOT17-02-FRCNN.txt"
    assert not is_finished(tmp_path, "mot17", "mine", "MOT17-02-FRCNN")
    write_mot_results(path, rows)
    assert is_finished(tmp_path, "mot17", "mine", "MOT17-02-FRCNN")
    assert path.read_text().splitlines()[0] == "1,1,1.000,1.000,2.000,2.000,0.25,-1,-1,-1"
    back = read_mot_results(path)
    assert back.shape == (3, 10)
    np.testing.assert_allclose(back[:, :7], rows[np.lexsort((rows[:, 1], rows[:, 0]))], atol=5e-4)
    assert list(path.parent.iterdir()) == [path]  # no temporary files left
    assert find_result_files(tmp_path, ["MOT17-02-FRCNN"], "mot17", "mine") == {"MOT17-02-FRCNN": path}
    assert find_result_files(path.parent.parent, ["MOT17-02-FRCNN"]) == {"MOT17-02-FRCNN": path}
    assert guess_tracker_name(path.parent) == "mine"


# ---------------------------------------------------------------- run loop
def _tiny_mot(root: Path, names=("SEQ-A", "SEQ-B"), n=6, images=True) -> Path:
    for k, name in enumerate(names):
        d = root / "train" / name
        (d / "gt").mkdir(parents=True)
        (d / "det").mkdir()
        (d / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength={n}\n"
                                       "imWidth=64\nimHeight=48\nimExt=.jpg\n")
        gt, det = [], []
        for t in range(1, n + 1):
            gt.append(f"{t},1,{5 + t},10,10,20,1,1,1")
            det.append(f"{t},-1,{5 + t + 0.5},10,10,20,0.9")
            det.append(f"{t},-1,40,5,8,16,0.3")
        (d / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
        (d / "det" / "det.txt").write_text("\n".join(reversed(det)) + "\n")
        if images:
            (d / "img1").mkdir()
            for t in range(1, n + 1):
                cv2.imwrite(str(d / "img1" / f"{t:06d}.jpg"), np.full((48, 64, 3), 10 * t + k, np.uint8))
    return root


class EchoTracker(MOTTracker):
    """Reports every detection with score >= 0.5 as track 1, 2, ... in order."""

    needs_images = True

    def __init__(self, fail_on=None):
        super().__init__()
        self.fail_on = fail_on
        self.images = []

    def reset(self, fps=None):
        self.images.clear()

    def update(self, image, dets):
        self.images.append(None if image is None else int(image[0, 0, 0]))
        third = len(self.images) == 3 and image is not None
        if self.fail_on is not None and third and image[0, 0, 0] % 10 == self.fail_on:
            raise RuntimeError("boom")
        keep = dets[dets[:, 4] >= 0.5]
        return keep[:, :4], np.arange(1, len(keep) + 1), keep[:, 4]


def test_run_mot_resume_and_failures(tmp_path):
    ds = open_dataset("mot17", _tiny_mot(tmp_path / "data"))
    out = tmp_path / "runs"
    trk = EchoTracker(fail_on=1)  # sequence B (k = 1) raises on its third frame
    summary = run_mot(trk, ds, out, "echo", progress=False)
    assert summary.done == ["SEQ-A"] and list(summary.failed) == ["SEQ-B"]
    assert "boom" in summary.failed["SEQ-B"] and "RuntimeError" in summary.tracebacks["SEQ-B"]
    assert summary.timings["SEQ-A"].frames == 6 and summary.timings["SEQ-A"].fps > 0
    assert not is_finished(out, "mot17", "echo", "SEQ-B")
    rows = read_mot_results(result_path(out, "mot17", "echo", "SEQ-A"))
    np.testing.assert_allclose(rows[:, :7], [[t, 1, 5 + t + 0.5, 10, 10, 20, 0.9] for t in range(1, 7)])
    assert read_timing(timing_path(out, "mot17", "echo", "SEQ-A"))["frames"] == 6
    # images reached the tracker (needs_images), in order
    again = run_mot(EchoTracker(), ds, out, "echo", progress=False)
    assert again.skipped == ["SEQ-A"] and again.done == ["SEQ-B"] and not again.failed
    assert again.timings["SEQ-A"].frames == 6  # from the timing file
    third = run_mot(EchoTracker(), ds, out, "echo", progress=False, overwrite=True)
    assert third.done == ["SEQ-A", "SEQ-B"]


def test_run_mot_without_images_or_detections(tmp_path):
    class DetOnly(EchoTracker):
        needs_images = False

    ds = open_dataset("mot17", _tiny_mot(tmp_path / "data", images=False))
    trk = DetOnly()
    summary = run_mot(trk, ds, tmp_path / "runs", "det", progress=False)
    assert summary.done == ["SEQ-A", "SEQ-B"] and trk.images == [None] * 6
    (tmp_path / "data" / "train" / "SEQ-A" / "det" / "det.txt").unlink()
    ds = open_dataset("mot17", tmp_path / "data")
    summary = run_mot(DetOnly(), ds, tmp_path / "runs2", "det", progress=False)
    assert "no public detections" in summary.failed["SEQ-A"] and summary.done == ["SEQ-B"]


def test_run_mot_rejects_bad_tracker_output(tmp_path):
    class Dup(EchoTracker):
        needs_images = False

        def update(self, image, dets):
            return np.zeros((2, 4)) + 1, np.array([3, 3]), np.ones(2)

    ds = open_dataset("mot17", _tiny_mot(tmp_path / "data", names=("SEQ-A",), images=False))
    summary = run_mot(Dup(), ds, tmp_path / "runs", "dup", progress=False)
    assert "one id twice" in summary.failed["SEQ-A"]
