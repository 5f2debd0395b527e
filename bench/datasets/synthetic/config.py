"""Typed configuration of the synthetic generators (values and sources in
``configs/datasets/synthetic.yaml`` and ``configs/datasets/synthetic-mot.yaml``)."""
from __future__ import annotations

import dataclasses
from typing import List, Literal, Optional, Tuple

Range = Tuple[float, float]

PRIMARIES = ("distractors", "occlusion", "out-of-view", "fast-motion", "scale", "illumination",
             "motion-blur", "deformation", "rotation", "clutter", "low-res", "mixed")


@dataclasses.dataclass
class Labels:
    """Thresholds turning the rendered geometry into per-frame flags and OTB attributes."""

    absent_below: float = 0.1            # visible (or in-image) fraction below which gt is NaN
    occlusion_above: float = 0.1         # covered share of the in-image area -> 'occlusion' flag
    out_of_view_below: float = 0.95      # OV attribute: in-image fraction below this in some frame
    fast_motion_px: float = 20.0         # OTB t_m
    scale_ratio: float = 2.0             # OTB t_s, on the box area relative to the first frame
    low_res_px: float = 400.0            # OTB t_r, median box area in pixels
    motion_blur_px: float = 5.0          # blur streak length on the visible target
    rotation_deg: float = 20.0           # in-plane rotation range
    illumination_ratio: float = 1.5      # max / min illumination gain at the target centre
    distractor_sizes: float = 3.0        # look-alike within this many target sizes ...
    distractor_share: float = 0.3        # ... in at least this share of the frames
    # per-frame VOT-style tags
    size_change: float = 0.02            # |log area ratio| between consecutive frames
    motion_change_px: float = 3.0        # |acceleration| of the centre, px / frame^2
    illum_change: float = 0.02           # |log gain ratio| between consecutive frames
    camera_motion_px: float = 0.5        # background displacement in image pixels per frame


@dataclasses.dataclass
class Factors:
    """Ranges the single-object scenes are drawn from (pixels for a 320x240 frame scale with the size)."""

    target_area: Range = (0.012, 0.04)           # fraction of the image area
    low_res_area_px: Range = (150.0, 340.0)      # absolute, under OTB's 400 px
    aspect: Range = (0.5, 2.0)                   # w / h, log-uniform
    exponents: List[float] = dataclasses.field(default_factory=lambda: [2.0, 3.0, 4.0, 8.0, 30.0])
    wander: Range = (0.12, 0.3)                  # path amplitude, fraction of the image size
    wander_cycles: Range = (0.5, 2.0)
    fast_jump_px: Range = (34.0, 60.0)           # fast motion: jumps covered in 1-2 frames
    fast_jumps: Tuple[int, int] = (2, 4)
    blur_exposure: Range = (0.7, 1.0)            # blur streak = exposure x displacement
    blur_jump_px: Range = (18.0, 30.0)           # motion blur: jumps covered in 2.5-3.5 frames
    scale_change: Range = (1.6, 2.1)             # linear scale reached in 'scale' scenes
    aspect_change: float = 0.25                  # log-aspect amplitude in 'scale' scenes
    rotation_deg: Range = (35.0, 70.0)
    deform: Range = (0.05, 0.1)                  # texture warp amplitude, fraction of the size
    deform_period: Range = (12.0, 30.0)          # frames
    occluder_speed_px: Range = (2.5, 5.0)        # relative to the target
    full_occluder_scale: Range = (1.5, 2.0)
    partial_occluder_scale: Range = (0.5, 0.9)
    out_of_view_frames: Tuple[int, int] = (8, 20)
    out_of_view_ramp: Tuple[int, int] = (10, 16)
    distractors: Tuple[int, int] = (1, 2)
    distractor_radius: Range = (1.1, 2.2)        # centre distance in target sizes
    distractor_similarity: Range = (0.4, 0.7)    # share of the target's own texture in a look-alike's
    illumination_levels: Range = (0.4, 1.7)
    camera_pan_px: Range = (8.0, 40.0)
    camera_zoom: float = 0.06
    noise_sigma: Range = (2.0, 5.0)
    clutter_shapes: Tuple[int, int] = (40, 90)
    clutter_stamps: Tuple[int, int] = (6, 12)    # target look-alikes painted into 'clutter' backgrounds


