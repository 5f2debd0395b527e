"""Official MDNet / ADNet checkpoint formats, built here with the official names and shapes, checked
against forward passes written independently in this file (MatConvNet layouts, explicit LRN formulas)."""
import pickle
import warnings

import numpy as np
import pytest
import scipy.io
import torch
import torch.nn.functional as F

from bench.core.errors import CheckpointError
from tests.sot.online_toy import one_torch_thread  # noqa: F401 (autouse fixture)
from sot.checkpoints.adnet import load_adnet
from sot.checkpoints.files import save_weights
from sot.checkpoints.mdnet import load_mdnet
from sot.models.adnet import ADNetNet
from sot.models.mdnet import MDNetNet

RNG = np.random.default_rng(0)


def rnd(*shape, scale=0.05):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def lrn_matconvnet(x: torch.Tensor) -> torch.Tensor:
    """VGG-M norm [5 2 1e-4 0.75]: x / (2 + 1e-4 * sum of 5 neighbour channels^2)^0.75."""
    c = x.shape[1]
    sq = x * x
    s = torch.zeros_like(x)
    for i in range(c):
        s[:, i] = sq[:, max(0, i - 2):i + 3].sum(1)
    return x / (2.0 + 1e-4 * s) ** 0.75


def lrn_pytorch2(x: torch.Tensor) -> torch.Tensor:
    """nn.LocalResponseNorm(2): window {c-1, c}, alpha/2, k=1."""
    sq = x * x
    prev = torch.cat([torch.zeros_like(sq[:, :1]), sq[:, :-1]], 1)
    return x / (1.0 + 1e-4 / 2 * (sq + prev)) ** 0.75


def trunk(x, w, lrn):
    """conv1-3 from PyTorch-layout weights ``w = [(W1, b1), (W2, b2), (W3, b3)]``."""
    x = F.max_pool2d(lrn(F.relu(F.conv2d(x, w[0][0], w[0][1], stride=2))), 3, 2)
    x = F.max_pool2d(lrn(F.relu(F.conv2d(x, w[1][0], w[1][1], stride=2))), 3, 2)
    return F.relu(F.conv2d(x, w[2][0], w[2][1]))


def images(n, size):
    g = torch.Generator().manual_seed(1)
    return (torch.rand(n, 3, size, size, generator=g) * 255 - 128)


def net_fc5(net, x):
    feats = net.backbone.features(x)
    return F.relu(net.fc5(F.relu(net.fc4(feats))))


# -- py-MDNet .pth ----------------------------------------------------------------------------
def pymdnet_state(c=(96, 256, 512), fc=512):
    return {
        "conv1.0.weight": torch.from_numpy(rnd(c[0], 3, 7, 7)), "conv1.0.bias": torch.from_numpy(rnd(c[0])),
        "conv2.0.weight": torch.from_numpy(rnd(c[1], c[0], 5, 5, scale=0.02)), "conv2.0.bias": torch.from_numpy(rnd(c[1])),
        "conv3.0.weight": torch.from_numpy(rnd(c[2], c[1], 3, 3, scale=0.02)), "conv3.0.bias": torch.from_numpy(rnd(c[2])),
        "fc4.0.weight": torch.from_numpy(rnd(fc, 9 * c[2], scale=0.01)), "fc4.0.bias": torch.from_numpy(rnd(fc)),
        "fc5.1.weight": torch.from_numpy(rnd(fc, fc, scale=0.05)), "fc5.1.bias": torch.from_numpy(rnd(fc)),
    }


def test_pymdnet_pth_official_shapes(tmp_path):
    sd = pymdnet_state()
    path = tmp_path / "mdnet_vot-otb.pth"
    torch.save({"shared_layers": sd}, path)
    net = load_mdnet(path)
    assert net.meta["format"] == "py-mdnet" and net.meta["lrn"] == "pytorch"
    assert net.backbone.channels == (96, 256, 512) and net.fc4.in_features == 4608
    x = images(2, 107)
    w = [(sd[f"conv{i}.0.weight"], sd[f"conv{i}.0.bias"]) for i in (1, 2, 3)]
    h = trunk(x, w, lrn_pytorch2).reshape(2, -1)  # x.view(N, -1): C, H, W order
    ref = F.relu(F.linear(F.relu(F.linear(h, sd["fc4.0.weight"], sd["fc4.0.bias"])), sd["fc5.1.weight"], sd["fc5.1.bias"]))
    out = net_fc5(net, x)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    # the LRN flavour matters: the MatConvNet one gives other numbers
    other = load_mdnet(path, lrn="matconvnet")
    assert not torch.allclose(net_fc5(other, x), ref, rtol=1e-3, atol=1e-3)


