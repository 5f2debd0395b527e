"""MDNet: sample generators, box regression, hard negative mining, online tracking loop, determinism."""
import numpy as np
import pytest
import torch

from bench.core.boxes import iou
from bench.core.build import build_tracker
from tests.sot.online_toy import one_torch_thread, toy_sequence  # noqa: F401 (autouse fixture)
from sot.parts.bbox_regression import BBoxRegressor, apply_deltas, regression_targets, ridge_fit
from sot.parts.sampling import SampleGenerator, overlap
from sot.models.mdnet import MDNetNet, mdnet_loss
from sot.trackers.mdnet import MDNet, MDNetConfig

SMALL = ["n_samples=64", "n_pos_init=60", "n_neg_init=300", "n_bbreg=120", "maxiter_init=8", "maxiter_update=3",
         "n_pos_update=12", "n_neg_update=40", "batch_neg_cand=128", "batch_test=64", "default_weights=none"]


# -- sampling ------------------------------------------------------------------------------------
def test_gaussian_samples_follow_py_mdnet():
    rng = np.random.default_rng(0)
    bb = np.array([100.0, 80.0, 40.0, 60.0])
    s = SampleGenerator("gaussian", (320, 240), trans=0.6, scale=1.05).draw(bb, 4000, rng)
    c = s[:, :2] + s[:, 2:] / 2
    dc = c - (bb[:2] + bb[2:] / 2)
    # translation 0.6 * mean(w, h) * clip(0.5 randn, -1, 1): |d| <= 30 px, std ~ 0.5 * 30
    assert np.abs(dc).max() <= 30 + 1e-9 and 12 < dc.std() < 16
    ratio = s[:, 2] / bb[2]
    assert ratio.min() >= 1.05 ** -1 - 1e-9 and ratio.max() <= 1.05 + 1e-9
    np.testing.assert_allclose(s[:, 2] / s[:, 3], bb[2] / bb[3])  # no aspect change


def test_uniform_whole_and_overlap_filter():
    rng = np.random.default_rng(1)
    bb = np.array([100.0, 80.0, 40.0, 60.0])
    g = SampleGenerator("uniform", (320, 240), trans=2.0, scale=1.3)
    neg = g(bb, 200, rng, overlap_range=(0.0, 0.3))
    assert len(neg) == 200 and overlap(neg, bb).max() <= 0.3
    pos = SampleGenerator("gaussian", (320, 240), 0.1, 1.3)(bb, 100, rng, overlap_range=(0.7, 1.0))
    assert len(pos) == 100 and overlap(pos, bb).min() >= 0.7
    whole = SampleGenerator("whole", (320, 240))(bb, 400, rng)
    c = whole[:, :2] + whole[:, 2:] / 2
    assert c[:, 0].min() < 60 and c[:, 0].max() > 260  # spread over the image
    np.testing.assert_allclose(whole[:, 2:], np.broadcast_to(bb[2:], whole[:, 2:].shape))  # scale 1
    aspect = SampleGenerator("uniform", (320, 240), 0.3, 1.6, aspect=1.1).draw(bb, 500, rng)
    assert np.std(aspect[:, 2] / aspect[:, 3]) > 0.01
    # sizes clipped to [10, image - 10]
    tiny = SampleGenerator("gaussian", (320, 240), 0.1, 1.3).draw(np.array([5.0, 5, 4, 4]), 10, rng)
    assert tiny[:, 2:].min() >= 10


def test_matlab_style_rounds_and_clips():
    rng = np.random.default_rng(2)
    bb = np.array([10.0, 20.0, 33.0, 41.0])
    s = SampleGenerator("gaussian", (320, 240), 0.1, 1.05 ** 3, style="matlab").draw(bb, 300, rng)
    np.testing.assert_array_equal(s, np.round(s))
    whole = SampleGenerator("whole", (320, 240), style="matlab").draw(bb, 150, rng)
    ratios = np.round(np.log(whole[:, 2] / 33.0) / np.log(1.05))
    assert set(ratios.astype(int)) <= set(range(-6, 7)) and len(set(ratios.astype(int))) > 5
    c = whole[:, :2] + whole[:, 2:] / 2
    assert c.min() >= -1 and c[:, 0].max() <= 320 and c[:, 1].max() <= 240


def test_sampling_deterministic_from_rng():
    g = SampleGenerator("uniform", (320, 240), 1.0, 1.6)
    a = g(np.array([50.0, 50, 30, 30]), 50, np.random.default_rng(5), (0, 0.5))
    b = g(np.array([50.0, 50, 30, 30]), 50, np.random.default_rng(5), (0, 0.5))
    np.testing.assert_array_equal(a, b)


