"""mot/losses.py against hand computations on tiny maps."""
import math

import numpy as np
import pytest
import torch

from mot.losses import (UncertaintyWeighting, batch_hard_triplet_loss, focal_loss, gaussian_radius,
                        id_classification_loss, pairwise_ranking_loss, positive_cells, reg_l1_loss)


def _map():
    e = torch.zeros(2, 5, 5)
    e[:, 1, 1] = torch.tensor([1.0, 0.0])   # anchor A (x 1, y 1)
    e[:, 1, 3] = torch.tensor([4.0, 0.0])   # anchor B (x 3, y 1)
    e[:, 3, 3] = torch.tensor([1.0, 2.0])   # anchor C (x 3, y 3)
    e[:, 1, 2] = torch.tensor([1.0, 1.0])   # A's positive (right)
    e[:, 2, 3] = torch.tensor([4.0, 0.5])   # B's positive (down)
    e[:, 3, 2] = torch.tensor([2.0, 2.0])   # C's positive (left)
    return e


def test_pairwise_euclidean_hardest_negative_half_radius_positive():
    centres = np.array([[1, 1], [3, 1], [3, 3]])
    radii = np.array([2.0, 2.0, 2.0])          # half radius = 1 cell
    dirs = np.array([3, 1, 2])                 # right, down, left
    # positives: |A-(1,1)|=1, |B-(4,.5)|=0.5, |C-(2,2)|=1; hardest negatives: A->C 2, B->A 3, C->A 2
    # margin 10: 8, 7, 8; mean over 6 pairs = 25.5 / 6
    loss = pairwise_ranking_loss(_map(), centres, radii, "euclidean", directions=dirs)
    assert loss.item() == pytest.approx(25.5 / 6, rel=1e-5)


def test_pairwise_cosine_margin_and_gradient():
    e = torch.zeros(2, 3, 4, requires_grad=False)
    e[:, 1, 0] = torch.tensor([1.0, 0.0])
    e[:, 1, 1] = torch.tensor([2.0, 0.0])       # positive of anchor 0 (right): cos dist 0
    e[:, 1, 3] = torch.tensor([1.0, 1.0])
    e[:, 1, 2] = torch.tensor([3.0, 3.0])       # positive of anchor 1 (left): cos dist 0
    e.requires_grad_(True)
    loss = pairwise_ranking_loss(e, np.array([[0, 1], [3, 1]]), np.array([1.0, 1.0]), "cosine",
                                 directions=np.array([3, 2]))
    neg = 0.5 - (1 - 1 / math.sqrt(2))        # margin 0.5 - cos distance 0.2929
    assert loss.item() == pytest.approx(2 * neg / 4, rel=1e-5)
    loss.backward()
    assert e.grad.abs().sum() > 0


def test_positive_cells_clip_and_single_anchor():
    p = positive_cells(np.array([[0, 0], [4, 4]]), np.array([4.0, 1.0]), (5, 5), np.array([0, 3]))
    np.testing.assert_array_equal(p, [[0, 0], [4, 4]])  # up from row 0 and right from the last column: clipped
    p = positive_cells(np.array([[2, 2]]), np.array([4.0]), (5, 5), np.array([1]))
    np.testing.assert_array_equal(p, [[2, 4]])          # half of radius 4 = 2 cells down
    one = pairwise_ranking_loss(_map(), np.array([[1, 1]]), np.array([2.0]), "euclidean", directions=np.array([3]))
    assert one.item() == pytest.approx(1.0)             # only the positive pair


def test_gaussian_radius_hand():
    # h = w = 10, overlap 0.7: r3 = (-28 + sqrt(784 + 336)) / 2 is the smallest
    assert gaussian_radius(10, 10) == pytest.approx((-28 + math.sqrt(1120)) / 2)


def test_batch_hard_triplet_hand():
    emb = torch.tensor([[0.0], [3.0], [4.0], [7.0]])
    labels = torch.tensor([0, 0, 1, 1])
    # anchors 1 and 2: farthest positive 3, closest negative 1 -> 0.3 + 3 - 1 = 2.3; anchors 0, 3: 0
    assert batch_hard_triplet_loss(emb, labels, 0.3).item() == pytest.approx(1.15)


def test_focal_l1_uncertainty_id():
    pred = torch.tensor([0.5, 0.5])
    gt = torch.tensor([1.0, 0.0])
    assert focal_loss(pred, gt).item() == pytest.approx(-2 * math.log(0.5) * 0.25, rel=1e-5)
    l1 = reg_l1_loss(torch.tensor([[1.0, 2.0], [5.0, 5.0]]), torch.tensor([[0.0, 0.0], [0.0, 0.0]]), torch.tensor([1, 0]))
    assert l1.item() == pytest.approx(3.0 / (2 + 1e-4))
    uw = UncertaintyWeighting()
    v = uw(torch.tensor(1.0), torch.tensor(1.0)).item()
    assert v == pytest.approx(0.5 * (math.exp(1.85) + math.exp(1.05) - 2.9), rel=1e-5)
    torch.manual_seed(0)
    clf = torch.nn.Linear(4, 3)
    loss = id_classification_loss(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1]), clf)
    assert loss.item() > 0 and math.isfinite(loss.item())
