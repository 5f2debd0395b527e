"""Rasterised VOT region overlap (bench.core.regions) in both reference conventions.

The vectorised scan converter is checked against
* the documented examples of ../shared/reference/vot-reference.md,
* hand-counted pixel cases,
* literal per-pixel re-implementations of vot-toolkit 0.9.0 ``vot/region/raster.py`` and
  of the VOT region C library used by pysot (``region.c::compute_polygon_overlap``,
  non-legacy rasterisation), written below as plain loops over rows,
on random rectangles, rotated boxes, concave polygons, degenerate shapes and codes.
"""
import math

import numpy as np
import pytest

from bench.core.regions import Regions, as_regions, gt_extent_size, overlap


# ----------------------------------------------------------------------------------
# documented examples and hand counts
# ----------------------------------------------------------------------------------

def test_documented_examples():
    box = [[10, 10, 20, 20]]
    poly = [[10, 10, 30, 10, 30, 30, 10, 30]]
    # vot-toolkit: the box covers 20 x 20 pixels, the polygon 10..30 inclusive 21 x 21
    assert overlap(box, poly, (100, 100), "vot-toolkit")[0] == pytest.approx(400 / 441, abs=1e-12)
    # pysot: the box becomes the polygon 10..30 as well
    assert overlap(box, poly, (100, 100), "pysot")[0] == 1.0
    a, b = [[10, 10, 4, 4]], [[11, 11, 4, 4]]
    assert overlap(a, b, (100, 100), "vot-toolkit")[0] == pytest.approx(9 / 23, abs=1e-12)  # 0.391
    assert overlap(a, b, (100, 100), "pysot")[0] == pytest.approx(16 / 34, abs=1e-7)       # 0.471


def test_bounds_clip_the_raster():
    # box 90..109 x 0..9 against box 95..104: image width 100 keeps columns 90..99 / 95..99
    a, b = [[90, 0, 20, 10]], [[95, 0, 10, 10]]
    assert overlap(a, b, (100, 50), "vot-toolkit")[0] == pytest.approx(50 / 100)
    assert overlap(a, b, None, "vot-toolkit")[0] == pytest.approx(100 / 200)
    # pysot, bounds (W, H) keep columns 0..W inclusive: 90..100 (11) vs 95..100 (6), rows 0..10
    assert overlap(a, b, (100, 50), "pysot")[0] == pytest.approx(6 / 11, abs=1e-7)
    # the EAO code passes (W - 1, H - 1): columns 90..99 vs 95..99
    assert overlap(a, b, (99, 49), "pysot")[0] == pytest.approx(5 / 10, abs=1e-7)


def test_special_codes_and_empty_regions():
    gt = [[0, 0, 10, 10]] * 3
    pred = [[1.0], [2.0], [0.0]]
    assert np.all(np.isnan(overlap(pred, gt, (50, 50), "pysot")))
    assert np.all(overlap(pred, gt, (50, 50), "vot-toolkit") == 0.0)
    # vot-toolkit: two empty regions overlap 1 "by definition"
    assert overlap([[1.0]], [[2.0]], (50, 50), "vot-toolkit")[0] == 1.0
    # a region entirely outside the image: 0 in both
    assert overlap([[200, 200, 10, 10]], [[0, 0, 10, 10]], (50, 50), "vot-toolkit")[0] == 0.0
    assert overlap([[200, 200, 10, 10]], [[0, 0, 10, 10]], (50, 50), "pysot")[0] == 0.0


def test_rounding_conventions():
    # vot-toolkit rounds x, y, w, h separately, half to even: 10.5 -> 10, 4.5 -> 4 -> pixels 10..13
    a = [[10.5, 0, 4.5, 1]]
    b = [[10, 0, 4, 1]]
    assert overlap(a, b, None, "vot-toolkit")[0] == 1.0
    # pysot rounds the polygon vertices half away from zero after flooring the bounds
    # (10.5 -> 11, 15.0 -> 15): columns 11..15 vs 10..14 -> 4 / 6
    assert overlap(a, b, None, "pysot")[0] == pytest.approx(4 / 6, abs=1e-7)


def test_as_regions_and_extent():
    r = as_regions([[1.0], [1, 2, 3, 4], [0, 0, 4, 0, 4, 3, 0, 3], [np.nan, 1, 2, 3]])
    assert r.sizes.tolist() == [1, 4, 8, 1]
    assert r.codes().tolist() == [1, -1, -1, 0]  # a NaN region reads as code 0
    np.testing.assert_allclose(r.bounding_boxes()[2], [0, 0, 4, 3])
    assert r.extent() == (4.0, 6.0)
    assert gt_extent_size([[0.5, 0.5, 10.2, 3.0]]) == (11, 4)
    with pytest.raises(ValueError):
        as_regions([[1, 2, 3]])
    assert len(Regions.concat([r, r[1:3]])) == 6


# ----------------------------------------------------------------------------------
# literal re-implementations (per-pixel loops) of the two references
# ----------------------------------------------------------------------------------

