"""Procedural colour textures, palettes and outlines (vectorised numpy / OpenCV).

Every texture is a ``float32`` array ``(h, w, 3)`` of RGB values in ``0..255`` made
from a seeded :class:`numpy.random.Generator`, so the same seed gives the same pixels.
Families: ``noise`` (band-limited fractal noise mapped through a palette), ``stripes``,
``checker``, ``blobs`` (coloured discs), ``person`` (a two-tone upright figure with a
head) and ``plain`` (one colour with a little noise, used for occluders).
"""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

FAMILIES = ("noise", "stripes", "checker", "blobs")
ALL_FAMILIES = FAMILIES + ("person", "plain")


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """``(..., 3)`` HSV in [0, 1] -> RGB in [0, 255] (float32)."""
    hsv = np.asarray(hsv, dtype=np.float64)
    h, s, v = hsv[..., 0] % 1.0, hsv[..., 1], hsv[..., 2]
    i = np.floor(h * 6.0).astype(np.int64) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [np.stack(c, -1) for c in ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))]
    out = np.zeros(hsv.shape, dtype=np.float64)
    for k in range(6):
        out = np.where((i == k)[..., None], choices[k], out)
    return (out * 255.0).astype(np.float32)


def palette(rng: np.random.Generator, hue: float, n: int = 3, hue_spread: float = 0.08,
            sat: Tuple[float, float] = (0.45, 1.0), val: Tuple[float, float] = (0.25, 1.0)) -> np.ndarray:
    """``n`` colours around ``hue`` with a spread of brightness (so textures have contrast).

    Returns ``(n, 3)`` RGB float32 in 0..255, sorted dark to bright.
    """
    hues = hue + rng.uniform(-hue_spread, hue_spread, n)
    sats = rng.uniform(sat[0], sat[1], n)
    vals = np.sort(np.linspace(val[0], val[1], n) + rng.uniform(-0.05, 0.05, n)).clip(0.05, 1.0)
    return hsv_to_rgb(np.stack([hues, sats, vals], -1))


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float, octaves: int = 3,
                 persistence: float = 0.5) -> np.ndarray:
    """Band-limited fractal noise ``(h, w)`` float32 scaled to [0, 1].

    Octave ``k`` upsamples a random grid with cells of ``cell / 2**k`` pixels (bicubic).
    """
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for k in range(octaves):
        c = max(cell / (2 ** k), 1.5)
        gh, gw = int(np.ceil(h / c)) + 2, int(np.ceil(w / c)) + 2
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        up = cv2.resize(grid, (int(round(gw * c)), int(round(gh * c))), interpolation=cv2.INTER_CUBIC)
        oy, ox = int(rng.integers(0, max(1, up.shape[0] - h + 1))), int(rng.integers(0, max(1, up.shape[1] - w + 1)))
        out += amp * up[oy:oy + h, ox:ox + w]
        amp *= persistence
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def colorize(field: np.ndarray, pal: np.ndarray) -> np.ndarray:
    """Map a [0, 1] field ``(h, w)`` through palette ``(n, 3)`` (piecewise linear, 256 levels,
    one OpenCV table look-up) -> ``(h, w, 3)`` float32."""
    pal = np.asarray(pal, np.float32)
    n = len(pal)
    x = np.linspace(0.0, 1.0, 256) * (n - 1)
    i0 = np.minimum(x.astype(np.int64), n - 2)
    f = (x - i0)[:, None].astype(np.float32)
    lut = np.ascontiguousarray((pal[i0] * (1.0 - f) + pal[i0 + 1] * f).reshape(256, 1, 3))
    idx = np.clip(np.asarray(field, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.LUT(cv2.merge([idx, idx, idx]), lut)


def _grid(h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(w, dtype=np.float32) + 0.5, np.arange(h, dtype=np.float32) + 0.5)


def texture(family: str, rng: np.random.Generator, h: int, w: int, pal: np.ndarray) -> np.ndarray:
    """A ``(h, w, 3)`` float32 RGB texture of ``family`` coloured with ``pal``."""
    h, w = max(int(h), 2), max(int(w), 2)
    size = float(min(h, w))
    if family == "noise":
        f = smooth_noise(rng, h, w, cell=size * rng.uniform(0.2, 0.45), octaves=3)
        return colorize(f, pal)
    if family == "stripes":
        x, y = _grid(h, w)
        th = rng.uniform(0, np.pi)
        period = size * rng.uniform(0.22, 0.45)
        ph = rng.uniform(0, 2 * np.pi)
        s = np.sin(2 * np.pi * (x * np.cos(th) + y * np.sin(th)) / period + ph)
        f = 0.5 + 0.45 * np.tanh(2.5 * s) + 0.25 * (smooth_noise(rng, h, w, size * 0.3, 2) - 0.5)
        return colorize(f, pal)
    if family == "checker":
        x, y = _grid(h, w)
        c = size * rng.uniform(0.2, 0.36)
        th = rng.uniform(-0.4, 0.4)
        xr, yr = x * np.cos(th) - y * np.sin(th), x * np.sin(th) + y * np.cos(th)
        ox, oy = rng.uniform(0, c, 2)
        f = ((np.floor((xr + ox) / c) + np.floor((yr + oy) / c)) % 2).astype(np.float32)
        f = cv2.GaussianBlur(f, (0, 0), max(0.6, c * 0.06))
        f = 0.1 + 0.8 * f + 0.3 * (smooth_noise(rng, h, w, size * 0.3, 2) - 0.5)
        return colorize(f, pal)
    if family == "blobs":
        base = np.empty((h, w, 3), np.float32)
        base[:] = pal[0]
        k = int(rng.integers(4, 9))
        for _ in range(k):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = size * rng.uniform(0.1, 0.3)
            col = tuple(float(c) for c in pal[int(rng.integers(1, len(pal)))])
            cv2.circle(base, (int(cx * 16), int(cy * 16)), int(r * 16), col, -1, cv2.LINE_AA, shift=4)
        base = cv2.GaussianBlur(base, (0, 0), max(0.5, size * 0.02))
        return base + 18.0 * (smooth_noise(rng, h, w, size * 0.25, 2) - 0.5)[..., None]
    if family == "person":
        # pal rows: shirt, trousers, skin, hair (see mot.py); an upright figure in a w x h box.
        img = np.empty((h, w, 3), np.float32)
        head = max(1, int(round(h * 0.16)))
        waist = int(round(h * rng.uniform(0.48, 0.56)))
        img[:head] = pal[2]
        img[: max(1, head // 3)] = pal[3]
        img[head:waist] = pal[0]
        img[waist:] = pal[1]
        # arms: slightly darker shirt at the sides; legs split by a dark gap
        side = max(1, int(round(w * 0.16)))
        img[head:waist, :side] *= 0.8
        img[head:waist, w - side:] *= 0.8
        gap = max(1, int(round(w * 0.08)))
        img[int(waist + (h - waist) * 0.3):, w // 2 - gap // 2: w // 2 - gap // 2 + gap] *= 0.55
        img = cv2.GaussianBlur(img, (0, 0), max(0.5, size * 0.04))
        return img + 25.0 * (smooth_noise(rng, h, w, size * 0.3, 2) - 0.5)[..., None]
    if family == "plain":
        img = np.empty((h, w, 3), np.float32)
        img[:] = pal[len(pal) // 2]
        return img + 30.0 * (smooth_noise(rng, h, w, size * 0.5, 2) - 0.5)[..., None]
    raise ValueError(f"unknown texture family {family!r}; known: {', '.join(ALL_FAMILIES)}")


def superellipse_alpha(h: int, w: int, exponent: float) -> np.ndarray:
    """Anti-aliased alpha ``(h, w)`` float32 of the superellipse ``|u|^p + |v|^p <= 1``
    inscribed in an ``h x w`` patch (p = 2 ellipse, 4 rounded rectangle, large p rectangle)."""
    x, y = _grid(h, w)
    u, v = np.abs(2 * x / w - 1), np.abs(2 * y / h - 1)
    r = (u ** exponent + v ** exponent) ** (1.0 / exponent)
    return np.clip((1.0 - r) * (min(h, w) / 2.0) + 0.5, 0.0, 1.0).astype(np.float32)


def inside_superellipse(u: np.ndarray, v: np.ndarray, exponent) -> np.ndarray:
    """Boolean test of unit-box coordinates ``u, v`` (outline at |u|, |v| <= 1)."""
    return np.abs(u) ** exponent + np.abs(v) ** exponent <= 1.0


def background(rng: np.random.Generator, h: int, w: int, pal: np.ndarray, clutter: int,
               clutter_pal: np.ndarray) -> np.ndarray:
    """A large cluttered background ``(h, w, 3)`` uint8: fractal noise plus ``clutter``
    random shapes (rectangles, discs, bars) coloured from ``clutter_pal``."""
    f = smooth_noise(rng, h, w, cell=min(h, w) * rng.uniform(0.12, 0.3), octaves=4, persistence=0.6)
    img = colorize(f, pal)
    n = len(clutter_pal)
    kinds = rng.integers(0, 3, clutter)
    xs, ys = rng.uniform(0, w, clutter), rng.uniform(0, h, clutter)
    sizes = min(h, w) * rng.uniform(0.02, 0.12, clutter)
    cols = clutter_pal[rng.integers(0, n, clutter)] * rng.uniform(0.7, 1.1, (clutter, 1)).astype(np.float32)
    for k, x, y, s, c in zip(kinds, xs, ys, sizes, cols):
        col = tuple(float(v) for v in c)
        if k == 0:
            cv2.circle(img, (int(x), int(y)), max(1, int(s)), col, -1, cv2.LINE_AA)
        elif k == 1:
            a = rng.uniform(0.4, 2.5)
            cv2.rectangle(img, (int(x), int(y)), (int(x + s * a), int(y + s / a)), col, -1, cv2.LINE_AA)
        else:
            th = rng.uniform(0, np.pi)
            dx, dy = 3 * s * np.cos(th), 3 * s * np.sin(th)
            cv2.line(img, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), col,
                     max(1, int(s * 0.25)), cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return np.clip(img, 0, 255).astype(np.uint8)
