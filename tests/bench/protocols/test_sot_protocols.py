"""Run loops on a scripted fake tracker: one-pass recording and the VOT supervised reset logic."""
from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.core.sequence import GeneratedFrames, SOTSequence
from bench.core.tracker import SOTTracker
from bench.protocols.one_pass import run_one_pass
from bench.protocols.vot_reset import BOX, FAILURE, INIT, SKIP, VOTSettings, run_supervised, run_vot

W, H = 64, 48


def frames(n):
    """Frame i is a constant image of value i (the fake tracker reads its frame index from it)."""
    return GeneratedFrames(n, lambda i: np.full((H, W, 3), i, dtype=np.uint8))


def make_seq(n=40, gt=None, polygons=None):
    if gt is None:
        gt = np.tile([10.0, 10.0, 20.0, 16.0], (n, 1))
    return SOTSequence("fake", np.asarray(gt, float), frames(n), polygons=polygons, image_size=(W, H))


class Scripted(SOTTracker):
    """Returns the ground truth, except on ``lose`` frames where it returns a box far away."""

    def __init__(self, gt, lose=(), deterministic=True, bad=None):
        super().__init__()
        self.gt, self.lose, self.bad = gt, set(lose), bad
        self.inits, self.seeds_at_init = [], []
        self.is_deterministic = deterministic

    def init(self, image, box):
        self.inits.append((int(image[0, 0, 0]), np.asarray(box).tolist()))
        self.seeds_at_init.append(self.seed)

    def update(self, image):
        i = int(image[0, 0, 0])
        if self.bad is not None and i == self.bad:
            return np.array([np.nan, 0, 1, 1]), 0.0
        if i in self.lose:
            return np.array([50.0, 40.0, 5.0, 5.0]), 0.1  # no overlap with gt at (10..30, 10..26)
        return self.gt[i].copy(), 0.9


def test_one_pass_records_init_box_and_updates():
    seq = make_seq(12)
    gt = seq.gt.copy()
    gt[:, 0] += np.arange(12)
    seq.gt = gt
    t = Scripted(gt)
    res = run_one_pass(t, seq)
    assert t.inits == [(0, gt[0].tolist())]
    np.testing.assert_array_equal(res.boxes, gt)
    assert res.scores[0] == 1.0 and np.all(res.scores[1:] == 0.9)
    assert res.times.shape == (12,) and np.all(res.times >= 0)
    assert res.fps > 0


def test_one_pass_rejects_non_finite_box():
    seq = make_seq(6)
    with pytest.raises(BenchError, match="frame 4"):
        run_one_pass(Scripted(seq.gt, bad=3), seq)


def test_vot_no_failure():
    seq = make_seq(20)
    t = Scripted(seq.gt)
    run = run_supervised(t, seq)
    assert run.codes[0] == INIT and np.all(run.codes[1:] == BOX)
    assert run.failures == 0 and t.inits == [(0, seq.gt[0].tolist())]
    assert run.lines()[0] == "1" and run.lines()[1] == "10.0000,10.0000,20.0000,16.0000"


def test_vot_failure_reinit_five_frames_later():
    seq = make_seq(40)
    t = Scripted(seq.gt, lose={10, 30})
    run = run_supervised(t, seq)
    codes = run.codes
    assert codes[10] == FAILURE and list(codes[11:15]) == [SKIP] * 4 and codes[15] == INIT
    assert codes[30] == FAILURE and list(codes[31:35]) == [SKIP] * 4 and codes[35] == INIT
    assert np.all(codes[1:10] == BOX) and np.all(codes[16:30] == BOX)
    assert run.failures == 2
    assert [f for f, _ in t.inits] == [0, 15, 35]
    assert np.isnan(run.boxes[10]).all() and np.isnan(run.boxes[12]).all()
    lines = run.lines()
    assert lines[10] == "2" and lines[12] == "0" and lines[15] == "1"


def test_vot_failure_near_the_end_is_not_reinitialised():
    seq = make_seq(20)
    t = Scripted(seq.gt, lose={17})
    run = run_supervised(t, seq)
    assert run.codes[17] == FAILURE and list(run.codes[18:]) == [SKIP, SKIP]
    assert [f for f, _ in t.inits] == [0]


