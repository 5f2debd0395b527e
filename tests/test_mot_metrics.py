"""MOT metrics against TrackEval 1.3.0 (to 1e-9), the official devkit figures and hand-worked cases."""
from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import DataError
from bench.datasets import open_dataset
from bench.metrics.mot import evaluate_arrays, evaluate_data, evaluate_mot
from bench.metrics.mot_data import Preprocess, prepare_sequence
from tests.conftest import shared_path

trackeval = pytest.importorskip("trackeval")

# one sequence per detector copy; MOT17-02-SDP has predictions removed on distractors
MOT17_SUBSET = ["MOT17-02-SDP", "MOT17-05-DPM", "MOT17-09-FRCNN"]
TOL = 1e-9


def _trackeval(gt_folder: Path, trackers_folder: Path, tracker: str, seq_info, benchmark: str,
               preproc: bool = True, out: Path = None):
    """TrackEval's own evaluation (CLEAR, Identity, HOTA) of ``tracker``: {seq or COMBINED_SEQ: {metric: fields}}."""
    ev = trackeval.Evaluator({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
                              "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False,
                              "PLOT_CURVES": False, "DISPLAY_LESS_PROGRESS": True})
    ds = trackeval.datasets.MotChallenge2DBox({
        "GT_FOLDER": str(gt_folder), "TRACKERS_FOLDER": str(trackers_folder), "SKIP_SPLIT_FOL": True,
        "SEQ_INFO": dict(seq_info), "TRACKERS_TO_EVAL": [tracker], "BENCHMARK": benchmark,
        "PRINT_CONFIG": False, "DO_PREPROC": preproc, "OUTPUT_FOLDER": str(out) if out else None})
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    with contextlib.redirect_stdout(io.StringIO()):
        res, msg = ev.evaluate([ds], metrics)
    if msg["MotChallenge2DBox"][tracker] != "Success":
        raise RuntimeError(msg)
    return {k: v["pedestrian"] for k, v in res["MotChallenge2DBox"][tracker].items()}


@pytest.fixture(scope="session")
def te_mot17(tmp_path_factory):
    root = shared_path("mot", "MOT17")
    out = tmp_path_factory.mktemp("te17")
    return {"pre": _trackeval(root / "train", root / "trackers", "Lif_T", {s: None for s in MOT17_SUBSET},
                              "MOT17", True, out),
            "plain": _trackeval(root / "train", root / "trackers", "Lif_T", {"MOT17-09-FRCNN": None},
                                "MOT17", False, out)}


@pytest.fixture(scope="session")
def te_mot15(tmp_path_factory):
    root = shared_path("mot", "MOT15")
    return _trackeval(root / "train", root / "trackers", "motmetrics-sample",
                      {"TUD-Campus": None, "TUD-Stadtmitte": None}, "MOT15", True,
                      tmp_path_factory.mktemp("te15"))


def _assert_same(ours: dict, ref: dict, where: str) -> None:
    """Every TrackEval field (CLEAR, Identity, HOTA, arrays over alpha included) to 1e-9."""
    for metric in ("CLEAR", "Identity", "HOTA"):
        for field, want in ref[metric].items():
            got = np.asarray(ours[metric][field], dtype=float)
            want = np.asarray(want, dtype=float)
            scale = 1.0 if field != "MOTP_sum" else max(1.0, float(np.max(np.abs(want))))
            assert got.shape == want.shape, (where, metric, field)
            assert np.max(np.abs(got - want)) / scale <= TOL, (where, metric, field, got, want)


# ---------------------------------------------------------------- real data vs TrackEval
@pytest.fixture(scope="module")
def lif_t_report():
    root = shared_path("mot", "MOT17")
    return evaluate_mot(open_dataset("mot17", root), root / "trackers" / "Lif_T" / "data", raw=True)


def test_lif_t_subset_equals_trackeval(te_mot17):
    root = shared_path("mot", "MOT17")
    rep = evaluate_mot(open_dataset("mot17", root), root / "trackers" / "Lif_T" / "data",
                       sequences=MOT17_SUBSET, raw=True)
    assert list(rep["sequences"]) == MOT17_SUBSET
    for seq in MOT17_SUBSET + ["COMBINED_SEQ"]:
        _assert_same(rep["trackeval"][seq], te_mot17["pre"][seq], seq)
    assert rep["settings"]["removed_tracker_boxes"] == 13  # MOT17-02-SDP: predictions on distractors


