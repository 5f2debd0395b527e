"""Single-object scenes: one textured target and its challenge factors.

Each sequence is drawn from ``SeedSequence([seed, split_id, index])`` (test = 0,
train = 1, so the splits never share a scene). Its *primary* challenge (a name from
:data:`config.PRIMARIES`) is guaranteed to be present, other factors are added with
probability ``secondary_prob``. Labels are measured on what is generated, not assumed:

* ground truth: the target's full outline box (occluders ignored, as OTB annotates
  partially occluded targets) intersected with the image; NaN rows where the target
  is absent, i.e. less than ``labels.absent_below`` of its area is in the image
  (``out_of_view``) or visible (``full_occlusion``), as LaSOT marks such frames;
* flags ``occlusion`` (a share >= ``occlusion_above`` of the in-image area covered),
  ``full_occlusion``, ``out_of_view``, ``absent`` and the VOT-style tags
  ``camera_motion``, ``illum_change``, ``motion_change``, ``size_change``;
* OTB attributes (Wu et al., TPAMI 2015) from their definitions (FM, SV, LR, OV, OCC on
  the ground truth and flags; IV, MB, IPR on the rendered gain, blur and angle; DEF and
  BC from the generator) plus ``Distractors`` (look-alikes near the target).
"""
from __future__ import annotations

import functools

from typing import Dict, List, Set, Tuple

import numpy as np

from ...core.sequence import GeneratedFrames, SOTSequence
from . import textures
from .config import PRIMARIES, SyntheticConfig
from .scene import (Look, Scene, SceneObject, Track, coverage, fold, full_boxes, region_polygons,
                    render_frame, smooth_curve, smoothstep, velocity_blur)

SPLIT_IDS = {"test": 0, "train": 1}
TARGET_ID = 0

ATTRIBUTES = ("Illumination Variation", "Scale Variation", "Occlusion", "Deformation", "Motion Blur",
              "Fast Motion", "In-Plane Rotation", "Out-of-View", "Background Clutters", "Low Resolution",
              "Distractors")

# factors a primary challenge turns on
_FACTORS = {
    "distractors": {"distractors"}, "occlusion": {"occlusion"}, "out-of-view": {"out-of-view"},
    "fast-motion": {"fast-motion"}, "scale": {"scale"}, "illumination": {"illumination"},
    "motion-blur": {"motion-blur"}, "deformation": {"deformation"}, "rotation": {"rotation"},
    "clutter": {"clutter"}, "low-res": {"low-res"}, "mixed": set(),
}
# the attribute that proves a primary challenge is present
_PROOF = {
    "distractors": "Distractors", "occlusion": "Occlusion", "out-of-view": "Out-of-View",
    "fast-motion": "Fast Motion", "scale": "Scale Variation", "illumination": "Illumination Variation",
    "motion-blur": "Motion Blur", "deformation": "Deformation", "rotation": "In-Plane Rotation",
    "clutter": "Background Clutters", "low-res": "Low Resolution",
}
_SECONDARY = ("distractors", "occlusion", "out-of-view", "fast-motion", "scale", "illumination",
              "motion-blur", "deformation", "rotation", "clutter")


def seed_sequence(seed: int, split: str, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), SPLIT_IDS[split], int(index)])


def primary_of(cfg: SyntheticConfig, split: str, index: int) -> str:
    """The primary challenge of sequence ``index`` (cheap: used to name sequences)."""
    if split == "test":
        return cfg.test_primaries[index % len(cfg.test_primaries)]
    rng = np.random.default_rng(np.random.SeedSequence([int(cfg.seed), SPLIT_IDS[split], int(index), 99]))
    return str(cfg.train_primaries[int(rng.integers(len(cfg.train_primaries)))])


def sequence_names(cfg: SyntheticConfig, split: str, n: int) -> List[str]:
    width = max(3, len(str(n - 1)))
    return [f"{split}{i:0{width}d}-{primary_of(cfg, split, i)}" for i in range(n)]


def parse_name(name: str) -> Tuple[str, int]:
    """``'test007-distractors'`` -> ``('test', 7)``."""
    head = name.split("-", 1)[0]
    for split in SPLIT_IDS:
        if head.startswith(split) and head[len(split):].isdigit():
            return split, int(head[len(split):])
    raise KeyError(name)


