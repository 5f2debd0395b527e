"""VOT regions and their rasterised overlap with image bounds.

A VOT *region* per frame is one of

* a special code (1 value): ``1`` initialisation, ``2`` failure, ``0`` unknown /
  skipped frame (VOT result files) -- not a region;
* a rectangle ``x, y, w, h`` (4 values);
* a polygon ``x1, y1, ..., xn, yn`` (2n values, n >= 3; VOT uses n = 4).

:class:`Regions` holds N such entries (NaN padded); :func:`overlap` computes the
per-frame overlap of two region lists inside the image, rasterised exactly as one of
the two reference implementations does:

``convention="vot-toolkit"`` (vot-toolkit 0.9.0, ``vot/region/raster.py``)
    Coordinates are stored as float32 and rounded half-to-even. A rectangle covers
    the pixels ``round(x) .. round(x) + round(w) - 1`` (``w x h`` pixels); a polygon
    is scan-converted from its rounded vertices with both end pixels of every span
    included. The raster window is the union of both regions' pixel bounds clipped to
    ``[0, W-1] x [0, H-1]``. If that union has no extent in x or y the overlap is 1
    (both empty "by definition"); if the clipped window is empty it is 0. A special
    code rasterises to nothing (bounds ``(0, 0, 0, 0)``).

``convention="pysot"`` (pysot ``toolkit/utils/region.pyx::vot_overlap`` and the
VOT region C library ``region.c::compute_polygon_overlap``)
    A rectangle becomes the polygon ``(x, y) .. (x + w, y + h)``, so it covers
    ``(w + 1) x (h + 1)`` pixels. Each polygon's float32 bounds are rounded outward
    (floor / ceil) and intersected with ``[0, W] x [0, H]`` (pysot's AR code passes
    ``(W, H)``, its EAO code ``(W - 1, H - 1)``: pass what you mean). Polygon vertices
    are shifted into the window and rounded half away from zero, then scan-converted.
    Shortcuts of the C code are kept: zero-area bounds, bounds whose overlap is 0 ->
    0. A special code gives NaN; an empty union gives NaN (0 / 0 in C).

Both scan converters are vectorised over all (frame, row) pairs; the cost grows with
the number of rows of the raster windows, not with their width. ~20k VOT frames
take about a second.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

INIT, FAILURE, UNKNOWN = 1, 2, 0
CONVENTIONS = ("vot-toolkit", "pysot")

_ROW_CHUNK = 1 << 19  # rows rasterised per batch (bounds memory to ~100 MB)


class Regions:
    """N VOT regions: ``values`` (N, D) float64 NaN-padded, ``sizes`` (N,) int.

    ``sizes[i]`` is 1 for a special code (its value in ``values[i, 0]``), 4 for a
    rectangle ``xywh`` and ``2n`` for an n-vertex polygon.
    """

    __slots__ = ("values", "sizes")

    def __init__(self, values: np.ndarray, sizes: np.ndarray):
        self.values = np.asarray(values, dtype=np.float64)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        if self.values.ndim != 2 or self.values.shape[0] != self.sizes.shape[0]:
            raise ValueError("Regions: values must be (N, D) and sizes (N,)")
        if self.values.shape[1] < 4:  # keep at least the rectangle columns (NaN padded)
            self.values = np.pad(self.values, ((0, 0), (0, 4 - self.values.shape[1])), constant_values=np.nan)

    def __len__(self) -> int:
        return int(self.sizes.shape[0])

    def __getitem__(self, idx) -> "Regions":
        if isinstance(idx, (int, np.integer)):
            idx = slice(int(idx), int(idx) + 1 if idx != -1 else None)
        return Regions(self.values[idx], self.sizes[idx])

    def __repr__(self) -> str:
        return f"Regions(n={len(self)}, kinds={sorted(set(self.sizes.tolist()))})"

    @property
    def is_special(self) -> np.ndarray:
        return self.sizes == 1

    def codes(self) -> np.ndarray:
        """(N,) int: the special code where ``sizes == 1``, else -1."""
        out = np.full(len(self), -1, dtype=np.int64)
        sp = self.is_special
        out[sp] = np.rint(self.values[sp, 0]).astype(np.int64)
        return out

    def row(self, i: int) -> list:
        """Frame ``i`` as a plain list of its values."""
        return self.values[i, : self.sizes[i]].tolist()

    def to_list(self) -> list:
        return [self.row(i) for i in range(len(self))]

    def bounding_boxes(self) -> np.ndarray:
        """(N, 4) ``xywh`` axis-aligned bounds of every region (NaN for special codes)."""
        out = np.full((len(self), 4), np.nan)
        r = self.sizes == 4
        out[r] = self.values[r, :4]
        for n in np.unique(self.sizes[self.sizes > 4]):
            m = self.sizes == n
            xs, ys = self.values[m, 0:n:2], self.values[m, 1:n:2]
            x1, y1 = xs.min(1), ys.min(1)
            out[m] = np.stack([x1, y1, xs.max(1) - x1, ys.max(1) - y1], 1)
        return out

    def extent(self) -> Tuple[float, float]:
        """Largest x and y reached by any region (rectangles: ``x + w``, polygons: vertices)."""
        b = self.bounding_boxes()
        ok = ~np.isnan(b).any(1)
        if not ok.any():
            return 0.0, 0.0
        return float(np.max(b[ok, 0] + b[ok, 2])), float(np.max(b[ok, 1] + b[ok, 3]))

    @staticmethod
    def concat(parts: Sequence["Regions"]) -> "Regions":
        d = max([p.values.shape[1] for p in parts] + [1])
        vals = [np.pad(p.values, ((0, 0), (0, d - p.values.shape[1])), constant_values=np.nan) for p in parts]
        return Regions(np.concatenate(vals, 0) if vals else np.zeros((0, d)),
                       np.concatenate([p.sizes for p in parts]) if parts else np.zeros(0, np.int64))


def as_regions(regions: Union[Regions, np.ndarray, Iterable]) -> Regions:
    """Normalise ``regions`` to :class:`Regions`.

    Accepts a :class:`Regions`, an (N, 4) / (N, 2n) / (N, 1) array (rows holding NaN
    become special code 0, as the VOT readers do), or a list of per-frame sequences
    of 1, 4 or 2n values.
    """
    if isinstance(regions, Regions):
        return regions
    if isinstance(regions, np.ndarray) and regions.ndim == 2:
        vals = regions.astype(np.float64)
        n, d = vals.shape
        if d not in (1, 4) and (d < 6 or d % 2):
            raise ValueError(f"regions must have 1, 4 or an even number >= 6 of values, got {d}")
        sizes = np.full(n, d, dtype=np.int64)
        bad = np.isnan(vals).any(1) if d > 1 else np.isnan(vals[:, 0])
        if bad.any():
            vals = vals.copy()
            vals[bad] = np.nan
            vals[bad, 0] = UNKNOWN
            sizes[bad] = 1
        return Regions(vals, sizes)
    rows = [np.asarray(r, dtype=np.float64).ravel() for r in regions]
    d = max([len(r) for r in rows] + [1])
    vals = np.full((len(rows), d), np.nan)
    sizes = np.zeros(len(rows), dtype=np.int64)
    for i, r in enumerate(rows):
        k = len(r)
        if k not in (1, 4) and (k < 6 or k % 2):
            raise ValueError(f"region {i}: expected 1, 4 or an even number >= 6 of values, got {k}")
        if k > 1 and np.isnan(r).any():
            vals[i, 0], sizes[i] = UNKNOWN, 1
            continue
        vals[i, :k], sizes[i] = r, k
    return Regions(vals, sizes)


def overlap(region1, region2, bounds: Optional[Union[Tuple[float, float], np.ndarray]] = None,
            convention: str = "vot-toolkit") -> np.ndarray:
    """Per-frame overlap (IoU of rasterised regions) of two region lists, shape (N,).

    ``bounds`` is the image size ``(W, H)`` (one pair, or (N, 2) per frame), or None
    for no clipping. See the module docstring for the two conventions.
    """
    a, b = as_regions(region1), as_regions(region2)
    if len(a) != len(b):
        raise ValueError(f"overlap: {len(a)} regions vs {len(b)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown overlap convention '{convention}' (known: {', '.join(CONVENTIONS)})")
    n = len(a)
    if bounds is None:
        bw = np.full(n, np.inf)
        bh = np.full(n, np.inf)
    else:
        bnd = np.asarray(bounds, dtype=np.float64)
        bnd = np.broadcast_to(bnd.reshape(-1, 2) if bnd.ndim == 2 else bnd.reshape(1, 2), (n, 2))
        bw, bh = bnd[:, 0].copy(), bnd[:, 1].copy()
    if convention == "vot-toolkit":
        return _overlap_vot(a, b, bw, bh)
    return _overlap_pysot(a, b, bw, bh)


# ----------------------------------------------------------------------------------
# geometry helpers
# ----------------------------------------------------------------------------------

def _rect_as_polygon_pysot(vals: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """pysot's rectangle -> polygon (x, y), (x+w, y), (x+w, y+h), (x, y+h); float32 vertices."""
    x, y, w, h = vals[:, 0], vals[:, 1], vals[:, 2], vals[:, 3]
    xs = np.stack([x, x + w, x + w, x], 1).astype(np.float32)
    ys = np.stack([y, y, y + h, y + h], 1).astype(np.float32)
    return xs, ys


