"""The procedural single-object benchmark: determinism, splits, labels vs rendering, export."""
from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import ConfigError, DataError, DatasetNotFoundError
from bench.datasets import open_dataset
from bench.datasets.synthetic import ATTRIBUTES, export, select_attribute
from bench.datasets.synthetic.scene import coverage, full_boxes, label_map, object_mask
from bench.datasets.synthetic.sot import TARGET_ID


@pytest.fixture(scope="module")
def test_split():
    return open_dataset("synthetic")


def _same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_defaults_and_names(test_split):
    cfg = test_split.params
    assert test_split.protocol == "ope"
    assert len(test_split) == 20 and cfg.length == 120 and tuple(cfg.size) == (320, 240)
    seq = test_split[test_split.names()[0]]
    assert len(seq) == 120 and seq.image_size == (320, 240)
    img = seq.frame(0)
    assert img.shape == (240, 320, 3) and img.dtype == np.uint8
    assert sum("distractors" in n for n in test_split.names()) >= 4
    assert {a for n in test_split.names() for a in test_split[n].attributes} <= set(ATTRIBUTES)


def test_deterministic_from_seed():
    a = open_dataset("synthetic", length=30, num_sequences=3)
    b = open_dataset("synthetic", length=30, num_sequences=3)
    c = open_dataset("synthetic", length=30, num_sequences=3, seed=1)
    for n in a.names():
        sa, sb = a[n], b[n]
        assert _same(sa.gt, sb.gt)
        for i in (0, 17, 29):
            assert np.array_equal(sa.frame(i), sb.frame(i))
        assert all(np.array_equal(sa.flags[k], sb.flags[k]) for k in sa.flags)
    n0 = a.names()[0]
    assert not _same(a[n0].gt, c[c.names()[0]].gt)
    assert not np.array_equal(a[n0].frame(0), c[c.names()[0]].frame(0))


def test_frames_rerender_identically_after_cache_eviction():
    from bench.datasets.synthetic import scene as scene_mod

    ds = open_dataset("synthetic", split="train", num_sequences=8, length=10)
    first = ds[ds.names()[0]].frame(5).copy()
    old = scene_mod._ASSET_CACHE_SIZE
    scene_mod.set_texture_cache_size(3)
    try:
        for n in ds.names()[1:]:  # more scenes than the texture cache holds
            ds[n].frame(0)
        assert ds[ds.names()[0]].meta["scene"]._assets is None  # evicted
        assert np.array_equal(ds[ds.names()[0]].frame(5), first)
    finally:
        scene_mod.set_texture_cache_size(old)


def test_splits_are_disjoint():
    test = open_dataset("synthetic", length=20, num_sequences=5)
    train = open_dataset("synthetic", split="train", length=20, num_sequences=300)
    assert not set(test.names()) & set(train.names())
    assert all(n.startswith("train") for n in train.names())
    seeds_test = {tuple(test[n].meta["seed"]) for n in test.names()}
    seeds_train = {tuple(train[n].meta["seed"]) for n in train.names()[:5]}
    assert not seeds_test & seeds_train
    f0 = test[test.names()[0]].frame(0)
    assert all(not np.array_equal(train[n].frame(0), f0) for n in train.names()[:5])
    # the train split is lazy: opening 300 sequences builds none of them
    assert len(train._cache) == 5


def test_first_frame_is_clean(test_split):
    for seq in test_split:
        assert not np.isnan(seq.gt[0]).any()
        assert seq.meta["visible_fraction"][0] > 0.999
        assert not seq.flags["absent"][0] and not seq.flags["occlusion"][0]


def test_primary_challenge_is_labelled(test_split):
    proof = {"distractors": "Distractors", "occlusion": "Occlusion", "out-of-view": "Out-of-View",
             "fast-motion": "Fast Motion", "scale": "Scale Variation", "illumination": "Illumination Variation",
             "motion-blur": "Motion Blur", "deformation": "Deformation", "rotation": "In-Plane Rotation",
             "clutter": "Background Clutters", "low-res": "Low Resolution"}
    for seq in test_split:
        p = seq.meta["primary"]
        if p in proof:
            assert proof[p] in seq.attributes, (seq.name, seq.attributes)
        assert set(seq.attributes) <= set(ATTRIBUTES)
    assert len(select_attribute(test_split, "Distractors")) >= 4


