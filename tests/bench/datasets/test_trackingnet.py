"""TrackingNet loader (TEST / TRAIN chunks, 0-based unpadded frame names) and the server zip packer."""
import zipfile

import cv2
import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import ConfigError, DataError, DatasetNotFoundError
from bench.datasets import open_dataset
from bench.datasets.trackingnet import pack_results
from bench.evaluate import evaluate
from bench.results.sot import ONE_PASS, write_sequence


def _boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, 100, (n, 2)), rng.integers(5, 40, (n, 2))], 1).astype(float)


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in r) + "\n" for r in rows))


def _frames(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full((12, 16, 3), 10 * i, np.uint8))


@pytest.fixture
def tn_root(tmp_path):
    root = tmp_path / "TrackingNet"
    for name, n, seed in (("-0a1b2c3d4e5_0", 12, 0), ("Zz9_x-y_1", 3, 1)):
        _write(root / "TEST" / "anno" / f"{name}.txt", _boxes(1, seed))       # first box only
        _frames(root / "TEST" / "frames" / name, n)
    _write(root / "TRAIN_0" / "anno" / "train_a.txt", _boxes(5, 2))
    _frames(root / "TRAIN_0" / "frames" / "train_a", 5)
    _write(root / "TRAIN_0" / "anno" / "train_b.txt", _boxes(4, 3))          # annotation only
    return root


def test_trackingnet_test_split(tn_root):
    ds = open_dataset("trackingnet", tn_root)
    assert ds.names() == ["-0a1b2c3d4e5_0", "Zz9_x-y_1"] and ds.protocol == "ope"
    assert not ds.has_ground_truth()
    s = ds["-0a1b2c3d4e5_0"]
    assert len(s) == 12 and np.isnan(s.gt[1:]).all() and np.array_equal(s.init_box, _boxes(1)[0])
    assert [p.rsplit("/", 1)[1] for p in s.frames.paths] == [f"{i}.jpg" for i in range(12)]   # 10 after 9
    assert s.frame(11)[0, 0, 0] == 110
    (tn_root / "TEST" / "frames" / "Zz9_x-y_1" / "1.jpg").unlink()
    with pytest.raises(DataError) as e:
        open_dataset("trackingnet", tn_root)["Zz9_x-y_1"]
    assert e.value.path == str(tn_root / "TEST" / "frames" / "Zz9_x-y_1" / "1.jpg") and "missing" in str(e.value)
    for f in (tn_root / "TEST" / "frames" / "Zz9_x-y_1").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="without frames: the sequence length is unknown"):
        open_dataset("trackingnet", tn_root)["Zz9_x-y_1"]


def test_trackingnet_train_chunks(tn_root, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("trackingnet-train", tn_root)
    msg = str(e.value)
    assert str(tn_root / "TRAIN_1" / "anno") in msg and "chunks=" in msg and "TrackingNet-devkit" in msg
    ds = open_dataset("trackingnet-train", tn_root, chunks=["TRAIN_0"])
    assert ds.names() == ["train_a", "train_b"] and ds.has_ground_truth()
    a, b = ds["train_a"], ds["train_b"]
    assert len(a) == 5 and a.frames is not None and len(b) == 4 and b.frames is None
    assert a.meta["chunk"] == "TRAIN_0"
    res = tmp_path / "res" / "perfect"
    for s in (a, b):
        write_sequence(ONE_PASS, res, s.name, s.gt)
    m = evaluate(ds, res)["metrics"]
    assert m["success_auc"] == pytest.approx(20 / 21) and m["precision_20"] == 1.0
    _write(tn_root / "TRAIN_0" / "anno" / "train_a.txt", _boxes(3))
    with pytest.raises(DataError, match="3 ground-truth rows for 5 frames"):
        open_dataset("trackingnet-train", tn_root, chunks=["TRAIN_0"])["train_a"]
    f = tn_root / "TRAIN_0" / "anno" / "train_b.txt"
    f.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(DataError) as e:
        open_dataset("trackingnet-train", tn_root, chunks=["TRAIN_0"])["train_b"]
    assert e.value.path == str(f) and e.value.line == 2


def test_trackingnet_missing_root(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("trackingnet", tmp_path / "nope")
    assert str(tmp_path / "nope") in str(e.value) and "TrackingNet-devkit" in str(e.value)
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("trackingnet", tmp_path)
    assert str(tmp_path / "TEST" / "anno") in str(e.value)


def test_pack_results_server_zip(tn_root, tmp_path):
    ds = open_dataset("trackingnet", tn_root)
    res = tmp_path / "res" / "tracker"
    long_name, short = ds["-0a1b2c3d4e5_0"], ds["Zz9_x-y_1"]
    boxes = _boxes(12, 7)
    boxes[0] = long_name.init_box
    boxes[5] = np.nan
    write_sequence(ONE_PASS, res, long_name.name, boxes)
    with pytest.raises(DataError, match="1 of 2 sequences of trackingnet have no result file"):
        pack_results(ds, res, tmp_path / "sub.zip")
    (res / "zz9_x_y_1.txt").write_text("9,9,9,9\n1,1,5,5\n")         # other spelling, wrong first row, one row short
    packed = pack_results(ds, res, tmp_path / "sub.zip")
    assert packed.sequences == ["-0a1b2c3d4e5_0", "Zz9_x-y_1"]
    with zipfile.ZipFile(packed.path) as z:
        assert sorted(z.namelist()) == ["-0a1b2c3d4e5_0.txt", "Zz9_x-y_1.txt"]           # at the zip root
        rows = [[float(v) for v in line.split(",")] for line in z.read("-0a1b2c3d4e5_0.txt").decode().splitlines()]
        short_rows = z.read("Zz9_x-y_1.txt").decode().splitlines()
    assert len(rows) == 12 and rows[5] == [0, 0, 0, 0] and np.allclose(rows[0], long_name.init_box)
    assert np.allclose(rows[1:5], boxes[1:5]) and np.allclose(rows[6:], boxes[6:])
    assert len(short_rows) == 3 and np.allclose([float(v) for v in short_rows[0].split(",")], short.init_box)
    assert short_rows[2] == "0.0000,0.0000,0.0000,0.0000"                                 # padded row
    w = " ".join(packed.warnings)
    assert "written as 0,0,0,0" in w and "not the given box" in w and "2 rows for 3" in w
    sub = pack_results(ds.select(["Zz9_x-y_1"]), res, tmp_path / "one.zip")
    assert "1 of the 2 sequences" in " ".join(sub.warnings)
    with pytest.raises(ConfigError, match="trackingnet, trackingnet-train"):
        pack_results(open_dataset("synthetic"), res, tmp_path / "x.zip")


def test_cli_export_results(tn_root, tmp_path, capsys):
    res = tmp_path / "res" / "t"
    write_sequence(ONE_PASS, res, "-0a1b2c3d4e5_0", np.tile(_boxes(1), (12, 1)))
    out = tmp_path / "out" / "t.zip"
    args = ["export-results", "--dataset", "trackingnet", "--root", str(tn_root), "--results", str(res),
            "--out", str(out)]
    assert main(args) == 1 and "--allow-missing" in capsys.readouterr().err and not out.exists()
    assert main(args + ["--allow-missing"]) == 0
    captured = capsys.readouterr()
    assert f"packed 1 sequences of trackingnet into {out}" in captured.out and "left out" in captured.err
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["-0a1b2c3d4e5_0.txt"]
