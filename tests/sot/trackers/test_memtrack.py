"""MemTrack tracker: the three memory options run; 'none' equals SiamFC on the same weights."""
import numpy as np
import pytest
import torch

from bench.core.build import build_tracker
from bench.core.config import missing_sources, read_yaml
from bench.core.registry import configs_dir

from .test_siamese import frames

torch.set_num_threads(1)
RANDOM = ["default_weights=none", "width=0.125", "hidden=16"]


def test_config_sources():
    assert missing_sources(read_yaml(configs_dir() / "trackers" / "memtrack.yaml")["params"]) == []


@pytest.mark.parametrize("mode", ["learned", "fixed", "none"])
def test_modes_track(mode):
    t = build_tracker("memtrack", overrides=RANDOM + [f"memory={mode}"])
    fr = frames(4)
    t.init(fr[0], np.array([40, 50, 26, 30.]))
    for f in fr[1:]:
        box, s = t.update(f)
        assert np.isfinite(box).all() and np.isfinite(s)
    if mode == "learned":
        assert t._state.mem["usage"].shape == (1, 8) and float(t._state.mem["usage"][0, 1:].max()) > 0
    if mode == "none":
        assert torch.equal(t._state.kernel, t._state.t0)
