"""FairMOT network and decoder: synthetic heatmap decoding, shapes, determinism with a seed."""
import numpy as np
import pytest
import torch

from mot.fairmot.model import FairMOTNet, decode

torch.set_num_threads(1)


def test_decode_synthetic_heatmap():
    h, w = 8, 10
    logit = torch.full((1, 1, h, w), -10.0)
    logit[0, 0, 2, 3] = 3.0          # peak 1 (x 3, y 2)
    logit[0, 0, 2, 4] = 1.0          # its neighbour: suppressed by the 3x3 max-pool NMS
    logit[0, 0, 6, 8] = 0.0          # peak 2, score 0.5
    out = {"hm": logit, "wh": torch.zeros(1, 2, h, w), "reg": torch.zeros(1, 2, h, w), "id": torch.zeros(1, 3, h, w)}
    out["wh"][0, :, 2, 3] = torch.tensor([2.0, 4.0])
    out["reg"][0, :, 2, 3] = torch.tensor([0.5, 0.25])
    out["id"][0, :, 2, 3] = torch.tensor([0.0, 3.0, 4.0])
    boxes, scores, emb = decode(out, conf_thresh=0.4)
    assert len(boxes) == 2
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(-3.0)), 0.5], rtol=1e-6)
    # centre (3.5, 2.25) cells, size 2 x 4 cells, stride 4 -> xywh (10, 1, 8, 16) px
    np.testing.assert_allclose(boxes[0], [10.0, 1.0, 8.0, 16.0], atol=1e-5)
    np.testing.assert_allclose(emb[0], [0.0, 0.6, 0.8], atol=1e-6)
    assert len(decode(out, conf_thresh=0.6)[0]) == 1


def test_forward_shapes_and_determinism():
    def run(seed):
        torch.manual_seed(seed)
        net = FairMOTNet(pretrained="none").eval()
        with torch.no_grad():
            return net(torch.ones(1, 3, 64, 96))
    a, b = run(0), run(0)
    assert a["hm"].shape == (1, 1, 16, 24) and a["id"].shape == (1, 128, 16, 24)
    assert a["wh"].shape == (1, 2, 16, 24) and a["reg"].shape == (1, 2, 16, 24)
    for k in a:
        assert torch.equal(a[k], b[k])
    assert not torch.equal(a["id"], run(1)["id"])
    assert torch.sigmoid(a["hm"]).mean().item() == pytest.approx(1 / (1 + np.exp(2.19)), abs=0.05)
