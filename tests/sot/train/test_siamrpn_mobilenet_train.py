"""The siamrpn_mobilenet recipe: config sources, a tiny run on the real TUD identities, weights load in the tracker."""
from __future__ import annotations

import numpy as np

from bench.core.build import build_tracker
from bench.core.config import build, missing_sources, read_yaml
from bench.core.registry import configs_dir
from sot.train.recipes import get_recipe
from tests.helpers import SHARED, shared_path


def test_config_has_sources():
    data = read_yaml(configs_dir() / "train" / "siamrpn_mobilenet.yaml")
    assert data["recipe"] == "siamrpn_mobilenet" and missing_sources(data["params"]) == []
    assert data["params"]["real_otb"]["value"] == []      # the reported sequences are not trained on


def test_tiny_run_and_tracker_loads(tmp_path):
    shared_path("mot", "MOT15", "train", "TUD-Stadtmitte")
    fn = get_recipe("siamrpn_mobilenet")
    cfg = build(fn.Config, {"pretrained": "none", "real_root": str(SHARED), "real_mot": ["mot/MOT15/train/TUD-Stadtmitte"],
                            "synthetic": False, "iters_per_epoch": 2, "batch_size": 2, "epochs": 1, "optimizer": "adam",
                            "lr": 0.001, "lr_end": 0.0005, "threads": 1, "adjust_out": [16, 16]})
    out = fn(cfg, out_dir=tmp_path, quiet=True)
    assert np.isfinite(out["history"][-1]["loss"])
    t = build_tracker("siamrpn-mobilenet", weights=out["weights"])
    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    t.init(img, np.array([50.0, 40.0, 30.0, 40.0]))
    box, score = t.update(img)
    assert np.all(np.isfinite(box)) and t.net.backbone.body.num_layers == 6
