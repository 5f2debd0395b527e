"""SORT, ByteTrack, Tracktor and SOT-per-target on hand-made detection streams."""
import dataclasses
import itertools

import numpy as np
import pytest

from bench.core.config import load_config
from bench.core.errors import CheckpointError
from bench.core.registry import TRACKERS, configs_dir
from bench.core.tracker import SOTTracker
from mot.association import fused_reid_cost, hungarian_gated, linear_assignment
from mot.reid import (AppearanceConfig, ClassifierReIDConfig, HistogramEncoder, decide_reid,
                      finetune_classifier, _Head)
from mot.trackers.bytetrack import ByteTrack, ByteTrackConfig
from mot.trackers.sort import Sort, SortConfig
from mot.trackers.sot_per_target import SOTPerTarget, SOTPerTargetConfig

from tests.helpers import shared_path


def run(tracker, stream, images=None):
    """stream: list of (M, 5) detections per frame -> list of {id: box}."""
    out = []
    for t, dets in enumerate(stream):
        img = None if images is None else images[t]
        boxes, ids, _ = tracker.update(img, np.asarray(dets, float).reshape(-1, 5))
        out.append({int(i): b for i, b in zip(ids, boxes)})
    return out


def det(x, y, w=40, h=80, s=0.9):
    return [x, y, w, h, s]