def test_vot_failure_is_overlap_bounded_by_image():
    # gt straddles the right image border; the prediction overlaps it only outside the image
    n = 8
    gt = np.tile([W - 10.0, 10.0, 20.0, 10.0], (n, 1))
    seq = make_seq(n, gt)

    class Outside(Scripted):
        def update(self, image):
            return np.array([W + 1.0, 10.0, 8.0, 10.0]), 1.0

    run = run_supervised(Outside(gt), seq)
    assert run.codes[1] == FAILURE
    # the same prediction without image bounds overlaps the gt: not a failure
    unbounded = run_supervised(Outside(gt), seq, overlap=lambda a, b, bounds: 0.4)
    assert unbounded.failures == 0


def test_vot_polygon_ground_truth_and_init_box():
    n = 10
    poly = np.tile([10.0, 10.0, 30.0, 10.0, 30.0, 26.0, 10.0, 26.0], (n, 1))
    gt = np.tile([10.0, 10.0, 20.0, 16.0], (n, 1))
    seq = make_seq(n, gt, polygons=poly)
    t = Scripted(gt, lose={4})
    run = run_supervised(t, seq)
    assert run.codes[4] == FAILURE and run.codes[9] == INIT
    # init boxes come from the polygon with pysot's area-preserving rule (w + 1, h + 1)
    assert t.inits[0][1] == pytest.approx([10.0, 10.0, 21.0, 17.0])


def test_vot_empty_ground_truth_is_never_a_failure_and_delays_reinit():
    n = 30
    gt = np.tile([10.0, 10.0, 20.0, 16.0], (n, 1))
    gt[3] = np.nan      # unannotated frame while tracking
    gt[15:17] = np.nan  # re-init frame (10 + 5) without ground truth
    seq = make_seq(n, gt)
    t = Scripted(np.nan_to_num(gt), lose={3, 10})
    run = run_supervised(t, seq)
    assert run.codes[3] == BOX
    assert run.codes[10] == FAILURE and list(run.codes[11:17]) == [SKIP] * 6 and run.codes[17] == INIT


def test_vot_repetitions_deterministic_and_stochastic():
    seq = make_seq(20)
    det = Scripted(seq.gt, lose={5}, deterministic=True)
    runs = run_vot(det, seq, seed=7)
    assert len(runs) == 1
    sto = Scripted(seq.gt, lose={5}, deterministic=False)
    runs = run_vot(sto, seq, seed=7)
    assert len(runs) == 15
    assert all(np.array_equal(r.codes, runs[0].codes) for r in runs)
    # each repetition is reseeded before its first init: seeds 7..21 (re-inits keep the run's seed)
    first_init_seeds = [s for (f, _), s in zip(sto.inits, sto.seeds_at_init) if f == 0]
    assert first_init_seeds == list(range(7, 22))
    assert len(run_vot(sto, seq, settings=VOTSettings(repetitions=3))) == 3


def test_runner_got10k_layout_repetitions_and_resume(tmp_path):
    from bench.datasets.base import Dataset
    from bench.protocols.got10k import GOT10kSettings
    from bench.results.sot import PER_SEQUENCE
    from bench.run import run_dataset

    seqs = {f"GOT-10k_Val_{i:06d}": make_seq(12) for i in (1, 2)}
    for n, s in seqs.items():
        s.name = n
    ds = Dataset("got10k-fake", list(seqs), seqs.__getitem__, protocol="got10k", settings=GOT10kSettings())
    sto = Scripted(make_seq(12).gt, deterministic=False)
    summary = run_dataset(sto, ds, tmp_path, tracker_name="fake", progress=False, seed=3)
    assert summary.done == list(seqs) and not summary.failed
    for n in seqs:
        assert all(PER_SEQUENCE.is_finished(tmp_path, n, r) for r in (1, 2, 3))
        assert PER_SEQUENCE.result_path(tmp_path, n, 3) == tmp_path / n / f"{n}_003.txt"
        assert len((tmp_path / n / f"{n}_001.txt").read_text().splitlines()) == 12
    assert sto.seeds_at_init == [3, 4, 5, 3, 4, 5]
    again = run_dataset(sto, ds, tmp_path, tracker_name="fake", progress=False, seed=3)
    assert again.skipped == list(seqs) and not again.done
