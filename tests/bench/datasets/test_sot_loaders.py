"""Single-object dataset loaders on small hand-made layouts (tmp dirs), their quirks and bad input."""
import json

import numpy as np
import pytest

from bench.core.errors import ConfigError, DataError, DatasetNotFoundError
from bench.datasets import open_dataset
from tests.helpers import shared_path


def _boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, 100, (n, 2)), rng.integers(5, 40, (n, 2))], 1).astype(float)


def _write(path, rows, sep=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(f"{v:g}" for v in r) + "\n" for r in rows))


@pytest.fixture
def otb_root(tmp_path):
    root = tmp_path / "OTB"
    _write(root / "David" / "groundtruth_rect.txt", _boxes(471), ",")          # frames 300..770
    (root / "David" / "img").mkdir()
    (root / "David" / "img" / "0300.jpg").write_bytes(b"")
    _write(root / "Tiger1" / "groundtruth_rect.txt", _boxes(354, 1), "\t")     # covers 1..354, used 6..354
    _write(root / "Jogging" / "groundtruth_rect.1.txt", _boxes(307, 2), " ")
    _write(root / "Jogging" / "groundtruth_rect.2.txt", _boxes(307, 3), ",")
    _write(root / "Human4" / "groundtruth_rect.2.txt", _boxes(667, 4), ",")
    (root / "Human4" / "groundtruth_rect.1.txt").write_text("")
    board = _boxes(697, 5)                                                     # one row short of 698
    board[10] = [5, 5, 0, 0]
    board[11] = [np.nan] * 4
    _write(root / "Board" / "groundtruth_rect.txt", board)
    (root / "Board" / "img").mkdir()
    (root / "Board" / "img" / "00001.jpg").write_bytes(b"")
    return root


def test_otb_original_layout_quirks(otb_root):
    ds = open_dataset("otb100", otb_root).select(["David", "Tiger1", "Jogging-1", "Jogging-2", "Human4-2", "Board"])
    david = ds["David"]
    assert len(david) == 471 and david.meta["first_frame"] == 300
    assert david.frames.paths[0].endswith("David/img/0300.jpg") and david.frames.paths[-1].endswith("0770.jpg")
    tiger = ds["Tiger1"]
    raw = np.loadtxt(otb_root / "Tiger1" / "groundtruth_rect.txt")
    assert len(tiger) == 349 and np.array_equal(tiger.gt, raw[5:])        # tab separated, cut to 6..354
    assert tiger.frames is None                                          # annotation only
    j1, j2 = ds["Jogging-1"], ds["Jogging-2"]
    assert np.array_equal(j1.gt, np.loadtxt(otb_root / "Jogging" / "groundtruth_rect.1.txt"))
    assert np.array_equal(j2.gt, np.loadtxt(otb_root / "Jogging" / "groundtruth_rect.2.txt", delimiter=","))
    assert "Occlusion" in j1.attributes
    assert len(ds["Human4-2"]) == 667
    board = ds["Board"]
    assert len(board) == 698 and np.isnan(board.gt[-1]).all()             # padded, with a warning
    assert "697 rows for 698 frames" in board.meta["warnings"][0]
    assert np.isnan(board.gt[10]).all() and np.isnan(board.gt[11]).all()  # zero-size / NaN rows -> no target
    assert board.meta["invalid_gt_frames"] == 3
    assert board.frames.paths[0].endswith("Board/img/00001.jpg")          # 5-digit names


def test_otb_partial_root_and_missing_sequence(otb_root):
    ds = open_dataset("otb2013", otb_root)
    assert len(ds) == 51
    with pytest.raises(DatasetNotFoundError) as e:
        ds["Basketball"]
    msg = str(e.value)
    assert str(otb_root / "Basketball") in msg and "--sequences" in msg and "cvlab.hanyang.ac.kr" in msg


def test_missing_root_names_path_and_source(tmp_path):
    for name, where in [("otb100", "cvlab.hanyang.ac.kr"), ("vot2018", "votchallenge.net"),
                        ("got10k-val", "got-10k"), ("lasot", "lasot")]:
        with pytest.raises(DatasetNotFoundError) as e:
            open_dataset(name, tmp_path / "nope")
        assert str(tmp_path / "nope") in str(e.value) and where in str(e.value)
    with pytest.raises(DatasetNotFoundError, match="no OTB sequence folder"):
        open_dataset("otb100", tmp_path)
    with pytest.raises(ConfigError, match="unknown option"):
        open_dataset("otb100", tmp_path, colour="red")