# --------------------------------------------------------------------------- scene sampling
def _factors(cfg: SyntheticConfig, rng: np.random.Generator, primary: str) -> Set[str]:
    if primary not in PRIMARIES:
        raise ValueError(f"unknown primary challenge {primary!r}; known: {', '.join(PRIMARIES)}")
    f = set(_FACTORS[primary])
    if primary == "mixed":
        f |= set(rng.choice(_SECONDARY, size=cfg.mixed_factors, replace=False).tolist())
    for s in _SECONDARY:
        if rng.random() < cfg.secondary_prob:
            f.add(s)
    if "low-res" in f:
        f -= {"scale", "deformation", "rotation"}
    return f


def _u(rng: np.random.Generator, r) -> float:
    return float(rng.uniform(r[0], r[1]))


def _i(rng: np.random.Generator, r) -> int:
    return int(rng.integers(r[0], r[1] + 1))


def _contrast_hue(rng: np.random.Generator, hue: float) -> float:
    return (hue + rng.uniform(0.25, 0.75)) % 1.0


def build_scene(cfg: SyntheticConfig, rng: np.random.Generator, factors: Set[str]) -> Tuple[Scene, Dict]:
    """Sample one single-object scene (parameters only). Returns (scene, info)."""
    W, H = cfg.size
    N = cfg.length
    F = cfg.factors
    k = np.sqrt(W * H / (320.0 * 240.0))  # pixel ranges are for 320x240
    t = np.arange(N, dtype=np.float64)
    seeds = rng.integers(0, 2 ** 31, 16)

    # ---- target look and size
    hue = float(rng.random())
    family = str(rng.choice(textures.FAMILIES))
    pal = textures.palette(rng, hue, 3)
    exponent = float(rng.choice(F.exponents))
    deform = _u(rng, F.deform) if "deformation" in factors else 0.0
    look = Look(family, pal, int(seeds[0]), exponent, deform, _u(rng, F.deform_period))
    if "low-res" in factors:
        area = _u(rng, F.low_res_area_px)
    else:
        area = _u(rng, F.target_area) * W * H
    aspect = float(np.exp(rng.uniform(np.log(F.aspect[0]), np.log(F.aspect[1]))))
    w0, h0 = np.sqrt(area * aspect), np.sqrt(area / aspect)

    # ---- scale, aspect, rotation
    log_s = smooth_curve(rng, N, np.log(1.08), 1.5)
    log_a = smooth_curve(rng, N, 0.05, 1.5)
    if "scale" in factors:
        ta, tb = sorted(rng.uniform(0.05, 0.9, 2) * N)
        tb = max(tb, ta + 0.2 * N)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        log_s = log_s + sign * np.log(_u(rng, F.scale_change)) * smoothstep((t - ta) / (tb - ta))
        log_a = log_a + smooth_curve(rng, N, F.aspect_change, 1.0)
    if deform > 0:
        log_a = log_a + 0.15 * np.sin(2 * np.pi * t / look.deform_period)
    log_s -= log_s[0]
    log_a -= log_a[0]
    w = w0 * np.exp(log_s + log_a / 2)
    h = h0 * np.exp(log_s - log_a / 2)
    shrink = min(1.0, 0.45 * W / w.max(), 0.45 * H / h.max())
    w, h = w * shrink, h * shrink
    if "low-res" not in factors:  # keep the target big enough to be trackable
        grow = max(1.0, np.sqrt(120.0 / (w * h).min()))
        w, h = w * grow, h * grow
    angle = np.zeros(N)
    if "rotation" in factors:
        angle = smooth_curve(rng, N, np.deg2rad(_u(rng, F.rotation_deg)), 1.5)
        angle -= angle[0] * rng.uniform(0.0, 1.0)

    # ---- path inside the image
    if "rotation" in factors:
        half_w = half_h = np.hypot(w, h) / 2
    else:
        half_w, half_h = w / 2, h / 2
    cx = W * rng.uniform(0.35, 0.65) + smooth_curve(rng, N, _u(rng, F.wander) * W, _u(rng, F.wander_cycles))
    cy = H * rng.uniform(0.35, 0.65) + smooth_curve(rng, N, _u(rng, F.wander) * H, _u(rng, F.wander_cycles))

    def jumps(n_jumps: int, size_px, frames) -> Tuple[np.ndarray, np.ndarray]:
        jx, jy = np.zeros(N), np.zeros(N)
        for _ in range(n_jumps):
            tj = rng.uniform(0.1, 0.95) * N
            d = rng.uniform(frames[0], frames[1])
            mag = _u(rng, size_px) * k
            th = rng.uniform(0, 2 * np.pi)
            s = smoothstep((t - tj) / d)
            jx += mag * np.cos(th) * s
            jy += mag * np.sin(th) * s
        return jx, jy

    if "fast-motion" in factors:
        jx, jy = jumps(_i(rng, F.fast_jumps), F.fast_jump_px, (1.0, 2.0))
        cx, cy = cx + jx, cy + jy
    if "motion-blur" in factors:
        jx, jy = jumps(_i(rng, (2, 4)), F.blur_jump_px, (2.5, 3.5))
        cx, cy = cx + jx, cy + jy
    m = 2.0
    cx = fold(cx, half_w + m, W - half_w - m)
    cy = fold(cy, half_h + m, H - half_h - m)

    # ---- out-of-view spell: push the target out through the nearest border and back
    ov = None
    if "out-of-view" in factors:
        t0 = rng.uniform(0.3, 0.6) * N
        short = min(1.0, N / 120.0)  # shorter sequences get shorter spells
        dur = max(1, int(round(_i(rng, F.out_of_view_frames) * short)))
        ramp = max(2, int(round(_i(rng, F.out_of_view_ramp) * short)))
        i0 = int(np.clip(round(t0), 0, N - 1))
        dists = np.array([cx[i0], W - cx[i0], cy[i0], H - cy[i0]])
        side = int(np.argmin(dists))
        for _ in range(2):  # slow the exit down so that leaving the view is not also fast motion
            span = (t >= t0 - ramp) & (t <= t0 + dur + ramp)
            hw, hh = half_w[span].max(), half_h[span].max()
            if side < 2:
                need = (cx[span] if side == 0 else W - cx[span]).max() + hw + 6
            else:
                need = (cy[span] if side == 2 else H - cy[span]).max() + hh + 6
            ramp = max(ramp, int(np.ceil(1.5 * need / (0.7 * cfg.labels.fast_motion_px))))
        bump = smoothstep((t - (t0 - ramp)) / ramp) * (1 - smoothstep((t - (t0 + dur)) / ramp))
        sign = -1.0 if side in (0, 2) else 1.0
        if side < 2:
            cx = cx + sign * need * bump
        else:
            cy = cy + sign * need * bump
        ov = (t0, dur)

    exposure = _u(rng, F.blur_exposure) if "motion-blur" in factors else 0.0
    target = SceneObject(TARGET_ID, "target", look,
                         Track.make(cx, cy, w, h, angle, z=0.0, blur=velocity_blur(cx, cy, exposure)))
    objects = [target]
    size_t = np.sqrt(w * h)
    oid = 1

    # ---- look-alike distractors orbiting the target (behind or in front)
    if "distractors" in factors:
        for _ in range(_i(rng, F.distractors)):
            dl = Look(family, pal, look.seed, exponent, deform, look.deform_period,
                      mix_seed=int(rng.integers(0, 2 ** 31)), mix=1.0 - _u(rng, F.distractor_similarity))
            r = _u(rng, F.distractor_radius) + smooth_curve(rng, N, 0.7, 1.5)
            tc = rng.uniform(0.25, 0.9) * N
            r = r - (r.max() - 0.35) * np.exp(-0.5 * ((t - tc) / rng.uniform(3, 8)) ** 2)  # one close pass
            r = np.clip(r, 0.3, 3.0)
            r[: max(1, int(0.05 * N))] = np.maximum(r[: max(1, int(0.05 * N))], 1.4)
            phi = rng.uniform(0, 2 * np.pi) + smooth_curve(rng, N, np.pi, 1.0)
            sf = rng.uniform(0.85, 1.15)
            dw, dh = w * sf, h * sf
            dx = fold(cx + r * size_t * np.cos(phi), dw / 2, W - dw / 2)
            dy = fold(cy + r * size_t * np.sin(phi), dh / 2, H - dh / 2)
            z = 1.0 if rng.random() < 0.35 else -1.0
            objects.append(SceneObject(oid, "distractor", dl,
                                       Track.make(dx, dy, dw, dh, angle, z=z, blur=velocity_blur(dx, dy, exposure))))
            oid += 1

    # ---- occluders passing in front of the target
    if "occlusion" in factors:
        kinds = ["full" if rng.random() < 0.6 else "partial"]
        if rng.random() < 0.5:
            kinds.append("partial" if kinds[0] == "full" else "full")
        slots = np.sort(rng.uniform(0.3, 0.85, len(kinds))) * N
        if len(slots) == 2 and slots[1] - slots[0] < 0.2 * N:
            slots[1] = min(0.92 * N, slots[0] + 0.2 * N)
        for kind, tc in zip(kinds, slots):
            i = int(min(round(tc), N - 1))
            speed = _u(rng, F.occluder_speed_px) * k
            th = rng.uniform(0, 2 * np.pi)
            d = np.array([np.cos(th), np.sin(th)])
            if kind == "full":
                s = _u(rng, F.full_occluder_scale)
                ow, oh = w[i] * s + 8, h[i] * s + 8
                perp = 0.0
            else:
                ow, oh = w[i] * _u(rng, F.partial_occluder_scale), h[i] * _u(rng, F.partial_occluder_scale)
                perp = rng.uniform(0.25, 0.5) * (1 if rng.random() < 0.5 else -1)
            off = (t - tc)[:, None] * speed * d[None] + perp * np.array([-d[1], d[0]]) * np.array([w[i], h[i]])
            ox, oy = cx + off[:, 0], cy + off[:, 1]
            ol = Look(str(rng.choice(textures.ALL_FAMILIES[:4] + ("plain",))),
                      textures.palette(rng, _contrast_hue(rng, hue), 3), int(rng.integers(0, 2 ** 31)),
                      float(rng.choice([4.0, 8.0, 30.0])))
            objects.append(SceneObject(oid, "occluder", ol,
                                       Track.make(ox, oy, np.full(N, ow), np.full(N, oh), z=2.0,
                                                  blur=velocity_blur(ox, oy, exposure))))
            oid += 1

    # ---- background and clutter
    clutter = "clutter" in factors
    if clutter:
        bg_pal = textures.palette(rng, hue, 3, hue_spread=0.06)
        cl_pal = pal
    else:
        bg_pal = textures.palette(rng, _contrast_hue(rng, hue), 3, sat=(0.1, 0.5), val=(0.2, 0.8))
        cl_pal = textures.palette(rng, _contrast_hue(rng, hue), 4, hue_spread=0.2)
    bw, bh = int(W * 1.8), int(H * 1.8)
    stamps = []
    if clutter:
        for _ in range(_i(rng, F.clutter_stamps)):
            sf = rng.uniform(0.7, 1.3)
            stamps.append((Look(family, pal, int(rng.integers(0, 2 ** 31)), exponent),
                           float(rng.uniform(0, bw)), float(rng.uniform(0, bh)), float(w0 * sf), float(h0 * sf)))

    # ---- camera: pan and zoom over the large background
    pan = _u(rng, F.camera_pan_px) * k
    cam = np.stack([bw / 2 + smooth_curve(rng, N, pan, 1.0), bh / 2 + smooth_curve(rng, N, pan * 0.6, 1.0),
                    1.0 + smooth_curve(rng, N, F.camera_zoom, 1.0)], -1)

    # ---- illumination
    light = np.zeros((N, 5))
    light[:, 0] = 1.0 + smooth_curve(rng, N, 0.03, 1.0)
    light[:, 1], light[:, 2], light[:, 4] = W / 2, H / 2, max(W, H)
    if "illumination" in factors:
        lo, hi = F.illumination_levels
        levels = [1.0, float(rng.choice([rng.uniform(lo, 0.6), rng.uniform(1.4, hi)]))]
        levels.append(float(rng.uniform(lo, hi)) if rng.random() < 0.5 else levels[0])
        ta, tb = sorted(rng.uniform(0.2, 0.9, 2) * N)
        g = (levels[0] + (levels[1] - levels[0]) * smoothstep((t - ta) / rng.uniform(3, 10))
             + (levels[2] - levels[1]) * smoothstep((t - tb) / rng.uniform(3, 10)))
        light[:, 0] = g
        ts = rng.uniform(0.2, 0.9) * N
        th = rng.uniform(0, 2 * np.pi)
        vs = rng.uniform(2, 5) * k
        light[:, 1] = cx + (t - ts) * vs * np.cos(th)
        light[:, 2] = cy + (t - ts) * vs * np.sin(th)
        light[:, 3] = rng.uniform(0.4, 0.9)
        light[:, 4] = rng.uniform(0.8, 1.5) * size_t.max()

    scene = Scene(size=(W, H), length=N, seed=int(seeds[1]), bg_size=(bw, bh), bg_palette=bg_pal,
                  bg_clutter=_i(rng, F.clutter_shapes), bg_clutter_palette=cl_pal, camera=cam, light=light,
                  noise_sigma=_u(rng, F.noise_sigma), objects=objects, bg_stamps=stamps)
    return scene, {"exposure": exposure, "out_of_view": ov}


