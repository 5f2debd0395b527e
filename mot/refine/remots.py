"""ReMOTS (Yang et al., "ReMOTS: Self-Supervised Refining Multi-Object Tracking and
Segmentation", 1st place CVPR 2020 MOTS Challenge) on boxes: an offline refinement of
any MOT result.

Per sequence (``ReMOTS.refine``), in the paper's order:

0. (optional) fusion of several result sets by NMS on IoM (§2.1, :mod:`.fusion`);
1. one pass over the frames: every box cut once into a crop bank (:class:`.encoder.CropBank`)
   and, with ``flow``, each frame's boxes warped to the next frame by Farneback flow (§2.3);
2. intra-frame training of the encoder on the video (§2.2, Fig. 2), mini-batches mixed 1:1
   with triplets of a labelled training set;
3. θ_short = μ - 3σ of the intra-frame similarities (Eq. 2, Fig. 4) and short-term
   tracklets by adjacent-frame linear assignment (Eq. 1-2, :mod:`.tracklets`);
4. inter-short-tracklet retraining (§2.4, Fig. 3), then θ_merge where the intra-frame and
   within-tracklet histograms separate (Fig. 5), and centroid-linkage clustering of the
   tracklets with infinite distances for overlap and gaps over θ_t (§2.5), cut at
   ``1 - θ_merge``. The clusters are the new identities.

Boxes are never moved or removed: only identities change (fusion aside).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple

import numpy as np

from bench.core.errors import DataError
from bench.core.registry import register_refiner

from .clustering import centroid_clusters
from .encoder import CropBank, Encoder, EncoderSettings
from .flow import FarnebackParams, farneback, gray, warp_boxes
from .fusion import fuse_rows
from .samplers import GroupedSampler, IntraFrameSampler, mixed
from .statistics import histogram, pair_similarities, theta_merge, theta_short
from .tracklets import short_tracklets, tracklet_distances


@dataclass(frozen=True)
class LabelledSet:
    """The labelled training set mixed into every mini-batch (§2.2: "triplets from the training
    set and target set ... by the ratio of 1:1"). ``dataset: none`` trains on the video alone."""

    dataset: str = "synthetic-mot"
    options: Dict[str, Any] = field(default_factory=lambda: {"split": "train"})
    sequences: int = 4
    frames_per_sequence: int = 15
    min_visibility: float = 0.5
    min_height: float = 24.0


@dataclass(frozen=True)
class ReMOTSConfig:
    """Every value with its source in ``configs/refine/remots.yaml``."""

    fusion_iom: float = 0.5
    flow: bool = True
    farneback: FarnebackParams = FarnebackParams()
    intra_training: bool = True
    retraining: bool = True
    thresholds: Literal["statistics", "fixed"] = "statistics"
    sigma_k: float = 3.0
    fixed_theta_short: float = 0.5
    fixed_theta_merge: float = 0.7
    max_gap: int = 15
    keep_input_ids: bool = True
    bridge_input_gaps: bool = True
    max_pairs: int = 200000
    encoder: EncoderSettings = EncoderSettings()
    labelled: LabelledSet = LabelledSet()


@register_refiner("remots")
class ReMOTS:
    """ReMOTS's four steps on the boxes of one sequence (module docstring)."""

    Config = ReMOTSConfig

    def __init__(self, config: Optional[ReMOTSConfig] = None, seed: int = 0):
        self.config = config or ReMOTSConfig()
        self.seed = int(seed)
        self._labelled: Optional[Tuple[CropBank, np.ndarray, np.ndarray]] = None

    def params(self) -> Dict[str, Any]:
        return asdict(self.config)

    # ------------------------------------------------------------------ labelled set
    def labelled_bank(self, exclude: Sequence[str] = ()) -> Optional[Tuple[CropBank, np.ndarray, np.ndarray]]:
        """(bank, frames, identities) of ground-truth boxes of the labelled set (built once)."""
        lab = self.config.labelled
        if lab.dataset in ("", "none") or lab.sequences <= 0:
            return None
        if self._labelled is None:
            from bench.datasets import open_dataset

            ds = open_dataset(lab.dataset, None, **dict(lab.options))
            bank = CropBank(self.config.encoder)
            frames: List[np.ndarray] = []
            ids: List[np.ndarray] = []
            names = [n for n in ds.names() if n not in set(exclude)][: lab.sequences]
            for si, name in enumerate(names):
                seq = ds[name]
                if seq.gt is None or seq.frames is None:
                    raise DataError(f"labelled set {lab.dataset}/{name}: needs ground truth and frames")
                gt = seq.gt[(seq.gt[:, 6] > 0) & (seq.gt[:, 8] >= lab.min_visibility) & (seq.gt[:, 5] >= lab.min_height)]
                use = np.unique(np.linspace(1, seq.length, lab.frames_per_sequence).round().astype(int))
                for f in use.tolist():
                    r = gt[gt[:, 0] == f]
                    if len(r) < 2:
                        continue
                    bank.add(seq.frame(f - 1), r[:, 2:6])
                    frames.append(np.full(len(r), si * 100000 + f))
                    ids.append(si * 100000 + r[:, 1].astype(np.int64))
            if not frames:
                return None
            self._labelled = (bank, np.concatenate(frames), np.concatenate(ids))
        return self._labelled

    # ------------------------------------------------------------------ one sequence
    def refine(self, rows: np.ndarray, seq, extra_sets: Sequence[np.ndarray] = ()) -> Tuple[np.ndarray, Dict[str, Any]]:
        """Refined rows (same boxes, new identities) and the report of one sequence.

        ``rows``: MOTChallenge rows ``frame, id, x, y, w, h, conf, ...`` of the tracker;
        ``seq``: the :class:`~bench.core.sequence.MOTSequence` (its frames are read);
        ``extra_sets``: more result / detection sets to fuse with ``rows`` (§2.1).
        """
        cfg = self.config
        rng = np.random.default_rng(self.seed)
        timings: Dict[str, float] = {}
        rows = np.asarray(rows, dtype=np.float64)
        if len(extra_sets):
            t0 = time.perf_counter()
            rows = fuse_rows([rows, *extra_sets], cfg.fusion_iom)
            timings["fusion"] = time.perf_counter() - t0
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))] if len(rows) else np.zeros((0, 7))
        info: Dict[str, Any] = {"boxes": int(len(rows)), "input_ids": int(len(np.unique(rows[:, 1]))) if len(rows) else 0}
        if len(rows) == 0:
            info.update(tracklets=0, output_ids=0, timings=timings)
            return rows, info
        if seq.frames is None:
            raise DataError(f"sequence '{seq.name}': ReMOTS needs the frames (crops and optical flow); "
                            "this dataset has no images here")
        frames = rows[:, 0].astype(np.int64)
        if frames.max() > seq.length:
            raise DataError(f"sequence '{seq.name}': result frame {int(frames.max())} beyond its {seq.length} frames")
        keep_ids = cfg.keep_input_ids and bool((rows[:, 1] >= 0).all())

        # 1. one pass over the frames: crops, flow
        bank = CropBank(cfg.encoder)
        warped = rows[:, 2:6].copy()
        t_crop = t_flow = 0.0
        uniq, starts = np.unique(frames, return_index=True)
        stops = np.append(starts[1:], len(rows))
        prev_gray = None
        prev_slice: Optional[slice] = None
        prev_f = None
        for f, a, b in zip(uniq.tolist(), starts.tolist(), stops.tolist()):
            img = seq.frame(f - 1)
            t0 = time.perf_counter()
            bank.add(img, rows[a:b, 2:6])
            t_crop += time.perf_counter() - t0
            if cfg.flow:
                t0 = time.perf_counter()
                g = gray(img, cfg.farneback.max_side)
                if prev_gray is not None and prev_f == f - 1 and prev_slice is not None:
                    fl = farneback(prev_gray, g, (img.shape[1], img.shape[0]), cfg.farneback)
                    warped[prev_slice] = warp_boxes(rows[prev_slice, 2:6], fl)
                prev_gray = g
                t_flow += time.perf_counter() - t0
            prev_slice, prev_f = slice(a, b), f
        timings["crops"] = t_crop
        if cfg.flow:
            timings["flow"] = t_flow

        encoder = Encoder(cfg.encoder, seed=self.seed)
        labelled = self.labelled_bank(exclude=(seq.name,)) if (cfg.intra_training or cfg.retraining) else None
        lab_sampler = GroupedSampler(*labelled) if labelled is not None else None

        # 2. intra-frame training
        intra = IntraFrameSampler(bank, frames)
        if cfg.intra_training:
            t0 = time.perf_counter()
            encoder.train(mixed(intra, lab_sampler, cfg.encoder.labelled_share), rng=rng, label="intra-frame")
            timings["intra_training"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        feats = encoder.embed(bank)
        timings["embedding"] = time.perf_counter() - t0

        # 3. θ_short and short-term tracklets
        t0 = time.perf_counter()
        sims_intra = pair_similarities(feats, frames, max_pairs=cfg.max_pairs, rng=rng)
        sims_short = sims_intra
        fit = theta_short(sims_short, cfg.sigma_k)
        th_short = fit.theta if cfg.thresholds == "statistics" else cfg.fixed_theta_short
        labels = short_tracklets(rows, feats, th_short, warped=warped if cfg.flow else None, keep_input_ids=keep_ids,
                                 bridge_input_gaps=cfg.bridge_input_gaps)
        timings["tracklets"] = time.perf_counter() - t0

        # 4. retraining, θ_merge, clustering
        if cfg.retraining:
            t0 = time.perf_counter()
            encoder.train(mixed(GroupedSampler(bank, frames, labels), lab_sampler, cfg.encoder.labelled_share),
                          rng=rng, label="inter-tracklet")
            timings["retraining"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            feats = encoder.embed(bank)
            timings["embedding"] += time.perf_counter() - t0
            sims_intra = pair_similarities(feats, frames, max_pairs=cfg.max_pairs, rng=rng)
        t0 = time.perf_counter()
        sims_track = pair_similarities(feats, labels, max_pairs=cfg.max_pairs, rng=rng)
        sep = theta_merge(sims_intra, sims_track)
        th_merge = sep.theta if cfg.thresholds == "statistics" else cfg.fixed_theta_merge
        dist = tracklet_distances(labels, frames, feats, cfg.max_gap)
        clusters, merges = centroid_clusters(dist, 1.0 - th_merge)
        timings["merging"] = time.perf_counter() - t0

        out = rows.copy()
        out[:, 1] = clusters[labels] + 1
        info.update({
            "tracklets": int(labels.max()) + 1,
            "output_ids": int(clusters.max()) + 1,
            "merges": len(merges),
            "keep_input_ids": keep_ids,
            "theta_short": {"value": float(th_short), "source": cfg.thresholds, "normal_fit": fit.as_dict()},
            "theta_merge": {"value": float(th_merge), "source": cfg.thresholds, "separation": sep.as_dict()},
            "histograms": {"short": {"intra_frame": histogram(sims_short)},
                           "merge": {"intra_frame": histogram(sims_intra), "within_tracklet": histogram(sims_track)}},
            "training": encoder.history,
            "weights": encoder.net.trunk.weights_source,
            "timings": timings,
        })
        return out, info
