"""ReMOTS short-term tracklets (Eq. 1-2), IoM fusion and the flow warp of boxes."""
import numpy as np
import pytest

from bench.core.boxes import iom_matrix
from mot.refine.flow import warp_boxes
from mot.refine.fusion import fuse_rows, iom_nms
from mot.refine.tracklets import link_frames, short_tracklets


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_link_requires_overlap_and_similarity():
    prev = np.array([[0, 0, 10, 10], [50, 0, 10, 10]], float)
    curr = np.array([[2, 0, 10, 10], [52, 0, 10, 10], [200, 0, 10, 10]], float)
    fp = _unit([[1, 0], [0, 1]])
    fc = _unit([[1, 0], [1, 0.2], [1, 0]])  # curr 1 looks like prev 0 but does not overlap it
    m = link_frames(prev, fp, curr, fc, theta_short=0.5)
    assert sorted(map(tuple, m.tolist())) == [(0, 0)]  # prev 1 vs curr 1: cosine 0.196 < 0.5 -> inf


def test_input_ids_forbid_links_across_tracks():
    prev = np.array([[0, 0, 10, 10]], float)
    curr = np.array([[1, 0, 10, 10]], float)
    f = _unit([[1, 0]])
    assert len(link_frames(prev, f, curr, f, 0.0, np.array([1]), np.array([2]))) == 0
    assert len(link_frames(prev, f, curr, f, 0.0, np.array([1]), np.array([1]))) == 1


def test_tracklets_break_at_gaps_and_appearance_changes():
    # one input track, frames 1-3 then 5-6 (gap), appearance flips at frame 6
    rows = np.array([[f, 7, 10 + f, 10, 20, 40] for f in (1, 2, 3, 5, 6)], float)
    feats = _unit([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1]])
    paper = short_tracklets(rows, feats, theta_short=0.5, bridge_input_gaps=False)
    assert paper.tolist() == [0, 0, 0, 1, 2]
    bridged = short_tracklets(rows, feats, theta_short=0.5, bridge_input_gaps=True)
    assert bridged.tolist() == [0, 0, 0, 0, 1]


def test_flow_warp_moves_boxes_by_their_mean_flow():
    flow = np.zeros((50, 80, 2), np.float32)
    flow[:, 40:, 0] = 4.0   # right half moves 4 px right
    flow[:, 40:, 1] = -2.0
    out = warp_boxes(np.array([[0, 0, 20, 20], [50, 10, 10, 10], [30, 0, 20, 10]], float), flow)
    assert out[0].tolist() == [0, 0, 20, 20]
    assert out[1].tolist() == [54, 8, 10, 10]
    assert out[2, 0] == pytest.approx(32.0) and out[2, 1] == pytest.approx(-1.0)  # half the box moves


def test_warp_lets_a_fast_box_link():
    prev = np.array([[0, 0, 10, 10]], float)
    curr = np.array([[30, 0, 10, 10]], float)
    f = _unit([[1, 0]])
    assert len(link_frames(prev, f, curr, f, 0.0)) == 0
    flow = np.zeros((20, 60, 2), np.float32)
    flow[..., 0] = 30
    assert len(link_frames(warp_boxes(prev, flow), f, curr, f, 0.0)) == 1


def test_iom_nms_drops_the_less_confident_contained_box():
    boxes = np.array([[0, 0, 100, 100], [10, 10, 30, 30], [200, 0, 10, 10]], float)
    # IoU of the small box with the big one is 0.09, IoM is 1
    assert iom_matrix(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(1.0)
    assert iom_nms(boxes, np.array([0.9, 0.8, 0.5]), 0.5).tolist() == [0, 2]
    assert iom_nms(boxes, np.array([0.7, 0.8, 0.5]), 0.5).tolist() == [1, 2]


def test_fuse_rows_per_frame():
    a = np.array([[1, 3, 0, 0, 10, 10, 0.9], [2, 3, 0, 0, 10, 10, 0.9]])
    b = np.array([[1, 5, 1, 1, 8, 8, 0.4], [1, 6, 50, 50, 8, 8, 0.4]])
    fused = fuse_rows([a, b], 0.5)
    assert fused[:, 0].tolist() == [1, 1, 2] and (fused[:, 1] == -1).all()
    assert fused[:, 6].tolist() == [0.9, 0.4, 0.9]
