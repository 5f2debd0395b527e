"""SOT trackers on the HELD-OUT real identity tracks of the training split (model selection only; never the
reported OTB / VOT sequences): one-pass from each track's first annotated frame, success AUC / precision@20.

    OMP_NUM_THREADS=1 python benchmarks/sot_heldout.py --trackers siamrpn,siamrpn-mobilenet [--weights T=FILE]

Tracks: ``split_identities`` of ``configs/train/siamrpn_mobilenet.yaml``'s real sources, those with at least
``--min-frames`` consecutive annotated frames (the MOT17 frames at hand are only 4-8 long).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trackers", default="siamrpn,siamrpn-mobilenet")
    ap.add_argument("--weights", action="append", default=[], metavar="TRACKER=FILE")
    ap.add_argument("--min-frames", type=int, default=20)
    args = ap.parse_args(argv)
    from bench.core.build import build_tracker
    from bench.core.config import read_yaml
    from bench.metrics.ope import sequence_metrics
    from sot.train.real_pairs import open_real_tracks, split_identities

    params = read_yaml(ROOT / "configs" / "train" / "siamrpn_mobilenet.yaml")["params"]
    root = (ROOT / params["real_root"]["value"]).resolve()
    tracks = open_real_tracks(root, params["real_mot"]["value"], params["real_otb"]["value"])
    _, held = split_identities(tracks, params["held_out_every"]["value"])
    runs = []
    for t in held:
        ok = np.isfinite(t.gt).all(axis=1)
        idx = np.flatnonzero(ok)
        if len(idx) < args.min_frames:
            continue
        f0, f1 = idx[0], idx[-1]
        runs.append((t, f0, f1))
    weights = dict(w.split("=", 1) for w in args.weights)
    print("held-out tracks:", ", ".join(f"{t.name} ({f1 - f0 + 1} frames)" for t, f0, f1 in runs))
    for name in args.trackers.split(","):
        tr = build_tracker(name, weights=weights.get(name))
        aucs, precs = [], []
        for t, f0, f1 in runs:
            trk = tr.spawn() if hasattr(tr, "spawn") else tr
            trk.init(t.frame(f0), t.gt[f0])
            pred = [t.gt[f0]]
            for f in range(f0 + 1, f1 + 1):
                pred.append(np.asarray(trk.update(t.frame(f))[0], dtype=np.float64))
            m = sequence_metrics(np.stack(pred), t.gt[f0:f1 + 1], invalid_gt="exclude")
            aucs.append(m["success_auc"])
            precs.append(m["precision_20"])
        print(f"| {name} | {np.mean(aucs):.3f} | {np.mean(precs):.3f} | {len(runs)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
