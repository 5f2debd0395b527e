"""Multi-object scenes: people walking on a ground plane, with simulated public detections.

The same scene core as the single-object benchmark (:mod:`.scene`): each person is a
:class:`SceneObject` with an identity, a ``person`` texture (shirt, trousers, skin,
hair; some people dressed alike), a perspective-scaled upright box (taller near the
bottom of the image), walking at constant speed with pauses and a gait wobble. Depth
order follows the feet (lower in the image = nearer), so people crossing occlude each
other; static poles and boxes occlude walkers too. People are in view at the start,
enter and leave through the left / right borders, and a few appear or vanish inside
the image (doorways).

Ground truth follows MOTChallenge (MOT16/17): rows ``frame, id, x, y, w, h, 1, 1,
visibility`` with the full box (it may extend past the image border) and
``visibility`` = the fraction of the person's outline that is inside the image and
not covered by anything nearer (:func:`.scene.coverage`). A person is annotated from
the first frame in which ``people.gt_min_inside`` of the outline is in the image.

Detections (``frame, -1, x, y, w, h, score``) are drawn from a separate seed stream:
a box with visibility ``v`` is detected with probability ``(1 - miss_rate) *
clip((v - visible_zero) / (visible_full - visible_zero), 0, 1)``, its centre and size
jittered by ``jitter`` x its size, scored ``a + b * v + N(0, score_noise)``; plus
Poisson(``fp_per_frame``) false positives per frame, person-sized for their place
(``fp_near_share`` of them beside a true person; re-drawn while they overlap a
person with IoU >= 0.4), scored ``Beta(a, b)``. Detections are
clipped to the image. ``meta['det_tp']`` marks the true ones and ``meta['det_gt_row']``
their gt row.
"""
from __future__ import annotations

import functools

from typing import Dict, List, Tuple

import numpy as np

from ...core.boxes import iou_matrix
from ...core.sequence import GeneratedFrames, MOTSequence
from . import textures
from .config import SyntheticMOTConfig
from .scene import Look, Scene, SceneObject, Track, coverage, full_boxes, render_frame, smooth_curve
from .sot import SPLIT_IDS


def mot_sequence_names(split: str, n: int) -> List[str]:
    return [f"SYN-{split}-{i + 1:02d}" for i in range(n)]


def _person_palette(rng: np.random.Generator) -> np.ndarray:
    shirt = [rng.random(), rng.uniform(0.35, 0.9), rng.uniform(0.45, 0.95)]
    trousers = [rng.random(), rng.uniform(0.1, 0.6), rng.uniform(0.15, 0.55)]
    skin = [rng.uniform(0.03, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.35, 0.95)]
    hair = [rng.uniform(0.0, 0.12), rng.uniform(0.2, 0.7), rng.uniform(0.08, 0.4)]
    return textures.hsv_to_rgb(np.array([shirt, trousers, skin, hair]))