def test_attributes_follow_otb_definitions(test_split):
    for seq in test_split:
        gt, valid = seq.gt, ~np.isnan(seq.gt[:, 0])
        c = gt[:, :2] + (gt[:, 2:] - 1) / 2
        both = valid[1:] & valid[:-1]
        disp = np.hypot(*(c[1:] - c[:-1]).T)[both]
        assert ("Fast Motion" in seq.attributes) == bool(np.any(disp > 20)), seq.name
        tr = seq.meta["scene"].obj(TARGET_ID).track
        ratio = (tr.w * tr.h)[valid] / (tr.w[0] * tr.h[0])
        assert ("Scale Variation" in seq.attributes) == bool(np.any((ratio > 2) | (ratio < 0.5))), seq.name
        assert ("Low Resolution" in seq.attributes) == bool(np.median((tr.w * tr.h)[valid]) < 400), seq.name
        g = seq.meta["illumination_gain"]
        assert ("Illumination Variation" in seq.attributes) == bool(g.max() / g.min() >= 1.5), seq.name
        assert ("Occlusion" in seq.attributes) == bool(seq.flags["occlusion"].any()), seq.name
        if "Distractors" in seq.attributes:
            assert len(seq.meta["distractor_boxes"]) >= 1
        if "Motion Blur" in seq.attributes:
            assert seq.meta["blur_px"][valid].max() >= 5
        # gt lies inside the image
        W, H = seq.image_size
        assert np.all(gt[valid, 0] >= 0) and np.all(gt[valid, 0] + gt[valid, 2] <= W + 1e-3)
        assert np.all(gt[valid, 1] >= 0) and np.all(gt[valid, 1] + gt[valid, 3] <= H + 1e-3)
        assert np.all(gt[valid, 2:] > 0)


def test_out_of_view_frames_are_really_outside(test_split):
    seq = test_split["test002-out-of-view"]
    ov = seq.flags["out_of_view"]
    assert ov.sum() >= 5 and "Out-of-View" in seq.attributes
    assert np.isnan(seq.gt[ov]).all() and not np.isnan(seq.gt[~seq.flags["absent"]]).any()
    scene = seq.meta["scene"]
    tgt = scene.obj(TARGET_ID)
    box = full_boxes(tgt.track, tgt.look.exponent)
    W, H = seq.image_size
    ix = np.clip(box[:, 0] + box[:, 2], 0, W) - np.clip(box[:, 0], 0, W)
    iy = np.clip(box[:, 1] + box[:, 3], 0, H) - np.clip(box[:, 1], 0, H)
    assert np.all(ix[ov] * iy[ov] < 0.1 * box[ov, 2] * box[ov, 3] + 1e-9)
    for t in np.flatnonzero(ov)[::4]:
        own = object_mask(scene, TARGET_ID, int(t))
        assert own.sum() <= 0.1 * tgt.track.w[t] * tgt.track.h[t] + 2


def test_occlusion_flags_match_rendered_pixels(test_split):
    checked_occ = checked_free = 0
    occluded = [s for s in test_split if "Occlusion" in s.attributes]
    assert len(occluded) >= 3
    for seq in occluded[:3]:
        name = seq.name
        scene = seq.meta["scene"]
        inside, visible = coverage(scene, TARGET_ID)
        assert _same(inside, seq.meta["inside_fraction"]) and _same(visible, seq.meta["visible_fraction"])
        occ = seq.flags["occlusion"]
        assert occ.any()
        for t in list(np.flatnonzero(occ)[::3]) + list(np.flatnonzero(~occ & ~seq.flags["absent"])[::15]):
            own = object_mask(scene, TARGET_ID, int(t))
            top = label_map(scene, int(t)) == TARGET_ID
            n_own = max(int(own.sum()), 1)
            shown = (own & top).sum() / n_own
            # rendered visible share of the in-image outline vs the sampled coverage
            assert abs(shown - visible[t] / max(inside[t], 1e-9)) < 0.08, (name, t, shown, visible[t])
            if occ[t]:
                assert shown < 0.95
                checked_occ += 1
            else:
                assert shown > 0.85
                checked_free += 1
    full = [s for s in test_split if s.flags["full_occlusion"].any()]
    assert full, "some test sequence has a full occlusion"
    for seq in full:
        t = int(np.flatnonzero(seq.flags["full_occlusion"])[0])
        scene = seq.meta["scene"]
        own = object_mask(scene, TARGET_ID, t)
        top = label_map(scene, t) == TARGET_ID
        assert (own & top).sum() <= 0.12 * max(own.sum(), 1)
        assert np.isnan(seq.gt[t]).all()
    assert checked_occ >= 5 and checked_free >= 5


