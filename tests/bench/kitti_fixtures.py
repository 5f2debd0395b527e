"""Generated KITTI tracking scenes written in the KITTI / TrackEval folder layout (shared by the KITTI tests).

``<root>/training/label_02/<seq>.txt`` + ``<root>/training/evaluate_tracking.seqmap.training``
(TrackEval's ``GT_FOLDER`` is ``<root>/training``) and ``<root>/trackers/<T>/data/<seq>.txt``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

GT_TAIL = "1.50 1.60 3.90 1.00 1.50 20.00 0.10"
INVALID_TAIL = "-1 -1 -1 -1000 -1000 -1000 -10"


def kitti_scene(rng: np.random.Generator, T: int = 40, n_obj: int = 14, *, crowd: bool = False,
                sitting: str = "Person") -> Tuple[List[str], List[str]]:
    """Random gt and tracker lines (0-based frames) of one sequence.

    Gt: cars, vans, pedestrians, sitting persons, a cyclist and a truck, with truncation
    0/1/2 and occlusion 0..3, 0-2 DontCare regions per frame. Tracker: noisy copies of most
    objects (vans typed Car, sitting persons Pedestrian: removed as distractors), id
    switches every 15 frames for a third of them, boxes mostly inside DontCare regions,
    false positives of heights 10..60 (<= 25 px are removed when unmatched).
    ``crowd``: integer boxes packed in a 250 px strip with duplicated predictions (exact
    ties and frames whose matching needs the Hungarian step).
    """
    types = ["Car"] * 5 + ["Van"] * 2 + ["Pedestrian"] * 4 + [sitting, "Cyclist", "Truck"]
    width = 250 if crowd else 900
    pos = np.column_stack([rng.uniform(0, width, n_obj), rng.uniform(100, 250, n_obj)])
    size = np.column_stack([rng.uniform(20, 120, n_obj), rng.uniform(15, 110, n_obj)])
    if crowd:
        pos, size = np.round(pos), np.round(size)
    main = {"Car": "Car", "Van": "Car", "Truck": "Car", "Pedestrian": "Pedestrian", sitting: "Pedestrian",
            "Cyclist": "Cyclist"}
    gt: List[str] = []
    tr: List[tuple] = []
    for t in range(T):
        pos += np.round(rng.normal(0, 4, pos.shape)) if crowd else rng.normal(0, 4, pos.shape)
        for i in range(n_obj):
            if rng.random() < 0.15:
                continue
            typ = types[i % len(types)]
            x1, y1 = pos[i]
            x2, y2 = x1 + size[i, 0], y1 + size[i, 1]
            trunc = int(rng.choice([0, 0, 0, 1, 2]))
            occ = int(rng.choice([0, 0, 1, 2, 3]))
            gt.append(f"{t} {i} {typ} {trunc} {occ} -1.57 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} {GT_TAIL}")
            if rng.random() < 0.8:
                tid = i + 100 * (t // 15 if i % 3 == 0 else 0)
                j = np.round(rng.normal(0, 2, 4)) if crowd else rng.normal(0, 3, 4)
                tr.append((t, tid, main[typ], x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3], rng.random()))
                if crowd and rng.random() < 0.3:  # a duplicate on the same object: ties
                    tr.append((t, tid + 1000, main[typ], x1, y1, x2, y2, 0.5))
        for k in range(int(rng.integers(0, 3))):  # DontCare regions and predictions inside them
            x1, y1 = rng.uniform(0, width + 100), rng.uniform(0, 300)
            w, h = rng.uniform(30, 150), rng.uniform(20, 80)
            gt.append(f"{t} -1 DontCare -1 -1 -10 {x1:.2f} {y1:.2f} {x1 + w:.2f} {y1 + h:.2f} {INVALID_TAIL}")
            if rng.random() < 0.7:
                s = rng.uniform(0.3, 0.9)
                tr.append((t, 500 + k, str(rng.choice(["Car", "Pedestrian"])), x1 + 2, y1 + 2, x1 + 2 + s * w,
                           y1 + 2 + max(30.0, s * h), 0.4))
        for k in range(int(rng.integers(0, 3))):  # false positives, some too small to count
            x1, y1 = rng.uniform(0, width + 100), rng.uniform(0, 300)
            h = float(rng.choice([10, 20, 25, 26, 60]))
            tr.append((t, 700 + k, str(rng.choice(["Car", "Pedestrian", "Cyclist"])), x1, y1,
                       x1 + rng.uniform(10, 80), y1 + h, 0.3))
    lines = [f"{t} {tid} {typ} -1 -1 -10 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} {INVALID_TAIL} {s:.4f}"
             for t, tid, typ, x1, y1, x2, y2, s in tr]
    return gt, lines


def write_kitti(root: Path, seqs: Dict[str, Tuple[List[str], List[str]]], lengths: Dict[str, int], *,
                tracker: str = "T", seqmap: bool = True, images: Optional[Tuple[int, int]] = None) -> Path:
    """Write ``seqs`` ({name: (gt lines, tracker lines)}) under ``root``; ``images`` = (W, H) writes PNG frames."""
    split = root / "training"
    (split / "label_02").mkdir(parents=True, exist_ok=True)
    (root / "trackers" / tracker / "data").mkdir(parents=True, exist_ok=True)
    if seqmap:
        (split / "evaluate_tracking.seqmap.training").write_text(
            "".join(f"{n} empty 000000 {lengths[n]:06d}\n" for n in seqs))
    for name, (gt, tr) in seqs.items():
        (split / "label_02" / f"{name}.txt").write_text("\n".join(gt) + ("\n" if gt else ""))
        (root / "trackers" / tracker / "data" / f"{name}.txt").write_text("\n".join(tr) + ("\n" if tr else ""))
        if images:
            import cv2

            d = split / "image_02" / name
            d.mkdir(parents=True, exist_ok=True)
            for t in range(lengths[name]):
                cv2.imwrite(str(d / f"{t:06d}.png"), np.full((images[1], images[0], 3), t % 255, np.uint8))
    return root
