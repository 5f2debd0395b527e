"""SiamFC / SiamRPN / DaSiamRPN trackers: configs, geometry, batched == looped, DaSiamRPN parts."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from bench.core.build import build_tracker
from bench.core.config import missing_sources, read_yaml
from bench.core.registry import configs_dir
from sot.parts.anchors import anchor_shapes, anchor_targets, decode, encode, generate_anchors
from sot.parts.distractors import DistractorBank, DistractorSet, nms, select_distractors
from sot.parts.memory import TemplateMemory
from sot.parts.windows import anchor_window, hann2d

NAMES = ["siamfc", "siamfc-5s", "siamrpn", "dasiamrpn"]
RANDOM = ["default_weights="]


def frames(n=6, seed=0):
    """A textured square moving right over a noisy background (RGB uint8, 160x200)."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 120, (160, 200, 3)).astype(np.uint8)
    tex = rng.integers(120, 255, (30, 26, 3)).astype(np.uint8)
    out = []
    for i in range(n):
        f = bg.copy()
        x, y = 40 + 4 * i, 50 + 2 * i
        f[y:y + 30, x:x + 26] = tex
        out.append(f)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_config_sources(name):
    data = read_yaml(configs_dir() / "trackers" / f"{name}.yaml")
    assert missing_sources(data["params"]) == []


@pytest.mark.parametrize("name", NAMES + ["dasiamrpn-score"])
def test_batched_equals_single(name):
    """N targets in one forward pass == N independent single-target trackers (1e-5)."""
    fr = frames(5)
    boxes = np.array([[40, 50, 26, 30], [100, 20, 30, 24], [10, 100, 20, 40]], dtype=np.float64)
    extra = []
    if name.startswith("dasiamrpn"):   # exercise distractors and memory writes every frame, keep the search size
        extra = ["longterm.low=0.0", "memory.write_threshold=0.0", "memory.write_interval=1",
                 "distractor.threshold=0.0", "distractor.capacity=4"]
        if name == "dasiamrpn-score":
            name, extra = "dasiamrpn", extra + ["distractor.mode=score"]
    base = build_tracker(name, overrides=RANDOM + extra)
    singles = []
    for b in boxes:
        t = base.spawn()
        t.init(fr[0], b)
        singles.append(np.stack([t.update(f)[0] for f in fr[1:]]))
    bt = base.batch()
    keys = bt.add(fr[0], boxes)
    assert list(keys) == [0, 1, 2]
    outs = [bt.update(f)[1] for f in fr[1:]]
    for i in range(3):
        assert np.allclose(np.stack([o[i] for o in outs]), singles[i], atol=1e-5)
    bt.remove([1])
    k, b, s = bt.update(fr[-1])
    assert list(k) == [0, 2] and b.shape == (2, 4) and np.isfinite(s).all()


def test_siamfc_displacement_geometry():
    """A response peak at cell (r, c) moves the target by (c - 8, r - 8) * 8 * x_sz / 255 px."""
    t = build_tracker("siamfc", overrides=RANDOM + ["window_influence=0.0", "scale_num=1", "scale_lr=0.0"])
    img = frames(1)[0]
    t.init(img, np.array([80, 60, 40, 40.]))
    x_sz = t._state.x_sz

    class Peak(torch.nn.Module):
        def forward(self, z, x):
            r = torch.zeros(x.shape[0], 1, 17, 17)
            r[:, 0, 11, 5] = 1.0                    # row 11, col 5
            return r

    t.net.head = Peak()
    box, _ = t.update(img)
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    assert abs(cx - (100 + (5 - 8) * 8 * x_sz / 255)) < 0.6 * x_sz / 255 * 8
    assert abs(cy - (80 + (11 - 8) * 8 * x_sz / 255)) < 0.6 * x_sz / 255 * 8
    assert np.allclose(box[2:], [40, 40])


def test_anchors_and_targets():
    assert anchor_shapes(8, [0.33, 0.5, 1, 2, 3], [8]).tolist() == [[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]]
    a = generate_anchors(8, [0.33, 0.5, 1, 2, 3], [8], 17)
    assert a.shape == (5 * 289, 4)
    # order a*S*S + y*S + x, centred grid (-64..64)
    assert a[0, :2].tolist() == [-64, -64] and a[1, :2].tolist() == [-56, -64] and a[17, :2].tolist() == [-64, -56]
    assert a[289, 2:].tolist() == [88, 40] and a[144, :2].tolist() == [0, 0]
    box = np.array([3.0, -5.0, 60.0, 70.0])
    t = encode(box, a)
    assert np.allclose(decode(t, a), np.repeat(box[:, None], len(a), 1), atol=1e-3)
    rng = np.random.default_rng(0)
    lab, _, w = anchor_targets(a, box, rng)
    assert 0 < (lab == 1).sum() <= 16 and (lab >= 0).sum() == 64 and np.isclose(w.sum(), 1.0)
    lab, _, w = anchor_targets(a, box, rng, negative_pair=True, score_size=17)
    assert (lab == 1).sum() == 0 and (lab == 0).sum() == 16 and w.sum() == 0
    assert hann2d(5, normalize=True).sum() == pytest.approx(1.0)
    assert anchor_window(3, 2).shape == (18,)


