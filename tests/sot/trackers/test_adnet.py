"""ADNet: action geometry and labels (hand-worked), history encoding, network layout, tracking loop,
re-detection, online fine-tuning, adnet-fast config."""
import numpy as np
import pytest
import torch

from bench.core.boxes import iou
from bench.core.build import build_tracker
from tests.sot.online_toy import one_torch_thread, toy_sequence  # noqa: F401 (autouse fixture)
from sot.models.adnet import ADNetNet
from sot.parts.actions import ACTION_NAMES, STOP, action_boxes, action_labels, do_action, history_onehot
from sot.trackers.adnet import ADNet, ADNetFast

SMALL = ["n_pos_init=60", "n_neg_init=60", "finetune_iters=4", "finetune_iters_online=2", "n_pos_online=8",
         "n_neg_online=4", "redet_samples=32", "default_weights=none"]


def test_action_order():
    assert ACTION_NAMES[STOP] == "stop" and len(ACTION_NAMES) == 11


def test_do_action_wide_box_by_hand():
    box = np.array([100.0, 100.0, 40.0, 20.0])  # w > h: unit = [1.2, max(0.6, 1) = 1, 1.2, 1.2 / 2 = 0.6]
    img = (320, 240)
    np.testing.assert_allclose(do_action(box, 2, img), [101.2, 100, 40, 20])  # right
    np.testing.assert_allclose(do_action(box, 1, img), [97.6, 100, 40, 20])  # left x2
    np.testing.assert_allclose(do_action(box, 4, img), [100, 99, 40, 20])  # up
    np.testing.assert_allclose(do_action(box, 7, img), [100, 102, 40, 20])  # down x2
    np.testing.assert_allclose(do_action(box, STOP, img), box)
    np.testing.assert_allclose(do_action(box, 10, img), [99.4, 99.7, 41.2, 20.6])  # bigger, centre kept, aspect kept
    np.testing.assert_allclose(do_action(box, 9, img), [100.6, 100.3, 38.8, 19.4])  # smaller


def test_do_action_tall_box_and_clamps():
    tall = np.array([50.0, 50.0, 10.0, 30.0])  # w <= h: dh = max(0.9, 1) = 1, dw = dh * ar = 1/3
    np.testing.assert_allclose(do_action(tall, 10, (320, 240)), [50 - 1 / 6, 49.5, 10 + 1 / 3, 31])
    edge = np.array([0.0, 0.0, 30.0, 30.0])
    np.testing.assert_allclose(do_action(edge, 0, (320, 240))[:2], [0, 0])  # cannot leave the image
    far = np.array([300.0, 220.0, 30.0, 30.0])
    np.testing.assert_allclose(do_action(far, 3, (320, 240))[:2], [290, 210])
    small = np.array([10.0, 10.0, 5.0, 5.0])
    assert do_action(small, 9, (320, 240))[2] == 5.0  # minimum size 5


def test_action_labels_by_hand():
    gt = np.array([100.0, 100.0, 40.0, 40.0])  # unit step 1.2 px
    samples = np.array([
        [97.0, 100, 40, 40],  # 3 px left: right x2 (2.4 px) beats right (1.2 px)
        [100.0, 101.5, 40, 40],  # 1.5 px low (IoU 0.928 < 0.93): up (0.3 px left) beats up x2 (0.9 px over)
        [100.0, 100, 40, 40],  # on target: stop
        [95.0, 95, 50, 50],  # same centre, larger: stop ties the best translation -> argmax of all = smaller
        [101.0, 101, 38, 38],  # same centre, smaller: bigger
    ])
    np.testing.assert_array_equal(action_labels(samples, gt), [3, 4, STOP, 9, 10])
    moved = action_boxes(samples[:1])[0]
    assert moved.shape == (11, 4) and moved[3, 0] == pytest.approx(97 + 2.4)


def test_stop_when_iou_above_stop_iou():
    gt = np.array([100.0, 100.0, 40.0, 40.0])
    near = np.array([[101.0, 100.0, 40, 40]])  # IoU 0.951 > 0.93: left (0.2 px over) would be better, stop wins
    assert iou(near, gt[None])[0] > 0.93
    assert action_labels(near, gt)[0] == STOP
    assert action_labels(near, gt, stop_iou=0.999)[0] == 0  # left


def test_history_onehot():
    oh = history_onehot([2, STOP, -1, 10] + [-1] * 16)
    assert oh.shape == (110,) and oh.sum() == 3
    assert oh[2] == 1 and oh[11 + STOP] == 1 and oh[33 + 10] == 1


def test_network_layout_and_history_after_fc5():
    net = ADNetNet()
    assert net.fc4.weight.shape == (512, 4608) and net.fc6.weight.shape == (11, 512)
    assert net.fc6_ah.weight.shape == (11, 110) and net.fc7.weight.shape == (2, 512)
    assert net.backbone.input_size == 112 and net.backbone.lrn_kind == "matconvnet"
    small = ADNetNet(width=0.25, fc_dim=16)
    with torch.no_grad():
        small.fc6_ah.weight.normal_()
    h = torch.rand(3, 16)
    hist = torch.zeros(3, 110)
    hist[1, 5] = 1
    a, c = small.heads(h, hist)
    a0, _ = small.heads(h, None)
    torch.testing.assert_close(a[0], a0[0])
    torch.testing.assert_close(a[1], a0[1] + small.fc6_ah.weight[:, 5])
    x = torch.randn(2, 3, 112, 112) * 50
    out_a, out_c = small(x, hist[:2])
    assert out_a.shape == (2, 11) and out_c.shape == (2, 2)


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    return ADNetNet(width=0.25, fc_dim=32)


