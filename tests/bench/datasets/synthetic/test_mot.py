"""The procedural multi-object benchmark: determinism, gt format, visibility vs rendering,
detection statistics against the config, MOTChallenge export round trip."""
from __future__ import annotations

import shutil
from math import gamma

import numpy as np
import pytest

from bench.core.boxes import iou_matrix
from bench.core.errors import DatasetNotFoundError
from bench.core.sequence import MOTSequence
from bench.datasets import open_dataset
from bench.datasets.synthetic import export
from bench.datasets.synthetic.scene import label_map


@pytest.fixture(scope="module")
def mot():
    return open_dataset("synthetic-mot")


def _all_rows(ds):
    gt = np.concatenate([s.gt for s in ds])
    return gt


def test_defaults(mot):
    cfg = mot.params
    assert mot.protocol == "mot" and len(mot) == 4 and cfg.length == 150 and tuple(cfg.size) == (640, 360)
    s = mot[mot.names()[0]]
    assert isinstance(s, MOTSequence) and s.length == 150 and s.image_size == (640, 360)
    img = s.frame(149)
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8


def test_deterministic_and_splits_disjoint():
    a = open_dataset("synthetic-mot", length=30, num_sequences=2)
    b = open_dataset("synthetic-mot", length=30, num_sequences=2)
    c = open_dataset("synthetic-mot", length=30, num_sequences=2, seed=9)
    tr = open_dataset("synthetic-mot", split="train", length=30, num_sequences=2)
    n = a.names()[0]
    assert np.array_equal(a[n].gt, b[n].gt) and np.array_equal(a[n].detections, b[n].detections)
    assert np.array_equal(a[n].frame(12), b[n].frame(12))
    assert not set(a.names()) & set(tr.names())
    for other in (c, tr):
        s = other[other.names()[0]]
        assert s.gt.shape != a[n].gt.shape or not np.array_equal(s.gt, a[n].gt)
        assert not np.array_equal(s.frame(0), a[n].frame(0))


def test_detector_settings_do_not_change_the_scene():
    a = open_dataset("synthetic-mot", length=30, num_sequences=1)
    b = open_dataset("synthetic-mot", length=30, num_sequences=1, **{"detections.fp_per_frame": 5.0})
    n = a.names()[0]
    assert np.array_equal(a[n].gt, b[n].gt)
    assert len(b[n].detections) > len(a[n].detections)


def test_ground_truth_format(mot):
    births = deaths = 0
    for s in mot:
        gt = s.gt
        assert gt.shape[1] == 9 and len(gt)
        f, ids = gt[:, 0], gt[:, 1]
        assert np.all(f == np.round(f)) and f.min() >= 1 and f.max() <= s.length
        assert np.all(ids == np.round(ids)) and ids.min() == 1
        assert len(np.unique(f * 10000 + ids)) == len(gt)  # one row per (frame, id)
        assert np.all(gt[:, 6] == 1) and np.all(gt[:, 7] == 1)
        assert np.all((gt[:, 8] >= 0) & (gt[:, 8] <= 1))
        assert np.all(gt[:, 4:6] > 0)
        assert np.all(np.diff(f) >= 0)
        for i in np.unique(ids):
            fr = f[ids == i]
            births += fr.min() > 1
            deaths += fr.max() < s.length
        # ids numbered by first appearance
        first = [f[ids == i].min() for i in np.unique(ids)]
        assert np.all(np.diff(first) >= 0)
    assert births >= 4 and deaths >= 4


def test_crossings_lookalikes_and_occlusion(mot):
    occluded_inside = 0
    lookalike = 0
    for s in mot:
        W, H = s.image_size
        gt = s.gt
        inside = (gt[:, 2] >= 0) & (gt[:, 3] >= 0) & (gt[:, 2] + gt[:, 4] <= W) & (gt[:, 3] + gt[:, 5] <= H)
        occluded_inside += int(np.sum(inside & (gt[:, 8] < 0.5)))
        pals = [tuple(np.round(o.look.palette.ravel(), 3)) for o in s.meta["scene"].objects if o.role == "person"]
        lookalike += len(pals) - len(set(pals))
    assert occluded_inside >= 20  # mutual / static occlusion, not just the image border
    assert lookalike >= 2


def _superellipse_area(w, h, p):
    return w * h * gamma(1 + 1 / p) ** 2 / gamma(1 + 2 / p)


def test_visibility_matches_rendered_pixels(mot):
    s = mot[mot.names()[1]]
    scene = s.meta["scene"]
    ids = s.meta["gt_ids"]
    oid_of = {v: k for k, v in ids.items()}
    rng = np.random.default_rng(0)
    checked = 0
    for t in (0, 40, 80, 120):
        lab = label_map(scene, t)
        rows = s.gt[s.gt[:, 0] == t + 1]
        for r in rows[rng.permutation(len(rows))[:6]]:
            o = scene.obj(oid_of[int(r[1])])
            area = _superellipse_area(o.track.w[t], o.track.h[t], o.look.exponent)
            shown = (lab == o.oid).sum() / area
            assert abs(shown - r[8]) < 0.08, (t, r, shown)
            checked += 1
    assert checked >= 15


def _match(gt_f, det_f):
    if not len(gt_f) or not len(det_f):
        return np.zeros((len(gt_f), len(det_f)))
    return iou_matrix(gt_f[:, 2:6], det_f[:, :4])


