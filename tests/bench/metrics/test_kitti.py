"""KITTI tracking evaluation against TrackEval 1.3.0's ``Kitti2DBox`` + CLEAR / Identity / HOTA (to 1e-9)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from bench.datasets import open_dataset
from bench.evaluate import evaluate
from bench.metrics.kitti_data import KITTIClassRule, prepare_kitti_sequence
from bench.metrics.mot_data import EPS, conflict_frames, overlap_pairs
from bench.results.kitti import read_kitti_results
from tests.bench.kitti_fixtures import INVALID_TAIL, kitti_scene, write_kitti

trackeval = pytest.importorskip("trackeval")

TOL = 1e-9
T = 40
CLASSES = ("car", "pedestrian")


def _trackeval_kitti(root: Path, tracker: str = "T"):
    """TrackEval's own evaluation: ({seq or COMBINED_SEQ: {cls: {metric: fields}}}, the Kitti2DBox object)."""
    ev = trackeval.Evaluator({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
                              "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False,
                              "PLOT_CURVES": False})
    ds = trackeval.datasets.Kitti2DBox({"GT_FOLDER": str(root / "training"), "TRACKERS_FOLDER": str(root / "trackers"),
                                         "TRACKERS_TO_EVAL": [tracker], "PRINT_CONFIG": False,
                                         "OUTPUT_FOLDER": str(root / "te_out")})
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    with contextlib.redirect_stdout(io.StringIO()):
        res, msg = ev.evaluate([ds], metrics)
    assert msg["Kitti2DBox"][tracker] == "Success", msg
    return res["Kitti2DBox"][tracker], ds


def _max_diff(ours: dict, ref: dict, where: str) -> float:
    """Every TrackEval field (arrays over alpha included) equal to 1e-9; returns the largest difference."""
    worst = 0.0
    for metric in ("CLEAR", "Identity", "HOTA"):
        for field, want in ref[metric].items():
            got = np.asarray(ours[metric][field], dtype=float)
            want = np.asarray(want, dtype=float)
            assert got.shape == want.shape, (where, metric, field)
            d = float(np.max(np.abs(got - want))) if got.size else 0.0
            scale = 1.0 if field != "MOTP_sum" else max(1.0, float(np.max(np.abs(want))))
            assert d / scale <= TOL, (where, metric, field, got, want)
            worst = max(worst, d / scale)
    return worst


def _scenes(seed: int, crowd: bool, sitting: str = "Person"):
    rng = np.random.default_rng(seed)
    return {f"{k:04d}": kitti_scene(rng, T, crowd=crowd, sitting=sitting) for k in range(3)}


@pytest.mark.parametrize("seed,crowd", [(3, False), (5, True)])
def test_random_kitti_scenes_equal_trackeval(tmp_path, seed, crowd):
    seqs = _scenes(seed, crowd)
    write_kitti(tmp_path, seqs, {n: T for n in seqs})
    ref, _ = _trackeval_kitti(tmp_path)
    rep = evaluate(open_dataset("kitti-tracking", tmp_path), tmp_path / "trackers" / "T", raw=True)
    assert rep["protocol"]["name"] == "kitti" and rep["protocol"]["classes"] == list(CLASSES)
    worst = 0.0
    for cls in CLASSES:
        for seq in list(seqs) + ["COMBINED_SEQ"]:
            worst = max(worst, _max_diff(rep["trackeval"][cls][seq], ref[seq][cls], f"{cls} {seq}"))
        comb = ref["COMBINED_SEQ"][cls]
        m = rep["classes"][cls]["metrics"]
        assert (m["tp"], m["fp"], m["fn"], m["idsw"]) == (comb["CLEAR"]["CLR_TP"], comb["CLEAR"]["CLR_FP"],
                                                          comb["CLEAR"]["CLR_FN"], comb["CLEAR"]["IDSW"])
        assert abs(m["hota"] - float(np.mean(comb["HOTA"]["HOTA"]))) <= TOL
        assert rep["protocol"]["removed_tracker_boxes"][cls] > 0
    assert worst <= TOL
    # the headline is car; the report's sequences are car's
    assert rep["metrics"] == rep["classes"]["car"]["metrics"]
    assert rep["sequences"] == rep["classes"]["car"]["sequences"]
    # TrackEval combines no classes for KITTI (should_classes_combine = False): neither do we
    assert set(ref["COMBINED_SEQ"]) == set(CLASSES) and set(rep["classes"]) == set(CLASSES)
    if crowd:  # the scenes do exercise the Hungarian step of the preprocessing
        seq = open_dataset("kitti-tracking", tmp_path)["0000"]
        tr, _ = read_kitti_results(tmp_path / "trackers" / "T" / "data" / "0000.txt", T)
        g = seq.gt[np.isin(seq.gt[:, 6], (1, 2))]
        t = tr[tr[:, 6] == 1]
        g, t = g[np.argsort(g[:, 0], kind="stable")], t[np.argsort(t[:, 0], kind="stable")]
        gf, tf = g[:, 0].astype(int) - 1, t[:, 0].astype(int) - 1
        toff = np.concatenate([[0], np.cumsum(np.bincount(tf, minlength=T))])
        pg, pt, iou = overlap_pairs(g[:, 2:6].copy(), gf, t[:, 2:6].copy(), tf, toff)
        cand = iou >= 0.5 - EPS
        assert conflict_frames(gf, tf, pg[cand], pt[cand], T).sum() >= 3