def test_distractors_look_like_the_target(test_split):
    seq = test_split["test000-distractors"]
    scene = seq.meta["scene"]
    tgt = scene.obj(TARGET_ID)
    ds = [o for o in scene.objects if o.role == "distractor"]
    assert ds
    for o in ds:
        assert o.look.family == tgt.look.family and np.allclose(o.look.palette, tgt.look.palette)
        size = np.sqrt(tgt.track.w * tgt.track.h)
        d = np.hypot(o.track.cx - tgt.track.cx, o.track.cy - tgt.track.cy)
        assert np.mean(d < 3 * size) >= 0.3
    # the rendered colours agree: mean colour of target and distractor pixels at frame 0
    img = seq.frame(0).astype(float)
    lab = label_map(scene, 0)
    m_t = img[lab == TARGET_ID].mean(0)
    m_d = img[lab == ds[0].oid].mean(0)
    assert np.abs(m_t - m_d).max() < 40


def test_motion_blur_softens_the_target(test_split):
    seq = test_split["test006-motion-blur"]
    blur = seq.meta["blur_px"]
    valid = ~seq.flags["absent"] & (seq.meta["inside_fraction"] > 0.99)
    t_blur = int(np.argmax(np.where(valid, blur, 0)))
    t_sharp = int(np.argmin(np.where(valid, blur, np.inf)))
    assert blur[t_blur] >= 5 and blur[t_sharp] < 1.5

    def sharpness(t):
        x, y, w, h = seq.gt[t].astype(int)
        patch = seq.frame(t)[y:y + h, x:x + w].astype(float).mean(2)
        return np.abs(np.diff(patch, axis=1)).mean() + np.abs(np.diff(patch, axis=0)).mean()

    assert sharpness(t_blur) < sharpness(t_sharp)


def test_options_and_errors(tmp_path):
    ds = open_dataset("synthetic", length=12, size=(160, 120), num_sequences=2, seed=5)
    s = ds[ds.names()[1]]
    assert s.frame(11).shape == (120, 160, 3) and len(s.gt) == 12
    with pytest.raises(ConfigError, match="unknown option"):
        open_dataset("synthetic", lenght=10)
    with pytest.raises(ConfigError):
        open_dataset("synthetic", split="val")
    with pytest.raises(DatasetNotFoundError, match="export"):
        open_dataset("synthetic", root=tmp_path / "missing")
    with pytest.raises(ConfigError, match="generated data only"):
        open_dataset("synthetic", root=tmp_path, length=10)


def test_otb_round_trip(tmp_path):
    ds = open_dataset("synthetic", length=24, num_sequences=3)
    out = export(ds, "otb", tmp_path / "otb")
    assert (out / "list.txt").read_text().split() == ds.names()
    back = open_dataset("synthetic", root=out)
    assert back.names() == ds.names() and back.protocol == "ope"
    for n in ds.names():
        a, b = ds[n], back[n]
        assert _same(a.gt, b.gt)  # gt is kept at the 3 decimals written
        assert a.attributes == b.attributes and a.image_size == b.image_size
        assert set(a.flags) == set(b.flags) and all(np.array_equal(a.flags[k], b.flags[k]) for k in a.flags)
        assert (out / n / "img" / "0001.jpg").is_file()
        diff = np.abs(a.frame(7).astype(int) - b.frame(7).astype(int)).mean()
        assert diff < 8.0  # JPEG quality 95 (sensor noise is what JPEG loses most)
        assert b.meta["seed"] == list(a.meta["seed"])
    try:  # the toolkit's OTB box reader reads the written file identically
        from bench.datasets.sot_common import read_boxes
    except ImportError:
        return
    for n in ds.names():
        assert _same(read_boxes(out / n / "groundtruth_rect.txt"), ds[n].gt)