# -- box regression ----------------------------------------------------------------------------
def test_regression_targets_round_trip():
    rng = np.random.default_rng(3)
    boxes = rng.uniform(20, 60, (10, 4))
    gt = np.array([30.0, 40.0, 50.0, 45.0])
    d = regression_targets(boxes, gt)
    np.testing.assert_allclose(apply_deltas(boxes, d), np.tile(gt, (10, 1)), atol=1e-9)


def test_ridge_dual_equals_primal_and_hand_case():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(30, 50)), rng.normal(size=(30, 4))
    w_dual, b_dual = ridge_fit(x, y, 3.0)  # D > N: dual
    xm, ym = x.mean(0), y.mean(0)
    w_primal = np.linalg.solve((x - xm).T @ (x - xm) + 3.0 * np.eye(50), (x - xm).T @ (y - ym))
    np.testing.assert_allclose(w_dual, w_primal, atol=1e-10)
    np.testing.assert_allclose(b_dual, ym - xm @ w_primal, atol=1e-10)
    # 1-D hand case: x = [0, 1, 2], y = [1, 3, 5], alpha = 1 -> w = 4 / 3, b = 3 - w
    w, b = ridge_fit(np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [3.0], [5.0]]), 1.0)
    assert w[0, 0] == pytest.approx(4 / 3) and b[0] == pytest.approx(3 - 4 / 3)


def test_bbox_regressor_learns_linear_offsets():
    rng = np.random.default_rng(5)
    gt = np.array([100.0, 80.0, 40.0, 50.0])
    boxes = SampleGenerator("uniform", (320, 240), 0.3, 1.6, aspect=1.1)(gt, 400, rng, (0.6, 1.0))
    feats = np.concatenate([regression_targets(boxes, gt), rng.normal(0, 0.01, (len(boxes), 20))], 1) * 100
    reg = BBoxRegressor((320, 240), alpha=1.0)
    used = reg.train(torch.from_numpy(feats).float(), boxes, gt)
    area = boxes[:, 2] * boxes[:, 3] / (gt[2] * gt[3])
    assert used == np.sum((overlap(boxes, gt) >= 0.6) & (area >= 1) & (area <= 2))
    test = boxes[:20]
    pred = reg.predict(feats[:20], test)
    g = np.tile(gt, (20, 1))
    assert iou(pred, g).mean() > 0.97 > iou(test, g).mean()
    # clipping as py-MDNet: x, y >= 0 and w, h <= image size - input x, y
    edge = reg.predict(np.zeros((1, feats.shape[1])), np.array([[-5.0, 200.0, 20.0, 50.0]]))
    assert edge[0, 0] >= 0 and edge[0, 3] <= 240 - 200.0 + 1e-9


# -- network / training pieces ---------------------------------------------------------------------
def test_mdnet_loss_matches_softmax_cross_entropy():
    pos, neg = torch.randn(4, 2), torch.randn(6, 2)
    ref = torch.nn.functional.cross_entropy(torch.cat([pos, neg]), torch.tensor([1] * 4 + [0] * 6))
    torch.testing.assert_close(mdnet_loss(pos, neg), ref)


def test_official_fc_shapes_and_init():
    net = MDNetNet()
    assert net.fc4.weight.shape == (512, 4608) and net.fc5.weight.shape == (512, 512)
    assert float(net.fc4.bias[0]) == pytest.approx(0.1) and float(net.branches[0].bias.abs().max()) == 0.0
    assert 0.008 < float(net.fc5.weight.std()) < 0.012


def _bare_tracker(**cfg_kw):
    tr = MDNet(MDNetConfig(**cfg_kw), net=MDNetNet(width=0.25, fc_dim=32), seed=0)
    tr.rng, tr.tgen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    tr.net.new_branch(tr.tgen)
    return tr


def test_hard_negative_mining_uses_the_top_scored_candidates(monkeypatch):
    tr = _bare_tracker(batch_neg_cand=200, batch_neg=96, batch_test=64)
    d = tr.net.backbone.out_dim
    g = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(50, d, generator=g), torch.randn(200, d, generator=g)
    monkeypatch.setattr(tr, "_scores", lambda f: f[:, 0])  # score = first feature
    seen = []
    head = tr.net.head
    monkeypatch.setattr(tr.net, "head", lambda f, *a, **k: seen.append(f) or head(f, *a, **k))
    tr._train(tr._optimizer(0.001), pos, neg, 1)
    assert [len(f) for f in seen] == [32, 96]
    np.testing.assert_array_equal(np.sort(seen[1][:, 0].numpy()), np.sort(neg[:, 0].topk(96).values.numpy()))