def build_mot_scene(cfg: SyntheticMOTConfig, rng: np.random.Generator) -> Scene:
    """Sample the people, static occluders, background and light of one sequence."""
    W, H = cfg.size
    N = cfg.length
    P = cfg.people
    t = np.arange(N, dtype=np.float64)
    y_h = P.horizon * H
    h_bottom = P.height_at_bottom * H

    def height_at(foot: np.ndarray) -> np.ndarray:
        return h_bottom * (foot - y_h) / (H - y_h)

    # births: people in view at frame 0, then a Poisson stream entering (or appearing)
    starts: List[Tuple[float, str]] = [(0.0, "initial")] * int(rng.integers(P.initial[0], P.initial[1] + 1))
    n_births = int(rng.poisson(P.births_per_frame * (N - 1)))
    for tb in np.sort(rng.uniform(1, N - 1, n_births)):
        starts.append((float(np.floor(tb)), "appear" if rng.random() < P.appear_share else "enter"))

    objects: List[SceneObject] = []
    palettes: List[np.ndarray] = []
    for k, (tb, how) in enumerate(starts):
        foot0 = rng.uniform(P.foot_range[0], P.foot_range[1]) * H
        depth = height_at(np.array([foot0]))[0] / h_bottom
        speed = rng.uniform(*P.speed) * depth
        direction = 1.0 if rng.random() < 0.5 else -1.0
        vx, vy = direction * speed, rng.uniform(-0.15, 0.15) * speed
        moving = (t >= tb).astype(np.float64)
        if rng.random() < P.pause_prob:
            tp = rng.uniform(tb, N)
            moving[(t >= tp) & (t < tp + rng.uniform(10, 40))] = 0.0
        tau = np.cumsum(moving) - 1.0  # walking time since birth
        tau = np.maximum(tau, 0.0)
        foot = foot0 + vy * tau
        foot = np.clip(foot, P.foot_range[0] * H, P.foot_range[1] * H)
        h = height_at(foot)
        aspect = rng.uniform(*P.aspect)
        gait = 2 * np.pi * tau * speed / max(h.mean() * 0.9, 1.0) + rng.uniform(0, 2 * np.pi)
        h = h * (1 + 0.02 * np.sin(2 * gait))
        w = h * aspect * (1 + 0.06 * np.sin(gait))
        if how == "enter":
            x0 = -w[int(tb)] / 2 - 1 if direction > 0 else W + w[int(tb)] / 2 + 1
        elif how == "appear":
            x0 = rng.uniform(0.15, 0.85) * W
        else:
            x0 = rng.uniform(0.03, 0.97) * W
        cx = x0 + vx * tau + smooth_curve(rng, N, 1.5, 2.0)
        cy = foot - h / 2
        present = t >= tb
        # leaving: once fully outside after having been inside, the person is gone
        outside = (cx + w / 2 < 0) | (cx - w / 2 > W)
        seen = np.cumsum(~outside & present) > 0
        gone = seen & outside
        if gone.any():
            present &= t < np.argmax(gone)
        if how == "appear" and rng.random() < 0.5:
            present &= t < tb + rng.uniform(30, 120)
        if rng.random() < P.lookalike_share and palettes:
            pal = palettes[int(rng.integers(len(palettes)))]
        else:
            pal = _person_palette(rng)
        palettes.append(pal)
        look = Look("person", pal, int(rng.integers(0, 2 ** 31)), exponent=3.0)
        objects.append(SceneObject(k + 1, "person", look, Track.make(cx, cy, w, h, present=present, z=foot)))

    # static occluders: poles and boxes standing on the ground (not annotated)
    n_static = int(rng.integers(P.static_occluders[0], P.static_occluders[1] + 1))
    for j in range(n_static):
        foot = rng.uniform(0.75, 0.98) * H
        if rng.random() < 0.5:
            ow, oh = rng.uniform(0.015, 0.03) * W, height_at(np.array([foot]))[0] * rng.uniform(1.2, 1.8)
        else:
            ow, oh = rng.uniform(0.08, 0.16) * W, height_at(np.array([foot]))[0] * rng.uniform(0.35, 0.6)
        cx = rng.uniform(0.1, 0.9) * W
        look = Look("plain", textures.palette(rng, rng.random(), 3, sat=(0.0, 0.3)), int(rng.integers(0, 2 ** 31)),
                    exponent=30.0)
        objects.append(SceneObject(1000 + j, "static", look,
                                   Track.make(np.full(N, cx), foot - oh / 2, ow, oh, z=foot)))

    bw, bh = int(W * 1.1), int(H * 1.1)
    cam = np.tile([bw / 2, bh / 2, 1.0], (N, 1))
    light = np.zeros((N, 5))
    light[:, 0] = 1.0 + smooth_curve(rng, N, 0.03, 1.0)
    light[:, 1], light[:, 2], light[:, 4] = W / 2, H / 2, max(W, H)
    bg_hue = rng.random()
    return Scene(size=(W, H), length=N, seed=int(rng.integers(0, 2 ** 31)), bg_size=(bw, bh),
                 bg_palette=textures.palette(rng, bg_hue, 3, sat=(0.05, 0.35), val=(0.3, 0.85)),
                 bg_clutter=int(rng.integers(40, 80)),
                 bg_clutter_palette=textures.palette(rng, bg_hue + 0.5, 4, hue_spread=0.3, sat=(0.1, 0.6)),
                 camera=cam, light=light, noise_sigma=float(rng.uniform(*P.noise_sigma)), objects=objects)