def test_distractor_selection_and_bank():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10], [80, 0, 10, 10], [0, 80, 10, 10.]])
    scores = np.array([0.9, 0.95, 0.6, 0.3, 0.5])
    assert nms(boxes, np.argsort(-scores), 0.5, 10).tolist() == [1, 2, 4, 3]
    # target = box 0 (chosen with the window although box 1 scores higher): box 1 overlaps it
    d = select_distractors(boxes, scores, 0, iou_threshold=0.5, top_k=5, threshold=0.5)
    assert d.tolist() == [2, 4]                 # 0.6, 0.5 > 0.45; 0.3 is not
    bank = DistractorBank(eta=0.5)
    k = (torch.ones(1, 2, 2), torch.ones(1, 3))
    assert bank.correct(k, 0.5, (True, False))[0].equal(k[0])
    bank.update((torch.full((2, 2, 2), 2.0), torch.zeros(2, 3)))
    bank.update((torch.full((1, 2, 2), 4.0), torch.zeros(1, 3)))
    assert torch.allclose(bank.avg[0], torch.full((2, 2), 3.0))   # eta 0.5, bias-corrected
    c = bank.correct(k, 0.5, (True, False))
    assert torch.allclose(c[0], torch.full((1, 2, 2), -0.5)) and c[1].equal(k[1])


def test_memory_bank():
    m = TemplateMemory(slots=2, tau=0.01, usage_decay=0.99)
    assert m.read(torch.ones(1, 2, 2)) is None
    a, b = torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)
    a[0, 0, 0], b[0, 1, 1] = 1, 1
    m.write(a, [torch.full((1, 3), 1.0)])
    m.write(b, [torch.full((1, 3), 5.0)])
    out = m.read(a)                              # most similar to slot 0
    assert torch.allclose(out[0], torch.full((1, 3), 1.0), atol=1e-3)
    m.write(b, [torch.full((1, 3), 9.0)])        # replaces the least used slot (1)
    assert len(m) == 2 and m.kernels[0][0][0, 0] == 1.0 and m.kernels[1][0][0, 0] == 9.0


def test_dasiamrpn_switches_and_longterm():
    on = build_tracker("dasiamrpn", overrides=RANDOM + ["longterm.low=1.1"])    # every frame "fails"
    img = frames(1)[0]
    on.init(img, np.array([40, 50, 26, 30.]))
    box0 = on._state.center.copy()
    sizes = []
    for _ in range(4):
        on.update(img)
        sizes.append(on._state.inst)
    assert on._state.lost and np.allclose(on._state.center, box0)         # box kept while lost
    assert sizes[0] == 255 + 64 and sizes[1] == 255 + 128 and sizes == sorted(sizes)
    assert max(sizes) <= 831
    off = build_tracker("dasiamrpn", overrides=RANDOM + ["distractor.enabled=false", "longterm.enabled=false",
                                                         "memory.enabled=false"])
    plain = build_tracker("siamrpn", overrides=RANDOM)
    fr = frames(5)
    off.init(fr[0], np.array([40, 50, 26, 30.]))
    plain.init(fr[0], np.array([40, 50, 26, 30.]))
    for f in fr[1:]:
        assert np.allclose(off.update(f)[0], plain.update(f)[0], atol=1e-6)


