"""bench.core.boxes against the reference packages (got10k, TrackEval) and hand-worked cases."""
import numpy as np
import pytest

from bench.core import boxes as B


def _random_boxes(n, seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-20, 200, (n, 2))
    wh = rng.uniform(0, 80, (n, 2))
    wh[rng.random(n) < 0.05] = 0  # some empty boxes
    return np.concatenate([xy, wh], 1)


def test_iou_equals_got10k_rect_iou():
    from got10k.utils.metrics import rect_iou

    a, b = _random_boxes(2000, 0), _random_boxes(2000, 1)
    b[:1000] = a[:1000] + np.random.default_rng(2).normal(0, 5, (1000, 4))
    np.testing.assert_array_equal(B.iou(a, b), rect_iou(a.copy(), b.copy()))
    bound = (160, 120)
    np.testing.assert_array_equal(B.iou(a, b, bound=bound), rect_iou(a.copy(), b.copy(), bound=bound))


def test_iou_hand_cases_and_nan():
    # [0,0,10,10] vs [5,5,10,10]: intersection 25, union 175
    assert B.iou([[0, 0, 10, 10]], [[5, 5, 10, 10]])[0] == pytest.approx(25 / 175)
    assert B.iou([[0, 0, 10, 10]], [[20, 20, 5, 5]])[0] == 0.0
    assert np.isnan(B.iou([[np.nan, 0, 1, 1]], [[0, 0, 1, 1]])[0])
    with pytest.raises(ValueError):
        B.iou(np.zeros((2, 4)), np.zeros((3, 4)))


def test_iou_matrix_equals_trackeval():
    from trackeval.datasets._base_dataset import _BaseDataset

    a, b = _random_boxes(40, 3), _random_boxes(30, 4)
    np.testing.assert_allclose(B.iou_matrix(a, b), _BaseDataset._calculate_box_ious(a, b, box_format="xywh"),
                               rtol=0, atol=1e-15)
    assert B.iou_matrix(np.zeros((0, 4)), b).shape == (0, 30)


def test_centers_and_center_error_equal_got10k():
    from got10k.utils.metrics import center_error

    a, b = _random_boxes(500, 5), _random_boxes(500, 6)
    np.testing.assert_array_equal(B.center_error(a, b), center_error(a, b))
    np.testing.assert_allclose(B.otb_centers([[10, 20, 5, 7]]), [[12.0, 23.0]])  # x + (w-1)/2


def test_normalized_center_error_variants():
    pred, gt = np.array([[12.0, 10, 4, 4]]), np.array([[10.0, 10, 4, 2]])
    # centres (13.5, 11.5) and (11.5, 10.5); both variants divide by (4, 2) here
    assert B.normalized_center_error(pred, gt, "pysot")[0] == pytest.approx(np.hypot(0.5, 0.5))
    assert B.normalized_center_error(pred, gt, "got10k")[0] == pytest.approx(np.hypot(0.5, 0.5))
    # a gt narrower than 1 px: pysot divides by 0.5, got10k by max(1, 0.5) = 1
    pred, gt = np.array([[12.0, 10, 4, 2]]), np.array([[10.0, 10, 0.5, 2]])
    # centres x: 13.5 and 10 + (0.5 - 1) / 2 = 9.75
    assert B.normalized_center_error(pred, gt, "pysot")[0] == pytest.approx(13.5 / 0.5 - 9.75 / 0.5)
    assert B.normalized_center_error(pred, gt, "got10k")[0] == pytest.approx(3.75)
    with pytest.raises(ValueError):
        B.normalized_center_error(pred, gt, "other")


def test_conversions_roundtrip_and_polygons():
    b = _random_boxes(50, 7)
    np.testing.assert_allclose(B.xyxy_to_xywh(B.xywh_to_xyxy(b)), b, atol=1e-12)
    np.testing.assert_allclose(B.cxcywh_to_xywh(B.xywh_to_cxcywh(b)), b, atol=1e-12)
    poly = B.xywh_to_poly([[1, 2, 3, 4]])
    np.testing.assert_allclose(poly, [[1, 2, 4, 2, 4, 6, 1, 6]])
    np.testing.assert_allclose(B.poly_to_xywh(poly), [[1, 2, 3, 4]])


def test_poly_to_init_xywh_is_pysot_get_axis_aligned_bbox():
    # axis-aligned square 10..30: A1 = A2 = 400, s = 1 -> w = h = 21, centre 20 -> x = 20 - 10 = 10
    np.testing.assert_allclose(B.poly_to_init_xywh([10, 10, 30, 10, 30, 30, 10, 30]), [10, 10, 21, 21])
    # a diamond with vertices at distance 10: side 10*sqrt(2) -> A1 = 200, bbox 20x20 -> s = sqrt(0.5)
    d = np.array([20, 10, 30, 20, 20, 30, 10, 20], float)
    w = np.sqrt(0.5) * 20 + 1
    np.testing.assert_allclose(B.poly_to_init_xywh(d), [20 - (w - 1) / 2, 20 - (w - 1) / 2, w, w])


def test_clip_and_valid_mask():
    c = B.clip_boxes([[-5, 10, 20, 200]], 100, 50)
    np.testing.assert_allclose(c, [[0, 10, 20, 40]])
    assert B.valid_mask([[0, 0, 1, 1], [0, 0, 0, 1], [np.nan, 0, 1, 1]]).tolist() == [True, False, False]
    with pytest.raises(ValueError):
        B.as_boxes(np.zeros((2, 3)))
