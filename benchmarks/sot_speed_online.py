"""Speed of the online-learning SOT trackers (MDNet, ADNet, ADNet-fast) on CPU.

    python benchmarks/sot_speed_online.py                      # all entries, 2 threads, 60 frames
    python benchmarks/sot_speed_online.py --entries mdnet,adnet --frames 40 --out benchmarks/results/online.md

The entries are the ``ONLINE_ENTRIES`` block of ``benchmarks/sot_speed.py`` (its extension point;
they are not in that script's default run because one update samples and trains on hundreds
of crops). For each entry: first-frame initialisation (median of 3), then one pass over
``--frames`` frames of a synthetic test sequence: median / mean / 90th-percentile update time
and FPS over the whole pass (long-term updates and re-detections included), plus the
tracker's own counters (failures, actions per frame, re-detections).

Targets (the project's speed targets for the online trackers, published sample counts): MDNet median update <= 0.6 s and initialisation
<= 12 s; ADNet median update <= 0.15 s; ADNet-fast <= 0.05 s.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
from machine import append_markdown, machine

HERE = Path(__file__).resolve().parent
TARGETS = {"mdnet": (0.6, 12.0), "adnet": (0.15, None), "adnet-fast": (0.05, None)}


def _sot_speed():
    spec = importlib.util.spec_from_file_location("sot_speed", HERE / "sot_speed.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sot_speed"] = mod
    spec.loader.exec_module(mod)
    return mod


def run_entry(e, frames, box, n_init: int) -> Dict[str, object]:
    from bench.core.build import build_tracker

    tr = build_tracker(e.tracker, overrides=e.overrides, weights=e.weights)
    warm = tr.spawn()
    warm.init(frames[0], box)
    for f in frames[1:4]:
        warm.update(f)
    inits = []
    for _ in range(n_init):
        t = tr.spawn()
        t0 = time.perf_counter()
        t.init(frames[0], box)
        inits.append(time.perf_counter() - t0)
    t = tr.spawn()
    t.init(frames[0], box)
    times: List[float] = []
    fails = steps = redet = 0
    for f in frames[1:]:
        t0 = time.perf_counter()
        t.update(f)
        times.append(time.perf_counter() - t0)
        fails += int(not getattr(t, "last_success", True))
        steps += int(getattr(t, "steps_last", 0))
        redet += int(getattr(t, "redetected", False))
    n = len(times)
    row = {"entry": e.label, "tracker": e.tracker, "note": e.note, "init_s": statistics.median(inits),
           "update_median_s": statistics.median(times), "update_mean_s": float(np.mean(times)),
           "update_p90_s": float(np.percentile(times, 90)), "fps": n / float(np.sum(times)), "frames": n}
    if e.tracker == "mdnet":
        row["counters"] = f"{fails} failed frames"
        row["gflop"] = mdnet_frame_gflop(t)
    else:
        row["counters"] = f"{steps / n:.1f} actions/frame, {redet} re-detections"
    return row


def vggm_crop_flops(vggm) -> float:
    """Multiply-adds x 2 of conv1-3 for one crop of ``vggm.input_size`` pixels."""
    flops, s = 0.0, vggm.input_size
    for conv, pool in ((vggm.conv1, True), (vggm.conv2, True), (vggm.conv3, False)):
        k, st = conv.kernel_size[0], conv.stride[0]
        s = (s - k) // st + 1
        flops += 2.0 * conv.out_channels * s * s * conv.in_channels * k * k
        if pool:
            s = (s - 3) // 2 + 1
    return flops


def mdnet_frame_gflop(tracker) -> float:
    """Convolution GFLOP of a successful MDNet frame: the candidates plus the new positive and
    negative training samples (py-MDNet extracts their conv3 features on every successful frame)."""
    cfg = tracker.config
    crops = cfg.n_samples + cfg.n_pos_update + cfg.n_neg_update
    return crops * vggm_crop_flops(tracker.net.backbone) / 1e9


def markdown(rows, info, threads, cmd, seq, rate=None) -> str:
    lines = [f"## Online trackers ({info['date']})", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, torch {info['torch']}; "
             f"{threads} threads; load average before the run: {info['load']}.",
             f"Command: `{cmd}`; frames of synthetic `{seq}`."
             + (f" Measured float32 matmul rate: {rate:.0f} GFLOP/s; MDNet floor = conv GFLOP of a successful"
                " frame (candidates + new training samples) / that rate." if rate else ""), "",
             "| entry | init s | median update s | mean update s | p90 update s | FPS | target | counters | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        upd, ini = TARGETS.get(r["tracker"], (None, None))
        tgt = []
        if upd is not None:
            tgt.append(f"update <= {upd} s: {'yes' if r['update_median_s'] <= upd else 'NO'}")
        if ini is not None:
            tgt.append(f"init <= {ini} s: {'yes' if r['init_s'] <= ini else 'NO'}")
        floor = ""
        if rate and r.get("gflop"):
            floor = (f"; conv {r['gflop']:.1f} GFLOP/frame, floor {r['gflop'] / rate:.3f} s, "
                     f"median / floor {r['update_median_s'] / (r['gflop'] / rate):.2f}")
        lines.append(f"| {r['entry']} | {r['init_s']:.2f} | {r['update_median_s']:.3f} | {r['update_mean_s']:.3f} | "
                     f"{r['update_p90_s']:.3f} | {r['fps']:.2f} | {'; '.join(tgt)} | {r['counters']}{floor} | "
                     f"{r['note']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    sp = _sot_speed()
    entries = {e.label: e for e in sp.ONLINE_ENTRIES}
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", default=",".join(entries), help="comma-separated entry labels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--inits", type=int, default=3)
    ap.add_argument("--sequence", default="test000-distractors")
    ap.add_argument("--out", default=None, help="append the markdown table to this file")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from bench.datasets import open_dataset

    seq = open_dataset("synthetic")[args.sequence]
    frames = [seq.frame(i) for i in range(min(args.frames + 1, len(seq)))]
    box = np.asarray(seq.init_box, dtype=np.float64)
    info = machine()
    rows = []
    for label in args.entries.split(","):
        if label not in entries:
            print(f"unknown entry {label}; known: {', '.join(entries)}", file=sys.stderr)
            return 2
        r = run_entry(entries[label], frames, box, args.inits)
        rows.append(r)
        print(f"{label}: init {r['init_s']:.2f} s, update median {r['update_median_s']:.3f} s, "
              f"mean {r['update_mean_s']:.3f} s, {r['fps']:.2f} FPS ({r['counters']})", flush=True)
    cmd = ("python benchmarks/sot_speed_online.py " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    rate = sp.matmul_rate(args.threads) if any(r.get("gflop") for r in rows) else None
    md = markdown(rows, info, args.threads, cmd, args.sequence, rate)
    print(md)
    if args.out:
        append_markdown(args.out, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
