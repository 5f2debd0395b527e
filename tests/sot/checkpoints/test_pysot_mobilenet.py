"""pysot's SiamRPN++ MobileNetV2 checkpoint (siamrpn_mobilev2_l234_dwxcorr model.pth): exact key names and
shapes, strict loading, and the forward checked against an independent re-statement of pysot's model."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.core.errors import CheckpointError
from sot.checkpoints.detect import detect_format, load_siamese_net

# pysot mobile_v2.py: (t, c, n, s, d) of the stride-8 table, width 1.4, channels int(c * 1.4)
SETTING = [(1, 16, 1, 1, 1), (6, 24, 2, 2, 1), (6, 32, 3, 2, 1), (6, 64, 4, 1, 2), (6, 96, 3, 1, 2),
           (6, 160, 3, 1, 4), (6, 320, 1, 1, 4)]
W = 1.4


def _bn(sd, prefix, c, g):
    sd[prefix + ".weight"] = torch.rand(c, generator=g) + 0.5
    sd[prefix + ".bias"] = torch.randn(c, generator=g) * 0.1
    sd[prefix + ".running_mean"] = torch.randn(c, generator=g) * 0.1
    sd[prefix + ".running_var"] = torch.rand(c, generator=g) + 0.5
    sd[prefix + ".num_batches_tracked"] = torch.tensor(0)


def _conv(sd, key, shape, g):
    fan = int(np.prod(shape[1:]))
    sd[key] = torch.randn(*shape, generator=g) / fan ** 0.5


def pysot_state_dict(seed: int = 0):
    """A state dict with exactly the names and shapes pysot's ModelBuilder has for this config."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    inp = int(32 * W)
    _conv(sd, "backbone.layer0.0.weight", (inp, 3, 3, 3), g)
    _bn(sd, "backbone.layer0.1", inp, g)
    blocks = []   # (prefix, inp, hid, oup, stride, dilation)
    last_d = 1
    for idx, (t, c, n, s, d) in enumerate(SETTING, start=1):
        oup = int(c * W)
        for i in range(n):
            dd = (d if d == last_d else max(d // 2, 1)) if i == 0 else d
            st = s if i == 0 else 1
            pre = f"backbone.layer{idx}.{i}.conv"
            hid = inp * t
            _conv(sd, pre + ".0.weight", (hid, inp, 1, 1), g)
            _bn(sd, pre + ".1", hid, g)
            _conv(sd, pre + ".3.weight", (hid, 1, 3, 3), g)
            _bn(sd, pre + ".4", hid, g)
            _conv(sd, pre + ".6.weight", (oup, hid, 1, 1), g)
            _bn(sd, pre + ".7", oup, g)
            blocks.append((pre, inp, oup, st, dd, idx))
            inp = oup
        last_d = d
    for i, cin in zip((2, 3, 4), (44, 134, 448)):
        _conv(sd, f"neck.downsample{i}.downsample.0.weight", (256, cin, 1, 1), g)
        _bn(sd, f"neck.downsample{i}.downsample.1", 256, g)
        for br, out in (("cls", 10), ("loc", 20)):
            pre = f"rpn_head.rpn{i}.{br}"
            for part in ("conv_kernel", "conv_search"):
                _conv(sd, f"{pre}.{part}.0.weight", (256, 256, 3, 3), g)
                _bn(sd, f"{pre}.{part}.1", 256, g)
            _conv(sd, f"{pre}.head.0.weight", (256, 256, 1, 1), g)
            _bn(sd, f"{pre}.head.1", 256, g)
            _conv(sd, f"{pre}.head.3.weight", (out, 256, 1, 1), g)
            sd[f"{pre}.head.3.bias"] = torch.randn(out, generator=g) * 0.1
    return sd, blocks


def _bn_apply(x, sd, p):
    return F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"],
                        False, 0.0, 1e-5)


def reference_forward(sd, blocks, z_bgr, x_bgr):
    """pysot's forward, restated with functional ops from the state dict alone."""
    def trunk(x):
        x = F.relu6(_bn_apply(F.conv2d(x, sd["backbone.layer0.0.weight"], stride=2, padding=0), sd, "backbone.layer0.1"))
        outs = {}
        for pre, inp, oup, st, dd, layer in blocks:
            hid = sd[pre + ".0.weight"].shape[0]
            y = F.relu6(_bn_apply(F.conv2d(x, sd[pre + ".0.weight"]), sd, pre + ".1"))
            pad = dd if dd > 1 else 2 - st
            y = F.relu6(_bn_apply(F.conv2d(y, sd[pre + ".3.weight"], stride=st, padding=pad, dilation=dd, groups=hid),
                                  sd, pre + ".4"))
            y = _bn_apply(F.conv2d(y, sd[pre + ".6.weight"]), sd, pre + ".7")
            x = x + y if (st == 1 and inp == oup) else y
            outs[layer] = x
        return [outs[3], outs[5], outs[7]]

    def neck(fs):
        out = []
        for i, f in zip((2, 3, 4), fs):
            p = f"neck.downsample{i}.downsample"
            y = _bn_apply(F.conv2d(f, sd[p + ".0.weight"]), sd, p + ".1")
            if y.shape[3] < 20:
                lo = (y.shape[3] - 7) // 2
                y = y[:, :, lo:lo + 7, lo:lo + 7]
            out.append(y)
        return out

    def dwxcorr(p, k, s):
        k = F.relu(_bn_apply(F.conv2d(k, sd[p + ".conv_kernel.0.weight"]), sd, p + ".conv_kernel.1"))
        s = F.relu(_bn_apply(F.conv2d(s, sd[p + ".conv_search.0.weight"]), sd, p + ".conv_search.1"))
        c = k.shape[1]
        feat = torch.cat([F.conv2d(s[:, j:j + 1], k[:, j:j + 1]) for j in range(c)], dim=1)
        h = F.relu(_bn_apply(F.conv2d(feat, sd[p + ".head.0.weight"]), sd, p + ".head.1"))
        return F.conv2d(h, sd[p + ".head.3.weight"], sd[p + ".head.3.bias"])

    zf, xf = neck(trunk(z_bgr)), neck(trunk(x_bgr))
    cls = [dwxcorr(f"rpn_head.rpn{i}.cls", a, b) for i, a, b in zip((2, 3, 4), zf, xf)]
    loc = [dwxcorr(f"rpn_head.rpn{i}.loc", a, b) for i, a, b in zip((2, 3, 4), zf, xf)]
    return sum(cls) / 3, sum(loc) / 3


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    sd, blocks = pysot_state_dict()
    path = tmp_path_factory.mktemp("pysot") / "model.pth"
    # pysot training snapshot layout, DataParallel prefix
    torch.save({"epoch": 20, "state_dict": {"module." + k: v for k, v in sd.items()}}, path)
    return path, sd, blocks


def test_key_names_and_counts(checkpoint):
    _, sd, _ = checkpoint
    keys = [k for k in sd if not k.endswith("num_batches_tracked")]
    assert detect_format(sd) == "pysot-mobilenet"
    assert sum(k.startswith("backbone.") for k in keys) == 5 + 17 * 15   # stem (conv + BN) + 17 blocks x 15
    assert sum(k.startswith("neck.") for k in keys) == 3 * 5
    assert sum(k.startswith("rpn_head.") for k in keys) == 3 * 2 * 17
    assert sd["neck.downsample4.downsample.0.weight"].shape == (256, 448, 1, 1)
    assert sd["backbone.layer7.0.conv.6.weight"].shape == (448, 1344, 1, 1)


def test_strict_load_settings_and_forward_against_reference(checkpoint):
    path, sd, blocks = checkpoint
    net, loaded = load_siamese_net(path, {}, "siamrpn_mobilenet")
    assert loaded.format == "pysot-mobilenet" and loaded.input == "bgr"
    assert loaded.arch["width_mult"] == 1.4 and loaded.arch["used_layers"] == [3, 5, 7]
    assert loaded.arch["adjust_out"] == [256, 256, 256] and loaded.arch["weighted"] is False
    assert loaded.settings == {"lr": 0.5, "window_influence": 0.4, "penalty_k": 0.04, "instance_size": 255,
                               "adaptive": False}
    net.eval()
    g = torch.Generator().manual_seed(1)
    z_bgr = torch.rand(1, 3, 127, 127, generator=g) * 255
    x_bgr = torch.rand(1, 3, 255, 255, generator=g) * 255
    with torch.inference_mode():
        want_cls, want_loc = reference_forward(sd, blocks, z_bgr, x_bgr)
        cls, loc = net(z_bgr.flip(1), x_bgr.flip(1))    # the toolkit's network takes RGB
    assert cls.shape == (1, 10, 25, 25) and loc.shape == (1, 20, 25, 25)
    torch.testing.assert_close(cls, want_cls, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(loc, want_loc, rtol=1e-4, atol=1e-4)


def test_wrong_shape_and_extra_key_are_refused(checkpoint, tmp_path):
    _, sd, _ = checkpoint
    bad = dict(sd)
    bad["rpn_head.rpn2.cls.head.0.weight"] = torch.zeros(256, 255, 1, 1)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="rpn2.cls.head.0.weight"):
        load_siamese_net(tmp_path / "bad.pth", {}, "siamrpn_mobilenet")
    extra = dict(sd)
    extra["mask_head.x"] = torch.zeros(1)
    torch.save(extra, tmp_path / "extra.pth")
    with pytest.raises(CheckpointError, match="mask_head.x"):
        load_siamese_net(tmp_path / "extra.pth", {}, "siamrpn_mobilenet")


def test_tracker_uses_checkpoint_settings_and_tracks(checkpoint):
    from bench.core.build import build_tracker

    path, _, _ = checkpoint
    t = build_tracker("siamrpn-mobilenet", weights=str(path), overrides=["instance_size=271", "lr=0.1"])
    c = t.config
    assert (c.lr, c.window_influence, c.penalty_k, c.instance_size) == (0.5, 0.4, 0.04, 255)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (160, 200, 3), dtype=np.uint8)
    t.init(img, np.array([80.0, 60.0, 40.0, 30.0]))
    box, score = t.update(img)
    assert t.grid(25)[0].shape == (5 * 25 * 25, 4) and np.all(np.isfinite(box)) and 0.0 <= score <= 1.0
    # pysot's anchor grid: origin -(25 // 2) * 8 = -96 relative to the search-crop centre
    assert t.grid(25)[0][:, 0].min() == -96.0 and t.grid(25)[0][:, 0].max() == 96.0
