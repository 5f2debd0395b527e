"""MOT tracker speed: detector-based per-frame update time, SOT-per-target cost vs targets.

Part 1 (``--part det``): SORT and ByteTrack (``update`` only, detections in memory, no
file I/O) on the public detection files in ../shared/data/mot: the 7 MOT17 FRCNN train
files (MOT17-04 has ~27 detections per frame, the issue's "about 30") and the 11 MOT15
files. Each sequence is run ``--repeat`` times; the best run counts (least disturbed).

Part 2 (``--part sot``): one frame of MOT17-04 (1920x1080) with N targets taken from its
detections, N in ``--targets``; per SOT tracker, the time of one batched ``update`` of
all targets (``tracker.batch()``, one forward for the Siamese trackers) next to the
looped form (``LoopedBatch``: one forward per target), and the full ``sot-<name>``
MOT step (association, correction, re-id features) per frame. Siamese trackers run with
random weights when the shipped files are absent (speed does not depend on the values).

    python benchmarks/mot_speed.py --part all --out benchmarks/results/mot_speed.json

Run it when the machine is otherwise idle (``uptime``); it prints the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from machine import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("BENCH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "mot"


def det_files():
    out = []
    for p in sorted((SHARED / "MOT17" / "train").glob("MOT17-*-FRCNN/det/det.txt")):
        out.append(("MOT17", p.parent.parent.name, p))
    for p in sorted((SHARED / "MOT15").glob("*/*/det/det.txt")):
        out.append(("MOT15", p.parent.parent.name, p))
    return out


def per_frame(path: Path):
    d = np.loadtxt(path, delimiter=",", ndmin=2)
    n = int(d[:, 0].max())
    order = np.argsort(d[:, 0], kind="stable")
    d = d[order]
    cuts = np.searchsorted(d[:, 0], np.arange(1, n + 2))
    return [np.ascontiguousarray(d[cuts[i]:cuts[i + 1], 2:7]) for i in range(n)]


def bench_detector_based(names, repeat: int) -> dict:
    from bench.core.build import build_tracker

    results = {}
    for name in names:
        rows = []
        for bench_name, seq, path in det_files():
            frames = per_frame(path)
            best = None
            for _ in range(repeat):
                t = build_tracker(name)
                t.reset()
                times = np.empty(len(frames))
                for i, dets in enumerate(frames):
                    t0 = time.perf_counter()
                    t.update(None, dets)
                    times[i] = time.perf_counter() - t0
                if best is None or times.sum() < best.sum():
                    best = times
            ndet = np.mean([len(f) for f in frames])
            rows.append({"benchmark": bench_name, "sequence": seq, "frames": len(frames),
                         "dets_per_frame": round(float(ndet), 1),
                         "ms_per_frame": round(1000 * float(best.mean()), 4),
                         "ms_median": round(1000 * float(np.median(best)), 4),
                         "ms_p95": round(1000 * float(np.percentile(best, 95)), 4)})
            print(f"{name:10s} {bench_name} {seq:18s} dets/frame {ndet:5.1f}  {1000 * best.mean():.3f} ms/frame",
                  flush=True)
        results[name] = rows
    return results


def bench_sot(trackers, targets, repeat: int) -> dict:
    import cv2

    from bench.core.build import build_tracker
    from bench.core.errors import CheckpointError
    from bench.core.tracker import LoopedBatch
    from mot.trackers.sot_per_target import sot_per_target_class

    seq = SHARED / "MOT17" / "train" / "MOT17-04-FRCNN"
    img = cv2.cvtColor(cv2.imread(str(seq / "img1" / "000001.jpg")), cv2.COLOR_BGR2RGB)
    img2 = cv2.cvtColor(cv2.imread(str(seq / "img1" / "000002.jpg")), cv2.COLOR_BGR2RGB)
    dets = per_frame(seq / "det" / "det.txt")
    pool = np.concatenate([dets[0], dets[1]])
    pool = pool[np.argsort(-pool[:, 4], kind="stable")]
    # distinct, non-overlapping-ish boxes: greedy by score
    from bench.core.boxes import iou_matrix
    keep = []
    for i in range(len(pool)):
        if not keep or iou_matrix(pool[i:i + 1, :4], pool[keep, :4]).max() < 0.3:
            keep.append(i)
    pool = pool[keep]
    while len(pool) < max(targets):  # tile more targets by shifting the real ones
        shift = pool.copy()
        shift[:, 0] = (shift[:, 0] + 97) % (img.shape[1] - shift[:, 2])
        pool = np.concatenate([pool, shift])
    out = {}
    for name in trackers:
        try:
            sot = build_tracker(name)
            weights_note = "shipped"
        except CheckpointError:
            sot = build_tracker(name, overrides=["default_weights=''"])
            weights_note = "random (shipped weights absent)"
        rows = []
        for n in targets:
            boxes = pool[:n, :4]
            res = {"targets": n}
            for mode in ("batched", "looped"):
                b = sot.batch() if mode == "batched" else LoopedBatch(sot)
                b.add(img, boxes)
                b.update(img2)  # warm-up
                ts = []
                for r in range(repeat):
                    t0 = time.perf_counter()
                    b.update(img2 if r % 2 == 0 else img)
                    ts.append(time.perf_counter() - t0)
                res[f"{mode}_ms"] = round(1000 * min(ts), 2)
                if mode == "batched" and type(b).__name__ == "LoopedBatch":
                    res["looped_ms"] = res["batched_ms"]
                    break
            # full MOT step of sot-<name> with n detections per frame
            cls = sot_per_target_class(name)
            mot = cls(cls.Config(), sot=sot)
            d = np.c_[boxes, np.full(n, 0.9)]
            mot.update(img, d)
            mot.update(img2, d)
            ts = []
            for r in range(repeat):
                t0 = time.perf_counter()
                mot.update(img if r % 2 == 0 else img2, d)
                ts.append(time.perf_counter() - t0)
            res["mot_step_ms"] = round(1000 * min(ts), 2)
            res["batched_ms_per_target"] = round(res["batched_ms"] / n, 3)
            rows.append(res)
            print(f"{name:10s} N={n:3d}  batched {res['batched_ms']:8.2f} ms  looped {res['looped_ms']:8.2f} ms  "
                  f"sot-{name} step {res['mot_step_ms']:8.2f} ms", flush=True)
        out[name] = {"weights": weights_note, "batch_class": type(sot.batch()).__name__, "rows": rows}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["det", "sot", "all"], default="all")
    ap.add_argument("--trackers", default="sort,bytetrack", help="detector-based trackers (part det)")
    ap.add_argument("--sot", default="ncc,siamfc,siamrpn,dasiamrpn", help="SOT trackers (part sot)")
    ap.add_argument("--targets", default="1,2,4,8,16,32")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=None, help="JSON file for the results")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    info = {"machine": machine(), "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:]))}
    print(f"machine: {info['machine']}", flush=True)
    if args.part in ("det", "all"):
        info["detector_based"] = bench_detector_based(args.trackers.split(","), args.repeat)
    if args.part in ("sot", "all"):
        from bench.core.registry import TRACKERS
        names = [n for n in args.sot.split(",") if n in TRACKERS.names()]
        info["sot_per_target"] = bench_sot(names, [int(x) for x in args.targets.split(",")], args.repeat)
    info["machine"]["load_average_end"] = os.getloadavg()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(info, indent=1) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
