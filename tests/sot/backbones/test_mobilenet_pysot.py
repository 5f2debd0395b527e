"""pysot's MobileNetV2 layout (sot/backbones/mobilenet_pysot.py): channels, sizes and the ImageNet mapping."""
from __future__ import annotations

import pytest
import torch

from bench.core.errors import ConfigError
from sot.backbones.mobilenet import IMAGENET_MEAN, IMAGENET_STD
from sot.backbones.mobilenet_pysot import PysotMobileNetV2, torchvision_to_pysot


def test_pysot_channels_and_sizes_width_1_4():
    m = PysotMobileNetV2(width_mult=1.4, used_layers=[3, 5, 7]).eval()
    assert m.channels == [44, 22, 33, 44, 89, 134, 224, 448]      # int(c * 1.4), pysot's rounding
    assert m.out_channels == [44, 134, 448]                         # pysot AdjustAllLayer in_channels
    with torch.inference_mode():
        z = m(torch.zeros(1, 3, 127, 127))
        x = m(torch.zeros(1, 3, 255, 255))
    assert [t.shape[-1] for t in z] == [15, 15, 15] and [t.shape[-1] for t in x] == [31, 31, 31]
    assert m.layer6[0].conv[3].dilation == (2, 2) and m.layer6[1].conv[3].dilation == (4, 4)
    with pytest.raises(ConfigError):
        PysotMobileNetV2(used_layers=[8])


def _randomise(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if "running_var" in name else
                        torch.randn(t.shape, generator=g) * 0.2)
    return module


def test_imagenet_mapping_equals_torchvision_with_pysot_geometry():
    """torchvision's tensors in pysot's layout (identity expansion in layer1, normalisation folded into the
    stem) give exactly torchvision's network once pysot's paddings / strides / dilations are applied to it."""
    from torchvision.models import mobilenet_v2

    tv = _randomise(mobilenet_v2(weights=None).features).eval()
    trunk = PysotMobileNetV2(width_mult=1.0, used_layers=[3, 5, 7], pretrained="none").eval()
    trunk.load_state_dict(torchvision_to_pysot(tv, trunk), strict=True)
    # pysot geometry on the torchvision modules: padding 0 on stride-2 convs, stride 8 with dilations
    tv[0][0].padding = (0, 0)
    dil = {7: 1, 8: 2, 9: 2, 10: 2, 11: 2, 12: 2, 13: 2, 14: 2, 15: 4, 16: 4, 17: 4}
    for i in range(1, 18):
        dw = [c for c in tv[i].modules() if isinstance(c, torch.nn.Conv2d) and c.groups > 1][0]
        if i in (7, 14):
            dw.stride = (1, 1)
        d = dil.get(i, 1)
        dw.dilation = (d, d)
        dw.padding = (d, d) if d > 1 else ((0, 0) if dw.stride == (2, 2) else (1, 1))
    x = torch.rand(1, 3, 127, 127) * 255
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.inference_mode():
        got = trunk(x)
        h = (x / 255 - mean) / std
        want = []
        for i in range(18):
            h = tv[i](h)
            if i in (6, 13, 17):
                want.append(h)
    for g_, w_ in zip(got, want):
        torch.testing.assert_close(g_, w_, rtol=1e-4, atol=1e-3)