def test_online_training_separates_features():
    tr = _bare_tracker(batch_neg_cand=256, batch_test=64)
    torch.manual_seed(0)  # fc4/fc5 as after offline training (not the tiny N(0, 0.01) init)
    torch.nn.init.kaiming_normal_(tr.net.fc4.weight)
    torch.nn.init.kaiming_normal_(tr.net.fc5.weight)
    d = tr.net.backbone.out_dim
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(100, d, generator=g) + 1.0
    neg = torch.randn(1000, d, generator=g)
    before = (tr._scores(pos)[:, None] > tr._scores(neg)[None]).float().mean()
    tr._train(tr._optimizer(0.001), pos, neg, 30)
    after = (tr._scores(pos)[:, None] > tr._scores(neg)[None]).float().mean()
    assert after > 0.9 and after > before + 0.2


# -- tracking -------------------------------------------------------------------------------------
def run(tracker, frames, gt):
    tracker.init(frames[0], gt[0])
    out = [tracker.update(f) for f in frames[1:]]
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    return MDNetNet(width=0.25, fc_dim=64)


def test_shipped_weights_track_toy_sequence_reproducibly():
    frames, gt = toy_sequence(7)
    small = [o for o in SMALL if not o.startswith("default_weights=")] + ["n_samples=48", "n_neg_init=200"]
    a = build_tracker("mdnet", overrides=small, seed=3)  # default weights: sot/weights/mdnet.pth
    assert a.net.meta["format"] == "bench" and a.net.meta["recipe"] == "mdnet"
    boxes, scores = run(a, frames, gt)
    assert iou(boxes, gt[1:]).mean() > 0.6 and np.all(scores > 0)
    assert a.bbreg.trained and len(a.pos_all) == len(frames)
    b = a.spawn()
    boxes2, scores2 = run(b, frames, gt)
    np.testing.assert_array_equal(boxes, boxes2)
    np.testing.assert_array_equal(scores, scores2)
    b.reseed(4)
    boxes3, _ = run(b, frames, gt)
    assert not np.array_equal(boxes, boxes3)
    assert MDNet.is_deterministic is False


def test_failure_widens_search_and_short_term_update(small_net, monkeypatch):
    frames, gt = toy_sequence(4)
    cfg = build_tracker("mdnet", overrides=SMALL + ["success_threshold=1000.0"]).config
    tr = MDNet(cfg, seed=0, net=small_net)
    tr.init(frames[0], gt[0])
    calls = []
    orig = tr._train
    monkeypatch.setattr(tr, "_train", lambda *a: calls.append(len(a[1])) or orig(*a))
    n_pos_before = len(tr.pos_all)
    tr.update(frames[1])
    assert tr.cand_gen.trans == pytest.approx(0.6 * 1.1)
    assert len(tr.pos_all) == n_pos_before  # nothing collected on failure
    assert calls == [cfg.n_pos_init]  # short-term update on the stored positives
    for f in frames[2:]:
        tr.update(f)
    assert tr.cand_gen.trans == pytest.approx(min(0.6 * 1.1 ** 3, 1.5))


def test_long_term_update_every_10_frames(small_net, monkeypatch):
    frames, gt = toy_sequence(11)
    cfg = build_tracker("mdnet", overrides=SMALL + ["success_threshold=-1000.0", "bbreg=false"]).config
    tr = MDNet(cfg, seed=0, net=small_net)
    tr.init(frames[0], gt[0])
    calls = []
    orig = tr._train
    monkeypatch.setattr(tr, "_train", lambda *a: calls.append(tr.frame) or orig(*a))
    for f in frames[1:]:
        tr.update(f)
    assert calls == [10]
    assert len(tr.pos_all) == 11 and not tr.bbreg.trained


def test_spawn_shares_conv_weights(small_net):
    tr = MDNet(build_tracker("mdnet", overrides=SMALL).config, net=small_net)
    other = tr.spawn()
    assert other.net.backbone is tr.net.backbone and other.net.fc4 is not tr.net.fc4


@pytest.mark.parametrize("name", ["mdnet-rl", "vital"])
def test_attention_variants_track_and_mask_only_in_training(name):
    frames, gt = toy_sequence(3)[:2]
    t = build_tracker(name, overrides=SMALL)
    t.init(frames[0], gt[0])
    if name == "vital":
        assert t.generator is not None          # built and used by the initial training
        calls = []
        t.generator.register_forward_hook(lambda *a: calls.append(1))
        t._scores(torch.zeros(1, t.net.backbone.out_dim))
        assert calls == []                      # scoring (test time) never applies the masks
    box, score = t.update(frames[1])
    assert np.isfinite(box).all() and np.isfinite(score)
