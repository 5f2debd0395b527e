"""Training pairs from the real annotated frames in ``../shared/data`` (and any MOTChallenge-layout folder).

Every annotated identity of a MOT sequence becomes one single-object "track" (:class:`IdentityTrack`:
``gt`` (T, 4) ``xywh`` with NaN where the identity is absent or too occluded, ``frame(i)`` RGB uint8),
so :class:`sot.train.pairs.PairSampler` draws template / search pairs from it like from any SOT
sequence: two frames of one identity (video pairs), or one frame with two independent augmentations
(DaSiamRPN's still-image pairs). OTB-layout folders (``img/``, ``groundtruth_rect.txt``) are read too.

Sources (``../shared/data/README.md``):

* ``mot/MOT15/train/TUD-Stadtmitte``: 179 real frames 640x480, 10 pedestrians (``gt.txt``);
* ``mot/MOT17/train/MOT17-XX-FRCNN``: the first 4-8 real frames of each of the 7 sequences; gt rows with
  ``consider`` flag 1, class 1 (pedestrian) and visibility >= ``min_visibility``;
* ``sot/sequences/Couple``, ``Crossing``, ``bag``: OTB / VOT sequences (reported on; NOT used by the
  shipped recipe, see ``configs/train/siamrpn_mobilenet.yaml``).

:class:`MixedSampler` draws each pair from the real tracks with probability ``real_prob``, else from
the synthetic sampler, and adds pysot's search-crop blur (``DATASET.SEARCH.BLUR``) to real pairs.
:func:`split_identities` gives the deterministic train / held-out split (held-out tracks are for
model selection only).
"""
from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from bench.core.errors import DataError

from .pairs import PairConfig, PairSampler