@dataclasses.dataclass
class SyntheticConfig:
    """The single-object benchmark ``synthetic`` (protocol ``ope``)."""

    split: Literal["train", "test"] = "test"
    num_sequences: Optional[int] = None          # None: test_sequences / train_sequences
    test_sequences: int = 20
    train_sequences: int = 300
    length: int = 120
    size: Tuple[int, int] = (320, 240)
    seed: int = 0
    test_primaries: List[str] = dataclasses.field(default_factory=lambda: [
        "distractors", "occlusion", "out-of-view", "fast-motion", "scale", "illumination",
        "motion-blur", "distractors", "deformation", "rotation", "clutter", "low-res",
        "distractors", "occlusion", "out-of-view", "fast-motion", "scale", "illumination",
        "distractors", "mixed"])
    train_primaries: List[str] = dataclasses.field(default_factory=lambda: list(PRIMARIES))
    secondary_prob: float = 0.08
    mixed_factors: int = 3
    labels: Labels = dataclasses.field(default_factory=Labels)
    factors: Factors = dataclasses.field(default_factory=Factors)

    def __post_init__(self):
        check_sizes(self)


@dataclasses.dataclass
class Detections:
    """Simulated public detections."""

    miss_rate: float = 0.1                 # misses among boxes with visibility >= visible_full
    visible_zero: float = 0.2              # visibility at or below which a box is never detected
    visible_full: float = 0.5              # visibility from which the detection rate is 1 - miss_rate
    fp_per_frame: float = 1.5              # Poisson mean of false positives per frame
    fp_near_share: float = 0.3             # share of false positives placed near a true object
    jitter: float = 0.05                   # box noise std as a fraction of the box size
    tp_score: Range = (0.35, 0.6)          # score = a + b * visibility + N(0, score_noise)
    score_noise: float = 0.08
    fp_score_beta: Range = (2.0, 4.0)      # false-positive scores ~ Beta(a, b)


@dataclasses.dataclass
class People:
    """Walking people on a ground plane seen by a static camera."""

    initial: Tuple[int, int] = (6, 10)           # people in view at the first frame
    births_per_frame: float = 0.06               # entering through the left / right border
    appear_share: float = 0.15                   # births that appear inside the image (doorways)
    horizon: float = 0.22                        # horizon height, fraction of H from the top
    height_at_bottom: float = 0.5                # person height when the feet touch the bottom edge, fraction of H
    foot_range: Range = (0.5, 1.0)               # feet y, fraction of H
    aspect: Range = (0.35, 0.45)                 # w / h
    speed: Range = (1.2, 3.5)                    # px / frame at the bottom edge (scaled by depth)
    lookalike_share: float = 0.3                 # people dressed like another person
    pause_prob: float = 0.15                     # people who stop for a while
    static_occluders: Tuple[int, int] = (0, 2)   # poles / boxes in front of walkers (not annotated)
    gt_min_inside: float = 0.2                   # a box is annotated once this share is in the image
    noise_sigma: Range = (2.0, 4.0)


@dataclasses.dataclass
class SyntheticMOTConfig:
    """The multi-object benchmark ``synthetic-mot`` (protocol ``mot``)."""

    split: Literal["train", "test"] = "test"
    num_sequences: Optional[int] = None
    test_sequences: int = 4
    train_sequences: int = 40
    length: int = 150
    size: Tuple[int, int] = (640, 360)
    seed: int = 0
    fps: float = 25.0
    people: People = dataclasses.field(default_factory=People)
    detections: Detections = dataclasses.field(default_factory=Detections)

    def __post_init__(self):
        check_sizes(self)


def check_sizes(cfg) -> None:
    """Refuse generator settings that cannot make a sequence (raised as ValueError, reported as config errors)."""
    if cfg.length < 2:
        raise ValueError(f"synthetic: length must be >= 2 frames, got {cfg.length}")
    if min(cfg.size) < 64:
        raise ValueError(f"synthetic: size must be at least 64x64 pixels, got {tuple(cfg.size)}")
    if cfg.num_sequences is not None and cfg.num_sequences < 1:
        raise ValueError(f"synthetic: num_sequences must be >= 1, got {cfg.num_sequences}")