# -- association ------------------------------------------------------------------------------------
def test_linear_assignment_is_lapjv_with_cost_limit():
    """Brute force: minimise sum(cost - thresh) over partial matchings with cost < thresh."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        n, m = rng.integers(1, 5, 2)
        cost = rng.uniform(0, 1, (n, m))
        thr = 0.6
        matches, ur, uc = linear_assignment(cost, thr)
        got = sum(cost[r, c] - thr for r, c in matches)
        best = 0.0
        for k in range(1, min(n, m) + 1):
            for rows in itertools.combinations(range(n), k):
                for cols in itertools.permutations(range(m), k):
                    v = sum(cost[r, c] - thr for r, c in zip(rows, cols))
                    if all(cost[r, c] < thr for r, c in zip(rows, cols)):
                        best = min(best, v)
        assert got == pytest.approx(best, abs=1e-12)
        assert len(matches) + len(ur) == n and len(matches) + len(uc) == m
        assert np.all(cost[matches[:, 0], matches[:, 1]] < thr)


def test_hungarian_gated_rejects_after_assignment():
    cost = np.array([[0.1, 0.9], [0.2, 0.95]])
    m, ur, uc = hungarian_gated(cost, 0.7)
    # optimal assignment is (0,1),(1,0) [1.1] vs (0,0),(1,1) [1.05]: takes the latter, then gates (1,1)
    assert m.tolist() == [[0, 0]] and ur.tolist() == [1] and uc.tolist() == [1]


def test_fused_reid_cost_gates_appearance_by_overlap():
    d_iou = np.array([[0.2, 0.9]])
    d_feat = np.array([[0.1, 0.0]])
    d = fused_reid_cost(d_iou, d_feat, proximity=0.5, appearance=0.25)
    assert d[0, 0] == pytest.approx(np.sqrt(0.1 * 0.2))
    assert d[0, 1] == pytest.approx(np.sqrt(0.9))        # no overlap: appearance ignored


# -- SORT -------------------------------------------------------------------------------------------
def test_sort_birth_after_min_hits_and_death_after_max_age():
    t = Sort(SortConfig())
    a = [det(100 + 3 * k, 100) for k in range(20)]
    stream = [[a[k]] for k in range(6)]
    stream += [[a[k], det(400, 100 + 2 * (k - 6))] for k in range(6, 10)]   # b appears at frame 7
    out = run(t, stream)
    assert all(len(o) == 1 for o in out[:6])                    # frames 1-3 by the start rule, then hits
    # b: the birth detection is no hit in SORT; reported once min_hits later matches make the streak
    assert [len(o) for o in out[6:10]] == [1, 1, 1, 2]
    ida = next(iter(out[0]))
    assert all(ida in o for o in out)
    # a disappears for one frame: not reported, survives (max_age 1) and keeps its id, but needs
    # min_hits again before it is reported
    out2 = run(t, [[], [a[12]], [a[13]], [a[14]]])
    assert out2[0] == {} and out2[1] == {} and out2[2] == {}
    assert list(out2[3]) == [ida]
    # a disappears for two frames: dead (max_age 1), comes back with a new id
    out3 = run(t, [[], [], [a[16]], [a[17]], [a[18]], [a[19]]])
    assert ida not in out3[5] and len(out3[5]) == 1


def test_sort_keeps_ids_through_a_crossing():
    t = Sort(SortConfig())
    frames = []
    for k in range(30):
        frames.append([det(50 + 10 * k, 100), det(350 - 10 * k, 130)])   # cross at k = 15
    out = run(t, frames)
    first = {i: b[0] for i, b in out[3].items()}
    last = {i: b[0] for i, b in out[-1].items()}
    left_to_right = min(first, key=first.get)
    assert set(first) == set(last)
    assert last[left_to_right] > 300                             # still the same target


@pytest.mark.parametrize("name", ["sort", "bytetrack"])
def test_configs_load(name):
    entry = TRACKERS.get(name)
    cfg = load_config(entry.obj.Config, [configs_dir() / entry.config])
    assert cfg == load_config(entry.obj.Config, [configs_dir() / entry.config])


# -- ByteTrack --------------------------------------------------------------------------------------
def test_bytetrack_recovers_low_score_detections_and_keeps_id():
    t = ByteTrack(ByteTrackConfig())
    stream = [[det(100 + 4 * k, 100, s=0.9)] for k in range(8)]
    stream += [[det(100 + 4 * k, 100, s=0.3)] for k in range(8, 14)]     # occluded: low score
    stream += [[det(100 + 4 * k, 100, s=0.9)] for k in range(14, 18)]
    out = run(t, stream)
    ids = [set(o) for o in out[1:]]
    assert all(i == ids[0] and len(i) == 1 for i in ids)           # one id from frame 2 on, no gap
    # SORT drops the low-score frames when they are filtered (min_score 0.5) and restarts the id
    s = Sort(SortConfig(min_score=0.5))
    out_s = run(s, stream)
    assert all(len(o) == 0 for o in out_s[9:14])
    assert set(out_s[-1]) != set(out_s[5])


def test_bytetrack_thresholds_for_new_tracks_and_buffer():
    t = ByteTrack(ByteTrackConfig())
    out = run(t, [[det(10, 10, s=0.65), det(200, 10, s=0.3)]] * 3)  # below new-track 0.7 / low only
    assert all(o == {} for o in out)
    t.reset()
    out = run(t, [[det(10, 10, s=0.95)]] * 3)
    assert len(out[0]) == 1 and len(out[2]) == 1                      # first frame activates at once
    tid = next(iter(out[0]))
    out = run(t, [[]] * 10 + [[det(10, 10, s=0.95)]])                  # lost 10 frames, re-found
    assert list(out[-1]) == [tid]
    t2 = ByteTrack(ByteTrackConfig(track_buffer=3))
    run(t2, [[det(10, 10, s=0.95)]] * 3)
    out = run(t2, [[]] * 5 + [[det(10, 10, s=0.95)]] * 2)              # lost past the buffer: new id
    assert tid not in out[-1] and len(out[-1]) == 1
    t2.reset(fps=15)                                                   # buffer scales with fps / 30
    assert t2.max_time_lost == 1


def test_bytetrack_keeps_ids_through_a_crossing():
    t = ByteTrack(ByteTrackConfig())
    frames = [[det(50 + 10 * k, 100), det(350 - 10 * k, 130)] for k in range(30)]
    out = run(t, frames)
    first = {i: b[0] for i, b in out[2].items()}
    last = {i: b[0] for i, b in out[-1].items()}
    assert set(first) == set(last) and last[min(first, key=first.get)] > 300


def test_sort_reproduces_published_tud_campus_row():
    """SORT paper / abewley/sort README, TUD-Campus: MOTA 62.7, FP 15, FN 113, IDSW 6 (devkit)."""
    motmetrics = pytest.importorskip("motmetrics")
    np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # motmetrics 1.4 on numpy 2
    root = shared_path("mot", "MOT15", "train", "TUD-Campus")
    dets = np.loadtxt(root / "det" / "det.txt", delimiter=",")
    gt = np.loadtxt(root / "gt" / "gt.txt", delimiter=",")
    t = Sort(load_config(SortConfig, [configs_dir() / "trackers" / "sort.yaml"]))
    acc = motmetrics.MOTAccumulator(auto_id=True)
    for f in range(1, 72):
        boxes, ids, _ = t.update(None, dets[dets[:, 0] == f][:, 2:7])
        g = gt[gt[:, 0] == f]
        acc.update(g[:, 1].astype(int), ids, motmetrics.distances.iou_matrix(g[:, 2:6], boxes, max_iou=0.5))
    r = motmetrics.metrics.create().compute(acc, metrics=["mota", "num_false_positives", "num_misses",
                                                          "num_switches"]).iloc[0]
    assert (r.num_false_positives, r.num_misses, r.num_switches) == (15, 113, 6)
    assert round(100 * r.mota, 1) == 62.7


# -- re-identification -------------------------------------------------------------------------------
def test_decide_reid_rule():
    ids = np.array([7, 8, 9])
    s = np.array([[0.97, 0.70, 0.10],     # 7 -> det 0 (gap 0.27)
                  [0.96, 0.90, 0.10],     # 8: gap 0.06 < 0.2 -> no
                  [0.20, 0.94, 0.30]])    # 9: 0.94 < 0.95 -> no
    assert decide_reid(ids, s, 0.95, 0.2) == [(7, 0)]
    s2 = np.array([[0.99, 0.1], [0.96, 0.2]])       # two candidates for det 0: highest wins
    assert decide_reid(np.array([1, 2]), s2, 0.95, 0.2) == [(1, 0)]
    assert decide_reid(np.array([1, 2]), s2, 0.95, 0.2, candidates=np.array([1])) == []
    assert decide_reid(np.array([1]), np.array([[0.96]]), 0.95, 0.2) == [(1, 0)]   # lone detection


def test_classifier_finetune_stops_early_once_separated():
    rng = np.random.default_rng(0)
    pos = rng.normal(1.0, 0.1, (10, 16)).astype(np.float32)
    neg = rng.normal(-1.0, 0.1, (30, 16)).astype(np.float32)
    cfg = ClassifierReIDConfig(lr=5e-3, max_epochs=500)
    params, epochs, sep = finetune_classifier(_Head(16, 8, 0).params, pos, neg, cfg)
    assert sep and 0 < epochs < 500
    import torch

    from mot.reid import _forward
    p = torch.sigmoid(_forward(params, torch.from_numpy(np.r_[pos, neg]))).numpy()
    assert p[:10].min() >= 0.95 and p[:10].min() - p[10:].max() >= 0.2


def test_histogram_encoder_separates_colours():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (220, 30, 30)
    img[:, 100:] = (30, 30, 220)
    enc = HistogramEncoder(AppearanceConfig())
    f = enc(img, np.array([[10, 10, 30, 60], [20, 20, 30, 60], [120, 10, 30, 60.]]))
    assert f.shape == (3, enc.dim) and np.allclose(np.linalg.norm(f, axis=1), 1, atol=1e-6)
    assert f[0] @ f[1] > 0.99 and f[0] @ f[2] < 0.1


# -- SOT-per-target ------------------------------------------------------------------------------------
class StillSOT(SOTTracker):
    """A cheap SOT tracker: predicts the last box, score 1 (tests only)."""

    def init(self, image, box):
        self.box = np.asarray(box, float)

    def update(self, image):
        return self.box.copy(), 1.0


COLOURS = [(230, 40, 40), (40, 200, 40), (40, 60, 230), (230, 200, 30)]


def scene(n_frames, tracks, size=(240, 320)):
    """Coloured rectangles on grey: tracks = [(colour idx, fn frame -> xywh or None)]."""
    imgs, dets, gt = [], [], []
    for t in range(n_frames):
        img = np.full(size + (3,), 128, np.uint8)
        d, g = [], []
        for k, (c, fn) in enumerate(tracks):
            b = fn(t)
            if b is None:
                continue
            x, y, w, h = (int(round(v)) for v in b)
            img[y:y + h, x:x + w] = COLOURS[c]
            img[y + h // 2:y + h, x:x + w] = np.array(COLOURS[c]) // 2          # darker legs
            g.append((k, b))
            d.append([*b, 0.9])
        imgs.append(img)
        dets.append(d)
        gt.append(g)
    return imgs, dets, gt


def test_sot_per_target_bridges_missing_detections_and_reidentifies():
    cfg = SOTPerTargetConfig()
    trk = SOTPerTarget(cfg, sot=StillSOT())
    still = lambda x, y: (lambda t: (x, y, 30, 70))
    gone = lambda t: None if 10 <= t < 17 else (200, 100, 30, 70)          # away 7 frames > patience 5
    imgs, dets, _ = scene(30, [(0, still(20, 30)), (1, still(90, 40)), (2, gone)])
    # target 1's detection is missed for 3 frames: the SOT prediction bridges them
    for t in (5, 6, 7):
        dets[t] = [d for d in dets[t] if d[0] != 90]
    out = run(trk, dets, imgs)
    ids = {k: next(i for i, b in out[3].items() if abs(b[0] - x) < 1) for k, x in ((0, 20), (1, 90), (2, 200))}
    assert all(ids[1] in out[t] for t in (5, 6, 7))                      # bridged by the SOT tracker
    assert ids[2] in out[14]                                              # 5 frames on its prediction
    assert ids[2] not in out[15] and ids[2] not in out[16]                # then inactive
    assert ids[2] in out[20] and abs(out[20][ids[2]][0] - 200) < 1        # re-identified, same id
    assert trk.reid.stats["reidentified"] == 1 and trk.reid.stats["finetuned"] >= 1
    assert len({i for o in out for i in o}) == 3                          # no spurious identities


def test_sot_per_target_confirmation_and_patience():
    cfg = SOTPerTargetConfig(reid=ClassifierReIDConfig(enabled=False))
    trk = SOTPerTarget(cfg, sot=StillSOT())
    imgs, dets, _ = scene(12, [(0, lambda t: (20, 20, 30, 70))])
    dets = [dets[0], dets[1], dets[2]] + [[] for _ in range(9)]
    out = run(trk, dets, imgs)
    assert len(out[0]) == 1 and len(out[2]) == 1                          # start rule, then 2 hits
    assert all(len(o) == 1 for o in out[3:8])                             # 5 frames of patience
    assert all(len(o) == 0 for o in out[8:])
    # a lone one-frame detection later in the sequence is never confirmed
    trk.reset()
    out = run(trk, [[], [], [], [[20, 20, 30, 70, 0.9]], [], []], imgs[:6])
    assert all(len(o) == 0 for o in out[3:])


def test_sot_family_names_build_mot_trackers():
    import warnings

    warnings.simplefilter("ignore")
    assert "sot-identity" in TRACKERS.names()
    e = TRACKERS.get("sot-identity")
    assert e.kind == "mot" and e.obj.base == "identity" and e.obj.needs_images
    from bench.core.build import build_tracker

    t = build_tracker("sot-identity", overrides=["patience=3"])
    assert t.config.patience == 3 and type(t.sot).__name__ == "IdentityTracker"


def test_sot_per_target_on_synthetic_mot():
    """A cheap SOT tracker per target on the first 30 frames of a synthetic-mot sequence."""
    import warnings

    warnings.simplefilter("ignore")
    from bench.core.errors import UnknownNameError
    from bench.datasets import open_dataset
    from bench.metrics.mot import evaluate_arrays

    try:
        ds = open_dataset("synthetic-mot")
    except UnknownNameError:
        pytest.skip("synthetic-mot dataset not available in this checkout")
    seq = ds[ds.names()[0]]
    trk = SOTPerTarget(SOTPerTargetConfig(), sot=StillSOT())
    n = 30
    rows = []
    for t in range(n):
        boxes, ids, scores = trk.update(seq.frame(t), seq.detections_at(t))
        assert boxes.shape == (len(ids), 4) and len(set(ids.tolist())) == len(ids)
        rows += [[t + 1, i, *b, s] for b, i, s in zip(boxes, ids, scores)]
    rep = evaluate_arrays({seq.name: (seq.gt[seq.gt[:, 0] <= n], np.array(rows), n)})["metrics"]
    assert rep["mota"] > 0.8 and rep["idf1"] > 0.85 and rep["idsw"] == 0
    assert trk.reid.stats["finetuned"] >= 1 and trk.reid.stats["separated"] == trk.reid.stats["finetuned"]


# -- Tracktor ---------------------------------------------------------------------------------------------
def _tiny_frcnn():
    import torch
    from torchvision.models.detection import FasterRCNN

    class BB(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.nn.Conv2d(3, 8, 3, stride=4, padding=1)
            self.out_channels = 8

        def forward(self, x):
            return torch.relu(self.c(x))

    torch.manual_seed(0)
    return FasterRCNN(BB(), num_classes=2, min_size=96, max_size=128)


def test_tracktor_regresses_tracks_and_kills_on_low_score():
    from mot.trackers.tracktor import Tracktor, TracktorConfig

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    d = np.array([[10, 10, 20, 40, .9], [70, 20, 20, 40, .8]])
    cfg = TracktorConfig(detection_person_thresh=0.0, regression_person_thresh=0.0, do_align=True)
    t = Tracktor(cfg, model=_tiny_frcnn())
    out = [t.update(img, d) for _ in range(3)]
    assert [sorted(o[1].tolist()) for o in out] == [[1, 2]] * 3          # regressed, new dets covered
    assert np.all(np.abs(out[1][0] - out[0][0]) < 5)
    # every regression score is <= 1: a threshold of 1 kills every track each frame; the
    # detections (threshold 0) then start new tracks or re-identify inactive ones
    t2 = Tracktor(dataclasses.replace(cfg, regression_person_thresh=1.0), model=_tiny_frcnn())
    ids = [set(t2.update(img, d)[1].tolist()) for _ in range(3)]
    assert ids[0] == {1, 2} and all(len(i) == 2 for i in ids)
    assert len(t2.inactive_pos) >= 1 or t2.reid.stats["reidentified"] > 0


def test_tracktor_weights_errors(tmp_path):
    from mot.trackers.tracktor import Tracktor, TracktorConfig

    with pytest.raises(CheckpointError, match="--weights"):
        Tracktor(TracktorConfig(weights="none"))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pth"):
        Tracktor(TracktorConfig(weights="none"), weights=str(bad))


def test_harness_passes_sequence_fps_to_reset():
    """run_mot / track_sequence hand ``seq.fps`` to trackers whose reset takes it (ByteTrack's
    lost-track buffer is scaled by fps / 30); SORT's plain reset() still works."""
    from bench.core.sequence import MOTSequence
    from bench.protocols.mot import track_sequence

    dets = np.array([[1, -1, 10, 10, 20, 40, 0.9], [2, -1, 12, 10, 20, 40, 0.9]])
    seq = MOTSequence(name="s", length=2, detections=dets, fps=14.0)
    bt = ByteTrack(ByteTrackConfig())
    track_sequence(bt, seq)
    assert bt.fps == 14.0
    rows, _ = track_sequence(Sort(SortConfig(min_hits=1)), seq)
    assert rows.shape[1] == 7
