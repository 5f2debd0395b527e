"""GOT-10k AO / SR: hand cases and the got10k package's own ExperimentGOT10k.report on a
tiny hand-made val split (same files read by both)."""
import json

import numpy as np
import pytest

from bench.metrics import got10k as G


def test_scored_frames_by_hand():
    gt = np.array([[0, 0, 10, 10]] * 4, float)
    pred = np.array([[50, 50, 5, 5],       # frame 0: never scored (the given initialisation)
                     [0, 0, 10, 10],       # iou 1
                     [0, 0, 10, 5],        # iou 0.5 (not > 0.5)
                     [0, 0, 10, 8]], float)  # iou 0.8, but cover 0: excluded
    cover = np.array([8, 8, 4, 0])
    m = G.sequence_metrics([pred], gt, cover=cover)
    assert m["n_scored"] == 2
    assert m["ao"] == pytest.approx(0.75) and m["sr_50"] == 0.5 and m["sr_75"] == 0.5
    # the image bound clips both boxes first (got10k rect_iou(..., bound=resolution))
    clipped = G.frame_ious(np.array([[0, 0, 1, 1], [5, 0, 10, 10]]), np.array([[0, 0, 1, 1], [0, 0, 10, 10]]),
                           resolution=(10, 10))
    assert clipped[0] == pytest.approx(0.5)  # [5,0,5,10] vs [0,0,10,10]


def test_pooling_is_over_frames_not_sequences():
    gt = np.array([[0, 0, 10, 10]] * 5, float)
    good = G.sequence_metrics([gt], gt)                        # 4 scored frames, iou 1
    bad = G.sequence_metrics([gt[:2] + [20, 0, 0, 0]], gt[:2])  # 1 scored frame, iou 0
    pooled = G.combine([good, bad])
    assert pooled["ao"] == pytest.approx(4 / 5)  # frames pooled, not (1 + 0) / 2
    assert pooled["n_sequences"] == 2


def _make_val_split(root, rng):
    seqs = {}
    for k in range(3):
        name = f"GOT-10k_Val_{k + 1:06d}"
        n = 20 + 5 * k
        d = root / "val" / name
        d.mkdir(parents=True)
        gt = np.concatenate([rng.uniform(0, 200, (n, 2)), rng.uniform(10, 60, (n, 2))], 1)
        np.savetxt(d / "groundtruth.txt", gt, fmt="%.4f", delimiter=",")
        cover = rng.integers(0, 9, n)
        cover[0] = 8
        np.savetxt(d / "cover.label", cover, fmt="%d")
        np.savetxt(d / "absence.label", (cover == 0).astype(int), fmt="%d")
        np.savetxt(d / "cut_by_image.label", np.zeros(n, int), fmt="%d")
        (d / "meta_info.ini").write_text("[METAINFO]\nobject_class: car\nmotion_class: run\n"
                                         "resolution: (240, 180)\n")
        for i in range(n):
            (d / f"{i + 1:08d}.jpg").write_bytes(b"")
        seqs[name] = gt
    (root / "val" / "list.txt").write_text("\n".join(seqs) + "\n")
    return seqs


def test_equals_got10k_experiment_report(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from got10k.experiments import ExperimentGOT10k

    from bench.evaluate import evaluate as evaluate_results
    from bench.results.sot import PER_SEQUENCE, write_sequence

    rng = np.random.default_rng(0)
    seqs = _make_val_split(tmp_path / "data", rng)
    tdir = tmp_path / "results" / "GOT-10k" / "T"
    for name, gt in seqs.items():
        pred = gt + rng.normal(0, 8, gt.shape)
        pred[:, 0] -= 30 * (rng.random(len(gt)) < 0.2)  # boxes partly outside the image
        write_sequence(PER_SEQUENCE, tdir, name, pred, times=rng.uniform(0.01, 0.05, len(gt)))
    exp = ExperimentGOT10k(str(tmp_path / "data"), subset="val", result_dir=str(tmp_path / "results"),
                           report_dir=str(tmp_path / "reports"))
    ref = exp.report(["T"])["T"]
    ours = evaluate_results("got10k-val", tdir, root=tmp_path / "data")
    assert ours["metrics"]["ao"] == pytest.approx(ref["overall"]["ao"], abs=1e-12)
    assert ours["metrics"]["sr_50"] == pytest.approx(ref["overall"]["sr"], abs=1e-12)
    np.testing.assert_allclose(ours["metrics"]["success_curve"], ref["overall"]["succ_curve"], atol=1e-12)
    for name in seqs:
        assert ours["sequences"][name]["ao"] == pytest.approx(ref["seq_wise"][name]["ao"], abs=1e-12)
        assert ours["sequences"][name]["sr_50"] == pytest.approx(ref["seq_wise"][name]["sr"], abs=1e-12)
    assert ours["protocol"]["name"] == "got10k"
    json.dumps(ours)