def ground_truth(cfg: SyntheticMOTConfig, scene: Scene) -> Tuple[np.ndarray, Dict[int, int]]:
    """MOTChallenge gt rows (R, 9) sorted by frame then id, and {scene object id: gt id}
    (ids renumbered 1..K in order of first appearance)."""
    rows = []
    for o in scene.objects:
        if o.role != "person":
            continue
        inside, visible = coverage(scene, o.oid)
        keep = o.track.present & (inside >= cfg.people.gt_min_inside)
        if not keep.any():
            continue
        f = np.flatnonzero(keep)
        box = full_boxes(o.track, o.look.exponent)[f]
        r = np.zeros((len(f), 9))
        r[:, 0] = f + 1
        r[:, 1] = o.oid
        r[:, 2:6] = box
        r[:, 6] = 1
        r[:, 7] = 1
        r[:, 8] = np.clip(visible[f], 0.0, 1.0)
        rows.append(r)
    if not rows:
        return np.zeros((0, 9)), {}
    gt = np.concatenate(rows)
    first = {}
    for fr, i in gt[np.lexsort((gt[:, 1], gt[:, 0]))][:, :2]:
        first.setdefault(int(i), len(first) + 1)
    gt[:, 1] = [first[int(i)] for i in gt[:, 1]]
    return gt[np.lexsort((gt[:, 1], gt[:, 0]))], first


def _fp_boxes(cfg: SyntheticMOTConfig, rng: np.random.Generator, gt: np.ndarray, frames: np.ndarray,
              near: np.ndarray, rows_of: Dict[int, np.ndarray]) -> Tuple[np.ndarray, ...]:
    """False-positive boxes ``x, y, w, h``: person-sized for their place on the ground, or
    (``near``) beside a true person, shifted by 0.5-0.9 of its size."""
    P = cfg.people
    W, H = cfg.size
    m = len(frames)
    y_h = P.horizon * H
    foot = rng.uniform(P.foot_range[0], P.foot_range[1], m) * H
    fh = P.height_at_bottom * H * (foot - y_h) / (H - y_h) * rng.uniform(0.8, 1.2, m)
    fw = fh * rng.uniform(*P.aspect, m)
    fx = rng.uniform(0, W, m) - fw / 2
    fy = foot - fh
    for i in np.flatnonzero(near):
        cand = rows_of.get(int(frames[i]))
        if cand is None or not len(cand):
            continue
        r = gt[cand[int(rng.integers(len(cand)))]]
        s = rng.uniform(0.8, 1.2)
        th = rng.uniform(0, 2 * np.pi)
        shift = rng.uniform(0.5, 0.9)
        fw[i], fh[i] = r[4] * s, r[5] * s
        fx[i] = r[2] + r[4] * (1 - s) / 2 + shift * r[4] * np.cos(th)
        fy[i] = r[3] + r[5] * (1 - s) / 2 + shift * r[5] * np.sin(th)
    return fx, fy, fw, fh