def test_pymdnet_module_prefix_and_branches_dropped(tmp_path):
    sd = pymdnet_state((24, 64, 128), 64)
    full = {f"module.{k}": v for k, v in sd.items()}
    full["module.branches.0.1.weight"] = torch.zeros(2, 64)
    path = tmp_path / "full.pth"
    torch.save(full, path)
    net = load_mdnet(path)
    torch.testing.assert_close(net.fc5.weight, sd["fc5.1.weight"])


def test_pymdnet_errors(tmp_path):
    sd = pymdnet_state((24, 64, 128), 64)
    bad = dict(sd)
    bad["fc6.weight"] = torch.zeros(2, 64)
    torch.save({"shared_layers": bad}, tmp_path / "a.pth")
    with pytest.raises(CheckpointError, match="unexpected keys"):
        load_mdnet(tmp_path / "a.pth")
    bad = dict(sd)
    bad["fc4.0.weight"] = torch.zeros(64, 100)
    torch.save({"shared_layers": bad}, tmp_path / "b.pth")
    with pytest.raises(CheckpointError, match="shape of fc4.weight"):
        load_mdnet(tmp_path / "b.pth")
    bad = dict(sd)
    del bad["conv2.0.bias"]
    torch.save({"shared_layers": bad}, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match="missing keys: backbone.conv2.bias"):
        load_mdnet(tmp_path / "c.pth")


class _Evil:
    def __reduce__(self):
        return (print, ("not allowed",))


def test_weights_only_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"shared_layers": _Evil()}, f)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_mdnet(path)
    with pytest.raises(CheckpointError):
        load_adnet(path)


# -- MDNet MatConvNet .mat --------------------------------------------------------------------
def mdnet_mat_layers(c, fc, style):
    def conv(name, w, b):
        if style == "weights":
            cell = np.empty((1, 2), dtype=object)
            cell[0, 0], cell[0, 1] = w, b
            return {"type": "conv", "name": name, "weights": cell, "stride": [1, 1], "pad": [0, 0, 0, 0]}
        return {"type": "conv", "name": name, "filters": w, "biases": b, "stride": [1, 1], "pad": [0, 0, 0, 0]}

    raw = {
        "conv1": (rnd(7, 7, 3, c[0]), rnd(1, c[0])), "conv2": (rnd(5, 5, c[0], c[1], scale=0.02), rnd(1, c[1])),
        "conv3": (rnd(3, 3, c[1], c[2], scale=0.02), rnd(1, c[2])),
        "fc4": (rnd(3, 3, c[2], fc, scale=0.01), rnd(1, fc)), "fc5": (rnd(1, 1, fc, fc, scale=0.05), rnd(1, fc)),
        "fc6": (rnd(1, 1, fc, 2), rnd(1, 2)),
    }
    norm = {"type": "lrn", "name": "norm", "param": np.array([5, 2, 1e-4, 0.75])}
    relu = {"type": "relu", "name": "relu"}
    pool = {"type": "pool", "name": "pool", "method": "max", "pool": [3, 3], "stride": [2, 2]}
    drop = {"type": "dropout", "name": "drop", "rate": 0.5}
    seq = [conv("conv1", *raw["conv1"]), relu, norm, pool, conv("conv2", *raw["conv2"]), relu, norm, pool,
           conv("conv3", *raw["conv3"]), relu, conv("fc4", *raw["fc4"]), relu, drop, conv("fc5", *raw["fc5"]),
           relu, drop, conv("fc6", *raw["fc6"])]
    cells = np.empty((1, len(seq)), dtype=object)
    for i, layer in enumerate(seq):
        cells[0, i] = layer
    return cells, raw


def mat_reference(raw, x):
    """Forward from MatConvNet arrays: filters H x W x Cin x Cout permuted here; fc4/fc5 as convolutions."""
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(3, 2, 0, 1)))  # noqa: E731
    b = lambda a: torch.from_numpy(a.reshape(-1))  # noqa: E731
    h = trunk(x, [(t(raw[f"conv{i}"][0]), b(raw[f"conv{i}"][1])) for i in (1, 2, 3)], lrn_matconvnet)
    h = F.relu(F.conv2d(h, t(raw["fc4"][0]), b(raw["fc4"][1])))  # 3x3 conv on the 3x3 map -> 1x1
    h = F.relu(F.conv2d(h, t(raw["fc5"][0]), b(raw["fc5"][1])))
    return h.reshape(len(x), -1)