def _vot_poly_mask(pts, bnd):
    left, top, right, bottom = bnd
    width, height = right - left + 1, bottom - top + 1
    mask = np.zeros((height, width), np.uint8)
    poly = [(x - left, y - top) for x, y in pts]
    count = len(poly)
    for py in range(height):
        nodes = []
        j = count - 1
        for i in range(count):
            yi, yj = poly[i][1], poly[j][1]
            if ((yi <= py < yj) or (yj <= py < yi) or (yi < py <= yj) or (yj < py <= yi)
                    or (yi == yj == py)):
                r, k = yj - yi, poly[j][0] - poly[i][0]
                nodes.append(int(poly[i][0] + (py - yi) / r * k) if r != 0 else int(poly[i][0]))
            j = i
        nodes.sort()
        i = 0
        while i < len(nodes) - 1:
            if nodes[i] >= width:
                break
            if nodes[i] == nodes[i + 1] and i < len(nodes) - 2:
                i += 1
                continue
            if nodes[i + 1] >= 0:
                a, b = max(nodes[i], 0), min(nodes[i + 1], width - 1)
                mask[py, a:b + 1] = 1
            i += 2
    return mask


def _vot_reference(r1, r2, bounds):
    def meta(r):
        v = np.round(np.asarray(r, np.float32)).astype(float)
        if len(r) == 1:
            return "empty", v, (0, 0, 0, 0)
        if len(r) == 4:
            x, y, w, h = v
            return "rect", v, (int(x), int(y), int(x + w - 1), int(y + h - 1))
        pts = v.reshape(-1, 2)
        return "poly", pts, (int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()), int(pts[:, 1].max()))

    (t1, d1, b1), (t2, d2, b2) = meta(r1), meta(r2)
    u = (min(b1[0], b2[0]), min(b1[1], b2[1]), max(b1[2], b2[2]), max(b1[3], b2[3]))
    if u[0] >= u[2] or u[1] >= u[3]:
        return 1.0
    rb = u if bounds is None else (max(0, u[0]), max(0, u[1]), min(bounds[0] - 1, u[2]), min(bounds[1] - 1, u[3]))
    if rb[0] >= rb[2] or rb[1] >= rb[3]:
        return 0.0

    def raster(t, d):
        shape = (rb[3] - rb[1] + 1, rb[2] - rb[0] + 1)
        if t == "empty":
            return np.zeros(shape, np.uint8)
        if t == "rect":
            x, y, w, h = d
            m = np.zeros(shape, np.uint8)
            if x > rb[2] or x + w - 1 < rb[0] or y > rb[3] or y + h - 1 < rb[1]:
                return m
            m[int(max(0, y - rb[1])):int(min(rb[3], y + h - 1 - rb[1])) + 1,
              int(max(0, x - rb[0])):int(min(rb[2], x + w - 1 - rb[0])) + 1] = 1
            return m
        return _vot_poly_mask(d, rb)

    m1, m2 = raster(t1, d1), raster(t2, d2)
    union = np.count_nonzero(m1 | m2)
    return np.count_nonzero(m1 & m2) / union if union else 0.0


def _pysot_poly_mask(xs, ys, width, height):
    xs = [float(np.float32(math.copysign(math.floor(abs(v) + 0.5), v))) for v in xs]
    ys = [float(np.float32(math.copysign(math.floor(abs(v) + 0.5), v))) for v in ys]
    mask = np.zeros((height, width), np.uint8)
    n = len(xs)
    for py in range(height):
        nodes = []
        j = n - 1
        for i in range(n):
            yi, yj = int(ys[i]), int(ys[j])
            if (yi <= py < yj) or (yj <= py < yi) or (yi < py <= yj) or (yj < py <= yi) or (yi == yj == py):
                r, k = ys[j] - ys[i], xs[j] - xs[i]
                if r != 0:
                    nodes.append(int(xs[i] + (py - ys[i]) / r * k))
            j = i
        nodes.sort()
        i = 0
        while i < len(nodes) - 1:
            if nodes[i] == nodes[i + 1]:
                i += 1
                continue
            if nodes[i] >= width:
                break
            if nodes[i + 1] >= 0:
                mask[py, max(nodes[i], 0):min(nodes[i + 1], width - 1) + 1] = 1
            i += 2
    return mask