def test_malformed_ground_truth_names_file_and_line(otb_root):
    f = otb_root / "David" / "groundtruth_rect.txt"
    lines = f.read_text().splitlines()
    lines[41] = "12,13,abc,4"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        open_dataset("otb100", otb_root)["David"]
    assert e.value.path == str(f) and e.value.line == 42
    _write(otb_root / "Tiger1" / "groundtruth_rect.txt", _boxes(100))
    with pytest.raises(DataError, match="100 rows for the 349 frames"):
        open_dataset("otb100", otb_root)["Tiger1"]


def test_otb_json_annotation_only(tmp_path):
    gt = _boxes(5).tolist()
    index = {"Jogging-1": {"video_dir": "Jogging-1", "init_rect": gt[0], "img_names": [f"Jogging/img/{i:04d}.jpg"
                                                                                       for i in range(1, 6)],
                           "gt_rect": gt, "attr": ["Occlusion"]}}
    (tmp_path / "OTB100.json").write_text(json.dumps(index))
    ds = open_dataset("otb100", tmp_path)
    s = ds["Jogging-1"]
    assert np.array_equal(s.gt, np.asarray(gt)) and s.frames is None
    with pytest.raises(DatasetNotFoundError, match="not in OTB100.json"):
        ds["Basketball"]


def test_shared_otb_sequences_with_images():
    root = shared_path("sot", "sequences")
    ds = open_dataset("otb100", root).select(["Couple", "Crossing"])
    couple = ds["Couple"]
    assert len(couple) == 140 and couple.frame(0).shape == (240, 320, 3)


def test_vot_folder_layout_tags_and_image_size(tmp_path):
    import cv2

    root = tmp_path / "vot2018"
    root.mkdir()
    (root / "list.txt").write_text("bag\nrect\n")
    polys = [[10, 10, 30, 10, 30, 30, 10, 30]] * 4
    _write(root / "bag" / "groundtruth.txt", polys)
    (root / "bag" / "color").mkdir()
    for i in range(4):
        cv2.imwrite(str(root / "bag" / "color" / f"{i + 1:08d}.jpg"), np.zeros((48, 64, 3), np.uint8))
    (root / "bag" / "occlusion.tag").write_text("0\n1\n")            # short tag file: padded with 0
    (root / "bag" / "camera_motion.label").write_text("1\n1\n1\n1\n")
    _write(root / "rect" / "groundtruth.txt", [[1.5, 2, 10.2, 20]] * 3)
    ds = open_dataset("vot2018", root)
    assert ds.settings.eao_interval == [100, 356] and ds.settings.skip_initialize == 5
    bag = ds["bag"]
    assert bag.image_size == (64, 48) and bag.meta["image_size_source"] == "image"
    assert bag.polygons.shape == (4, 8) and np.allclose(bag.gt[0], [10, 10, 20, 20])
    assert bag.flags["occlusion"].tolist() == [False, True, False, False]
    assert bag.flags["camera_motion"].all() and set(bag.attributes) == {"occlusion", "camera_motion"}
    rect = ds["rect"]
    assert rect.polygons is None and rect.meta["regions"].sizes.tolist() == [4, 4, 4]
    assert rect.image_size == (12, 22) and rect.meta["image_size_source"] == "gt-extent"  # ceil(11.7), 22
    _write(root / "rect" / "groundtruth.txt", [[1, 2, 3, 4], [1, 2, 3]])
    with pytest.raises(DataError) as e:
        open_dataset("vot2018", root)["rect"]
    assert e.value.line == 2


def test_vot_json_layout(tmp_path):
    entry = {"video_dir": "a", "init_rect": [0, 0, 4, 0, 4, 3, 0, 3], "img_names": ["a/color/00000001.jpg"] * 2,
             "gt_rect": [[0, 0, 4, 0, 4, 3, 0, 3], [1, 0, 5, 0, 5, 3, 1, 3]],
             "camera_motion": [1, 0], "illum_change": [0, 0], "motion_change": [0, 0], "size_change": [0],
             "occlusion": [0, 1]}
    (tmp_path / "VOT2016.json").write_text(json.dumps({"a": entry}))
    ds = open_dataset("vot2016", tmp_path)
    assert ds.settings.eao_interval == [108, 371]
    a = ds["a"]
    assert a.image_size == (5, 3) and a.flags["size_change"].tolist() == [False, False]
    assert a.init_box.shape == (4,)