def run(tr, frames, gt):
    tr.init(frames[0], gt[0])
    return [tr.update(f) for f in frames[1:]]


def test_tracking_loop_reproducible(small_net):
    frames, gt = toy_sequence(4)
    cfg = build_tracker("adnet", overrides=SMALL + ["max_steps=6"]).config
    a = run(ADNet(cfg, seed=1, net=small_net), frames, gt)
    b = run(ADNet(cfg, seed=1, net=small_net), frames, gt)
    for (ba, sa), (bb, sb) in zip(a, b):
        np.testing.assert_array_equal(ba, bb)
        assert sa == sb
    tr = ADNet(cfg, seed=1, net=small_net)
    run(tr, frames, gt)
    assert 1 <= tr.steps_last <= cfg.max_steps
    assert ADNet.is_deterministic is False
    # the official test-time bias reset of the action head
    assert torch.allclose(ADNet(cfg, seed=1, net=small_net).net.fc6.bias, small_net.fc6.bias)


def test_failure_triggers_redetection_and_short_term_update(small_net, monkeypatch):
    frames, gt = toy_sequence(4)
    cfg = build_tracker("adnet", overrides=SMALL + ["failed_threshold=1.0e+9", "success_threshold=1.0e+9"]).config
    tr = ADNet(cfg, seed=0, net=small_net)
    tr.init(frames[0], gt[0])
    calls = []
    orig = tr.finetune
    monkeypatch.setattr(tr, "finetune", lambda *a: calls.append(len(a[0])) or orig(*a))
    box, score = tr.update(frames[1])
    assert tr.steps_last == 1 and tr.cont_negatives == 1 and tr.history[0] == -1
    assert tr.redetected  # any top-5 mean beats the -inf score of a first-step failure
    assert len(tr.pos_mem) == 1 and calls == [len(tr.pos_mem[0][0])]  # nothing new stored, short-term update
    tr.update(frames[2])
    assert tr.cont_negatives == 2


def test_success_collects_samples_and_long_term_update(small_net, monkeypatch):
    frames, gt = toy_sequence(5)
    cfg = build_tracker("adnet", overrides=SMALL + ["failed_threshold=-1.0e+9", "finetune_interval=4"]).config
    tr = ADNet(cfg, seed=0, net=small_net)
    tr.init(frames[0], gt[0])
    calls = []
    monkeypatch.setattr(tr, "finetune", lambda *a: calls.append(tr.frame))
    for f in frames[1:]:
        tr.update(f)
    assert calls == [4] and len(tr.pos_mem) == 5 and not tr.redetected
    assert all(len(p) <= cfg.n_pos_online for p, _ in list(tr.pos_mem)[1:])


def test_revisited_box_forces_stop(small_net, monkeypatch):
    frames, gt = toy_sequence(2)
    cfg = build_tracker("adnet", overrides=SMALL + ["failed_threshold=-1.0e+9"]).config
    tr = ADNet(cfg, seed=0, net=small_net)
    tr.init(frames[0], gt[0])
    seq = iter([2, 0, 2, 0, 2, 0])  # right, left, ... oscillates back to the start box

    def fake(feats, hist):
        a = torch.zeros(1, 11)
        a[0, next(seq)] = 1.0
        return a, torch.ones(1)

    monkeypatch.setattr(tr, "_evaluate", fake)
    tr.update(frames[1])
    assert tr.steps_last == 2 and tr.history[0] == STOP and tr.history[1] == 2


def test_finetune_learns_actions_and_confidence(small_net):
    cfg = build_tracker("adnet", overrides=SMALL).config
    tr = ADNet(cfg, seed=0, net=ADNetNet(width=0.25, fc_dim=32))
    tr.rng = np.random.default_rng(0)
    d = tr.net.backbone.out_dim
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(11, d, generator=g) * 3
    labels = np.arange(330) % 11
    pos = centers[labels] + torch.randn(330, d, generator=g) * 0.3 + 1.0
    neg = torch.randn(600, d, generator=g) - 1.0
    tr.finetune(pos, labels, neg, 40, 0.0003)
    with torch.no_grad():
        a, c = tr.net.heads(tr.net.fc5_features(pos))
        _, cn = tr.net.heads(tr.net.fc5_features(neg))
    assert float((a.argmax(1).numpy() == labels).mean()) > 0.9
    assert float((c[:, 1] > c[:, 0]).float().mean()) > 0.9 and float((cn[:, 1] < cn[:, 0]).float().mean()) > 0.9
    ah = tr.net.fc6_ah.weight.clone()
    tr.finetune(pos, labels, neg, 2, 0.0003)
    torch.testing.assert_close(tr.net.fc6_ah.weight, ah)  # history weights are never fine-tuned


def test_adnet_fast_config():
    fast = build_tracker("adnet-fast", overrides=["default_weights=none"])
    full = build_tracker("adnet", overrides=["default_weights=none"])
    assert isinstance(fast, ADNetFast)
    assert fast.config.n_pos_online < full.config.n_pos_online
    assert fast.config.redet_samples < full.config.redet_samples == 256
    assert full.config.max_steps == 20 and full.config.failed_threshold == 0.5