def test_plain_evaluation_equals_trackeval(te_mot17):
    root = shared_path("mot", "MOT17")
    rep = evaluate_mot(open_dataset("mot17", root), root / "trackers" / "Lif_T" / "data",
                       sequences=["MOT17-09-FRCNN"], preprocess=False, raw=True)
    _assert_same(rep["trackeval"]["MOT17-09-FRCNN"], te_mot17["plain"]["MOT17-09-FRCNN"], "plain")
    assert not rep["settings"]["preprocess"]


def test_lif_t_21_sequences_official_figures(lif_t_report):
    rep = lif_t_report
    m = rep["metrics"]
    assert rep["tracker"] == "Lif_T" and rep["protocol"] == "mot" and len(rep["sequences"]) == 21
    assert rep["warnings"] == []
    # official MOTChallenge devkit (py-motmetrics issue #126) and TrackEval's HOTA, as published
    assert (m["fp"], m["fn"], m["idsw"], m["mt"], m["pt"], m["ml"], m["frag"]) == \
        (2655, 107803, 791, 679, 595, 364, 1153)
    for key, pub in (("mota", 66.98), ("motp", 89.09), ("idf1", 72.35), ("idp", 88.77), ("idr", 61.06),
                     ("hota", 62.86), ("deta", 59.80), ("assa", 66.18), ("loca", 90.30)):
        assert round(100 * m[key], 2) == pub, key
    # TrackEval 1.3.0 on the same 21 files (full precision, computed once with te's own evaluator)
    for key, te in (("mota", 0.6697774651148294), ("motp", 0.890854763010456), ("idf1", 0.7235480115504876),
                    ("idp", 0.8876945581959326), ("idr", 0.610633706451048), ("hota", 0.6285790395678501),
                    ("deta", 0.5980162887618683), ("assa", 0.6617858048960603), ("loca", 0.9030435952901609)):
        assert abs(m[key] - te) < TOL, key
    assert (m["idtp"], m["idfp"], m["idfn"], m["tp"]) == (205717, 26026, 131174, 229088)
    for v in m.values():
        assert isinstance(v, (int, float))
    assert all(isinstance(m[k], int) for k in ("fp", "fn", "idsw", "frag", "mt", "pt", "ml"))
    assert all(0.0 <= m[k] <= 1.0 for k in ("motp", "idf1", "idp", "idr", "hota", "deta", "assa", "loca"))


def test_detector_copy_option_and_partial_results(tmp_path):
    root = shared_path("mot", "MOT17")
    rep = evaluate_mot(open_dataset("mot17", root, detections="FRCNN"), root / "trackers" / "Lif_T" / "data")
    assert sorted(rep["sequences"]) == [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]
    # only the sequences with a result file are evaluated; the others are named in the warnings
    (tmp_path / "data").mkdir()
    src = root / "trackers" / "Lif_T" / "data" / "MOT17-09-FRCNN.txt"
    (tmp_path / "data" / "MOT17-09-FRCNN.txt").write_bytes(src.read_bytes())
    rep = evaluate_mot(open_dataset("mot17", root, detections="FRCNN"), tmp_path / "data")
    assert list(rep["sequences"]) == ["MOT17-09-FRCNN"] and rep["tracker"] == tmp_path.name
    assert "6 of 7 sequences have no result file" in rep["warnings"][0]


def test_mot15_tud_devkit_and_trackeval(te_mot15):
    root = shared_path("mot", "MOT15")
    rep = evaluate_mot(open_dataset("mot15", root), root / "trackers" / "motmetrics-sample" / "data", raw=True)
    for seq in ("TUD-Campus", "TUD-Stadtmitte", "COMBINED_SEQ"):
        _assert_same(rep["trackeval"][seq], te_mot15[seq], seq)
    devkit = {  # IDF1, MOTA, MOTP, FP, FN, IDSW, Frag, MT, PT, ML (data README); HOTA, DetA, AssA, LocA (TrackEval)
        "TUD-Campus": (55.8, 52.6, 72.3, 13, 150, 7, 7, 1, 6, 1, 39.14, 41.80, 36.91, 77.01),
        "TUD-Stadtmitte": (64.5, 56.4, 65.4, 45, 452, 7, 6, 5, 4, 1, 39.78, 39.23, 40.88, 73.75),
    }
    for seq, row in devkit.items():
        m = rep["sequences"][seq]
        assert tuple(round(100 * m[k], 1) for k in ("idf1", "mota", "motp")) == row[:3]
        assert tuple(m[k] for k in ("fp", "fn", "idsw", "frag", "mt", "pt", "ml")) == row[3:10]
        assert tuple(round(100 * m[k], 2) for k in ("hota", "deta", "assa", "loca")) == row[10:]


