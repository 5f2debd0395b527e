"""CFNet trackers: configs, tracking on a toy sequence, template rolling average, batched == single."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.core.build import build_tracker
from bench.core.config import missing_sources, read_yaml
from bench.core.registry import configs_dir

from .test_siamese import frames

torch.set_num_threads(1)
NAMES = ["cfnet", "cfnet-conv1", "cfnet-conv5"]
RANDOM = ["default_weights=none", "width=0.125", "out_channels=8"]


@pytest.mark.parametrize("name", NAMES)
def test_config_sources(name):
    data = read_yaml(configs_dir() / "trackers" / f"{name}.yaml")
    assert missing_sources(data["params"]) == []


@pytest.mark.parametrize("name", ["cfnet-conv1", "cfnet-conv2", "cfnet-conv5"])
def test_tracks_and_updates_template(name):
    t = build_tracker(name, overrides=RANDOM)
    fr = frames(3)
    t.init(fr[0], np.array([40, 50, 26, 30.]))
    k0 = t._state.kernel.clone()
    assert k0.shape[-1] == {"cfnet-conv1": 30, "cfnet-conv2": 25, "cfnet-conv5": 17}[name]
    box, score = t.update(fr[1])
    assert box.shape == (4,) and np.isfinite(box).all() and np.isfinite(score)
    # rolling average: T1 = (1 - zLR) T0 + zLR T_new, so T1 - T0 is small but non-zero
    d = (t._state.kernel - k0).abs().max().item()
    assert 0 < d <= 2 * t.config.z_lr * (k0.abs().max().item() + t._state.kernel.abs().max().item()) + 1e-9


def test_no_update_with_zero_rate():
    t = build_tracker("cfnet", overrides=RANDOM + ["z_lr=0.0"])
    fr = frames(2)
    t.init(fr[0], np.array([40, 50, 26, 30.]))
    k0 = t._state.kernel.clone()
    t.update(fr[1])
    assert torch.equal(k0, t._state.kernel)


def test_batched_equals_single():
    fr = frames(4)
    boxes = np.array([[40, 50, 26, 30], [100, 20, 30, 24]], dtype=np.float64)
    base = build_tracker("cfnet", overrides=RANDOM)
    singles = []
    for b in boxes:
        t = base.spawn()
        t.init(fr[0], b)
        singles.append(np.stack([t.update(f)[0] for f in fr[1:]]))
    bt = base.batch()
    bt.add(fr[0], boxes)
    outs = [bt.update(f)[1] for f in fr[1:]]
    for i in range(2):
        assert np.allclose(np.stack([o[i] for o in outs]), singles[i], atol=1e-4)