# --------------------------------------------------------------------------- labels
def measure(cfg: SyntheticConfig, scene: Scene, factors: Set[str]) -> Dict:
    """Ground truth, flags and attributes of the target as generated."""
    L = cfg.labels
    W, H = scene.size
    N = scene.length
    tgt = scene.obj(TARGET_ID)
    tr = tgt.track
    inside, visible = coverage(scene, TARGET_ID)
    out_of_view = inside < L.absent_below
    full_occ = ~out_of_view & (visible < L.absent_below)
    absent = out_of_view | full_occ
    occluded = ~absent & ((inside - visible) >= L.occlusion_above * np.maximum(inside, 1e-9))

    box = full_boxes(tr, tgt.look.exponent)
    x0 = np.clip(box[:, 0], 0, W)
    y0 = np.clip(box[:, 1], 0, H)
    x1 = np.clip(box[:, 0] + box[:, 2], 0, W)
    y1 = np.clip(box[:, 1] + box[:, 3], 0, H)
    gt = np.round(np.stack([x0, y0, x1 - x0, y1 - y0], -1), 3)  # as written by write_otb
    gt[absent] = np.nan

    valid = ~absent
    ctr = gt[:, :2] + (gt[:, 2:] - 1) / 2
    both = valid[1:] & valid[:-1]
    disp = np.where(both, np.hypot(*(ctr[1:] - ctr[:-1]).T), 0.0)
    full_area = tr.w * tr.h  # the target's own size (rotation and clipping are not scale changes)
    ratio = full_area[valid] / full_area[0]
    gain = scene.gain_at(tr.cx, tr.cy)
    blur_len = np.hypot(tr.blur[:, 0], tr.blur[:, 1])
    ang = np.rad2deg(tr.angle)

    near = np.zeros(N, bool)
    size_t = np.sqrt(tr.w * tr.h)
    for o in scene.objects:
        if o.role != "distractor":
            continue
        d = np.hypot(o.track.cx - tr.cx, o.track.cy - tr.cy)
        near |= o.track.present & (d < L.distractor_sizes * size_t)

    attrs = []
    if gain.max() / gain.min() >= L.illumination_ratio:
        attrs.append("Illumination Variation")
    if np.any((ratio > L.scale_ratio) | (ratio < 1.0 / L.scale_ratio)):
        attrs.append("Scale Variation")
    if np.any(occluded | full_occ):
        attrs.append("Occlusion")
    if tgt.look.deform > 0:
        attrs.append("Deformation")
    if np.any(valid & (blur_len >= L.motion_blur_px)):
        attrs.append("Motion Blur")
    if np.any(disp > L.fast_motion_px):
        attrs.append("Fast Motion")
    if ang.max() - ang.min() >= L.rotation_deg:
        attrs.append("In-Plane Rotation")
    if np.any(inside < L.out_of_view_below):
        attrs.append("Out-of-View")
    if "clutter" in factors:
        attrs.append("Background Clutters")
    if valid.any() and np.median(full_area[valid]) < L.low_res_px:
        attrs.append("Low Resolution")
    if near.mean() >= L.distractor_share:
        attrs.append("Distractors")

    # VOT-style per-frame tags
    def tag(x: np.ndarray) -> np.ndarray:
        out = np.zeros(N, bool)
        out[1:] = x
        return out

    acc = np.zeros(N)
    acc[2:] = np.hypot(np.diff(tr.cx, 2), np.diff(tr.cy, 2))
    cam = scene.camera
    cam_px = np.hypot(np.diff(cam[:, 0]), np.diff(cam[:, 1])) * cam[1:, 2]
    cam_zoom = np.abs(np.diff(np.log(cam[:, 2]))) * max(W, H) / 2
    flags = {
        "occlusion": occluded | full_occ,
        "full_occlusion": full_occ,
        "out_of_view": out_of_view,
        "absent": absent,
        "camera_motion": tag(np.maximum(cam_px, cam_zoom) > L.camera_motion_px),
        "illum_change": tag(np.abs(np.diff(np.log(gain))) > L.illum_change),
        "motion_change": acc > L.motion_change_px,
        "size_change": tag(np.abs(np.diff(np.log(full_area))) > L.size_change),
    }
    return {"gt": gt, "flags": flags, "attributes": tuple(a for a in ATTRIBUTES if a in attrs),
            "inside": inside, "visible": visible, "gain": gain, "blur": blur_len}