@pytest.mark.parametrize("style,c,fc", [("weights", (96, 256, 512), 512), ("filters", (32, 64, 96), 128)])
def test_mdnet_matconvnet_mat(tmp_path, style, c, fc):
    cells, raw = mdnet_mat_layers(c, fc, style)
    path = tmp_path / "mdnet_vot-otb.mat"
    scipy.io.savemat(path, {"layers": cells})
    net = load_mdnet(path)
    assert net.meta["format"] == "matconvnet" and net.meta["lrn"] == "matconvnet"
    assert net.backbone.channels == c
    x = images(2, 107)
    ref = mat_reference(raw, x)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(net_fc5(net, x), ref, rtol=1e-4, atol=1e-4)


def test_mdnet_mat_as_net_struct_and_errors(tmp_path):
    cells, raw = mdnet_mat_layers((16, 32, 48), 32, "weights")
    scipy.io.savemat(tmp_path / "net.mat", {"net": {"layers": cells}})
    net = load_mdnet(tmp_path / "net.mat")
    torch.testing.assert_close(net_fc5(net, images(1, 107)), mat_reference(raw, images(1, 107)), rtol=1e-4, atol=1e-4)
    scipy.io.savemat(tmp_path / "other.mat", {"weights": np.zeros(3)})
    with pytest.raises(CheckpointError, match="no 'layers'"):
        load_mdnet(tmp_path / "other.mat")
    short = np.empty((1, 3), dtype=object)
    for i in range(3):
        short[0, i] = cells[0, i]
    scipy.io.savemat(tmp_path / "short.mat", {"layers": short})
    with pytest.raises(CheckpointError, match=">= 5 conv layers"):
        load_mdnet(tmp_path / "short.mat")


# -- ADNet MATLAB dump (HDF5 v7.3, axes reversed) ------------------------------------------------
def adnet_vars(c=(96, 256, 512), fc=512, hist=110, biases=False):
    v = {
        "conv1f": rnd(7, 7, 3, c[0]), "conv1b": rnd(1, c[0]),
        "conv2f": rnd(5, 5, c[0], c[1], scale=0.02), "conv2b": rnd(1, c[1]),
        "conv3f": rnd(3, 3, c[1], c[2], scale=0.02), "conv3b": rnd(1, c[2]),
        "fc4f": rnd(3, 3, c[2], fc, scale=0.01), "fc4b": rnd(1, fc),
        "fc5f": rnd(1, 1, fc, fc, scale=0.05), "fc5b": rnd(1, fc),
        "fc6_1f": rnd(1, 1, fc + hist, 11, scale=0.1), "fc6_2f": rnd(1, 1, fc + hist, 2, scale=0.1),
    }
    if biases:
        v["fc6_1b"], v["fc6_2b"] = rnd(1, 11), rnd(1, 2)
    return v


