"""bench show: frames drawn with the boxes, marks from the evaluation's matching, the writers."""
from __future__ import annotations

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import BenchError
from bench.datasets import open_dataset
from bench.protocols.mot import MOTSettings
from bench.show import (GT_COLOUR, PALETTE, contact_sheet, identity_colour, mot_frames, mot_marks, parse_frames,
                        sot_frames)


def _edge(img, box):
    """RGB at the middle of the box's top edge (the 2-pixel outline)."""
    x, y, w, h = [int(round(v)) for v in box]
    return tuple(int(v) for v in img[y, x + w // 2])


def test_sot_frames_draw_gt_and_trackers_in_their_colours():
    ds = open_dataset("synthetic", num_sequences=1, length=8)
    seq = ds[ds.names()[0]]
    shifted = seq.gt + np.array([20.0, 15.0, 0.0, 0.0])
    frames = list(sot_frames(seq, {"shifted": shifted}, [0, 3, 5]))
    assert len(frames) == 3 and frames[0].shape == seq.frame(0).shape
    for img, t in zip(frames, [0, 3, 5]):
        if np.all(np.isfinite(seq.gt[t])):
            assert _edge(img, seq.gt[t]) == GT_COLOUR
            assert _edge(img, shifted[t]) == PALETTE[0]
    assert not np.array_equal(frames[0], seq.frame(0))  # drawn on a copy
    assert np.array_equal(seq.frame(0), seq.frame(0))


def test_mot_marks_false_positives_and_switches():
    ds = open_dataset("synthetic-mot", num_sequences=1, length=12)
    seq = ds[ds.names()[0]]
    gt = seq.gt[seq.gt[:, 6] != 0]
    rows = gt[:, :7].copy()
    rows[:, 6] = 1.0
    first = int(np.min(rows[:, 1]))
    late = (rows[:, 1] == first) & (rows[:, 0] > 6)
    rows[late, 1] = 999                                  # the same person gets another id after frame 6
    first_late = rows[late, 0].min()
    fp = np.array([[3, 555, 1.0, 1.0, 30.0, 60.0, 0.5]])  # a box on nothing
    rows = np.concatenate([rows, fp])
    marks = mot_marks(seq, rows, MOTSettings(preprocess=False))
    assert marks["fp"][-1] and marks["fp"].sum() == 1
    switched = np.flatnonzero(marks["switch"])
    assert len(switched) == 1 and rows[switched[0], 1] == 999 and rows[switched[0], 0] == first_late
    assert not marks["missed"].any()
    imgs = list(mot_frames(seq, rows, [2, 7], MOTSettings(preprocess=False)))
    r = np.flatnonzero((rows[:, 0] == 8) & (rows[:, 1] == 999))[0]
    assert _edge(imgs[1], rows[r, 2:6]) == identity_colour(999)


def test_identity_colours_differ():
    cols = {identity_colour(i) for i in range(1, 40)}
    assert len(cols) == 39


def test_frames_argument_and_contact_sheet():
    assert parse_frames(None, 5) == [0, 1, 2, 3, 4]
    assert parse_frames("2:4", 10) == [1, 2, 3] and parse_frames("3:", 5, step=2) == [2, 4]
    assert parse_frames("4", 9) == [3]
    with pytest.raises(BenchError, match="FIRST:LAST"):
        parse_frames("a:b", 5)
    with pytest.raises(BenchError, match="no frame"):
        parse_frames("7:9", 5)
    sheet = contact_sheet([np.full((2, 3, 3), k, np.uint8) for k in (10, 20, 30)])
    assert sheet.shape == (4, 6, 3) and sheet[0, 0, 0] == 10 and sheet[0, 3, 0] == 20 and sheet[2, 0, 0] == 30
    assert sheet[2, 3, 0] == 0


def test_show_command_writes_gif_png_and_mp4(tmp_path, capsys):
    from PIL import Image

    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--dataset-option", "num_sequences=1",
                 "--dataset-option", "length=10", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    seq = open_dataset("synthetic", num_sequences=1, length=10).names()[0]
    gif = tmp_path / "a.gif"
    assert main(["show", "--dataset", "synthetic", "--dataset-option", "num_sequences=1", "--dataset-option",
                 "length=10", "--sequence", seq, "--results", str(tmp_path / "r" / "synthetic" / "ncc"),
                 "--out", str(gif), "--frames", "2:7", "--quiet"]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 6
    png = tmp_path / "a.png"
    assert main(["show", "--dataset", "synthetic", "--dataset-option", "num_sequences=1", "--dataset-option",
                 "length=10", "--sequence", seq, "--results", str(tmp_path / "r" / "synthetic" / "ncc"),
                 "--out", str(png), "--step", "3", "--quiet"]) == 0
    with Image.open(png) as im:
        assert im.size == (2 * 320, 2 * 240)   # 4 frames (1, 4, 7, 10) on a 2 x 2 sheet
    assert main(["run", "--tracker", "sort", "--dataset", "synthetic-mot", "--dataset-option", "num_sequences=1",
                 "--dataset-option", "length=10", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    mp4 = tmp_path / "m.mp4"
    code = main(["show", "--dataset", "synthetic-mot", "--dataset-option", "num_sequences=1", "--dataset-option",
                 "length=10", "--sequence", "SYN-test-01", "--results", str(tmp_path / "r" / "synthetic-mot" / "sort"),
                 "--out", str(mp4), "--quiet"])
    assert code == 0 and mp4.stat().st_size > 1000
    import cv2

    cap = cv2.VideoCapture(str(mp4))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    cap.release()
    assert main(["show", "--dataset", "synthetic", "--sequence", seq, "--results", str(tmp_path / "r"),
                 "--out", str(tmp_path / "x.avi"), "--quiet"]) == 1
