"""The shared backbone layer and the Siamese heads: sizes, layer order, grouped convs, FLOPs."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bench.core.errors import UnknownNameError
from sot.backbones import BACKBONES, build_backbone, register_backbone
from sot.backbones.alexnet import channels, conv_flops
from sot.heads.rpn import DepthwiseRPN, UpChannelRPN
from sot.heads.xcorr import SiamFCHead, xcorr, xcorr_depthwise


@pytest.mark.parametrize("name", ["alexnet_siamfc", "alexnet_rpn"])
@pytest.mark.parametrize("size,out", [(127, 6), (255, 22), (271, 24), (287, 26), (239, 20)])
def test_output_sizes(name, size, out):
    net = build_backbone(name, width=0.25).eval()
    with torch.inference_mode():
        y = net(torch.zeros(1, 3, size, size))
    assert y.shape == (1, 64, out, out)


def test_widths_and_groups():
    assert channels(1.0) == [96, 256, 384, 384, 256]
    assert channels(2.0) == [192, 512, 768, 768, 512]
    fc = build_backbone("alexnet_siamfc", width=1.0)
    assert fc.conv2.conv.groups == 2 and fc.conv4.conv.groups == 2 and fc.conv5.conv.groups == 2
    assert fc.conv2.conv.weight.shape == (256, 48, 5, 5)
    assert fc.conv1.bn.eps == 1e-6 and fc.conv1.bn.momentum == 0.05 and fc.conv5.bn is None
    rpn = build_backbone("alexnet_rpn", width=2.0)
    assert rpn.conv1.conv.weight.shape == (192, 3, 11, 11) and rpn.conv5.bn is not None
    with pytest.raises(UnknownNameError):
        build_backbone("resnet9000")


def test_backbone_registry_finds_names_from_sources_and_lists_them_when_unknown():
    """The registry reads the package sources for ``register_backbone("...")`` calls; every trunk
    (the VGG-M of MDNet / ADNet included) is built through it."""
    assert {"alexnet_siamfc", "alexnet_rpn", "vggm"} <= set(BACKBONES.names())
    assert BACKBONES.declared()["vggm"].module == "sot.backbones.vggm"
    with pytest.raises(UnknownNameError) as err:
        build_backbone("resnet9000")
    msg = str(err.value)
    assert "resnet9000" in msg and all(n in msg for n in ("alexnet_rpn", "alexnet_siamfc", "vggm"))
    vggm = build_backbone("vggm", width=0.25, lrn="pytorch", input_size=107, channels=(8, 16, 32))
    assert vggm.channels == (8, 16, 32)
    from sot.models.adnet import ADNetNet
    from sot.models.mdnet import MDNetNet

    assert type(MDNetNet(width=0.25, fc_dim=8).backbone) is type(vggm)
    assert type(ADNetNet(width=0.25, fc_dim=8).backbone) is type(vggm)


def test_register_backbone_adds_a_name():
    @register_backbone("test_identity_trunk")
    def _identity(**kw):
        return torch.nn.Identity()

    try:
        assert isinstance(build_backbone("test_identity_trunk"), torch.nn.Identity)
        assert "test_identity_trunk" in BACKBONES.names()
    finally:
        BACKBONES._entries.pop("test_identity_trunk", None)


def test_rpn_layer_order_pool_before_relu():
    """conv -> BN -> pool -> ReLU (DaSiamRPN featureExtract): check block 1 against F ops."""
    torch.manual_seed(0)
    net = build_backbone("alexnet_rpn", width=0.25).eval()
    with torch.no_grad():
        net.conv1.bn.bias.uniform_(-1, 1)
    x = torch.rand(1, 3, 63, 63) * 255
    b = net.conv1
    ref = F.relu(F.max_pool2d(F.batch_norm(b.conv(x), b.bn.running_mean, b.bn.running_var, b.bn.weight,
                                           b.bn.bias, False), 3, 2))
    with torch.inference_mode():
        assert torch.allclose(b(x), ref, atol=1e-5)


def test_xcorr_batched_equals_loop():
    torch.manual_seed(0)
    z = torch.randn(3, 8, 4, 4)
    x = torch.randn(6, 8, 10, 10)            # 2 search maps per template
    out = xcorr(z, x)
    for i in range(6):
        ref = F.conv2d(x[i:i + 1], z[i // 2:i // 2 + 1])
        assert torch.allclose(out[i:i + 1], ref, atol=1e-5)
    dw = xcorr_depthwise(z, x)
    ref = F.conv2d(x[1:2, 3:4], z[0:1, 3:4])
    assert dw.shape == (6, 8, 7, 7) and torch.allclose(dw[1, 3], ref[0, 0], atol=1e-5)
    assert torch.allclose(SiamFCHead(0.001)(z, x), 0.001 * out)


@pytest.mark.parametrize("head", [UpChannelRPN, DepthwiseRPN])
def test_rpn_heads_batched(head):
    torch.manual_seed(0)
    h = head(16, 8, 5).eval()
    zf, xf = torch.randn(2, 16, 6, 6), torch.randn(2, 16, 22, 22)
    with torch.inference_mode():
        cls, loc = h(zf, xf)
        c1, l1 = h(zf[1:], xf[1:])
    assert cls.shape == (2, 10, 17, 17) and loc.shape == (2, 20, 17, 17)
    assert torch.allclose(cls[1:], c1, atol=1e-5) and torch.allclose(loc[1:], l1, atol=1e-5)


def test_flop_count():
    net = build_backbone("alexnet_siamfc", width=1.0)
    fl = conv_flops(net, torch.zeros(3, 3, 255, 255))
    assert 15e9 < fl < 17e9            # SiamFC 3-scale search branch ~16 GFLOP (issue 3)