def _round_half_away(v: np.ndarray) -> np.ndarray:
    """C ``round()``: halves away from zero."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _rows_for(frames: np.ndarray, heights: np.ndarray):
    """Split ``frames`` (with window ``heights``) into chunks of at most ~_ROW_CHUNK rows."""
    if len(frames) == 0:
        return
    c = np.cumsum(heights)
    start = 0
    while start < len(frames):
        base = c[start - 1] if start else 0
        stop = int(np.searchsorted(c, base + _ROW_CHUNK, side="right"))
        stop = max(stop, start + 1)
        yield frames[start:stop], heights[start:stop]
        start = stop


def _local_rows(nrows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """For blocks of ``nrows`` rows: (block index per row, row index inside its block)."""
    nrows = np.maximum(nrows, 0)
    block = np.repeat(np.arange(len(nrows)), nrows)
    inner = np.arange(block.shape[0]) - np.repeat(np.cumsum(nrows) - nrows, nrows)
    return block, inner


class _Spans:
    """Inclusive pixel spans ``[s, e]`` per raster row of a chunk, in slots (columns);
    an unused slot has ``s = 0, e = -1``. Row ``i`` of window ``f`` is ``offsets[f] + i``."""

    def __init__(self, n_rows: int):
        self.n = n_rows
        self.s: List[np.ndarray] = []
        self.e: List[np.ndarray] = []

    def put(self, slot: int, rows: np.ndarray, s: np.ndarray, e: np.ndarray) -> None:
        while len(self.s) <= slot:
            self.s.append(np.zeros(self.n, dtype=np.int64))
            self.e.append(np.full(self.n, -1, dtype=np.int64))
        self.s[slot][rows] = s
        self.e[slot][rows] = e

    def columns(self, rows: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        if not self.s:
            n = self.n if rows is None else len(rows)
            return np.zeros((n, 1), dtype=np.int64), np.full((n, 1), -1, dtype=np.int64)
        pick = (lambda x: x) if rows is None else (lambda x: x[rows])
        return np.stack([pick(x) for x in self.s], 1), np.stack([pick(x) for x in self.e], 1)


def _scan_polygons(px: np.ndarray, py: np.ndarray, widths: np.ndarray, heights: np.ndarray, variant: str):
    """Scan-convert polygons in their raster windows (rows ``0 .. heights - 1``).

    ``px, py`` (F, V): integral vertex coordinates relative to each frame's window;
    ``widths, heights`` (F,). Only the rows a polygon spans are scanned. Returns
    ``(frame (M,), row (M,), steps)``: for the M scanned rows their window and row, and
    per fill step a tuple ``(which of the M rows, starts, ends)`` of inclusive spans.

    ``variant="vot-toolkit"``: a horizontal edge lying on the row adds a node at its
    first vertex, equal neighbouring nodes are skipped unless they are the last pair,
    the ``x >= width`` break is tested before the equality skip.
    ``variant="pysot"``: horizontal edges add no node, equal nodes are always skipped
    and the equality test comes first (``region.c``, non-legacy rasterisation).
    """
    f, v = px.shape
    y0 = np.clip(py.min(1), 0, None).astype(np.int64)
    y1 = np.minimum(py.max(1), heights - 1).astype(np.int64)
    nrows = np.maximum(y1 - y0 + 1, 0)
    frame, inner = _local_rows(nrows)
    row = y0[frame] + inner
    yrow = row.astype(np.float64)[:, None]
    pxj, pyj = np.roll(px, 1, axis=1), np.roll(py, 1, axis=1)
    r = pyj - py
    flat = r == 0
    def rep(x):
        return np.repeat(x, nrows, axis=0)

    cond = (rep(np.minimum(py, pyj)) <= yrow) & (yrow <= rep(np.maximum(py, pyj)))
    flat_r = rep(flat)
    if variant == "pysot":
        cond &= ~flat_r
    # x_i + (Y - y_i) / r * k in that order (division first), as both references compute it
    xi = rep(px)
    node = xi + (yrow - rep(py)) / rep(np.where(flat, 1.0, r)) * rep(pxj - px)
    if variant != "pysot":
        node = np.where(flat_r, xi, node)
    node[~cond] = 2.0 ** 62
    nodes = node.astype(np.int64)  # C / numba float -> int cast: truncation toward zero
    nodes.sort(axis=1)
    cnt = cond.sum(1)
    width = widths[frame]

    steps = []
    rows = np.arange(frame.shape[0])  # rows still walking their node list
    p = np.zeros(frame.shape[0], dtype=np.int64)
    for _ in range(v):
        c = cnt[rows]
        more = p < c - 1
        if not more.all():
            rows, p, c = rows[more], p[more], c[more]
        if rows.size == 0:
            break
        a = nodes[rows, p]
        b = nodes[rows, p + 1]
        w = width[rows]
        if variant == "pysot":
            eq = a == b
            brk = ~eq & (a >= w)
        else:
            brk = a >= w
            eq = ~brk & (a == b) & (p < c - 2)
        go = ~brk & ~eq
        fill = go & (b >= 0)
        steps.append((rows[fill], np.maximum(a[fill], 0), np.minimum(b[fill], w[fill] - 1)))
        p = p + np.where(eq, 1, np.where(go, 2, 0))
        if brk.any():
            rows, p = rows[~brk], p[~brk]
    return frame, row, steps


def _put_polygon_spans(spans: _Spans, offsets: np.ndarray, local: np.ndarray, scan) -> None:
    frame, row, steps = scan
    flat_rows = offsets[local][frame] + row
    for k, (which, s, e) in enumerate(steps):
        if which.size:
            spans.put(k, flat_rows[which], s, e)


def _span_lengths(starts: np.ndarray, ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Make each row's spans disjoint (they are sorted and may share one end pixel).

    Returns (new starts, lengths)."""
    ok = ends >= starts
    e = np.where(ok, ends, np.iinfo(np.int64).min // 2)
    prev = np.maximum.accumulate(e, axis=1)
    prev = np.concatenate([np.full((e.shape[0], 1), np.iinfo(np.int64).min // 2), prev[:, :-1]], 1)
    s = np.where(ok, np.maximum(starts, prev + 1), starts)
    return s, np.where(ok, np.maximum(ends - s + 1, 0), 0)


def _count(rowframe: np.ndarray, n_frames: int, a: _Spans, b: _Spans) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame pixel counts |A|, |B|, |A and B| from per-row spans."""
    n = rowframe.shape[0]
    multi = np.zeros(n, dtype=bool)
    for sp in (a, b):
        for s, e in zip(sp.s[1:], sp.e[1:]):
            multi |= e >= s
    sa, ea = (a.s[0], a.e[0]) if a.s else (np.zeros(n, np.int64), np.full(n, -1, np.int64))
    sb, eb = (b.s[0], b.e[0]) if b.s else (np.zeros(n, np.int64), np.full(n, -1, np.int64))
    la = np.maximum(ea - sa + 1, 0)
    lb = np.maximum(eb - sb + 1, 0)
    inter = np.maximum(np.minimum(ea, eb) - np.maximum(sa, sb) + 1, 0)
    if multi.any():  # rows with several spans (concave polygons, vertex rows): exact pairwise sums
        rows = np.flatnonzero(multi)
        sa2, la2 = _span_lengths(*a.columns(rows))
        sb2, lb2 = _span_lengths(*b.columns(rows))
        it = np.zeros(rows.size, dtype=np.int64)
        for i in range(sa2.shape[1]):
            for j in range(sb2.shape[1]):
                lo = np.maximum(sa2[:, i], sb2[:, j])
                hi = np.minimum(sa2[:, i] + la2[:, i], sb2[:, j] + lb2[:, j])
                it += np.maximum(hi - lo, 0)
        la[rows], lb[rows], inter[rows] = la2.sum(1), lb2.sum(1), it
    na = np.bincount(rowframe, weights=la, minlength=n_frames)
    nb = np.bincount(rowframe, weights=lb, minlength=n_frames)
    ni = np.bincount(rowframe, weights=inter, minlength=n_frames)
    return na, nb, ni


# ----------------------------------------------------------------------------------
# vot-toolkit 0.9.0
# ----------------------------------------------------------------------------------

def _vot_rounded(r: Regions) -> np.ndarray:
    """float32 storage then numpy round (half to even), as ``_infer_meta`` does."""
    return np.round(r.values.astype(np.float32)).astype(np.float64)


def _vot_bounds(r: Regions, rv: np.ndarray) -> np.ndarray:
    """(N, 4) integer pixel bounds left, top, right, bottom; special -> (0, 0, 0, 0)."""
    out = np.zeros((len(r), 4))
    rect = r.sizes == 4
    x, y, w, h = rv[rect, 0], rv[rect, 1], rv[rect, 2], rv[rect, 3]
    out[rect] = np.stack([x, y, x + w - 1, y + h - 1], 1)
    for s in np.unique(r.sizes[r.sizes > 4]):
        m = r.sizes == s
        xs, ys = rv[m, 0:s:2], rv[m, 1:s:2]
        out[m] = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)
    return out


def _slice_range(start: np.ndarray, stop: np.ndarray, size: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Python slice ``start:stop`` on an axis of length ``size`` -> clipped [lo, hi)."""
    start = np.where(start < 0, start + size, start)
    stop = np.where(stop < 0, stop + size, stop)
    return np.clip(start, 0, size), np.clip(stop, 0, size)


def _put_vot_rect_spans(spans: _Spans, offsets: np.ndarray, local: np.ndarray, rv: np.ndarray,
                        win: np.ndarray, frames: np.ndarray, heights: np.ndarray) -> None:
    """vot-toolkit ``rasterize_rectangle``: one span per row (relative to the window)."""
    b0, b1, b2, b3 = (win[frames, i] for i in range(4))
    width = b2 - b0 + 1
    x, y, w, h = (rv[frames, i] for i in range(4))
    empty = (x > b2) | (x + w - 1 < b0) | (y > b3) | (y + h - 1 < b1)
    left = np.maximum(0, x - b0)
    top = np.maximum(0, y - b1)
    right = np.minimum(b2, x + w - 1 - b0)
    bottom = np.minimum(b3, y + h - 1 - b1)
    c0, c1 = _slice_range(left, right + 1, width)
    r0, r1 = _slice_range(top, bottom + 1, heights.astype(np.float64))
    nrows = np.where(empty | (c1 <= c0), 0, r1 - r0).astype(np.int64)
    block, inner = _local_rows(nrows)
    rows = offsets[local][block] + r0.astype(np.int64)[block] + inner
    spans.put(0, rows, c0.astype(np.int64)[block], (c1 - 1).astype(np.int64)[block])


def _spans_vot(r: Regions, rv: np.ndarray, win: np.ndarray, frames: np.ndarray, heights: np.ndarray) -> _Spans:
    """Spans of region list ``r`` at ``frames`` inside windows ``win`` (vot-toolkit)."""
    spans = _Spans(int(heights.sum()))
    offsets = np.cumsum(heights) - heights
    sizes = r.sizes[frames]
    local = np.arange(len(frames))
    rect = sizes == 4
    if rect.any():
        li = local[rect]
        _put_vot_rect_spans(spans, offsets, li, rv, win, frames[li], heights[li])
    for sz in np.unique(sizes[sizes > 4]):
        li = local[sizes == sz]
        nv = int(sz) // 2
        fr = frames[li]
        px = rv[fr, 0:2 * nv:2] - win[fr, 0:1]
        py = rv[fr, 1:2 * nv:2] - win[fr, 1:2]
        width = (win[fr, 2] - win[fr, 0] + 1).astype(np.int64)
        _put_polygon_spans(spans, offsets, li, _scan_polygons(px, py, width, heights[li], "vot-toolkit"))
    return spans


def _overlap_vot(a: Regions, b: Regions, bw: np.ndarray, bh: np.ndarray) -> np.ndarray:
    n = len(a)
    ra, rb = _vot_rounded(a), _vot_rounded(b)
    ba, bb = _vot_bounds(a, ra), _vot_bounds(b, rb)
    union = np.concatenate([np.minimum(ba[:, :2], bb[:, :2]), np.maximum(ba[:, 2:], bb[:, 2:])], 1)
    out = np.zeros(n)
    both_empty = (union[:, 0] >= union[:, 2]) | (union[:, 1] >= union[:, 3])
    out[both_empty] = 1.0
    lo_x = np.where(np.isinf(bw), -np.inf, 0.0)  # no bounds: the window is the union itself
    lo_y = np.where(np.isinf(bh), -np.inf, 0.0)
    win = np.stack([np.maximum(lo_x, union[:, 0]), np.maximum(lo_y, union[:, 1]),
                    np.minimum(bw - 1, union[:, 2]), np.minimum(bh - 1, union[:, 3])], 1)
    nowin = ~both_empty & ((win[:, 0] >= win[:, 2]) | (win[:, 1] >= win[:, 3]))
    todo = np.flatnonzero(~both_empty & ~nowin)
    if len(todo) == 0:
        return out
    heights_all = (win[:, 3] - win[:, 1] + 1).astype(np.int64)
    for frames, heights in _rows_for(todo, heights_all[todo]):
        sa = _spans_vot(a, ra, win, frames, heights)
        sb = _spans_vot(b, rb, win, frames, heights)
        rowframe = np.repeat(np.arange(len(frames)), heights)
        na, nb, ni = _count(rowframe, len(frames), sa, sb)
        un = na + nb - ni
        out[frames] = np.where(un > 0, ni / np.where(un > 0, un, 1), 0.0)
    return out


# ----------------------------------------------------------------------------------
# pysot (VOT region C library, non-legacy rasterisation)
# ----------------------------------------------------------------------------------

def _pysot_polygons(r: Regions, size: int, frames: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """float32 vertex arrays (F, nv) of the frames (rectangles converted as pysot does)."""
    vals = r.values[frames]
    if size == 4:
        return _rect_as_polygon_pysot(vals)
    return vals[:, 0:size:2].astype(np.float32), vals[:, 1:size:2].astype(np.float32)


def _overlap_pysot(a: Regions, b: Regions, bw: np.ndarray, bh: np.ndarray) -> np.ndarray:
    n = len(a)
    out = np.full(n, np.nan)
    f32 = np.float32
    # image bounds as RegionBounds(0, H, 0, W) in float32 (or +-inf without bounds)
    lim_l = np.where(np.isinf(bw), -np.inf, 0).astype(f32)
    lim_t = np.where(np.isinf(bh), -np.inf, 0).astype(f32)
    lim_r, lim_b = bw.astype(f32), bh.astype(f32)
    ok = ~a.is_special & ~b.is_special
    # per-region float32 bounds, rounded outward, intersected with the image bounds
    bnd = []
    for r in (a, b):
        bx = np.zeros((n, 4), dtype=f32)
        for sz in np.unique(r.sizes[ok]):
            m = ok & (r.sizes == sz)
            xs, ys = _pysot_polygons(r, int(sz), np.flatnonzero(m))
            bx[m] = np.stack([np.floor(xs.min(1)), np.floor(ys.min(1)), np.ceil(xs.max(1)), np.ceil(ys.max(1))], 1)
        bx[:, 0] = np.maximum(bx[:, 0], lim_l)
        bx[:, 1] = np.maximum(bx[:, 1], lim_t)
        bx[:, 2] = np.minimum(bx[:, 2], lim_r)
        bx[:, 3] = np.minimum(bx[:, 3], lim_b)
        bnd.append(bx)
    b1, b2 = bnd
    with np.errstate(all="ignore"):
        x0 = np.minimum(b1[:, 0], b2[:, 0])
        y0 = np.minimum(b1[:, 1], b2[:, 1])
        wf = (np.maximum(b1[:, 2], b2[:, 2]) - x0).astype(np.float64)
        hf = (np.maximum(b1[:, 3], b2[:, 3]) - y0).astype(np.float64)
        width = np.where(np.isfinite(wf), np.trunc(wf), -1) + 1
        height = np.where(np.isfinite(hf), np.trunc(hf), -1) + 1
        a1 = ((b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])).astype(np.float64)
        a2 = ((b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])).astype(np.float64)
        tiny = (a1 / a2 < 1e-10) | (a2 / a1 < 1e-10) | (width < 1) | (height < 1)
        iw = np.minimum(b1[:, 2], b2[:, 2]) - np.maximum(b1[:, 0], b2[:, 0])
        ih = np.minimum(b1[:, 3], b2[:, 3]) - np.maximum(b1[:, 1], b2[:, 1])
        inter_b = (iw * ih).astype(f32)
        bo = inter_b / ((a1.astype(f32) + a2.astype(f32)) - inter_b)
        bo = np.where(f32(0) > bo, f32(0), bo)  # C MAX(0, x): NaN stays NaN
    zero = ok & (tiny | (bo == 0))
    out[zero] = 0.0
    todo = np.flatnonzero(ok & ~zero)
    if len(todo) == 0:
        return out
    heights_all = np.where(np.isfinite(height), height, 0).astype(np.int64)
    widths_all = np.where(np.isfinite(width), width, 0).astype(np.int64)
    for frames, heights in _rows_for(todo, heights_all[todo]):
        offsets = np.cumsum(heights) - heights
        local = np.arange(len(frames))
        spans = []
        for r in (a, b):
            sp = _Spans(int(heights.sum()))
            sizes = r.sizes[frames]
            for sz in np.unique(sizes):
                li = local[sizes == sz]
                fr = frames[li]
                xs, ys = _pysot_polygons(r, int(sz), fr)
                # offset_polygon (float32 add), round_polygon (half away from zero)
                px = _round_half_away((xs + (-x0[fr])[:, None]).astype(f32)).astype(f32).astype(np.float64)
                py = _round_half_away((ys + (-y0[fr])[:, None]).astype(f32)).astype(f32).astype(np.float64)
                _put_polygon_spans(sp, offsets, li, _scan_polygons(px, py, widths_all[fr], heights[li], "pysot"))
            spans.append(sp)
        rowframe = np.repeat(local, heights)
        na, nb, ni = _count(rowframe, len(frames), spans[0], spans[1])
        onlya, onlyb = (na - ni).astype(f32), (nb - ni).astype(f32)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[frames] = (ni.astype(f32) / (onlya + onlyb + ni.astype(f32))).astype(np.float64)
    return out


def gt_extent_size(gt) -> Tuple[int, int]:
    """Frame size estimated from a ground-truth region list: ``(ceil(max x), ceil(max y))``.

    Used when a VOT root holds annotations only (docs/sot-eval.md, "VOT frame size without images"):
    the closest bound to the image vot-toolkit would read, with the ground truth inside it."""
    mx, my = as_regions(gt).extent()
    return int(np.ceil(mx)), int(np.ceil(my))