def test_otb_copy_errors_name_file_and_line(tmp_path):
    ds = open_dataset("synthetic", length=6, num_sequences=1)
    out = export(ds, "otb", tmp_path / "otb")
    n = ds.names()[0]
    gt = out / n / "groundtruth_rect.txt"
    lines = gt.read_text().splitlines()
    lines[3] = "1,2,abc,4"
    gt.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"groundtruth_rect.txt:4:"):
        open_dataset("synthetic", root=out)[n]


def test_vot_export(tmp_path):
    ds = open_dataset("synthetic", length=30, num_sequences=3)
    out = export(ds, "vot", tmp_path / "vot")
    assert (out / "list.txt").read_text().split() == ds.names()
    for n in ds.names():
        seq = ds[n]
        rows = (out / n / "groundtruth.txt").read_text().splitlines()
        assert len(rows) == 30 and all(len(r.split(",")) == 8 for r in rows)
        assert len(list((out / n / "color").glob("*.jpg"))) == 30 and (out / n / "color" / "00000001.jpg").is_file()
        poly = np.array([[float(v) for v in r.split(",")] for r in rows])
        valid = ~np.isnan(seq.gt[:, 0])
        assert np.array_equal(np.isnan(poly[:, 0]), ~valid)
        # the polygon's bounding box contains the (clipped) ground-truth box centre
        cx = seq.gt[valid, 0] + seq.gt[valid, 2] / 2
        assert np.all((poly[valid, 0::2].min(1) <= cx + 1) & (cx - 1 <= poly[valid, 0::2].max(1)))
        for tag in ("occlusion", "illum_change", "motion_change", "size_change", "camera_motion"):
            vals = (out / n / f"{tag}.tag").read_text().split()
            assert len(vals) == 30 and set(vals) <= {"0", "1"}
    with pytest.raises(Exception, match="mot"):
        export(ds, "mot", tmp_path / "x")
    try:  # the toolkit's VOT loader reads the written copy
        import bench.datasets.vot  # noqa: F401
    except ImportError:
        return
    vot = open_dataset("vot2018", root=out)
    assert vot.names() == ds.names()
    for n in ds.names():
        a, b = ds[n], vot[n]
        whole = a.meta["inside_fraction"] > 0.999  # VOT regions are not clipped to the image
        assert np.allclose(a.gt[whole], b.gt[whole], atol=2e-3, equal_nan=True)
        assert np.array_equal(np.isnan(a.gt[:, 0]), np.isnan(b.gt[:, 0]))
        assert np.array_equal(a.flags["occlusion"], b.flags["occlusion"])


def test_sequences_pickle_without_textures():
    import pickle

    ds = open_dataset("synthetic", split="train", length=8, num_sequences=1)
    s = ds[ds.names()[0]]
    f = s.frame(5)
    blob = pickle.dumps(s)  # e.g. a DataLoader worker started with 'spawn'
    assert len(blob) < 200_000
    assert np.array_equal(pickle.loads(blob).frame(5), f)


def test_sequence_patterns_select_subsets():
    from bench.core.errors import UnknownNameError
    from bench.datasets import open_dataset

    ds = open_dataset("synthetic", num_sequences=100)
    sub = ds.select(["*-distractors"])
    assert len(sub) == 20 and all(n.endswith("-distractors") for n in sub.names())
    assert sub.names() == [n for n in ds.names() if n.endswith("-distractors")]     # dataset order
    both = ds.select(["test001-occlusion", "test00[0-2]-*"])
    assert both.names() == ["test001-occlusion", "test000-distractors", "test002-out-of-view"]
    with pytest.raises(UnknownNameError, match="matching"):
        ds.select(["*-nothing"])
    with pytest.raises(UnknownNameError):
        ds.select(["test999-nope"])
