"""The scene core shared by the single- and multi-object generators.

A :class:`Scene` holds a background texture seen by a panning / zooming camera, a
time-varying illumination field, sensor noise and any number of :class:`SceneObject`
(each with an identity, a role, a :class:`Look` and a per-frame :class:`Track`).
Everything is parameters (small arrays); pixels are produced on demand by
:func:`render_frame`, and the large textures are built once per scene and kept in a
small least-recently-used cache, so hundreds of lazily rendered sequences stay cheap.

Geometry (image pixels, continuous coordinates, pixel ``k`` covers ``[k, k + 1)``):

* an object's outline is a superellipse inscribed in a ``w x h`` rectangle centred on
  ``(cx, cy)`` and rotated by ``angle`` (radians, clockwise on screen);
* its *full box* (:func:`full_boxes`) is the tight axis-aligned ``xywh`` box of that
  outline, whatever covers it;
* :func:`coverage` gives, per frame, the fraction of the outline's area inside the
  image and the fraction inside the image and not covered by a nearer object
  (larger ``z`` is nearer and drawn later), from a fixed grid of sample points.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from . import textures

_SAMPLES = 16          # sample grid per axis for coverage (16 x 16 points over the outline box)
_OUTLINE_POINTS = 72   # boundary samples for the tight box of a rotated outline
_ASSET_CACHE_SIZE = 32  # scenes whose textures stay in memory (set_texture_cache_size)


@dataclasses.dataclass(eq=False)
class Look:
    """Appearance of an object: texture family, palette ``(k, 3)`` RGB 0..255, texture
    seed, outline exponent (2 ellipse, 4 rounded box, 30 rectangle) and deformation
    (``deform``: texture warp amplitude as a fraction of the size, 0 = rigid). With
    ``mix > 0`` the texture is ``(1 - mix) * texture(seed) + mix * texture(mix_seed)``
    (look-alikes share part of the target's own texture)."""

    family: str
    palette: np.ndarray
    seed: int
    exponent: float = 4.0
    deform: float = 0.0
    deform_period: float = 20.0  # frames
    mix_seed: int = 0
    mix: float = 0.0


@dataclasses.dataclass(eq=False)
class Track:
    """Per-frame pose of one object, arrays of length N (frames).

    ``cx, cy, w, h`` in pixels (outline centre and size before rotation), ``angle`` in
    radians, ``present`` whether the object exists in the frame, ``z`` depth (larger =
    nearer the camera), ``blur`` (N, 2) motion-blur streak in pixels (0 = sharp).
    """

    cx: np.ndarray
    cy: np.ndarray
    w: np.ndarray
    h: np.ndarray
    angle: np.ndarray
    present: np.ndarray
    z: np.ndarray
    blur: np.ndarray

    @classmethod
    def make(cls, cx, cy, w, h, angle=None, present=None, z=0.0, blur=None) -> "Track":
        cx = np.asarray(cx, np.float64)
        n = len(cx)
        full = lambda v: np.broadcast_to(np.asarray(v, np.float64), (n,)).copy()  # noqa: E731
        return cls(cx, full(cy), full(w), full(h), full(0.0 if angle is None else angle),
                   np.ones(n, bool) if present is None else np.asarray(present, bool),
                   full(z), np.zeros((n, 2)) if blur is None else np.asarray(blur, np.float64))

    def __len__(self) -> int:
        return len(self.cx)


@dataclasses.dataclass(eq=False)
class SceneObject:
    """One object: integer identity, role (``target``, ``distractor``, ``occluder``,
    ``person``, ``static``...), look and track."""

    oid: int
    role: str
    look: Look
    track: Track


@dataclasses.dataclass(eq=False)
class Scene:
    """Parameters of one rendered sequence.

    ``camera`` (N, 3): background point at the image centre (x, y, background pixels) and
    zoom. ``light`` (N, 5): global gain, spot x, spot y (image pixels), spot strength
    and spot radius; the gain field is ``g * (1 + s * exp(-d^2 / 2r^2))``.
    """

    size: Tuple[int, int]            # (W, H)
    length: int
    seed: int                        # seeds background and noise textures
    bg_size: Tuple[int, int]
    bg_palette: np.ndarray
    bg_clutter: int
    bg_clutter_palette: np.ndarray
    camera: np.ndarray
    light: np.ndarray
    noise_sigma: float
    objects: List[SceneObject]
    bg_stamps: List[Tuple[Look, float, float, float, float]] = dataclasses.field(default_factory=list)
    _assets: Optional["Assets"] = dataclasses.field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_assets"] = None  # textures are rebuilt on demand, never pickled
        return state

    def obj(self, oid: int) -> SceneObject:
        for o in self.objects:
            if o.oid == oid:
                return o
        raise KeyError(oid)

    def gain_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Illumination gain at image points ``(x[t], y[t])`` for every frame t."""
        g, lx, ly, s, r = self.light.T
        d2 = (np.asarray(x) - lx) ** 2 + (np.asarray(y) - ly) ** 2
        return g * (1.0 + s * np.exp(-d2 / (2 * r ** 2)))


# --------------------------------------------------------------------------- geometry
def _rotation(angle: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    return np.cos(angle), np.sin(angle)


def outline_points(track: Track, exponent: float) -> np.ndarray:
    """Boundary points of the outline, (N, P, 2) image pixels."""
    th = np.linspace(0, 2 * np.pi, _OUTLINE_POINTS, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    e = 2.0 / exponent
    u, v = np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e
    lx = u[None] * track.w[:, None] / 2
    ly = v[None] * track.h[:, None] / 2
    ca, sa = _rotation(track.angle)
    x = track.cx[:, None] + lx * ca[:, None] - ly * sa[:, None]
    y = track.cy[:, None] + lx * sa[:, None] + ly * ca[:, None]
    return np.stack([x, y], -1)


def full_boxes(track: Track, exponent: float) -> np.ndarray:
    """Tight ``xywh`` box of the (rotated) outline per frame, (N, 4); not clipped."""
    if not np.any(track.angle):
        return np.stack([track.cx - track.w / 2, track.cy - track.h / 2, track.w, track.h], -1)
    p = outline_points(track, exponent)
    lo, hi = p.min(1), p.max(1)
    return np.concatenate([lo, hi - lo], -1)


def region_polygons(track: Track) -> np.ndarray:
    """Rotated ``w x h`` rectangle per frame as VOT polygons (N, 8) ``x1, y1, ..., x4, y4``."""
    ca, sa = _rotation(track.angle)
    out = np.empty((len(track), 8))
    for k, (a, b) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
        lx, ly = a * track.w / 2, b * track.h / 2
        out[:, 2 * k] = track.cx + lx * ca - ly * sa
        out[:, 2 * k + 1] = track.cy + lx * sa + ly * ca
    return out


def _unit_samples(exponent: float) -> np.ndarray:
    g = (np.arange(_SAMPLES) + 0.5) / _SAMPLES * 2 - 1
    u, v = np.meshgrid(g, g)
    keep = textures.inside_superellipse(u, v, exponent)
    return np.stack([u[keep], v[keep]], -1)


def _to_image(track: Track, unit: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    lx = unit[None, :, 0] * track.w[:, None] / 2
    ly = unit[None, :, 1] * track.h[:, None] / 2
    ca, sa = _rotation(track.angle)
    return (track.cx[:, None] + lx * ca[:, None] - ly * sa[:, None],
            track.cy[:, None] + lx * sa[:, None] + ly * ca[:, None])


def _inside_object(x: np.ndarray, y: np.ndarray, o: SceneObject, frames: np.ndarray) -> np.ndarray:
    t = o.track
    dx, dy = x - t.cx[frames, None], y - t.cy[frames, None]
    ca, sa = _rotation(t.angle[frames])
    u = (dx * ca[:, None] + dy * sa[:, None]) / (t.w[frames, None] / 2)
    v = (-dx * sa[:, None] + dy * ca[:, None]) / (t.h[frames, None] / 2)
    return textures.inside_superellipse(u, v, o.look.exponent)


def coverage(scene: Scene, oid: int) -> Tuple[np.ndarray, np.ndarray]:
    """(inside, visible) per frame for object ``oid``: fractions of its outline area that lie
    in the image, and in the image and not covered by a nearer present object. 0 where absent."""
    obj = scene.obj(oid)
    t = obj.track
    W, H = scene.size
    unit = _unit_samples(obj.look.exponent)
    x, y = _to_image(t, unit)
    inimg = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    covered = np.zeros_like(inimg)
    box = full_boxes(t, obj.look.exponent)
    for o in scene.objects:
        if o.oid == oid:
            continue
        ob = full_boxes(o.track, o.look.exponent)
        front = (o.track.present & t.present & (o.track.z > t.z)
                 & (ob[:, 0] < box[:, 0] + box[:, 2]) & (box[:, 0] < ob[:, 0] + ob[:, 2])
                 & (ob[:, 1] < box[:, 1] + box[:, 3]) & (box[:, 1] < ob[:, 1] + ob[:, 3]))
        idx = np.flatnonzero(front)
        if len(idx):
            covered[idx] |= _inside_object(x[idx], y[idx], o, idx)
    inside = inimg.mean(1)
    visible = (inimg & ~covered).mean(1)
    inside[~t.present] = 0.0
    visible[~t.present] = 0.0
    return inside, visible


# --------------------------------------------------------------------------- assets
class Assets:
    """Rendered textures of one scene: background (uint8), object patches (float32 RGBA,
    colour 0..255 and alpha 0..1) and a sensor-noise field."""

    def __init__(self, scene: Scene):
        W, H = scene.size
        r_bg = np.random.default_rng(np.random.SeedSequence([scene.seed, 7]))
        bw, bh = scene.bg_size
        self.bg = textures.background(r_bg, bh, bw, scene.bg_palette, scene.bg_clutter, scene.bg_clutter_palette)
        for look, x, y, w, h in scene.bg_stamps:
            _stamp(self.bg, look, x, y, w, h)
        self.noise = noise_bank(W, H) if scene.noise_sigma > 0 else None
        self.noise_offset = (scene.seed % 47, (scene.seed // 47) % 43)
        self.patches: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}
        self.premultiplied: Dict[int, np.ndarray] = {}  # (h, w, 4): rgb * alpha, alpha
        for o in scene.objects:
            rgb, alpha = make_patch(o)
            self.patches[o.oid] = (rgb, alpha)
            self.premultiplied[o.oid] = np.ascontiguousarray(np.dstack([rgb * alpha[..., None], alpha]))


def make_patch(o: SceneObject) -> Tuple[np.ndarray, np.ndarray]:
    """(rgb (h, w, 3) float32 0..255, alpha (h, w) float32 0..1) of an object at about its
    largest on-screen size."""
    pres = o.track.present
    w = float(np.max(o.track.w[pres])) if pres.any() else 16.0
    h = float(np.max(o.track.h[pres])) if pres.any() else 16.0
    scale = min(1.0, 160.0 / max(w, h))
    pw, ph = int(np.clip(round(w * scale), 6, 160)), int(np.clip(round(h * scale), 6, 160))
    rgb = textures.texture(o.look.family, np.random.default_rng(o.look.seed), ph, pw, o.look.palette)
    if o.look.mix > 0:
        other = textures.texture(o.look.family, np.random.default_rng(o.look.mix_seed), ph, pw, o.look.palette)
        rgb = (1.0 - o.look.mix) * rgb + o.look.mix * other
    a = textures.superellipse_alpha(ph, pw, o.look.exponent)
    return np.ascontiguousarray(rgb, dtype=np.float32), a


def _stamp(bg: np.ndarray, look: Look, x: float, y: float, w: float, h: float) -> None:
    """Paint a static look-alike of ``look`` (a clutter object) into the background."""
    o = SceneObject(-1, "stamp", look, Track.make([x], [y], [w], [h]))
    rgb, al = make_patch(o)
    p = np.concatenate([rgb, al[..., None]], -1)
    p = cv2.resize(p, (max(2, int(w)), max(2, int(h))), interpolation=cv2.INTER_AREA)
    x0, y0 = int(x - p.shape[1] / 2), int(y - p.shape[0] / 2)
    H, W = bg.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + p.shape[1], W), min(y0 + p.shape[0], H)
    if xa >= xb or ya >= yb:
        return
    sub = p[ya - y0:yb - y0, xa - x0:xb - x0]
    a = sub[..., 3:]
    roi = bg[ya:yb, xa:xb].astype(np.float32)
    bg[ya:yb, xa:xb] = np.clip(roi * (1 - a) + sub[..., :3] * a, 0, 255).astype(np.uint8)


_CACHE: "OrderedDict[int, Scene]" = OrderedDict()
_NOISE: Dict[Tuple[int, int], np.ndarray] = {}
_NOISE_PAD = 64


def noise_bank(W: int, H: int) -> np.ndarray:
    """Unit Gaussian sensor noise ``(H + 64, W + 64, 3)`` float32, one fixed-seed field per
    frame size shared by all scenes (each scene scales it and reads it at its own offsets)."""
    key = (W, H)
    if key not in _NOISE:
        rng = np.random.default_rng(20240607)
        _NOISE[key] = rng.standard_normal((H + _NOISE_PAD, W + _NOISE_PAD, 3), dtype=np.float32)
    return _NOISE[key]


def set_texture_cache_size(n: int) -> None:
    """How many scenes keep their textures in memory (default 32; about 1-4 MB each). Training
    loops that sample frames from many sequences at random may raise it."""
    global _ASSET_CACHE_SIZE
    _ASSET_CACHE_SIZE = max(1, int(n))


def assets_of(scene: Scene) -> Assets:
    """The scene's textures, built on first use; only the last few scenes keep theirs."""
    key = id(scene)
    if scene._assets is None:
        scene._assets = Assets(scene)
    _CACHE[key] = scene
    _CACHE.move_to_end(key)
    while len(_CACHE) > _ASSET_CACHE_SIZE:
        _, old = _CACHE.popitem(last=False)
        old._assets = None
    return scene._assets


# --------------------------------------------------------------------------- rendering
def _patch_affine(o: SceneObject, t: int, shape: Tuple[int, ...]) -> np.ndarray:
    """2x3 matrix mapping pixel indices of a patch of ``shape`` to image pixel indices at frame ``t``."""
    tr = o.track
    ph, pw = shape[:2]
    sx, sy = tr.w[t] / pw, tr.h[t] / ph
    ca, sa = np.cos(tr.angle[t]), np.sin(tr.angle[t])
    A = np.array([[ca * sx, -sa * sy], [sa * sx, ca * sy]])
    # continuous patch coords (index + 0.5) -> centred -> image continuous -> image index (- 0.5)
    c = np.array([tr.cx[t], tr.cy[t]]) + A @ (np.array([0.5, 0.5]) - np.array([pw / 2, ph / 2])) - 0.5
    return np.hstack([A, c[:, None]])


def _blur_kernel(bx: float, by: float) -> np.ndarray:
    L = float(np.hypot(bx, by))
    k = int(np.ceil(L)) | 1
    k = max(k, 3)
    ker = np.zeros((k, k), np.float32)
    c = (k - 1) / 2
    p0 = (int(round((c - bx / 2) * 16)), int(round((c - by / 2) * 16)))
    p1 = (int(round((c + bx / 2) * 16)), int(round((c + by / 2) * 16)))
    cv2.line(ker, p0, p1, 1.0, 1, cv2.LINE_AA, shift=4)
    s = ker.sum()
    if s <= 0:
        ker[k // 2, k // 2] = 1.0
        s = 1.0
    return ker / s


def _object_layer(o: SceneObject, t: int, patch: Tuple[np.ndarray, np.ndarray], premult: np.ndarray,
                  W: int, H: int) -> Optional[Tuple[int, int, np.ndarray, np.ndarray]]:
    """Warp (deform, blur) object ``o`` at frame ``t``: (x0, y0, premultiplied rgb, alpha) or None.

    A rigid object is one warp of its premultiplied RGBA patch (exact edges, zero outside)."""
    tr = o.track
    p_rgb, p_a = patch
    M = _patch_affine(o, t, p_a.shape)
    ph, pw = p_a.shape
    corners = np.array([[-0.5, -0.5, 1], [pw - 0.5, -0.5, 1], [pw - 0.5, ph - 0.5, 1], [-0.5, ph - 0.5, 1]])
    pts = corners @ M.T
    bx, by = tr.blur[t]
    pad = int(np.ceil(max(abs(bx), abs(by)) / 2)) + 2
    x0 = max(int(np.floor(pts[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(pts[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + pad + 1, W)
    y1 = min(int(np.ceil(pts[:, 1].max())) + pad + 1, H)
    if x1 <= x0 or y1 <= y0:
        return None
    rw, rh = x1 - x0, y1 - y0
    Mr = M.copy()
    Mr[:, 2] -= (x0, y0)
    if o.look.deform > 0:
        Mi = cv2.invertAffineTransform(Mr)
        gx, gy = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
        u = (Mi[0, 0] * gx + Mi[0, 1] * gy + Mi[0, 2]).astype(np.float32)
        v = (Mi[1, 0] * gx + Mi[1, 1] * gy + Mi[1, 2]).astype(np.float32)
        a_map = cv2.remap(p_a, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ph_ = 2 * np.pi * t / o.look.deform_period
        amp = o.look.deform
        du = amp * pw * np.sin(2 * np.pi * v / ph * 1.5 + ph_)
        dv = amp * ph * np.sin(2 * np.pi * u / pw * 1.2 + 1.3 * ph_ + 1.0)
        rgb = cv2.remap(p_rgb, u + du.astype(np.float32), v + dv.astype(np.float32),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        layer = np.dstack([rgb * a_map[..., None], a_map])
    else:
        layer = cv2.warpAffine(premult, Mr, (rw, rh), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    if bx * bx + by * by >= 2.25:
        layer = cv2.filter2D(layer, -1, _blur_kernel(bx, by), borderType=cv2.BORDER_CONSTANT)
    return x0, y0, layer[..., :3], layer[..., 3]


def _draw_order(scene: Scene, t: int) -> List[SceneObject]:
    objs = [o for o in scene.objects if o.track.present[t]]
    return sorted(objs, key=lambda o: (o.track.z[t], o.oid))


def render_frame(scene: Scene, t: int) -> np.ndarray:
    """Frame ``t`` as an ``(H, W, 3)`` uint8 RGB image."""
    W, H = scene.size
    a = assets_of(scene)
    ccx, ccy, zoom = scene.camera[t]
    # frame pixel index p -> background index: (p + 0.5 - centre) / zoom + cam - 0.5
    ox, oy = ccx - 0.5 + (0.5 - W / 2) / zoom, ccy - 0.5 + (0.5 - H / 2) / zoom
    bh, bw = a.bg.shape[:2]
    if (zoom == 1.0 and ox == int(ox) and oy == int(oy) and 0 <= ox <= bw - W and 0 <= oy <= bh - H):
        frame = a.bg[int(oy):int(oy) + H, int(ox):int(ox) + W].astype(np.float32)  # static camera
    else:
        Mi = np.array([[1 / zoom, 0, ox], [0, 1 / zoom, oy]])
        frame = cv2.warpAffine(a.bg, Mi, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
    for o in _draw_order(scene, t):
        layer = _object_layer(o, t, a.patches[o.oid], a.premultiplied[o.oid], W, H)
        if layer is None:
            continue
        x0, y0, rgb, alpha = layer
        roi = frame[y0:y0 + rgb.shape[0], x0:x0 + rgb.shape[1]]
        roi *= (1.0 - alpha)[..., None]
        roi += rgb
    g, lx, ly, s, r = scene.light[t]
    if s != 0.0:
        xs = np.exp(-((np.arange(W, dtype=np.float32) + 0.5 - lx) ** 2) / (2 * r * r))
        ys = np.exp(-((np.arange(H, dtype=np.float32) + 0.5 - ly) ** 2) / (2 * r * r))
        gain = (g * (1.0 + s * np.outer(ys, xs))).astype(np.float32)
        frame *= cv2.merge([gain, gain, gain])
    elif g != 1.0:
        frame *= np.float32(g)
    if a.noise is not None:
        ox = (a.noise_offset[0] + t * 7) % _NOISE_PAD
        oy = (a.noise_offset[1] + t * 11) % _NOISE_PAD
        cv2.scaleAdd(a.noise[oy:oy + H, ox:ox + W], float(scene.noise_sigma), frame, dst=frame)
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8)


def label_map(scene: Scene, t: int, threshold: float = 0.5) -> np.ndarray:
    """Which object is on top at each pixel of frame ``t``: (H, W) int32 object id, -1 for
    background (pixels whose alpha exceeds ``threshold``, before motion blur). For tests
    and debugging: it checks the coverage fractions against the rendered geometry."""
    W, H = scene.size
    a = assets_of(scene)
    out = np.full((H, W), -1, np.int32)
    for o in _draw_order(scene, t):
        p_a = a.patches[o.oid][1]
        alpha = cv2.warpAffine(p_a, _patch_affine(o, t, p_a.shape), (W, H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out[alpha > threshold] = o.oid
    return out


def object_mask(scene: Scene, oid: int, t: int, threshold: float = 0.5) -> np.ndarray:
    """Pixels of object ``oid``'s own outline at frame ``t`` (ignoring what covers it)."""
    W, H = scene.size
    o = scene.obj(oid)
    p_a = assets_of(scene).patches[oid][1]
    alpha = cv2.warpAffine(p_a, _patch_affine(o, t, p_a.shape), (W, H), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return alpha > threshold


# --------------------------------------------------------------------------- motion helpers
def smooth_curve(rng: np.random.Generator, n: int, amplitude: float, cycles: float, terms: int = 3) -> np.ndarray:
    """A smooth zero-mean random curve (n,) with peak |value| about ``amplitude``, made of
    ``terms`` sinusoids of at most ``cycles`` periods over the sequence."""
    t = np.arange(n) / max(n, 1)
    out = np.zeros(n)
    for _ in range(terms):
        f = rng.uniform(0.25, 1.0) * max(cycles, 1e-3)
        out += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    peak = np.max(np.abs(out)) if n else 1.0
    return out * (amplitude / max(peak, 1e-9))


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def fold(x: np.ndarray, lo, hi) -> np.ndarray:
    """Reflect ``x`` into ``[lo, hi]`` (a bouncing path); lo/hi may be per-frame arrays."""
    lo = np.asarray(lo, np.float64)
    hi = np.asarray(hi, np.float64)
    L = np.maximum(hi - lo, 1e-6)
    y = np.mod(x - lo, 2 * L)
    return lo + np.where(y > L, 2 * L - y, y)


def velocity_blur(cx: np.ndarray, cy: np.ndarray, exposure: float) -> np.ndarray:
    """Motion-blur streak (N, 2) = exposure x displacement since the previous frame."""
    v = np.zeros((len(cx), 2))
    v[1:, 0] = np.diff(cx)
    v[1:, 1] = np.diff(cy)
    return v * exposure