def _pysot_reference(r1, r2, bounds):
    f32 = np.float32
    if len(r1) == 1 or len(r2) == 1:
        return float("nan")

    def poly(r):
        if len(r) == 4:
            r = [r[0], r[1], r[0] + r[2], r[1], r[0] + r[2], r[1] + r[3], r[0], r[1] + r[3]]
        return [f32(v) for v in r[0::2]], [f32(v) for v in r[1::2]]

    if bounds is None:
        lim = (-math.inf, math.inf, -math.inf, math.inf)
    else:
        lim = (0.0, float(f32(bounds[1])), 0.0, float(f32(bounds[0])))  # top, bottom, left, right

    def rb(xs, ys):
        top, bottom = max(math.floor(min(ys)), lim[0]), min(math.ceil(max(ys)), lim[1])
        left, right = max(math.floor(min(xs)), lim[2]), min(math.ceil(max(xs)), lim[3])
        return top, bottom, left, right

    (x1, y1), (x2, y2) = poly(r1), poly(r2)
    b1, b2 = rb(x1, y1), rb(x2, y2)
    x0, y0 = min(b1[2], b2[2]), min(b1[0], b2[0])
    width = int(max(b1[3], b2[3]) - x0) + 1
    height = int(max(b1[1], b2[1]) - y0) + 1
    a1 = (b1[3] - b1[2]) * (b1[1] - b1[0])
    a2 = (b2[3] - b2[2]) * (b2[1] - b2[0])
    with np.errstate(all="ignore"):
        tiny = (np.float64(a1) / a2 < 1e-10) or (np.float64(a2) / a1 < 1e-10)
    if tiny or width < 1 or height < 1:
        return 0.0
    inter = (min(b1[3], b2[3]) - max(b1[2], b2[2])) * (min(b1[1], b2[1]) - max(b1[0], b2[0]))
    if max(0.0, inter / (a1 + a2 - inter)) == 0:
        return 0.0
    m1 = _pysot_poly_mask([float(f32(v - f32(x0))) for v in x1], [float(f32(v - f32(y0))) for v in y1],
                          width, height)
    m2 = _pysot_poly_mask([float(f32(v - f32(x0))) for v in x2], [float(f32(v - f32(y0))) for v in y2],
                          width, height)
    i, u = np.count_nonzero(m1 & m2), np.count_nonzero(m1 | m2)
    return float(f32(i) / f32(u)) if u else float("nan")


def _random_regions(n, seed):
    rng = np.random.default_rng(seed)

    def one():
        t = rng.integers(0, 6)
        if t == 0:
            return [float(rng.integers(0, 3))]
        if t in (1, 2):
            v = np.concatenate([rng.uniform(-20, 90, 2), rng.uniform(-2, 40, 2)])
            return list(np.round(v * 2) / 2 if rng.random() < 0.3 else v)
        if t == 3:
            c, ang, wh = rng.uniform(-10, 80, 2), rng.uniform(0, np.pi), rng.uniform(0, 40, 2)
            rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
            corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * wh / 2
            return list((corners @ rot.T + c).ravel())
        if t == 4:
            p = rng.uniform(-10, 80, 2 * rng.integers(3, 7))
            return list(np.round(p) if rng.random() < 0.5 else p)
        x, y, w = rng.uniform(0, 70, 3)  # thin sliver
        return [x, y, x + w, y, x + w, y + rng.uniform(0, 3), x, y + rng.uniform(0, 3)]

    first, second = [], []
    for _ in range(n):
        a = one()
        if len(a) > 1 and rng.random() < 0.6:  # a nearby second region: partial overlaps
            b = list(np.asarray(a) + rng.normal(0, 3, len(a)))
            if rng.random() < 0.3:
                xs, ys = np.asarray(a[0::2]), np.asarray(a[1::2])
                b = [xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()] if len(a) > 4 else b
        else:
            b = one()
        first.append(a)
        second.append(b)
    return first, second


@pytest.mark.parametrize("bounds", [(80, 70), None])
def test_vot_toolkit_matches_reference_loops(bounds):
    r1, r2 = _random_regions(300, 1)
    ref = np.array([_vot_reference(a, b, bounds) for a, b in zip(r1, r2)])
    got = overlap(r1, r2, bounds, "vot-toolkit")
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert np.count_nonzero((ref > 0) & (ref < 1)) > 50  # the cases are not all trivial


@pytest.mark.parametrize("bounds", [(80, 70), (79, 69), None])
def test_pysot_matches_reference_loops(bounds):
    r1, r2 = _random_regions(300, 2)
    ref = np.array([_pysot_reference(a, b, bounds) for a, b in zip(r1, r2)])
    got = overlap(r1, r2, bounds, "pysot")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=0, atol=1e-12)
    assert np.count_nonzero((ref > 0) & (ref < 1)) > 50


def test_per_frame_bounds_and_chunking(monkeypatch):
    import bench.core.regions as R

    r1, r2 = _random_regions(200, 3)
    bounds = np.array([[80, 70], [60, 50]] * 100)
    full = overlap(r1, r2, bounds, "vot-toolkit")
    monkeypatch.setattr(R, "_ROW_CHUNK", 64)  # force many small batches
    np.testing.assert_array_equal(overlap(r1, r2, bounds, "vot-toolkit"), full)
    np.testing.assert_array_equal(overlap(r1, r2, bounds, "pysot"), R.overlap(r1, r2, bounds, "pysot"))
    one = [overlap([a], [b], tuple(bd), "vot-toolkit")[0] for a, b, bd in zip(r1[:20], r2[:20], bounds[:20])]
    np.testing.assert_allclose(full[:20], one)


def test_unknown_convention():
    with pytest.raises(ValueError, match="convention"):
        overlap([[0, 0, 1, 1]], [[0, 0, 1, 1]], None, "matlab")