def simulate_detections(cfg: SyntheticMOTConfig, gt: np.ndarray, rng: np.random.Generator
                        ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Public detections (D, 7) sorted by frame, with ``is_tp`` (D,) and ``gt_row`` (D,) (-1 for FPs)."""
    D = cfg.detections
    W, H = cfg.size
    N = cfg.length
    vis = gt[:, 8]
    ramp = np.clip((vis - D.visible_zero) / max(D.visible_full - D.visible_zero, 1e-9), 0.0, 1.0)
    hit = rng.random(len(gt)) < (1.0 - D.miss_rate) * ramp
    g = gt[hit]
    n = len(g)
    wh = g[:, 4:6]
    ctr = g[:, 2:4] + wh / 2 + rng.standard_normal((n, 2)) * D.jitter * wh
    wh = wh * np.exp(rng.standard_normal((n, 2)) * D.jitter)
    a, b = D.tp_score
    score = np.clip(a + b * g[:, 8] + rng.standard_normal(n) * D.score_noise, 0.01, 1.0)
    tp = np.column_stack([g[:, 0], -np.ones(n), ctr - wh / 2, wh, score])

    n_fp = rng.poisson(D.fp_per_frame, N)
    frames = np.repeat(np.arange(1, N + 1), n_fp)
    m = len(frames)
    fx, fy, fw, fh = (np.zeros(m) for _ in range(4))
    near = rng.random(m) < D.fp_near_share
    rows_of = {int(f): np.flatnonzero(gt[:, 0] == f) for f in np.unique(frames)} if len(gt) else {}
    todo = np.arange(m)
    for _ in range(8):  # re-draw false positives that happen to cover a person (IoU >= 0.4)
        if not len(todo):
            break
        fx[todo], fy[todo], fw[todo], fh[todo] = _fp_boxes(cfg, rng, gt, frames[todo], near[todo], rows_of)
        bad = []
        for i in todo:
            cand = rows_of.get(int(frames[i]))
            if cand is not None and len(cand):
                if iou_matrix(np.array([[fx[i], fy[i], fw[i], fh[i]]]), gt[cand, 2:6]).max() >= 0.4:
                    bad.append(i)
        todo = np.asarray(bad, np.int64)
    keep_fp = np.ones(m, bool)
    keep_fp[todo] = False
    frames, fx, fy, fw, fh = frames[keep_fp], fx[keep_fp], fy[keep_fp], fw[keep_fp], fh[keep_fp]
    m = len(frames)
    fscore = rng.beta(D.fp_score_beta[0], D.fp_score_beta[1], m)
    fp = np.column_stack([frames, -np.ones(m), fx, fy, fw, fh, fscore])

    det = np.concatenate([tp, fp])
    is_tp = np.r_[np.ones(n, bool), np.zeros(m, bool)]
    gt_row = np.r_[np.flatnonzero(hit), -np.ones(m, np.int64)]
    # clip to the image; drop boxes left with no area
    x0, y0 = np.clip(det[:, 2], 0, W), np.clip(det[:, 3], 0, H)
    x1, y1 = np.clip(det[:, 2] + det[:, 4], 0, W), np.clip(det[:, 3] + det[:, 5], 0, H)
    det[:, 2], det[:, 3], det[:, 4], det[:, 5] = x0, y0, x1 - x0, y1 - y0
    ok = (det[:, 4] >= 2) & (det[:, 5] >= 2)
    det, is_tp, gt_row = det[ok], is_tp[ok], gt_row[ok]
    order = np.argsort(det[:, 0], kind="stable")
    return det[order], is_tp[order], gt_row[order]


def make_mot_sequence(cfg: SyntheticMOTConfig, split: str, index: int, name: str = "") -> MOTSequence:
    """Sequence ``index`` of ``split``: frames rendered on demand, gt and detections computed now."""
    ss = np.random.SeedSequence([int(cfg.seed), SPLIT_IDS[split], int(index), 2])
    r_scene, r_det = (np.random.default_rng(s) for s in ss.spawn(2))
    scene = build_mot_scene(cfg, r_scene)
    gt, ids = ground_truth(cfg, scene)
    gt[:, 2:6] = np.round(gt[:, 2:6], 2)  # as written to gt.txt, so a written copy reads back identical
    gt[:, 8] = np.round(gt[:, 8], 6)
    det, is_tp, gt_row = simulate_detections(cfg, gt, r_det)
    det[:, 2:6] = np.round(det[:, 2:6], 2)
    det[:, 6] = np.round(det[:, 6], 6)
    name = name or mot_sequence_names(split, index + 1)[-1]
    frames = GeneratedFrames(scene.length, functools.partial(render_frame, scene))  # picklable
    meta = {"generator": "bench.datasets.synthetic", "seed": [int(cfg.seed), SPLIT_IDS[split], int(index)],
            "split": split, "scene": scene, "det_tp": is_tp, "det_gt_row": gt_row,
            "gt_ids": ids}
    return MOTSequence(name=name, length=scene.length, frames=frames, gt=gt, detections=det,
                       image_size=tuple(scene.size), fps=cfg.fps, meta=meta)