def test_pair_iou_is_trackevals_matrix_iou():
    from bench.core.boxes import iou_matrix, iou_pairs_xyxy, xywh_to_xyxy

    rng = np.random.default_rng(0)
    a = np.round(rng.uniform(-5, 60, (40, 4)), 1)
    b = np.round(rng.uniform(-5, 60, (30, 4)), 1)
    a[:3, 2] = 0
    b[:2, 3] = -1  # zero and negative sizes
    i, j = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    pairs = iou_pairs_xyxy(xywh_to_xyxy(a)[i.ravel()], xywh_to_xyxy(b)[j.ravel()])
    te = trackeval.datasets._base_dataset._BaseDataset._calculate_box_ious(a.copy(), b.copy(), box_format="xywh")
    assert np.array_equal(pairs, te.ravel()) and np.array_equal(iou_matrix(a, b), te)


# ---------------------------------------------------------------- hand-worked cases
def _gt(rows):
    """gt rows (frame, id, x, y, w, h, zero_marked, class) -> 9 columns."""
    return np.array([list(r) + [1.0] for r in rows], dtype=float)


def _tr(rows):
    return np.array([list(r) + [1.0, -1, -1, -1] for r in rows], dtype=float)


BOX = (10, 10, 20, 40)


def _metrics(gt, tr, n, preprocess=Preprocess()):
    rep = evaluate_arrays({"S": (gt, tr, n)}, preprocess=preprocess)
    return rep["sequences"]["S"]


def test_identity_switch_by_hand():
    gt = _gt([(t, 1, *BOX, 1, 1) for t in range(1, 5)])
    tr = _tr([(t, 1 if t <= 2 else 2, *BOX) for t in range(1, 5)])
    m = _metrics(gt, tr, 4)
    assert (m["tp"], m["fp"], m["fn"], m["idsw"], m["frag"], m["mt"]) == (4, 0, 0, 1, 0, 1)
    assert m["mota"] == 0.75 and m["motp"] == 1.0
    # the best single tracker id covers 2 of 4 frames: IDTP 2, IDFP 2, IDFN 2
    assert (m["idtp"], m["idfp"], m["idfn"]) == (2, 2, 2) and m["idf1"] == 0.5
    # every match: TPA 2, FNA 2, FPA 0 -> A = 0.5; detection perfect
    assert m["deta"] == 1.0 and m["assa"] == 0.5 and math.isclose(m["hota"], math.sqrt(0.5), abs_tol=1e-15)
    assert m["loca"] == 1.0


def test_fragmentation_by_hand():
    gt = _gt([(t, 1, *BOX, 1, 1) for t in range(1, 6)])
    # frame 3: the tracker reports its box elsewhere (an FP), so the gt's matched run breaks
    tr = _tr([(t, 1, *(BOX if t != 3 else (300, 300, 20, 40))) for t in range(1, 6)])
    m = _metrics(gt, tr, 5)
    assert (m["tp"], m["fp"], m["fn"], m["idsw"], m["frag"]) == (4, 1, 1, 0, 1)
    assert m["mota"] == pytest.approx(0.6, abs=1e-15)
    assert (m["mt"], m["pt"], m["ml"]) == (0, 1, 0)  # tracked 4/5 = 0.8 is not > 0.8
    assert m["idf1"] == pytest.approx(0.8, abs=1e-15)
    assert m["deta"] == pytest.approx(4 / 6, abs=1e-15) and m["assa"] == pytest.approx(4 / 6, abs=1e-15)
    # TrackEval counts runs over frames with both gt and tracker boxes: a frame where the
    # tracker reports nothing at all does not break the run
    tr_gap = _tr([(t, 1, *BOX) for t in (1, 2, 4, 5)])
    m = _metrics(gt, tr_gap, 5)
    assert (m["tp"], m["fp"], m["fn"], m["frag"]) == (4, 0, 1, 0)


