"""Siamese trackers vs OpenCV's MIL on the few real sequences in ../shared/data/sot/sequences
(OTB Couple, Crossing; VOT bag), one-pass, success AUC / precision@20 (bench.metrics.ope).

    python benchmarks/siamese_real.py [--trackers siamfc,siamrpn,dasiamrpn,opencv-mil] [--out FILE]

bag's polygons become axis-aligned boxes for scoring (min/max of the vertices) and the
tracker starts from pysot's area-preserving box, as the OTB-style one-pass protocol does.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEQ_ROOT = ROOT.parent / "shared" / "data" / "sot" / "sequences"


def load(name: str):
    from bench.core.boxes import poly_to_init_xywh, poly_to_xywh
    from bench.core.sequence import ImageFiles

    d = SEQ_ROOT / name
    if (d / "img").is_dir():
        frames = sorted((d / "img").glob("*.jpg"))
        rows = [l.replace("\t", ",").replace(" ", ",") for l in (d / "groundtruth_rect.txt").read_text().split("\n")
                if l.strip()]
        gt = np.array([[float(v) for v in r.split(",") if v] for r in rows])
        gt[:, :2] -= 1.0           # OTB files are 1-based
        init = gt[0]
    else:
        frames = sorted(d.glob("*.jpg"))
        poly = np.loadtxt(d / "groundtruth.txt", delimiter=",")
        gt = poly_to_xywh(poly)
        init = poly_to_init_xywh(poly[:1])[0]
    n = min(len(frames), len(gt))
    return ImageFiles(frames[:n]), gt[:n], init


def run(tracker, frames, init):
    imgs = [frames[i] for i in range(len(frames))]
    tracker.init(imgs[0], init)
    out = [np.asarray(init, dtype=np.float64)]
    t0 = time.perf_counter()
    for im in imgs[1:]:
        out.append(np.asarray(tracker.update(im)[0], dtype=np.float64))
    return np.stack(out), (len(imgs) - 1) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trackers", default="siamfc,siamfc-5s,siamrpn,dasiamrpn,opencv-mil")
    ap.add_argument("--sequences", default="Couple,Crossing,bag")
    ap.add_argument("--out", default=None, help="append the markdown table here")
    ap.add_argument("--weights", action="append", default=[], metavar="TRACKER=FILE",
                    help="weight file for one tracker (default: its shipped weights)")
    args = ap.parse_args(argv)
    from bench.core.build import build_tracker
    from bench.metrics.ope import sequence_metrics

    seqs = {s: load(s) for s in args.sequences.split(",")}
    weights = dict(w.split("=", 1) for w in args.weights)
    rows = []
    for name in args.trackers.split(","):
        tr = build_tracker(name, weights=weights.get(name))
        cells, aucs = [], []
        for s, (frames, gt, init) in seqs.items():
            pred, fps = run(tr.spawn() if hasattr(tr, "spawn") else tr, frames, init)
            m = sequence_metrics(pred, gt)
            aucs.append(m["success_auc"])
            cells.append(f"{m['success_auc']:.3f} / {m['precision_20']:.3f} ({fps:.0f} fps)")
            print(name, s, f"AUC {m['success_auc']:.3f} P@20 {m['precision_20']:.3f} {fps:.1f} fps", flush=True)
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(aucs):.3f} |")
    md = ["| tracker | " + " | ".join(f"{s} AUC / P@20" for s in seqs) + " | mean AUC |",
          "|---|" + "---|" * (len(seqs) + 1)] + rows
    text = "\n".join(md) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