def test_detection_statistics_match_config(mot):
    D = mot.params.detections
    gts, dets, tps, rows = [], [], [], []
    n_frames = 0
    for s in mot:
        gts.append(s.gt)
        dets.append(s.detections)
        tps.append(s.meta["det_tp"])
        rows.append(s.meta["det_gt_row"] + sum(len(g) for g in gts[:-1]))
        n_frames += s.length
        assert s.detections.shape[1] == 7 and np.all(s.detections[:, 1] == -1)
        W, H = s.image_size
        d = s.detections
        assert np.all((d[:, 2] >= 0) & (d[:, 3] >= 0))
        assert np.all((d[:, 2] + d[:, 4] <= W + 1e-6) & (d[:, 3] + d[:, 5] <= H + 1e-6))
        assert np.all((d[:, 6] > 0) & (d[:, 6] <= 1))
    gt, det, tp, row = np.concatenate(gts), np.concatenate(dets), np.concatenate(tps), np.concatenate(rows)
    detected = np.zeros(len(gt), bool)
    detected[row[tp]] = True
    vis = gt[:, 8]
    full = vis >= D.visible_full
    miss = 1 - detected[full].mean()
    assert abs(miss - D.miss_rate) < 0.025, miss
    assert not detected[vis <= D.visible_zero].any()
    fp_rate = (~tp).sum() / n_frames
    assert abs(fp_rate - D.fp_per_frame) < 0.2, fp_rate
    # jitter of true detections (boxes away from the image border)
    g = gt[row[tp]]
    d = det[tp]
    W, H = mot.params.size
    clear = (g[:, 2] > 1) & (g[:, 3] > 1) & (g[:, 2] + g[:, 4] < W - 1) & (g[:, 3] + g[:, 5] < H - 1)
    dc = (d[clear, 2:4] + d[clear, 4:6] / 2 - g[clear, 2:4] - g[clear, 4:6] / 2) / g[clear, 4:6]
    assert np.all(np.abs(dc.std(0) - D.jitter) < 0.01), dc.std(0)
    # independent check by IoU: true detections overlap their person, false ones overlap no one
    tp_ok = fp_ok = n_fp = 0
    for s, st in zip(mot, tps):
        for f in range(1, s.length + 1):
            gi = s.gt[s.gt[:, 0] == f]
            sel = s.detections[:, 0] == f
            m = _match(gi, s.detections[sel, 2:])
            best = m.max(0) if len(gi) else np.zeros(sel.sum())
            tp_ok += int(np.sum(best[st[sel]] > 0.5))
            fp_ok += int(np.sum(best[~st[sel]] < 0.5))
            n_fp += int(np.sum(~st[sel]))
    assert tp_ok >= 0.95 * tp.sum() and fp_ok >= 0.9 * n_fp
    # scores: true detections of visible people outrank false positives on average
    assert det[tp, 6].mean() > det[~tp, 6].mean() + 0.3


def test_motchallenge_round_trip(tmp_path):
    ds = open_dataset("synthetic-mot", length=20, num_sequences=2)
    out = export(ds, "mot", tmp_path / "mot")
    for n in ds.names():
        d = out / "train" / n
        assert (d / "seqinfo.ini").is_file() and (d / "img1" / "000001.jpg").is_file()
        assert len(list((d / "img1").glob("*.jpg"))) == 20
        first = (d / "det" / "det.txt").read_text().splitlines()[0].split(",")
        assert len(first) == 10 and first[1] == "-1"
        assert len((d / "gt" / "gt.txt").read_text().splitlines()[0].split(",")) == 9
    back = open_dataset("synthetic-mot", root=out)
    assert back.names() == ds.names() and back.protocol == "mot"
    for n in ds.names():
        a, b = ds[n], back[n]
        assert np.array_equal(a.gt, b.gt) and np.array_equal(a.detections, b.detections)
        assert a.length == b.length and a.image_size == b.image_size and a.fps == b.fps
        assert np.abs(a.frame(3).astype(int) - b.frame(3).astype(int)).mean() < 4
        assert np.array_equal(a.detections_at(5), b.detections_at(5))
    with pytest.raises(DatasetNotFoundError):
        open_dataset("synthetic-mot", root=tmp_path / "nothing")
    with pytest.raises(Exception, match="otb"):
        export(ds, "otb", tmp_path / "x")


def test_trackeval_reads_the_written_copy(tmp_path):
    trackeval = pytest.importorskip("trackeval")
    ds = open_dataset("synthetic-mot", length=30, num_sequences=2)
    out = export(ds, "mot", tmp_path / "mot")
    data = tmp_path / "trk" / "gtcopy" / "data"
    data.mkdir(parents=True)
    for n in ds.names():
        shutil.copy(out / "train" / n / "gt" / "gt.txt", data / f"{n}.txt")
    cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    cfg.update(GT_FOLDER=str(out / "train"), TRACKERS_FOLDER=str(tmp_path / "trk"),
               SEQMAP_FILE=str(out / "seqmaps" / "synthetic-mot-train.txt"), BENCHMARK="MOT17",
               SPLIT_TO_EVAL="train", TRACKERS_TO_EVAL=["gtcopy"], SKIP_SPLIT_FOL=True, PRINT_CONFIG=False)
    ecfg = trackeval.Evaluator.get_default_eval_config()
    ecfg.update(PRINT_RESULTS=False, PRINT_CONFIG=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                PLOT_CURVES=False, USE_PARALLEL=False, TIME_PROGRESS=False)
    res, _ = trackeval.Evaluator(ecfg).evaluate([trackeval.datasets.MotChallenge2DBox(cfg)],
                                                [trackeval.metrics.CLEAR()])
    r = res["MotChallenge2DBox"]["gtcopy"]["COMBINED_SEQ"]["pedestrian"]["CLEAR"]
    assert r["MOTA"] == 1.0 and r["CLR_TP"] == sum(len(ds[n].gt) for n in ds.names())