@pytest.mark.parametrize("seed,crowd", [(3, False), (5, True)])
def test_preprocessing_equals_trackeval_per_frame(tmp_path, seed, crowd):
    """Frame by frame: the kept gt / tracker ids and their IoU matrix are TrackEval's."""
    seqs = _scenes(seed, crowd)
    write_kitti(tmp_path, seqs, {n: T for n in seqs})
    _, te = _trackeval_kitti(tmp_path)
    ds = open_dataset("kitti-tracking", tmp_path)
    rules = {"car": KITTIClassRule(1, (2,)), "pedestrian": KITTIClassRule(4, (5,))}
    for name in seqs:
        raw = te.get_raw_seq_data("T", name)
        tr, _ = read_kitti_results(tmp_path / "trackers" / "T" / "data" / f"{name}.txt", T)
        for cls, rule in rules.items():
            ref = te.get_preprocessed_seq_data(raw, cls)
            data = prepare_kitti_sequence(ds[name].gt, tr, T, rule, name=name)
            assert (data.num_gt_dets, data.num_tracker_dets, data.num_gt_ids, data.num_tracker_ids) == \
                (ref["num_gt_dets"], ref["num_tracker_dets"], ref["num_gt_ids"], ref["num_tracker_ids"])
            for t in range(T):
                np.testing.assert_array_equal(data.gt_ids[data.gt_off[t]:data.gt_off[t + 1]], ref["gt_ids"][t])
                np.testing.assert_array_equal(data.tr_ids[data.tr_off[t]:data.tr_off[t + 1]], ref["tracker_ids"][t])
                np.testing.assert_array_equal(data.similarity(t), ref["similarity_scores"][t])


def test_person_sitting_reads_as_person(tmp_path):
    """The KITTI readme's 'Person_sitting' (which TrackEval rejects) is evaluated as the files' 'Person'."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_kitti(a, _scenes(3, False, "Person"), {f"{k:04d}": T for k in range(3)})
    write_kitti(b, _scenes(3, False, "Person_sitting"), {f"{k:04d}": T for k in range(3)})
    ra = evaluate(open_dataset("kitti-tracking", a), a / "trackers" / "T")
    rb = evaluate(open_dataset("kitti-tracking", b), b / "trackers" / "T")
    assert ra["classes"] == rb["classes"]


# ---------------------------------------------------------------- hand-worked cases
def _case(tmp_path: Path, gt: list, tr: list, n: int = 2):
    write_kitti(tmp_path, {"0000": (gt, tr)}, {"0000": n})
    rep = evaluate(open_dataset("kitti-tracking", tmp_path), tmp_path / "trackers" / "T")
    return rep, _trackeval_kitti(tmp_path)[0]["0000"]


def _g(t, i, typ, box, trunc=0, occ=0):
    return f"{t} {i} {typ} {trunc} {occ} -1 {box[0]} {box[1]} {box[2]} {box[3]} 1.5 1.6 3.9 1 1.5 20 0.1"


def _p(t, i, typ, box, s=0.9):
    return f"{t} {i} {typ} -1 -1 -10 {box[0]} {box[1]} {box[2]} {box[3]} {INVALID_TAIL} {s}"


def test_removal_rules_by_hand(tmp_path):
    car, van, occl, trunc = (0, 100, 100, 160), (200, 100, 300, 160), (400, 100, 500, 160), (600, 100, 700, 160)
    dc = (800, 100, 900, 200)
    gt = [_g(0, 1, "Car", car), _g(0, 2, "Van", van), _g(0, 3, "Car", occl, occ=3), _g(0, 4, "Car", trunc, trunc=1),
          f"0 -1 DontCare -1 -1 -10 {dc[0]} {dc[1]} {dc[2]} {dc[3]} {INVALID_TAIL}"]
    tr = [_p(0, 1, "Car", car),                      # TP
          _p(0, 2, "Car", van),                      # on the van (distractor): removed
          _p(0, 3, "Car", occl),                     # on a heavily occluded car: removed
          _p(0, 4, "Car", trunc),                    # on a truncated car: removed
          _p(0, 5, "Car", (810, 110, 880, 190)),     # inside the DontCare region: removed
          _p(0, 6, "Car", (860, 110, 960, 190)),     # 40% inside it: an FP
          _p(0, 7, "Car", (1000, 100, 1050, 125)),   # 25 px tall, unmatched: removed
          _p(0, 8, "Car", (1100, 100, 1150, 126)),   # 26 px tall: an FP
          _p(0, 9, "Pedestrian", car)]               # another class: not a car prediction
    rep, ref = _case(tmp_path, gt, tr)
    m = rep["classes"]["car"]["sequences"]["0000"]
    assert (m["tp"], m["fp"], m["fn"], m["gt_dets"], m["pred_dets"]) == (1, 2, 0, 1, 3)
    assert rep["protocol"]["removed_tracker_boxes"]["car"] == 5
    p = rep["classes"]["pedestrian"]["sequences"]["0000"]
    assert (p["tp"], p["fp"], p["fn"]) == (0, 1, 0)
    assert (ref["car"]["CLEAR"]["CLR_TP"], ref["car"]["CLEAR"]["CLR_FP"]) == (1, 2)
