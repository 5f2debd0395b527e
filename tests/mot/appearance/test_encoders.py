"""The appearance layer: registry, encoder contract, histogram compatibility, CNN encoder."""
import numpy as np
import pytest
import torch

from bench.core.errors import ConfigError
from mot.appearance import ENCODERS, AppearanceConfig, build_encoder, sample_embeddings

torch.set_num_threads(1)


def _image(seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)


BOXES = np.array([[10.0, 10.0, 30.0, 60.0], [80.0, 20.0, 40.0, 80.0], [0.0, 0.0, 20.0, 20.0]])


def test_registry_names():
    assert {"hsv-hist", "cnn"} <= set(ENCODERS.names())


def test_histogram_compat_alias_and_kind():
    from mot.reid import HistogramEncoder

    enc = build_encoder(AppearanceConfig(kind="hsv-hist"))
    assert isinstance(enc, HistogramEncoder)
    f = enc(_image(), BOXES)
    assert f.shape == (3, 288) and f.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-6)


def test_embed_xyxy_equals_xywh():
    enc = build_encoder(AppearanceConfig())
    xyxy = BOXES.copy()
    xyxy[:, 2:] += xyxy[:, :2]
    np.testing.assert_array_equal(enc.embed(_image(), xyxy, "xyxy"), enc.embed(_image(), BOXES))
    with pytest.raises(ConfigError):
        enc.embed(_image(), BOXES, "cxcywh")
    with pytest.raises(ConfigError):
        enc.embed(_image().astype(np.float32), BOXES)


def test_cnn_encoder_shapes_batches_and_determinism():
    cfg = AppearanceConfig(encoder="cnn", pretrained="none", cnn_size=64, batch=2)
    enc = build_encoder(cfg, seed=3)
    f = enc(_image(), BOXES)
    assert f.shape == (3, 96) and f.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
    # batching (2 + 1) gives the same rows as one crop at a time
    one = np.concatenate([enc(_image(), BOXES[i:i + 1]) for i in range(3)])
    np.testing.assert_allclose(f, one, atol=1e-5)
    assert enc(_image(), np.zeros((0, 4))).shape == (0, 96)
    assert isinstance(enc.trainable(), torch.nn.Module)


def test_cnn_head_weights_roundtrip(tmp_path):
    cfg = AppearanceConfig(encoder="cnn", pretrained="none", cnn_size=64, head_dim=16)
    enc = build_encoder(cfg, seed=1)
    with torch.no_grad():
        enc.net.head.weight.normal_()
    p = tmp_path / "app.pt"
    enc.save(p)
    enc2 = build_encoder(AppearanceConfig(encoder="cnn", pretrained="none", cnn_size=64, head_dim=16, weights=str(p)),
                         seed=2)
    assert enc2.dim == 16
    np.testing.assert_allclose(enc2(_image(), BOXES), enc(_image(), BOXES), atol=1e-5)


def test_sample_embeddings_reads_centre_cells():
    fmap = np.zeros((2, 4, 5), np.float32)
    fmap[0, 1, 2] = 3.0
    fmap[1, 3, 4] = -2.0
    # centre (10, 6) / stride 4 -> cell (x 2, y 1); centre far outside -> clipped to (4, 3)
    out = sample_embeddings(fmap, np.array([[8.0, 4.0, 4.0, 4.0], [100.0, 100.0, 2.0, 2.0]]), 4)
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.0, -1.0]])