def _acceptable(cfg: SyntheticConfig, scene: Scene, m: Dict, primary: str) -> bool:
    if m["visible"][0] < 0.999 or m["inside"][0] < 0.999:
        return False
    tr = scene.obj(TARGET_ID).track
    size0 = np.sqrt(tr.w[0] * tr.h[0])
    for o in scene.objects:
        if o.role in ("distractor", "occluder"):
            if np.hypot(o.track.cx[0] - tr.cx[0], o.track.cy[0] - tr.cy[0]) < 1.0 * size0:
                return False
    if primary in _PROOF and _PROOF[primary] not in m["attributes"]:
        return False
    return bool(m["flags"]["absent"].mean() < 0.5)


def make_sequence(cfg: SyntheticConfig, split: str, index: int, name: str = "") -> SOTSequence:
    """Sequence ``index`` of ``split`` (lazy frames, parameters and labels computed now)."""
    ss = seed_sequence(cfg.seed, split, index)
    rng = np.random.default_rng(ss)
    primary = primary_of(cfg, split, index)
    for _ in range(30):
        factors = _factors(cfg, rng, primary)
        scene, info = build_scene(cfg, rng, factors)
        m = measure(cfg, scene, factors)
        if _acceptable(cfg, scene, m, primary):
            break
    name = name or sequence_names(cfg, split, index + 1)[-1]
    objs = {}
    for role in ("distractor", "occluder"):
        boxes = [full_boxes(o.track, o.look.exponent) for o in scene.objects if o.role == role]
        objs[role] = np.stack(boxes) if boxes else np.zeros((0, scene.length, 4))
    meta = {
        "generator": "bench.datasets.synthetic", "seed": [int(cfg.seed), SPLIT_IDS[split], int(index)],
        "split": split, "primary": primary, "factors": sorted(factors),
        "inside_fraction": m["inside"], "visible_fraction": m["visible"],
        "illumination_gain": m["gain"], "blur_px": m["blur"],
        "region_polygons": region_polygons(scene.obj(TARGET_ID).track),
        "distractor_boxes": objs["distractor"], "occluder_boxes": objs["occluder"],
        "scene": scene,
    }
    frames = GeneratedFrames(scene.length, functools.partial(render_frame, scene))  # picklable
    return SOTSequence(name=name, gt=m["gt"], frames=frames, flags=m["flags"], attributes=m["attributes"],
                    image_size=tuple(scene.size), meta=meta)