def test_distractor_removal_by_hand():
    gt = _gt([(1, 1, 0, 0, 10, 20, 1, 1),      # pedestrian
              (1, 2, 100, 0, 10, 20, 1, 7),    # static person (distractor class), zero_marked 1
              (1, 3, 200, 0, 10, 20, 0, 1),    # zero-marked pedestrian: never evaluated
              (1, 4, 300, 0, 10, 20, 0, 6)])   # non_mot_vehicle: a distractor for MOT20 only
    tr = _tr([(1, 1, 0, 0, 10, 20),            # on the pedestrian: TP
              (1, 2, 100, 0, 10, 20),          # on the static person: removed
              (1, 3, 200, 0, 10, 20),          # on the zero-marked pedestrian: FP
              (1, 5, 106, 0, 10, 20),          # IoU 0.25 with the static person: kept, FP
              (1, 6, 300, 0, 10, 20)])         # on the vehicle
    m = _metrics(gt, tr, 1)
    assert (m["tp"], m["fp"], m["fn"], m["pred_dets"], m["gt_dets"]) == (1, 3, 0, 4, 1)
    assert m["mota"] == -2.0
    m20 = _metrics(gt, tr, 1, Preprocess(distractor_classes=(2, 7, 8, 12, 6)))
    assert (m20["tp"], m20["fp"], m20["pred_dets"]) == (1, 2, 3)
    plain = _metrics(gt, tr, 1, preprocess=None)  # no removal, no class filter; zero-marked still dropped
    assert (plain["tp"], plain["fp"], plain["fn"], plain["gt_dets"]) == (2, 3, 0, 2)


def test_iou_exactly_half_matches():
    gt = _gt([(1, 1, 0, 0, 10, 10, 1, 1)])
    tr = _tr([(1, 1, 0, 0, 10, 5)])  # IoU = 50 / 100 = 0.5
    m = _metrics(gt, tr, 1)
    assert (m["tp"], m["idtp"]) == (1, 1) and m["motp"] == 0.5


def test_empty_sides():
    gt = _gt([(1, 1, *BOX, 1, 1), (2, 1, *BOX, 1, 1)])
    m = _metrics(gt, np.zeros((0, 10)), 3)
    assert (m["fn"], m["ml"], m["fp"], m["mota"], m["hota"]) == (2, 1, 0, 0.0, 0.0)
    m = _metrics(np.zeros((0, 9)), _tr([(1, 1, *BOX)]), 3)
    assert (m["fp"], m["fn"], m["mota"]) == (1, 0, 0.0)  # TrackEval reports MOTA 0 without gt


def _write_case(root: Path, name: str, gt: np.ndarray, tr: np.ndarray) -> None:
    (root / "gt" / name / "gt").mkdir(parents=True)
    (root / "trk" / "T" / "data").mkdir(parents=True, exist_ok=True)
    np.savetxt(root / "gt" / name / "gt" / "gt.txt", gt, delimiter=",", fmt="%.10g")
    np.savetxt(root / "trk" / "T" / "data" / f"{name}.txt", tr, delimiter=",", fmt="%.10g")


def _random_case(rng, n_frames=30, n_gt=8, n_tr=10):
    """Crowded random scenes: overlapping boxes, id switches, distractors, duplicates."""
    gt, tr = [], []
    pos = rng.uniform(0, 60, (n_gt, 2))
    for t in range(1, n_frames + 1):
        pos += rng.normal(0, 2, pos.shape)
        for i in range(n_gt):
            if rng.random() < 0.85:
                cls = 1 if i < n_gt - 2 else int(rng.choice([2, 7, 8, 12, 6, 3]))
                gt.append((t, i + 1, *pos[i], 12, 30, int(rng.random() < 0.9), cls, 1.0))
        ids = rng.permutation(n_tr)[: rng.integers(3, n_tr)]
        for j in ids:
            i = j % n_gt
            jit = rng.normal(0, 3 if j < n_gt else 15, 4)
            tr.append((t, j + 1, pos[i, 0] + jit[0], pos[i, 1] + jit[1], 12 + jit[2] / 3, 30 + jit[3] / 3,
                       1.0, -1, -1, -1))
    return np.array(gt), np.array(tr)


