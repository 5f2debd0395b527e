"""Reciprocative regulariser against a hand computation; VITAL pieces; masks only in training."""
import numpy as np
import torch

from sot.models.mdnet import (MDNetNet, attention_maps, cost_sensitive_loss, hardest_masks, reciprocative_regulariser,
                              split_attention)

torch.set_num_threads(1)


def test_regulariser_by_hand():
    a_p = torch.tensor([[1.0, 3.0]])            # mean 2, std 1
    a_n = torch.tensor([[2.0, 2.0, 4.0, 4.0]])  # mean 3, std 1
    r1 = reciprocative_regulariser(a_p, a_n, torch.tensor([1]))
    r0 = reciprocative_regulariser(a_p, a_n, torch.tensor([0]))
    assert abs(r1.item() - (1 / 2 + 3 / 1)) < 1e-6
    assert abs(r0.item() - (2 / 1 + 1 / 3)) < 1e-6


def test_split_centre_cell():
    a = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(1, 2, 3, 3)
    p, n = split_attention(a)
    assert p.tolist() == [[4.0, 13.0]] and n.shape == (1, 16)


def test_attention_is_gradient_and_trainable():
    torch.manual_seed(0)
    net = MDNetNet(width=0.125, fc_dim=16, input_size=107)
    feats = torch.randn(4, net.backbone.out_dim)
    logits, a = attention_maps(net, feats)
    f = feats.clone().requires_grad_(True)
    g, = torch.autograd.grad(net.head(f)[:, 1].sum(), f)
    assert torch.allclose(a.flatten(1), g.abs(), atol=1e-6)
    p, n = split_attention(a)
    reciprocative_regulariser(p, n, torch.tensor([1, 1, 0, 0])).mean().backward()
    assert net.fc4.weight.grad is not None and float(net.fc4.weight.grad.abs().sum()) > 0


def test_cost_sensitive_and_masks():
    pos = torch.tensor([[0.0, 10.0]])
    neg = torch.tensor([[10.0, 0.0]])
    assert cost_sensitive_loss(pos, neg).item() < 1e-6            # confident and right -> ~0
    net = MDNetNet(width=0.125, fc_dim=16, input_size=107)
    m = hardest_masks(net, torch.randn(3, net.backbone.out_dim))
    assert m.shape[0] == 3 and np.allclose(m.flatten(1).sum(1).numpy(), m[0].numel() - 1)