def test_distractor_set_weights_and_capacity():
    d = DistractorSet(eta=0.5, capacity=3)
    assert len(d) == 0
    d.update(torch.zeros(2, 4))                  # first frame counts in full: 2 distractors, 0.5 each
    d.update(torch.ones(1, 4))                   # old x 0.5 -> 0.25 each, new eta / 1 = 0.5
    assert np.allclose(d.weights, [0.25, 0.25, 0.5])
    assert np.allclose(d.normalized(), [0.25, 0.25, 0.5])
    d.update(torch.full((2, 4), 2.0))            # 0.125, 0.125, 0.25, 0.25, 0.25 -> keep the 3 heaviest
    assert len(d) == 3 and np.allclose(d.weights, [0.25, 0.25, 0.25])
    assert d.kernels[:, 0].tolist() == [1.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        DistractorSet(0.1, 0)


@pytest.mark.parametrize("head", ["depthwise", "upchannel"])
def test_rpn_classify_is_the_cls_half_of_correlate(head):
    from sot.heads.rpn import build_rpn_head

    torch.manual_seed(0)
    rpn = build_rpn_head(head, 16, 8, 5).eval()
    rpn.exact = True                              # as in the trackers: batch-size independent
    with torch.no_grad():
        k = rpn.template(torch.randn(2, 16, 6, 6))
        f = rpn.search(torch.randn(2, 16, 22, 22))
        cls, _ = rpn.correlate(k, f)
        assert torch.allclose(rpn.classify(k[0], f[0]), cls)
        assert torch.allclose(rpn.classify(k[0][1:], f[0][1:]), cls[1:], atol=1e-6)


def _search_feats(t, img):
    """The tracker's search-branch features of its (single) target in ``img``."""
    from sot.parts.crop import crop_many, exemplar_size

    st = t._state
    s_x = exemplar_size(*st.size, t.config.context) * st.inst / t.config.exemplar_size
    buf = t.buffers.crops(1, st.inst)
    crop_many(img, st.center[None], np.array([s_x]), st.inst, st.avg[None], buf)
    with torch.no_grad():
        return t.net.rpn.search(t.net.backbone(t.buffers.tensor(buf)))


def test_dasiamrpn_score_form_of_eq2():
    """Score mode picks argmax of sigmoid(f(z, p) - alpha_hat * sum_j w_j f(d_j, p)), f = fg log-odds."""
    t = build_tracker("dasiamrpn", overrides=RANDOM + ["distractor.mode=score", "distractor.alpha_hat=0.7",
                                                       "longterm.enabled=false", "memory.enabled=false"])
    fr = frames(3)
    t.init(fr[0], np.array([40, 50, 26, 30.]))
    st = t._state
    dset = st.extra["distractor_set"]
    assert "distractors" not in st.extra
    _, dk = t.template(fr[0], np.array([[120.0, 40.0], [30.0, 120.0]]), np.array([[26.0, 30], [20, 20]]), st.avg)
    dset.update(dk[0][:1])
    dset.update(dk[0][1:])                      # weights 1 * 0.9, 0.1
    feats = _search_feats(t, fr[1])
    with torch.no_grad():
        def logodds(kernel):
            cls = t.net.rpn.correlate((kernel, st.kernels[1]), feats)[0].reshape(2, -1).double()
            return (cls[1] - cls[0]).numpy()

        f = logodds(st.kernels[0])
        want = 1 / (1 + np.exp(-(f - 0.7 * (0.9 * logodds(dk[0][:1]) + 0.1 * logodds(dk[0][1:])))))
    score = (1 / (1 + np.exp(-f)))[None]
    with torch.no_grad():
        cls = t.net.rpn.correlate(st.kernels, feats)[0].reshape(1, 2, -1)
    got = t._rescore([st], feats, cls, score)
    assert np.allclose(got[0], want, atol=1e-5)
    assert not np.allclose(got[0], score[0], atol=1e-3)
    # alpha_hat = 0: the same boxes as plain SiamRPN on the same weights
    t0 = build_tracker("dasiamrpn", overrides=RANDOM + ["distractor.mode=score", "distractor.alpha_hat=0.0",
                                                        "distractor.threshold=0.0", "longterm.enabled=false",
                                                        "memory.enabled=false"])
    plain = build_tracker("siamrpn", overrides=RANDOM)
    t0.init(fr[0], np.array([40, 50, 26, 30.]))
    plain.init(fr[0], np.array([40, 50, 26, 30.]))
    for f in fr[1:]:
        assert np.allclose(t0.update(f)[0], plain.update(f)[0], atol=1e-6)
    assert len(t0._state.extra["distractor_set"]) > 0


def test_dasiamrpn_score_form_equals_kernel_form_on_the_upchannel_head():
    """UP-channel correlation is linear in the kernel: K(z) - a * D on the kernels gives the same
    log-odds as f(z) - a * mean f(d) on the scores (same distractors, same weights)."""
    up = RANDOM + ["head=upchannel", "feature_out=16", "longterm.enabled=false", "memory.enabled=false",
                   "distractor.alpha_hat=0.6", "distractor.eta=0.3"]
    ker = build_tracker("dasiamrpn", overrides=up + ["distractor.mode=kernel"])
    sco = ker.spawn()
    sco.config = dataclasses.replace(
        ker.config, distractor=dataclasses.replace(ker.config.distractor, mode="score"))
    fr = frames(2)
    box = np.array([40, 50, 26, 30.])
    ker.init(fr[0], box)
    sco.init(fr[0], box)
    _, dk = ker.template(fr[0], np.array([[120.0, 40.0], [30.0, 120.0], [150.0, 120.0]]),
                         np.array([[26.0, 30], [20, 20], [30, 30]]), ker._state.avg)
    ker._state.extra["distractors"].update([k[:2] for k in dk])
    ker._state.extra["distractors"].update([k[2:] for k in dk])
    sco._state.extra["distractor_set"].update(dk[0][:2])
    sco._state.extra["distractor_set"].update(dk[0][2:])
    feats = _search_feats(ker, fr[1])
    with torch.no_grad():
        cls = ker.net.rpn.correlate(ker.frame_kernels([ker._state], None), feats)[0].reshape(2, -1).double()
        want = torch.sigmoid(cls[1] - cls[0]).numpy()
    with torch.no_grad():
        cls0 = sco.net.rpn.correlate(sco._state.kernels, feats)[0].reshape(1, 2, -1)
    got = sco._rescore([sco._state], feats, cls0, np.zeros((1, len(want))))[0]
    assert np.allclose(got, want, atol=1e-5)


def test_dasiamrpn_bad_distractor_mode():
    from bench.core.errors import BenchError

    with pytest.raises(BenchError, match="distractor mode"):
        build_tracker("dasiamrpn", overrides=RANDOM + ["distractor.mode=scores"])