@pytest.mark.parametrize("te_benchmark,preproc", [("MOT17", True), ("MOT20", True), ("MOT17", False)])
def test_random_crowds_equal_trackeval(tmp_path, te_benchmark, preproc):
    rng = np.random.default_rng(7 if preproc else 8)
    seqs = {}
    for k in range(3):
        gt, tr = _random_case(rng)
        tr = tr[rng.permutation(len(tr))]  # rows in any order
        _write_case(tmp_path, f"S{k}", gt, tr)
        seqs[f"S{k}"] = (gt, tr, 30)
    ref = _trackeval(tmp_path / "gt", tmp_path / "trk", "T", {s: 30 for s in seqs}, te_benchmark, preproc,
                     tmp_path / "out")
    dis = (2, 7, 8, 12, 6) if te_benchmark == "MOT20" else (2, 7, 8, 12)
    pre = Preprocess(distractor_classes=dis) if preproc else None
    results = {}
    for name, (gt, tr, n) in seqs.items():
        # through the files, exactly as TrackEval reads them
        gt_f = np.loadtxt(tmp_path / "gt" / name / "gt" / "gt.txt", delimiter=",")
        tr_f = np.loadtxt(tmp_path / "trk" / "T" / "data" / f"{name}.txt", delimiter=",")
        c, i, h = evaluate_data(prepare_sequence(gt_f, tr_f, n, preprocess=pre))
        results[name] = (c, i, h)
        _assert_same({"CLEAR": c, "Identity": i, "HOTA": h}, ref[name], name)
    from bench.metrics.mot import combine

    c, i, h = combine(list(results.values()))
    _assert_same({"CLEAR": c, "Identity": i, "HOTA": h}, ref["COMBINED_SEQ"], "combined")


def _tie_case(rng, n_frames=20, n_gt=6, n_tr=9):
    """Integer boxes, trackers often exactly on a gt box or on each other: many exact ties."""
    gt, tr = [], []
    pos = rng.integers(0, 30, (n_gt, 2)).astype(float)
    for t in range(1, n_frames + 1):
        pos += rng.integers(-2, 3, pos.shape)
        for i in range(n_gt):
            if rng.random() < 0.9:
                gt.append((t, i + 1, *pos[i], 10, 20, 1, 1 if i < n_gt - 1 else int(rng.choice([2, 7, 1])), 1.0))
        for j in rng.permutation(n_tr)[:rng.integers(2, n_tr)]:
            d = rng.integers(-3, 4, 2) if rng.random() < 0.5 else (0, 0)
            tr.append((t, j + 1, pos[j % n_gt, 0] + d[0], pos[j % n_gt, 1] + d[1], 10, 20, 1.0, -1, -1, -1))
    return np.array(gt), np.array(tr)


@pytest.mark.parametrize("seed", [38, 3, 11])
def test_exact_ties_equal_trackeval(tmp_path, seed):
    """Exact ties in the assignments: the same Hungarian matrices as TrackEval give the same choice."""
    rng = np.random.default_rng(seed)
    gt, tr = _tie_case(rng)
    _write_case(tmp_path, "S", gt, tr)
    for preproc in (True, False):
        ref = _trackeval(tmp_path / "gt", tmp_path / "trk", "T", {"S": 20}, "MOT17", preproc, tmp_path / "out")
        c, i, h = evaluate_data(prepare_sequence(gt, tr, 20, preprocess=Preprocess() if preproc else None))
        _assert_same({"CLEAR": c, "Identity": i, "HOTA": h}, ref["S"], f"seed {seed} preproc {preproc}")


# ---------------------------------------------------------------- malformed input through evaluate_mot
def _copy_tud(tmp_path: Path, text: str) -> Path:
    res = tmp_path / "res" / "data"
    res.mkdir(parents=True)
    (res / "TUD-Campus.txt").write_text(text)
    return res


@pytest.mark.parametrize("text,line,what", [
    ("1,1,1,1,5,5,1,-1,-1,-1\n1,1,2,2,5,5,1,-1,-1,-1\n", 2, "id 1 appears twice in frame 1"),
    ("1,1,1,1,5,5,1,-1,-1,-1\n72,1,2,2,5,5,1,-1,-1,-1\n", 2, "beyond the sequence length 71"),
    ("1,1,1,1,5,5,1,-1,-1,-1\n2,1,2,2,5,5,1,2,-1,-1\n", 2, "only valid for the pedestrian class"),
    ("1,1,1,1,5,5,1,-1,-1,-1\n2,1,2,2,nan,5,1,-1,-1,-1\n", 2, "not finite"),
])
def test_malformed_results_name_file_and_line(tmp_path, text, line, what):
    ds = open_dataset("mot15", shared_path("mot", "MOT15"))
    res = _copy_tud(tmp_path, text)
    with pytest.raises(DataError, match=what) as e:
        evaluate_mot(ds, res)
    assert e.value.path == str(res / "TUD-Campus.txt") and e.value.line == line


def test_no_result_files(tmp_path):
    ds = open_dataset("mot15", shared_path("mot", "MOT15"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no result file"):
        evaluate_mot(ds, tmp_path / "empty")
