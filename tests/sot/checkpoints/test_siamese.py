"""Official Siamese checkpoints: exact key names and shapes (shared reference trackers.md 1.2,
2.3), strict loading, input conventions, per-checkpoint tracker settings. Every loaded
network is compared with an independent forward written here with plain torch ops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.core.build import build_tracker
from bench.core.errors import CheckpointError

G = torch.Generator().manual_seed(0)


def rnd(*shape, scale=0.05):
    return torch.randn(*shape, generator=G) * scale


def bn(prefix, c):
    return {f"{prefix}.weight": 1 + rnd(c, scale=0.1), f"{prefix}.bias": rnd(c, scale=0.1),
            f"{prefix}.running_mean": rnd(c, scale=0.1), f"{prefix}.running_var": 1 + rnd(c, scale=0.1).abs()}


# -- official state dicts --------------------------------------------------------------------


def siamfc_pytorch_state():
    s = {}
    spec = [(96, 3, 11), (256, 48, 5), (384, 256, 3), (384, 192, 3), (256, 192, 3)]
    for i, (co, ci, k) in enumerate(spec, 1):
        s[f"backbone.conv{i}.0.weight"] = rnd(co, ci, k, k, scale=1.0 / np.sqrt(ci * k * k))
        s[f"backbone.conv{i}.0.bias"] = rnd(co)
        if i < 5:
            s.update(bn(f"backbone.conv{i}.1", co))
            s[f"backbone.conv{i}.1.num_batches_tracked"] = torch.tensor(100)
    return s


def dasiamrpn_state(size=1, fo=256, a=5):
    c = [3] + [v * size for v in (96, 256, 384, 384, 256)]
    s = {}
    for j, (ci, k) in enumerate(zip((0, 4, 8, 11, 14), (11, 5, 3, 3, 3))):
        s[f"featureExtract.{ci}.weight"] = rnd(c[j + 1], c[j], k, k, scale=1.0 / np.sqrt(c[j] * k * k))
        s[f"featureExtract.{ci}.bias"] = rnd(c[j + 1])
        s.update(bn(f"featureExtract.{ci + 1}", c[j + 1]))
    fi = c[-1]
    for name, co in (("conv_r1", fo * 4 * a), ("conv_cls1", fo * 2 * a), ("conv_r2", fo), ("conv_cls2", fo)):
        s[f"{name}.weight"] = rnd(co, fi, 3, 3, scale=1.0 / np.sqrt(fi * 9))
        s[f"{name}.bias"] = rnd(co)
    s["regress_adjust.weight"] = rnd(4 * a, 4 * a, 1, 1, scale=0.2)
    s["regress_adjust.bias"] = rnd(4 * a)
    return s


def pysot_state(fo=256, a=5):
    s = {k.replace("featureExtract.", "backbone.features."): v for k, v in dasiamrpn_state(1, fo, a).items()
         if k.startswith("featureExtract.")}
    for br, out in (("cls", 2 * a), ("loc", 4 * a)):
        p = f"rpn_head.{br}"
        s[f"{p}.conv_kernel.0.weight"] = rnd(fo, 256, 3, 3, scale=1 / 48)
        s.update(bn(f"{p}.conv_kernel.1", fo))
        s[f"{p}.conv_search.0.weight"] = rnd(fo, 256, 3, 3, scale=1 / 48)
        s.update(bn(f"{p}.conv_search.1", fo))
        s[f"{p}.head.0.weight"] = rnd(fo, fo, 1, 1, scale=1 / 16)
        s.update(bn(f"{p}.head.1", fo))
        s[f"{p}.head.3.weight"] = rnd(out, fo, 1, 1, scale=1 / 16)
        s[f"{p}.head.3.bias"] = rnd(out)
    return s


# -- independent forwards (plain functional ops, official layer order) ------------------------


def f_bn(x, s, p, eps=1e-5):
    return F.batch_norm(x, s[f"{p}.running_mean"], s[f"{p}.running_var"], s[f"{p}.weight"], s[f"{p}.bias"],
                        False, 0.0, eps)


def ref_siamfc_backbone(s, x):
    for i, g in zip(range(1, 6), (1, 2, 1, 2, 2)):
        x = F.conv2d(x, s[f"backbone.conv{i}.0.weight"], s[f"backbone.conv{i}.0.bias"],
                     stride=2 if i == 1 else 1, groups=g)
        if i < 5:
            x = F.relu(f_bn(x, s, f"backbone.conv{i}.1", eps=1e-6))
        if i in (1, 2):
            x = F.max_pool2d(x, 3, 2)
    return x


def ref_rpn_backbone(s, x, prefix):
    for j, ci in enumerate((0, 4, 8, 11, 14)):
        x = F.conv2d(x, s[f"{prefix}{ci}.weight"], s[f"{prefix}{ci}.bias"], stride=2 if ci == 0 else 1)
        x = f_bn(x, s, f"{prefix}{ci + 1}")
        if ci in (0, 4):
            x = F.max_pool2d(x, 3, 2)
        if ci != 14:
            x = F.relu(x)
    return x


def ref_upchannel(s, zf, xf, a=5):
    fo = s["conv_r2.weight"].shape[0]
    r1 = F.conv2d(zf, s["conv_r1.weight"], s["conv_r1.bias"])
    c1 = F.conv2d(zf, s["conv_cls1.weight"], s["conv_cls1.bias"])
    k = r1.shape[-1]
    rk = r1.view(4 * a, fo, k, k)
    ck = c1.view(2 * a, fo, k, k)
    loc = F.conv2d(F.conv2d(xf, s["conv_r2.weight"], s["conv_r2.bias"]), rk)
    loc = F.conv2d(loc, s["regress_adjust.weight"], s["regress_adjust.bias"])
    cls = F.conv2d(F.conv2d(xf, s["conv_cls2.weight"], s["conv_cls2.bias"]), ck)
    return cls, loc


def ref_dw(s, p, zf, xf):
    k = F.relu(f_bn(F.conv2d(zf, s[f"{p}.conv_kernel.0.weight"]), s, f"{p}.conv_kernel.1"))
    x = F.relu(f_bn(F.conv2d(xf, s[f"{p}.conv_search.0.weight"]), s, f"{p}.conv_search.1"))
    c = x.shape[1]
    feat = F.conv2d(x.view(1, c, x.shape[2], x.shape[3]), k.view(c, 1, k.shape[2], k.shape[3]), groups=c)
    h = F.relu(f_bn(F.conv2d(feat, s[f"{p}.head.0.weight"]), s, f"{p}.head.1"))
    return F.conv2d(h, s[f"{p}.head.3.weight"], s[f"{p}.head.3.bias"])


def images(hz=127, hx=255):
    z = torch.rand(1, 3, hz, hz, generator=G) * 255
    x = torch.rand(1, 3, hx, hx, generator=G) * 255
    return z, x


def rel_err(a, b):
    return float((a - b).abs().max() / (b.abs().max() + 1e-12))


# -- tests -------------------------------------------------------------------------------------


def test_siamfc_pytorch_checkpoint(tmp_path):
    s = siamfc_pytorch_state()
    path = tmp_path / "siamfc_alexnet_e50.pth"
    torch.save(s, path)
    t = build_tracker("siamfc", weights=str(path))
    assert t.loaded.format == "siamfc-pytorch" and t.loaded.input == "rgb"
    z, x = images()
    with torch.inference_mode():
        ours = t.net.head(t.net.backbone(z), t.net.backbone(x))
    ref = 0.001 * F.conv2d(ref_siamfc_backbone(s, x), ref_siamfc_backbone(s, z))   # RGB in, RGB model
    assert ours.shape == (1, 1, 17, 17)
    assert rel_err(ours, ref) < 1e-4


@pytest.mark.parametrize("fname,variant,lr,wi,pk", [("SiamRPNVOT.model", "vot", 0.45, 0.44, 0.04),
                                                   ("SiamRPNOTB.model", "otb", 0.30, 0.40, 0.22)])
def test_dasiamrpn_checkpoints(tmp_path, fname, variant, lr, wi, pk):
    s = dasiamrpn_state(1)
    assert not any(k.endswith("num_batches_tracked") for k in s)      # PyTorch 0.3 files
    path = tmp_path / fname
    torch.save(s, path)
    t = build_tracker("siamrpn", weights=str(path))
    assert t.loaded.variant == f"dasiamrpn-{variant}" and t.loaded.input == "bgr"
    c = t.config
    assert (c.lr, c.window_influence, c.penalty_k, c.instance_size, c.adaptive) == (lr, wi, pk, 271, False)
    z, x = images(127, 271)
    with torch.inference_mode():
        cls, loc = t.net(z, x)                                     # our net takes RGB
        zb, xb = z.flip(1), x.flip(1)                              # the official net takes BGR
        rc, rl = ref_upchannel(s, ref_rpn_backbone(s, zb, "featureExtract."),
                               ref_rpn_backbone(s, xb, "featureExtract."))
    assert cls.shape == (1, 10, 19, 19) and loc.shape == (1, 20, 19, 19)
    assert rel_err(cls, rc) < 1e-4 and rel_err(loc, rl) < 1e-4


def test_dasiamrpn_big_checkpoint(tmp_path):
    s = dasiamrpn_state(2, 512)
    path = tmp_path / "SiamRPNBIG.model"
    torch.save(s, path)
    t = build_tracker("dasiamrpn", weights=str(path))
    c = t.config
    assert (c.lr, c.window_influence, c.penalty_k, c.instance_size, c.adaptive) == (0.295, 0.42, 0.055, 271, True)
    assert t.net.backbone.conv1.conv.weight.shape == (192, 3, 11, 11)
    z, x = images(127, 143)                                           # small search keeps the test fast
    with torch.inference_mode():
        cls, loc = t.net(z, x)
        rc, rl = ref_upchannel(s, ref_rpn_backbone(s, z.flip(1), "featureExtract."),
                               ref_rpn_backbone(s, x.flip(1), "featureExtract."))
    assert rel_err(cls, rc) < 1e-4 and rel_err(loc, rl) < 1e-4
    # adaptive search size: a small target (< 0.4% of the frame) uses 287
    img = np.zeros((480, 640, 3), np.uint8)
    st = t._start(img, np.array([[100, 100, 20, 20], [100, 100, 100, 100]], float))
    assert [x.inst for x in st] == [287, 271]


@pytest.mark.parametrize("wrap", ["raw", "state_dict_module"])
def test_pysot_checkpoint(tmp_path, wrap):
    s = pysot_state()
    obj = s if wrap == "raw" else {"epoch": 20, "state_dict": {"module." + k: v for k, v in s.items()}}
    path = tmp_path / "model.pth"
    torch.save(obj, path)
    t = build_tracker("siamrpn", weights=str(path))
    assert t.loaded.format == "pysot"
    assert (t.config.penalty_k, t.config.window_influence, t.config.lr, t.config.instance_size) == (0.16, 0.40, 0.30, 287)
    z, x = images(127, 287)
    with torch.inference_mode():
        cls, loc = t.net(z, x)
        zf = ref_rpn_backbone(s, z.flip(1), "backbone.features.")
        xf = ref_rpn_backbone(s, x.flip(1), "backbone.features.")
        rc, rl = ref_dw(s, "rpn_head.cls", zf, xf), ref_dw(s, "rpn_head.loc", zf, xf)
    assert cls.shape == (1, 10, 21, 21) and loc.shape == (1, 20, 21, 21)
    assert rel_err(cls, rc) < 1e-4 and rel_err(loc, rl) < 1e-4


def test_strict_errors(tmp_path):
    s = dasiamrpn_state(1)
    del s["conv_r1.bias"]
    p = tmp_path / "SiamRPNVOT.model"
    torch.save(s, p)
    with pytest.raises(CheckpointError, match="missing keys: rpn.conv_r1.bias"):
        build_tracker("siamrpn", weights=str(p))
    s = dasiamrpn_state(1)
    s["conv_r2.weight"] = s["conv_r2.weight"][:, :, :2]
    torch.save(s, p)
    with pytest.raises(CheckpointError, match="shape of rpn.conv_r2.weight"):
        build_tracker("siamrpn", weights=str(p))
    s = siamfc_pytorch_state()
    s["backbone.conv6.0.weight"] = torch.zeros(1)
    torch.save(s, p)
    with pytest.raises(CheckpointError, match="unexpected"):
        build_tracker("siamfc", weights=str(p))
    torch.save({"foo.weight": torch.zeros(2)}, p)
    with pytest.raises(CheckpointError, match="unknown weight format"):
        build_tracker("siamfc", weights=str(p))
    torch.save(siamfc_pytorch_state(), p)
    with pytest.raises(CheckpointError, match="cannot be used by a siamrpn tracker"):
        build_tracker("siamrpn", weights=str(p))
    p.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="weights_only=True"):
        build_tracker("siamfc", weights=str(p))
