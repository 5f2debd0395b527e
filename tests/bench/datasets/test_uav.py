"""UAV123 / UAV20L loader on small hand-made layouts: sub-ranges of one folder, NaN rows, att files, bad input."""
import json

import cv2
import numpy as np
import pytest

from bench.core.errors import DataError, DatasetNotFoundError
from bench.datasets import open_dataset
from bench.evaluate import evaluate
from bench.results.sot import ONE_PASS, write_sequence


def _boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, 100, (n, 2)), rng.integers(5, 40, (n, 2))], 1).astype(float)


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join("NaN" if np.isnan(v) else f"{v:g}" for v in r) + "\n" for r in rows))


def _jpg(path, shape=(24, 32)):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full(shape + (3,), 90, np.uint8))


@pytest.fixture
def uav_root(tmp_path):
    root = tmp_path / "UAV123"
    b1 = _boxes(253)
    b1[[5, 6, 7]] = np.nan                                    # target absent: NaN rows
    _write(root / "anno" / "UAV123" / "bird1_1.txt", b1)
    _write(root / "anno" / "UAV123" / "bird1_2.txt", _boxes(703, 1))   # frames 775..1477 of bird1
    (root / "anno" / "UAV123" / "att").mkdir()
    (root / "anno" / "UAV123" / "att" / "bird1_2.txt").write_text("1,0,0,1,0,0,1,0,0,0,0,1\n")
    frames = root / "data_seq" / "UAV123" / "bird1"
    for i in (1, 253, 775, 1477, 2437):                        # first / last frames of the ranges used
        _jpg(frames / f"{i:06d}.jpg")
    _write(root / "anno" / "UAV20L" / "bird1.txt", _boxes(2437, 2))    # UAV20L: frames 1..2437 of the same folder
    return root


def test_uav123_sub_ranges_nan_rows_attributes(uav_root):
    ds = open_dataset("uav123", uav_root)
    assert len(ds) == 123 and ds.protocol == "ope" and ds.settings.invalid_gt == "exclude"
    s1, s2 = ds["bird1_1"], ds["bird1_2"]
    assert len(s1) == 253 and s1.frames.paths[0].endswith("bird1/000001.jpg")
    assert s1.frames.paths[-1].endswith("bird1/000253.jpg")
    assert np.isnan(s1.gt[5:8]).all() and s1.meta["invalid_gt_frames"] == 3
    assert len(s2) == 703 and s2.meta["first_frame"] == 775 and s2.meta["folder"] == "bird1"
    assert s2.frames.paths[0].endswith("bird1/000775.jpg") and s2.frames.paths[-1].endswith("bird1/001477.jpg")
    assert s2.frame(0).shape == (24, 32, 3)
    assert s2.attributes == ("Scale Variation", "Fast Motion", "Out-of-View", "Similar Object")
    assert s1.attributes == ()                                 # no att file


def test_uav20l_uses_the_uav123_folders(uav_root):
    ds = open_dataset("uav20l", uav_root)
    assert len(ds) == 20
    s = ds["bird1"]
    assert len(s) == 2437 and s.frames.paths[0].endswith("data_seq/UAV123/bird1/000001.jpg")
    assert open_dataset("uav20l", uav_root.parent)["bird1"].meta["folder"] == "bird1"   # the zip's parent folder
    (frames := uav_root / "data_seq" / "UAV123" / "bird1" / "002437.jpg").unlink()
    with pytest.raises(DataError, match="frame 2437 of 2437 is missing") as e:
        open_dataset("uav20l", uav_root)["bird1"]
    assert e.value.path == str(frames)


def test_uav_length_disagreeing_with_range_names_both(uav_root):
    f = uav_root / "anno" / "UAV123" / "bird1_2.txt"
    _write(f, _boxes(700))
    with pytest.raises(DataError) as e:
        open_dataset("uav123", uav_root)["bird1_2"]
    msg = str(e.value)
    assert e.value.path == str(f) and "700 ground-truth rows" in msg and "775..1477 (703 frames)" in msg
    assert "'bird1'" in msg and "lists/uav.yaml" in msg


def test_uav_malformed_line_and_att_file(uav_root):
    f = uav_root / "anno" / "UAV123" / "bird1_1.txt"
    lines = f.read_text().splitlines()
    lines[99] = "1,2,x,4"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        open_dataset("uav123", uav_root)["bird1_1"]
    assert e.value.path == str(f) and e.value.line == 100
    (uav_root / "anno" / "UAV123" / "att" / "bird1_2.txt").write_text("1,0,1\n")
    with pytest.raises(DataError, match="3 attribute flags, expected 12"):
        open_dataset("uav123", uav_root)["bird1_2"]


def test_uav_missing_data_messages(uav_root, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("uav123", tmp_path / "nope")
    assert str(tmp_path / "nope") in str(e.value) and "kaust.edu.sa" in str(e.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("uav123", empty)
    assert str(empty / "anno" / "UAV123") in str(e.value) and "UAV123.json" in str(e.value)
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("uav123", uav_root)["car6_3"]
    assert str(uav_root / "anno" / "UAV123" / "car6_3.txt") in str(e.value) and "--sequences" in str(e.value)


def test_uav_json_annotation_only(tmp_path):
    gt = _boxes(703, 3)
    gt[0] = [1, 2, 3, 4]
    entry = {"video_dir": "bird1", "init_rect": gt[0].tolist(),
             "img_names": [f"bird1/{i:06d}.jpg" for i in range(775, 1478)], "gt_rect": gt.tolist(),
             "attr": ["Fast Motion"]}
    (tmp_path / "UAV123.json").write_text(json.dumps({"bird1_2": entry}))
    ds = open_dataset("uav123", tmp_path)
    s = ds["bird1_2"]
    assert np.array_equal(s.gt, gt) and s.frames is None and s.attributes == ("Fast Motion",)
    _jpg(tmp_path / "data_seq" / "UAV123" / "bird1" / "000775.jpg")    # img_names relative to data_seq/UAV123
    _jpg(tmp_path / "data_seq" / "UAV123" / "bird1" / "001477.jpg")
    assert open_dataset("uav123", tmp_path)["bird1_2"].frames.paths[0].endswith("data_seq/UAV123/bird1/000775.jpg")
    with pytest.raises(DatasetNotFoundError, match="not in UAV123.json"):
        ds["bike1"]
    entry["gt_rect"] = entry["gt_rect"][:10]
    entry["img_names"] = entry["img_names"][:10]
    (tmp_path / "UAV123.json").write_text(json.dumps({"bird1_2": entry}))
    with pytest.raises(DataError, match="10 gt_rect rows, but it is frames 775..1477"):
        open_dataset("uav123", tmp_path)["bird1_2"]


def test_uav_perfect_results_nan_frames_excluded(uav_root, tmp_path):
    ds = open_dataset("uav123", uav_root).select(["bird1_1", "bird1_2"])
    res = tmp_path / "res" / "perfect"
    for name in ds.names():
        write_sequence(ONE_PASS, res, name, np.nan_to_num(ds[name].gt))
    rep = evaluate(ds, res)
    m = rep["metrics"]
    assert m["success_auc"] == pytest.approx(20 / 21) and m["precision_20"] == 1.0   # iou 1 fails only t = 1
    fail = evaluate(ds, res, invalid_gt="fail")["sequences"]["bird1_1"]
    assert fail["precision_20"] == pytest.approx(250 / 253)                        # the 3 NaN frames now fail