class FrameCache:
    """Decoded RGB frames of one image folder, the last ``size`` kept (identities share frames)."""

    def __init__(self, paths: Sequence[Path], size: int = 48):
        self.paths = [Path(p) for p in paths]
        self.size = size
        self._cache: "collections.OrderedDict[int, np.ndarray]" = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:
        img = self._cache.get(i)
        if img is not None:
            self._cache.move_to_end(i)
            return img
        bgr = cv2.imread(str(self.paths[i]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DataError(f"unreadable image (frame {i + 1})", path=str(self.paths[i]))
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        self._cache[i] = img
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return img


@dataclasses.dataclass
class IdentityTrack:
    """One annotated object of a real sequence as an SOT track: ``gt`` (T, 4) ``xywh`` (NaN = not usable)."""

    name: str
    gt: np.ndarray
    frames: FrameCache
    meta: Dict[str, object] = dataclasses.field(default_factory=dict)

    def frame(self, i: int) -> np.ndarray:
        return self.frames[i]

    def __len__(self) -> int:
        return len(self.gt)


def mot_identities(seq_dir: Path, min_visibility: float = 0.5, min_frames: int = 2) -> List[IdentityTrack]:
    """The identities of a MOTChallenge sequence folder (``img1/``, ``gt/gt.txt``), restricted to the frames
    whose images exist. MOT16/17 rows: ``frame, id, x, y, w, h, consider, class, visibility``; MOT15 rows
    (10 columns, world coordinates at the end) count as considered pedestrians with visibility 1.
    Boxes are 1-based in the file (MOTChallenge), 0-based ``xywh`` here."""
    seq_dir = Path(seq_dir)
    imgs = sorted((seq_dir / "img1").glob("*.jpg"))
    if not imgs:
        raise DataError("no img1/*.jpg frames", path=str(seq_dir))
    numbers = [int(p.stem) for p in imgs]
    index = {n: i for i, n in enumerate(numbers)}
    gt_file = seq_dir / "gt" / "gt.txt"
    try:
        rows = np.loadtxt(gt_file, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read MOT ground truth ({exc})", path=str(gt_file)) from None
    if rows.shape[1] == 9:   # MOT16/17 (MOT15 files have 10 columns and no flags)
        keep = (rows[:, 6] == 1) & (rows[:, 7] == 1) & (rows[:, 8] >= min_visibility)
        rows = rows[keep]
    frames = FrameCache(imgs)
    out = []
    for tid in np.unique(rows[:, 1]).astype(int):
        r = rows[rows[:, 1] == tid]
        gt = np.full((len(imgs), 4), np.nan)
        for fr, x, y, w, h in r[:, [0, 2, 3, 4, 5]]:
            i = index.get(int(fr))
            if i is not None:
                gt[i] = (x - 1.0, y - 1.0, w, h)
        if np.isfinite(gt).all(axis=1).sum() >= min_frames:
            out.append(IdentityTrack(f"{seq_dir.name}/{tid}", gt, frames, {"source": seq_dir.name, "id": int(tid)}))
    return out


def otb_track(seq_dir: Path) -> IdentityTrack:
    """An OTB-layout sequence (``img/*.jpg``, ``groundtruth_rect.txt`` 1-based ``x, y, w, h``)."""
    seq_dir = Path(seq_dir)
    imgs = sorted((seq_dir / "img").glob("*.jpg"))
    text = (seq_dir / "groundtruth_rect.txt").read_text().replace("\t", ",").replace(" ", ",")
    gt = np.array([[float(v) for v in ln.split(",") if v] for ln in text.splitlines() if ln.strip()])
    gt[:, :2] -= 1.0
    n = min(len(imgs), len(gt))
    return IdentityTrack(seq_dir.name, gt[:n], FrameCache(imgs[:n]), {"source": seq_dir.name})


def split_identities(tracks: Sequence[IdentityTrack], held_out_every: int = 5) -> Tuple[List[IdentityTrack], List[IdentityTrack]]:
    """Deterministic split: within each source sequence, every ``held_out_every``-th identity (sorted by id,
    starting with the 3rd) is held out for model selection; the rest train."""
    train, held = [], []
    by_src: Dict[str, List[IdentityTrack]] = {}
    for t in tracks:
        by_src.setdefault(str(t.meta.get("source", t.name)), []).append(t)
    for src in sorted(by_src):
        for k, t in enumerate(sorted(by_src[src], key=lambda t: int(t.meta.get("id", 0)))):
            (held if held_out_every > 0 and k % held_out_every == 2 else train).append(t)
    return train, held


def open_real_tracks(root: Path, mot: Sequence[str], otb: Sequence[str] = (), min_visibility: float = 0.5) -> List[IdentityTrack]:
    """Tracks of the MOT sequence folders ``mot`` and OTB folders ``otb`` (paths relative to ``root``)."""
    root = Path(root)
    tracks: List[IdentityTrack] = []
    for rel in mot:
        tracks.extend(mot_identities(root / rel, min_visibility))
    for rel in otb:
        tracks.append(otb_track(root / rel))
    if not tracks:
        raise DataError("no real training tracks", path=str(root))
    return tracks


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """pysot ``Augmentation.blur``: a random odd-sized (5..45 px in pysot; here 3..9 px for 255 crops of
    low-resolution video) line kernel."""
    k = int(rng.choice([3, 5, 7, 9]))
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    if rng.random() < 0.5:
        kernel[c, :] = 1.0 / k
    else:
        kernel[:, c] = 1.0 / k
    return cv2.filter2D(img, -1, kernel)


class MixedSampler:
    """Pairs from real tracks (probability ``real_prob``) or from ``synthetic`` (another sampler)."""

    def __init__(self, real: Sequence[IdentityTrack], cfg: PairConfig, synthetic: Optional[PairSampler],
                 real_prob: float = 0.5, blur_prob: float = 0.2):
        self.real = PairSampler(list(real), cfg)
        self.synthetic = synthetic
        self.real_prob = real_prob if synthetic is not None else 1.0
        self.blur_prob = blur_prob

    def set_pool(self, rng: np.random.Generator) -> None:
        self.real.set_pool(rng)
        if self.synthetic is not None:
            self.synthetic.set_pool(rng)

    def sample(self, rng: np.random.Generator):
        if rng.random() < self.real_prob:
            p = self.real.sample(rng)
            if self.blur_prob > 0 and rng.random() < self.blur_prob:
                p.x = motion_blur(p.x, rng)
            return p
        return self.synthetic.sample(rng)
