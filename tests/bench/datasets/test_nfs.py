"""NfS (30 fps) loader on small hand-made layouts: xyxy rows numbered at 240 fps, lost / occluded flags, bad input."""
import cv2
import numpy as np
import pytest

from bench.core.errors import DataError, DatasetNotFoundError
from bench.datasets import open_dataset
from bench.evaluate import evaluate
from bench.results.sot import ONE_PASS, write_sequence


def _xyxy(n, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, (n, 2)).astype(float)
    return np.concatenate([xy, xy + rng.integers(5, 40, (n, 2))], 1)


def _anno(path, frames, boxes, lost=(), occluded=(), label='"car"'):
    """VATIC rows: track_id xmin ymin xmax ymax frame lost occluded generated label."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (f, b) in enumerate(zip(frames, boxes)):
        lines.append(f"0 {b[0]:g} {b[1]:g} {b[2]:g} {b[3]:g} {f} {int(i in lost)} {int(i in occluded)} 0 {label}")
    path.write_text("\n".join(lines) + "\n")


def _jpgs(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), np.full((16, 20, 3), 60, np.uint8))


@pytest.fixture
def nfs_root(tmp_path):
    root = tmp_path / "NfS"
    # car_jumping: 22 frames at 30 fps; one annotation row per 240 fps frame (1..169), rows 8k are the 30 fps frames
    d = root / "car_jumping" / "30"
    rows = _xyxy(169)
    _anno(d / "car_jumping.txt", range(1, 170), rows, lost=(16,), occluded=(24, 25, 32))
    _jpgs(d / "car_jumping", 22)
    # yoyo: annotation only, one row per 30 fps frame numbered at 240 fps (1, 9, 17, ...); frame 40 has no row
    k = [i for i in range(67) if i != 40]
    _anno(root / "yoyo" / "30" / "yoyo.txt", [1 + 8 * i for i in k], _xyxy(66, 1), label='"yo yo"')
    # drone: annotation only, numbered at 30 fps (1..70, the list's 70 frames): used row for row
    _anno(root / "drone" / "30" / "drone.txt", range(1, 71), _xyxy(70, 2))
    return root


def test_nfs_240fps_numbering_xyxy_and_flags(nfs_root):
    ds = open_dataset("nfs30", nfs_root)
    assert len(ds) == 100 and ds.protocol == "ope" and ds.settings.use_flags is False
    s = ds["car_jumping"]
    rows = _xyxy(169)[::8]                                    # 240 fps frames 1, 9, ..., 169
    assert len(s) == 22 and s.meta["numbering"] == "240fps"
    assert np.array_equal(s.gt, np.concatenate([rows[:, :2], rows[:, 2:] - rows[:, :2]], 1))   # w = xmax - xmin
    assert s.flags["lost"].tolist() == [i == 2 for i in range(22)]           # row 16 = 240 fps frame 17 = k 2
    assert np.flatnonzero(s.flags["occluded"]).tolist() == [3, 4]            # rows 24, 32 (row 25 is between)
    assert np.flatnonzero(s.flags["absent"]).tolist() == [2, 3, 4]
    assert s.attributes == ("car",) and s.frames.paths[-1].endswith("car_jumping/30/car_jumping/00022.jpg")
    assert s.frame(0).shape == (16, 20, 3)
    y = ds["yoyo"]
    assert len(y) == 67 and s.frames is not None and y.frames is None
    assert np.isnan(y.gt[40]).all() and np.isfinite(np.delete(y.gt, 40, 0)).all()   # no row: no target
    assert y.meta["warnings"] == []
    d = ds["drone"]
    assert len(d) == 70 and d.meta["numbering"] == "30fps" and np.isfinite(d.gt).all()


def test_nfs_lengths_one_apart_cut_further_apart_refused(nfs_root):
    d = nfs_root / "car_jumping" / "30"
    _jpgs(d / "car_jumping", 23)                              # one image more than the annotation covers
    s = open_dataset("nfs30", nfs_root)["car_jumping"]
    assert len(s) == 22 and len(s.frames) == 22 and "both cut to 22" in s.meta["warnings"][0]
    _jpgs(d / "car_jumping", 30)
    with pytest.raises(DataError) as e:
        open_dataset("nfs30", nfs_root)["car_jumping"]
    assert e.value.path == str(d / "car_jumping.txt")
    assert "covers 22 frames at 30 fps" in str(e.value) and "holds 30" in str(e.value)
    _anno(nfs_root / "yoyo" / "30" / "yoyo.txt", [1, 9, 17], _xyxy(3))
    y = open_dataset("nfs30", nfs_root)["yoyo"]
    assert len(y) == 3 and "the sequence list has 67" in y.meta["warnings"][0]


def test_nfs_bad_rows_name_file_and_line(nfs_root):
    f = nfs_root / "yoyo" / "30" / "yoyo.txt"
    lines = f.read_text().splitlines()
    lines[6] = "0 1 2 30 40 49 0"                             # 7 values, no label
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        open_dataset("nfs30", nfs_root)["yoyo"]
    assert e.value.path == str(f) and e.value.line == 7 and "at least 9 values" in str(e.value)
    lines = f.read_text().splitlines()
    lines[6] = lines[5]                                       # frame number repeated
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        open_dataset("nfs30", nfs_root)["yoyo"]
    assert e.value.line == 7 and "must increase" in str(e.value)
    lines[6] = "0 1 2 x 4 9 0 0 0 \"yoyo\""
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        open_dataset("nfs30", nfs_root)["yoyo"]
    assert e.value.line == 7 and "not a list of numbers" in str(e.value)


def test_nfs_missing_data_messages(nfs_root, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("nfs30", tmp_path / "nope")
    assert str(tmp_path / "nope") in str(e.value) and "ci2cv.net/nfs" in str(e.value)
    with pytest.raises(DatasetNotFoundError, match="no NfS sequence folder"):
        open_dataset("nfs30", tmp_path)
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("nfs30", nfs_root)["bee"]
    assert str(nfs_root / "bee" / "30") in str(e.value) and "--sequences" in str(e.value)
    (nfs_root / "bee" / "30").mkdir(parents=True)
    with pytest.raises(DataError, match="ground-truth file not found"):
        open_dataset("nfs30", nfs_root)["bee"]


def test_nfs_perfect_results_flags_count_only_with_use_flags(nfs_root, tmp_path):
    ds = open_dataset("nfs30", nfs_root).select(["car_jumping"])
    res = tmp_path / "res" / "perfect"
    write_sequence(ONE_PASS, res, "car_jumping", ds["car_jumping"].gt)
    m = evaluate(ds, res)["metrics"]
    assert m["success_auc"] == pytest.approx(20 / 21) and m["precision_20"] == 1.0   # got10k: every frame scored
    m = evaluate(ds, res, use_flags=True)["metrics"]                                   # lost / occluded frames fail
    assert m["precision_20"] == pytest.approx(19 / 22) and m["success_auc"] == pytest.approx(20 / 21 * 19 / 22)