def test_shared_vot_sequence_with_images(tmp_path):
    """The real VOT sequence 'bag' (frames in the sequence folder, VOT2016 style) behind a list.txt."""
    (tmp_path / "bag").symlink_to(shared_path("sot", "sequences", "bag"), target_is_directory=True)
    (tmp_path / "list.txt").write_text("bag\n")
    bag = open_dataset("vot2016", tmp_path)["bag"]
    assert len(bag) == 196 and bag.polygons.shape == (196, 8)
    assert bag.meta["image_size_source"] == "image"
    img = bag.frame(0)
    assert bag.image_size == (img.shape[1], img.shape[0])


def test_got10k_val_and_test(tmp_path):
    root = tmp_path / "GOT-10k"
    d = root / "val" / "GOT-10k_Val_000001"
    _write(d / "groundtruth.txt", _boxes(6))
    (d / "cover.label").write_text("8\n8\n0\n4\n8\n8\n")
    (d / "absence.label").write_text("0\n0\n1\n0\n0\n0\n")
    (d / "meta_info.ini").write_text("[METAINFO]\nobject_class: bird\nmotion_class: fly\nresolution: (320, 240)\n")
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    ds = open_dataset("got10k-val", root)
    s = ds["GOT-10k_Val_000001"]
    assert s.image_size == (320, 240) and s.flags["cover"].tolist() == [1, 1, 0, 1, 1, 1]
    assert np.isnan(s.gt[2]).all() and s.attributes == ("bird", "fly") and s.frames is None
    assert open_dataset("got10k-val", root / "val").root == root / "val"   # the split folder itself
    t = root / "test" / "GOT-10k_Test_000001"
    _write(t / "groundtruth.txt", _boxes(1))
    import cv2

    for i in range(3):
        cv2.imwrite(str(t / f"{i + 1:08d}.jpg"), np.zeros((24, 32, 3), np.uint8))
    (root / "test" / "list.txt").write_text("GOT-10k_Test_000001\n")
    ts = open_dataset("got10k-test", root)["GOT-10k_Test_000001"]
    assert len(ts) == 3 and np.isnan(ts.gt[1:]).all() and ts.image_size == (32, 24)
    (d / "cover.label").write_text("8\n8\n")
    with pytest.raises(DataError, match="2 values for 6 frames"):
        open_dataset("got10k-val", root)["GOT-10k_Val_000001"]


def test_lasot_flags(tmp_path):
    d = tmp_path / "airplane" / "airplane-1"
    _write(d / "groundtruth.txt", _boxes(5))
    (d / "full_occlusion.txt").write_text("0,0,1,0,0")
    (d / "out_of_view.txt").write_text("0,0,0,0,1\n")
    (d / "nlp.txt").write_text("white airplane landing\n")
    ds = open_dataset("lasot", tmp_path)
    assert len(ds) == 280
    s = ds["airplane-1"]
    assert s.flags["full_occlusion"].tolist() == [0, 0, 1, 0, 0] and s.flags["out_of_view"][4]
    assert s.meta["nlp"] == "white airplane landing" and s.attributes == ("airplane",)
    (d / "out_of_view.txt").write_text("0,0,0\n")
    with pytest.raises(DataError, match="3 values for 5 frames"):
        open_dataset("lasot", tmp_path)["airplane-1"]


def test_evaluate_on_handmade_otb_layout(otb_root, tmp_path):
    from bench.evaluate import evaluate as evaluate_results
    from bench.evaluate import score as evaluate_arrays
    from bench.results.sot import ONE_PASS, write_sequence

    ds = open_dataset("otb100", otb_root).select(["Jogging-1", "Board"])
    res = tmp_path / "res"
    write_sequence(ONE_PASS, res, "Jogging-1", ds["Jogging-1"].gt, times=np.full(307, 0.01))
    rep = evaluate_results(ds, res, tracker="perfect", missing="skip")
    assert rep["metrics"]["success_auc"] == pytest.approx(20 / 21)   # iou 1 fails only t = 1
    assert rep["metrics"]["fps"] == pytest.approx(100)
    assert any("Board" in w for w in rep["warnings"])
    with pytest.raises(DataError, match="Board"):
        evaluate_results(ds, res)
    with pytest.raises(ConfigError, match="invalid_gt"):
        evaluate_results(ds, res, invalid_gt="maybe", missing="skip")
    arrays = evaluate_arrays(ds, {"Jogging-1": ds["Jogging-1"].gt, "Board": ds["Board"].gt})
    assert arrays["sequences"]["Jogging-1"]["precision_20"] == 1.0
    # Board: 3 frames without a valid gt box fail (invalid_gt = fail)
    assert arrays["sequences"]["Board"]["precision_20"] == pytest.approx(695 / 698)