def write_v73(path, variables):
    """A MATLAB v7.3 file: HDF5 with a MATLAB userblock header; arrays stored column-major (axes reversed)."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        for k, a in variables.items():
            f.create_dataset(k, data=np.ascontiguousarray(a.T))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2018 HDF5 schema 1.00 ."
    with open(path, "r+b") as f:
        f.write(header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM")


def adnet_reference(v, x, hist):
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(3, 2, 0, 1)))  # noqa: E731
    b = lambda a: torch.from_numpy(a.reshape(-1))  # noqa: E731
    h = trunk(x, [(t(v[f"conv{i}f"]), b(v[f"conv{i}b"])) for i in (1, 2, 3)], lrn_matconvnet)
    h = F.relu(F.conv2d(h, t(v["fc4f"]), b(v["fc4b"])))
    h = F.relu(F.conv2d(h, t(v["fc5f"]), b(v["fc5b"])))  # x16
    h = torch.cat([h, hist[:, :, None, None]], 1)  # concat(x16, action_history): 622 channels
    b1 = b(v["fc6_1b"]) if "fc6_1b" in v else torch.full((11,), 0.01)
    b2 = b(v["fc6_2b"]) if "fc6_2b" in v else torch.zeros(2)
    return (F.conv2d(h, t(v["fc6_1f"]), b1).reshape(len(x), -1), F.conv2d(h, t(v["fc6_2f"]), b2).reshape(len(x), -1))


def test_adnet_v73_dump_official_shapes(tmp_path):
    v = adnet_vars()
    path = tmp_path / "net_rl_weights.mat"
    write_v73(path, v)
    with pytest.raises(NotImplementedError):  # really a v7.3 file: scipy refuses it
        scipy.io.loadmat(path)
    with pytest.warns(UserWarning, match="fc6_1b"):
        net = load_adnet(path)
    assert net.backbone.channels == (96, 256, 512) and net.fc6_ah.weight.shape == (11, 110)
    x = images(2, 112)
    hist = torch.zeros(2, 110)
    hist[0, [3, 11 + 8, 22 + 10]] = 1
    hist[1, [0, 11 + 5]] = 1
    ref_a, ref_c = adnet_reference(v, x, hist)
    feats = net.backbone.features(x)
    a, c = net.heads(net.fc5_features(feats), hist)
    assert ref_a.abs().max() > 0.05
    torch.testing.assert_close(a, ref_a, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(c, ref_c, rtol=1e-4, atol=1e-4)


def test_adnet_classic_mat_with_biases_and_sl_dump(tmp_path):
    v = adnet_vars((16, 32, 48), 32, biases=True)
    scipy.io.savemat(tmp_path / "w.mat", v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = load_adnet(tmp_path / "w.mat")
    x, hist = images(1, 112), torch.zeros(1, 110)
    hist[0, 7] = 1
    ref_a, ref_c = adnet_reference(v, x, hist)
    a, c = net.heads(net.fc5_features(net.backbone.features(x)), hist)
    torch.testing.assert_close(a, ref_a, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(c, ref_c, rtol=1e-4, atol=1e-4)
    sl = adnet_vars((16, 32, 48), 32, hist=0, biases=True)  # net_sl: heads without history inputs
    scipy.io.savemat(tmp_path / "sl.mat", sl)
    net = load_adnet(tmp_path / "sl.mat")
    assert torch.count_nonzero(net.fc6_ah.weight) == 0 and net.fc6.weight.shape == (11, 32)


@pytest.mark.filterwarnings("ignore:.*convert.m omits it")
def test_adnet_dump_errors(tmp_path):
    v = adnet_vars((16, 32, 48), 32)
    del v["conv3b"]
    write_v73(tmp_path / "a.mat", v)
    with pytest.raises(CheckpointError, match="missing variables conv3b"):
        load_adnet(tmp_path / "a.mat")
    v = adnet_vars((16, 32, 48), 32)
    v["conv2f"] = rnd(5, 5, 8, 32)  # Cin does not match conv1
    write_v73(tmp_path / "b.mat", v)
    with pytest.raises(CheckpointError, match="shape of backbone.conv2.weight"):
        load_adnet(tmp_path / "b.mat")
    v = adnet_vars((16, 32, 48), 32)
    v["extra"] = np.zeros((2, 2), np.float32)
    write_v73(tmp_path / "c.mat", v)
    with pytest.raises(CheckpointError, match="unexpected variables extra"):
        load_adnet(tmp_path / "c.mat")
    v = adnet_vars((16, 32, 48), 32)
    v["fc6_1f"] = rnd(1, 1, 32 + 110, 9)
    write_v73(tmp_path / "d.mat", v)
    with pytest.raises(CheckpointError, match="fc6_1f"):
        load_adnet(tmp_path / "d.mat")
    torch.save({"conv1f": torch.zeros(1)}, tmp_path / "e.pth")
    with pytest.raises(CheckpointError, match="not an ADNet weight file"):
        load_adnet(tmp_path / "e.pth")


# -- this toolkit's own format -------------------------------------------------------------------
def test_own_format_round_trip(tmp_path):
    net = MDNetNet(width=0.25, fc_dim=32)
    save_weights(tmp_path / "m.pth", net.shared_state(), net.meta)
    back = load_mdnet(tmp_path / "m.pth")
    assert back.meta["format"] == "bench" and back.backbone.channels == net.backbone.channels
    for k, val in net.shared_state().items():
        torch.testing.assert_close(back.state_dict()[k], val)
    ad = ADNetNet(width=0.25, fc_dim=32)
    with torch.no_grad():
        ad.fc6_ah.weight.normal_()
    save_weights(tmp_path / "a.pth", ad.state_dict(), ad.meta)
    back = load_adnet(tmp_path / "a.pth")
    for k, val in ad.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], val)


def test_subnormal_weights_are_flushed(tmp_path):
    net = MDNetNet(width=0.25, fc_dim=32)
    sd = net.shared_state()
    sd["fc4.weight"] = sd["fc4.weight"].clone()
    sd["fc4.weight"][0, :3] = torch.tensor([1e-40, -3e-42, 2e-38])  # two subnormals, one normal
    save_weights(tmp_path / "m.pth", sd, net.meta)
    back = load_mdnet(tmp_path / "m.pth")
    assert back.fc4.weight[0, :3].tolist() == [0.0, 0.0, pytest.approx(2e-38)]
    torch.testing.assert_close(back.fc4.weight[1:], sd["fc4.weight"][1:])
