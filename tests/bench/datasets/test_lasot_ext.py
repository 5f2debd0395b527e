"""LaSOT extension: the lasot loader with the 'extension' list (150 sequences of 15 new classes)."""
import numpy as np
import pytest

from bench.core.errors import DatasetNotFoundError
from bench.datasets import open_dataset
from bench.datasets.sot_common import read_data_yaml
from bench.evaluate import evaluate
from bench.results.sot import ONE_PASS, write_sequence

CLASSES = ["atv", "badminton", "cosplay", "dancingshoe", "footbag", "frisbee", "jianzi", "lantern", "misc",
           "opossum", "paddle", "raccoon", "rhino", "skatingshoe", "wingsuit"]


def _boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, 100, (n, 2)), rng.integers(5, 40, (n, 2))], 1).astype(float)


def test_lasot_ext_list_layout_and_perfect_results(tmp_path):
    d = tmp_path / "ext" / "wingsuit" / "wingsuit-10"
    d.mkdir(parents=True)
    gt = _boxes(8)
    (d / "groundtruth.txt").write_text("".join(",".join(f"{v:g}" for v in r) + "\n" for r in gt))
    (d / "full_occlusion.txt").write_text("0,0,0,1,0,0,0,0\n")
    (d / "out_of_view.txt").write_text("0,0,0,0,0,0,0,1\n")
    (d / "nlp.txt").write_text("a person in a wingsuit flying over mountains\n")
    ds = open_dataset("lasot-ext", tmp_path / "ext")
    assert len(ds) == 150 and ds.params.split == "extension"
    assert sorted({n.rsplit("-", 1)[0] for n in ds.names()}) == sorted(CLASSES)
    assert all(f"{c}-{i}" in ds for c in CLASSES for i in range(1, 11))
    assert not set(ds.names()) & set(read_data_yaml("lists/lasot.yaml")["test"])      # disjoint from the 280
    s = ds["wingsuit-10"]
    assert s.attributes == ("wingsuit",) and s.meta["nlp"].startswith("a person in a wingsuit")
    res = tmp_path / "res" / "perfect"
    write_sequence(ONE_PASS, res, "wingsuit-10", gt)
    m = evaluate(ds.select(["wingsuit-10"]), res)["metrics"]
    assert m["precision_20"] == pytest.approx(6 / 8)                 # occluded / out-of-view frames fail
    assert m["success_auc"] == pytest.approx(20 / 21 * 6 / 8)
    with pytest.raises(DatasetNotFoundError) as e:
        ds["atv-1"]
    assert str(tmp_path / "ext" / "atv" / "atv-1") in str(e.value)
    with pytest.raises(DatasetNotFoundError) as e:
        open_dataset("lasot-ext", tmp_path / "nope")
    assert "lasot" in str(e.value) and str(tmp_path / "nope") in str(e.value)
