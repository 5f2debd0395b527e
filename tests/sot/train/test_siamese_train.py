"""Siamese training recipes: a tiny run per recipe (finite, decreasing loss), exact resume,
determinism, labels and pairs, and the written weights load in the trackers."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bench.core.build import build_tracker
from bench.core.config import build, missing_sources, read_yaml
from bench.core.registry import configs_dir
from sot.train.losses import balanced_bce, siamfc_labels
from sot.train.pairs import PairConfig, PairSampler
from sot.train.recipes import get_recipe

TINY = {"dataset_options": {"split": "train", "num_sequences": 2, "length": 12}, "width": 0.125,
        "iters_per_epoch": 3, "batch_size": 2, "epochs": 2, "optimizer": "adam", "lr": 0.003,
        "lr_end": 0.001, "threads": 1,
        "pairs": {"frame_range": 0, "z_shift": 0, "z_scale": 0, "x_shift": 0, "x_scale": 0}}


def run(recipe, out, resume=False, **extra):
    fn = get_recipe(recipe)
    values = {**TINY, **extra}
    if recipe != "siamfc":
        values["feature_out"] = 16
    if recipe == "siamfc":
        values["pairs"] = {**values["pairs"], "search_size": 239}
    cfg = build(fn.Config, values)
    return fn(cfg, out_dir=out, resume=resume, quiet=True)


@pytest.mark.parametrize("name", ["siamfc", "siamrpn", "dasiamrpn"])
def test_train_configs_have_sources(name):
    data = read_yaml(configs_dir() / "train" / f"{name}.yaml")
    assert data["recipe"] == name and missing_sources(data["params"]) == []
    build(get_recipe(name).Config, {k: v["value"] if isinstance(v, dict) and "value" in v else v
                                    for k, v in data["params"].items() if k != "pairs"})


@pytest.mark.parametrize("recipe", ["siamfc", "siamrpn"])
def test_tiny_run_resume_determinism(tmp_path, recipe):
    full = run(recipe, tmp_path / "full")
    losses = [h["loss"] for h in full["history"]]
    assert all(np.isfinite(losses)) and losses[1] < losses[0]
    # epoch 1, then resume to 2 epochs: identical weights to the uninterrupted run
    run(recipe, tmp_path / "part", stop_after=1)            # "interrupted" after epoch 1
    resumed = run(recipe, tmp_path / "part", resume=True)
    assert len(resumed["history"]) == 1 and resumed["history"][0]["epoch"] == 2
    a = torch.load(full["weights"], weights_only=True)["state_dict"]
    b = torch.load(resumed["weights"], weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(l) for l in (tmp_path / "part" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    # the written weights load in the tracker (architecture from the file's meta)
    tracker = {"siamfc": "siamfc", "siamrpn": "siamrpn"}[recipe]
    t = build_tracker(tracker, weights=full["weights"])
    assert t.loaded.format == "bench"
    img = np.zeros((120, 160, 3), np.uint8)
    t.init(img, np.array([60, 40, 20, 20.]))
    box, score = t.update(img)
    assert np.isfinite(box).all()


def test_dasiamrpn_recipe_extra_pairs(tmp_path):
    with pytest.raises(Exception, match="neg_prob"):
        run("dasiamrpn", tmp_path / "x", epochs=1)
    res = run("dasiamrpn", tmp_path / "d", epochs=1,
              pairs={**TINY["pairs"], "neg_prob": 0.5, "still_prob": 0.5})
    assert np.isfinite(res["history"][0]["loss"])


def test_pairs_and_labels():
    from bench.datasets import open_dataset

    seqs = list(open_dataset("synthetic", split="train", num_sequences=2, length=10))
    s = PairSampler(seqs, PairConfig(neg_prob=0.3, still_prob=0.3, x_shift=32))
    rng = np.random.default_rng(0)
    pairs = [s.sample(rng) for _ in range(12)]
    assert all(p.z.shape == (127, 127, 3) and p.x.shape == (255, 255, 3) for p in pairs)
    assert any(p.negative for p in pairs) and not all(p.negative for p in pairs)
    for p in pairs:   # the target (or the negative's object) lies within the shift range of the centre
        assert np.all(np.abs(p.box[:2] - 127.5) <= 32 + 1e-3)
    # exemplar crop of a positive pair has the target at its centre with the context size
    p = next(p for p in pairs if not p.negative)
    assert 127 * 0.5 < p.box[2] + p.box[3] < 127 * 2
    lab = siamfc_labels(np.array([[119.5, 119.5], [135.5, 119.5]]), 15, 239, 8, 16)
    assert lab[0, 0, 7, 7] == 1 and lab[0, 0, 7, 9] == 1 and lab[0, 0, 8, 9] == 0 and lab[0].sum() == 13
    assert lab[1, 0, 7, 9] == 1 and lab[1, 0, 7, 11] == 1 and lab[1, 0, 7, 6] == 0
    # balanced loss: both classes weigh half
    logits = torch.zeros(1, 1, 15, 15)
    assert balanced_bce(logits, torch.from_numpy(lab[:1])).item() == pytest.approx(np.log(2), rel=1e-5)


def test_brightness_jitter_scales_each_crop():
    from bench.datasets import open_dataset

    seqs = list(open_dataset("synthetic", split="train", num_sequences=2, length=10))
    plain = PairSampler(seqs, PairConfig(x_shift=16)).sample(np.random.default_rng(3))
    lit = PairSampler(seqs, PairConfig(x_shift=16, brightness=0.4)).sample(np.random.default_rng(3))
    np.testing.assert_array_equal(plain.box, lit.box)  # same geometry, only the intensities change
    gains = []
    for a, b in ((plain.z, lit.z), (plain.x, lit.x)):
        m = (a > 20) & (a < 150)  # away from 0 and from saturation
        g = float(np.median(b[m] / a[m]))
        assert 0.6 - 0.02 <= g <= 1.4 + 0.02 and abs(g - 1) > 1e-3
        np.testing.assert_allclose(b[m], np.clip(np.rint(a[m] * g), 0, 255), atol=2)
        gains.append(g)
    assert abs(gains[0] - gains[1]) > 1e-3  # drawn per crop


def test_hard_negatives_label_lookalike_anchors_negative():
    from bench.datasets import open_dataset
    from sot.parts.anchors import anchor_targets, generate_anchors

    ds = open_dataset("synthetic", split="train", num_sequences=30, length=12)
    seqs = [s for s in ds if len(s.meta.get("distractor_boxes", []))][:2]
    assert seqs, "the train split has look-alike sequences"
    cfg = PairConfig(x_shift=16, hard_negatives=True)
    sampler = PairSampler(seqs, cfg)
    off = PairSampler(seqs, PairConfig(x_shift=16)).sample(np.random.default_rng(5))
    on = [sampler.sample(np.random.default_rng(i)) for i in range(5, 15)]
    np.testing.assert_array_equal(on[0].box, off.box)   # same draws: only the look-alikes are added
    with_others = [p for p in on if p.others is not None and len(p.others)]
    assert with_others and off.others is None
    for p in with_others:   # look-alikes map into the crop like the target: centres inside the search crop
        assert np.all((p.others[:, :2] > 0) & (p.others[:, :2] < 255))
    # hand-made case: a look-alike 64 px right of the target; its anchors are negatives first
    anchors = generate_anchors(8, [0.33, 0.5, 1.0, 2.0, 3.0], [8.0], 17)
    box = np.array([0.0, 0.0, 60.0, 60.0])
    look = np.array([[64.0, 0.0, 60.0, 60.0]])
    lab, _, _ = anchor_targets(anchors, box, np.random.default_rng(0), hard=look)
    from sot.parts.anchors import _iou_cxcywh
    on_look = _iou_cxcywh(anchors, look[0]) > 0.6
    assert on_look.sum() >= 1 and np.all(lab[on_look] == 0)   # every anchor on it (< 16) is a negative
    assert (lab == 0).sum() + (lab == 1).sum() == 64
    plain, _, _ = anchor_targets(anchors, box, np.random.default_rng(0))
    assert (plain[on_look] == 0).sum() < on_look.sum()        # uniform sampling misses most of them
