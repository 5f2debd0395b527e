"""Baseline trackers (identity, ncc, opencv-mil) on a hand-made moving target."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.core.boxes import iou
from bench.core.build import build_tracker


@pytest.fixture(scope="module")
def clip():
    """60 frames: a textured 30x40 target moving right and down over a blurred noise background."""
    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3)).astype(np.uint8), (7, 7), 2)
    tex = rng.integers(0, 255, (40, 30, 3)).astype(np.uint8)
    frames, gt = [], []
    for t in range(60):
        x, y = 50 + 2 * t, 60 + 20 * np.sin(t / 10)
        img = bg.copy()
        img[int(y):int(y) + 40, int(x):int(x) + 30] = tex
        frames.append(img)
        gt.append([int(x), int(y), 30, 40])
    return frames, np.asarray(gt, float)


def track(tracker, frames, gt):
    tracker.init(frames[0], gt[0].copy())
    out = [gt[0]]
    for f in frames[1:]:
        box, score = tracker.update(f)
        assert np.asarray(box).shape == (4,) and np.isfinite(box).all() and np.isfinite(score)
        out.append(np.asarray(box, float))
    return np.asarray(out)


def test_identity_reports_the_initial_box(clip):
    frames, gt = clip
    boxes = track(build_tracker("identity"), frames, gt)
    assert np.all(boxes == gt[0])


def test_ncc_follows_the_target(clip):
    frames, gt = clip
    boxes = track(build_tracker("ncc"), frames, gt)
    ious = iou(boxes, gt)
    assert ious.mean() > 0.85 and ious.min() > 0.6
    # deterministic: a second run gives the same boxes
    np.testing.assert_array_equal(boxes, track(build_tracker("ncc"), frames, gt))


def test_ncc_scale_search_follows_growth():
    rng = np.random.default_rng(1)
    bg = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3)).astype(np.uint8), (5, 5), 1)
    tex = cv2.resize(rng.integers(0, 255, (20, 20, 3)).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
    frames, gt = [], []
    for t in range(40):
        s = 40 * 1.01 ** t
        img = bg.copy()
        x0, y0 = int(round(160 - s / 2)), int(round(120 - s / 2))
        img[y0:y0 + int(round(s)), x0:x0 + int(round(s))] = cv2.resize(tex, (int(round(s)), int(round(s))))
        frames.append(img)
        gt.append([x0, y0, round(s), round(s)])
    gt = np.asarray(gt, float)
    boxes = track(build_tracker("ncc"), frames, gt)
    assert boxes[-1, 2] > 1.2 * gt[0, 2]  # the box grew with the target (gt grows 1.47x)
    assert iou(boxes[-1:], gt[-1:])[0] > 0.7


def test_opencv_mil_tracks_and_spawns(clip):
    frames, gt = clip
    t = build_tracker("opencv-mil", seed=5)
    assert t.is_deterministic is False
    boxes = track(t, frames, gt)
    assert iou(boxes, gt).mean() > 0.5
    twin = t.spawn()
    assert twin is not t and twin.config == t.config and twin.seed == 5
    batch = t.batch()
    keys = batch.add(frames[0], gt[:1])
    k, b, s = batch.update(frames[1])
    assert list(k) == list(keys) and b.shape == (1, 4)
