"""TNL2K loader: the sequence folders present, frames of any image type in natural order, language.txt."""
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


def _seq(root, name, n, names, seed=0, language="the red car on the left"):
    d = root / name
    (d / "imgs").mkdir(parents=True)
    for i, f in enumerate(names):
        cv2.imwrite(str(d / "imgs" / f), np.full((10, 14, 3), 20 * i, np.uint8))
    (d / "groundtruth.txt").write_text("".join(",".join(f"{v:g}" for v in r) + "\n" for r in _boxes(n, seed)))
    if language is not None:
        (d / "language.txt").write_text(language + "\n")
    return d


@pytest.fixture
def tnl_root(tmp_path):
    root = tmp_path / "TNL2K" / "TNL2K_test_subset"
    _seq(root, "advSamp_Baseball_game_002-Done", 12, [f"{i}.png" for i in range(1, 13)])       # unpadded png
    _seq(root, "Assassin_video_1-Done", 3, [f"{i:05d}.jpg" for i in range(1, 4)], seed=1, language=None)
    (root / "not_a_sequence").mkdir()                                                         # no groundtruth.txt
    return root


def test_tnl2k_folders_present_natural_order_language(tnl_root):
    ds = open_dataset("tnl2k", tnl_root.parent)                       # the parent holding TNL2K_test_subset/
    assert ds.names() == ["Assassin_video_1-Done", "advSamp_Baseball_game_002-Done"] and ds.root == tnl_root
    s = ds["advSamp_Baseball_game_002-Done"]
    assert len(s) == 12 and [p.rsplit("/", 1)[1] for p in s.frames.paths][8:11] == ["9.png", "10.png", "11.png"]
    assert s.frame(9)[0, 0, 0] == 180 and s.meta["nlp"] == "the red car on the left"
    a = ds["Assassin_video_1-Done"]
    assert a.frames.paths[0].endswith("imgs/00001.jpg") and a.meta["nlp"] is None
    assert open_dataset("tnl2k", tnl_root).names() == ds.names()


def test_tnl2k_length_rules_and_bad_lines(tnl_root):
    d = tnl_root / "Assassin_video_1-Done"
    cv2.imwrite(str(d / "imgs" / "00004.jpg"), np.zeros((10, 14, 3), np.uint8))
    s = open_dataset("tnl2k", tnl_root)["Assassin_video_1-Done"]
    assert len(s) == 3 and len(s.frames) == 3 and "4 images for 3 ground-truth rows" in s.meta["warnings"][0]
    (d / "groundtruth.txt").write_text("1,2,3,4\n" * 6)
    with pytest.raises(DataError, match="4 images .* for 6 ground-truth rows"):
        open_dataset("tnl2k", tnl_root)["Assassin_video_1-Done"]
    (d / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n1,2;3,4\n")
    with pytest.raises(DataError) as e:
        open_dataset("tnl2k", tnl_root)["Assassin_video_1-Done"]
    assert e.value.path == str(d / "groundtruth.txt") and e.value.line == 3


def test_tnl2k_missing_data(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("tnl2k", tmp_path / "nope")
    assert str(tmp_path / "nope") in str(e.value) and "langtrackbenchmark" in str(e.value)
    with pytest.raises(DatasetNotFoundError, match="no TNL2K sequence folder"):
        open_dataset("tnl2k", tmp_path)


def test_tnl2k_perfect_results(tnl_root, tmp_path):
    ds = open_dataset("tnl2k", tnl_root)
    res = tmp_path / "res" / "perfect"
    for name in ds.names():
        write_sequence(ONE_PASS, res, name, ds[name].gt)
    m = evaluate(ds, res)["metrics"]
    assert m["success_auc"] == pytest.approx(20 / 21) and m["precision_20"] == 1.0 and m["n_sequences"] == 2
