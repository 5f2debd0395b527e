"""SOT tracker speed on CPU: init time, per-frame update time, batched vs looped multi-target FPS,
and the update's floor (its FLOP count / this machine's measured float32 matmul rate).

    python benchmarks/sot_speed.py                         # every entry, 2 threads
    python benchmarks/sot_speed.py --entries siamfc,siamfc@official --targets 1,2,4,8,16,32
    python benchmarks/sot_speed.py --out benchmarks/results/siamese.md

Targets (the project's speed targets for the Siamese trackers): 32 batched targets cost at most 4x one target per frame; a single-target
update costs at most 1.3x its floor. The "shared-feature bound" column is the least any
batching could reach on these frames (:func:`shared_bound`): one backbone pass over the
rectangle covering all N search regions, over one target's pass.

Adding a tracker: put a :class:`Entry` in ``ENTRIES`` (or call :func:`add_entry` from another
module before :func:`main`), e.g. ``Entry("mdnet", "mdnet")`` or, with config overrides and a
weight file, ``Entry("adnet@fast", "adnet-fast", overrides=["..."], weights="...")``. The
harness builds it with ``bench.core.build.build_tracker`` and times ``init`` / ``update`` /
``batch()`` on frames of the synthetic benchmark; nothing else is needed. Set
``floor=False`` for trackers whose per-frame work is not a fixed network pass (the FLOP
count is still reported).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
from machine import append_markdown, machine


@dataclasses.dataclass
class Entry:
    """One benchmark row: a registered tracker with optional ``--set`` overrides and weights."""

    label: str
    tracker: str
    overrides: List[str] = dataclasses.field(default_factory=list)
    weights: Optional[str] = None
    note: str = ""
    floor: bool = True


OFFICIAL_RPN = ["default_weights=", "width=1.0", "head=upchannel", "feature_out=256", "instance_size=271"]
ENTRIES: Dict[str, Entry] = {}


def add_entry(e: Entry) -> None:
    ENTRIES[e.label] = e


for _e in [
    Entry("siamfc", "siamfc", note="shipped weights (width 0.25)"),
    Entry("siamfc@official", "siamfc", ["default_weights=", "width=1.0"],
          note="official size (siamfc_alexnet_e50 architecture), random weights"),
    Entry("siamrpn", "siamrpn", note="shipped weights (width 0.25, depthwise head)"),
    Entry("siamrpn@official", "siamrpn", OFFICIAL_RPN, note="SiamRPNvot architecture at 271, random weights"),
    Entry("dasiamrpn", "dasiamrpn", note="shipped weights, all three parts on"),
    Entry("dasiamrpn@official", "dasiamrpn", OFFICIAL_RPN + ["longterm.enabled=false"],
          note="SiamRPNvot architecture at 271, random weights; long-term search off (random scores "
               "would keep it in the lost state)", floor=False),
]:
    add_entry(_e)


# ---- Online-learning trackers (maintained with sot/trackers/mdnet.py and adnet.py) ----------
# Not added to ENTRIES by default: one update samples and trains on hundreds of crops, so the batched
# 1..32-target sweep above would take hours. benchmarks/sot_speed_online.py times them (init, median /
# mean update, FPS over a sequence); `add_entry(e) for e in ONLINE_ENTRIES` makes them available here.
# "@official" = the official widths (VGG-M 96/256/512, fc 512) with random weights and the published
# sample counts; success is forced so that every frame takes the steady-state path (MDNet: 256 candidates
# + 50/200 new training samples; ADNet: action steps + 30/15 samples) instead of failure handling.
ONLINE_ENTRIES: List[Entry] = [
    Entry("mdnet", "mdnet", note="shipped weights (width 0.5, fc 256)", floor=False),
    Entry("mdnet@official", "mdnet", ["default_weights=none", "success_threshold=-1.0e+9"],
          note="official size, random weights, success forced", floor=False),
    Entry("mdnet@official-bf16", "mdnet", ["default_weights=none", "success_threshold=-1.0e+9", "precision=bfloat16"],
          note="as mdnet@official, conv1-3 in bfloat16", floor=False),
    Entry("adnet", "adnet", note="shipped weights (width 0.5, fc 256)", floor=False),
    Entry("adnet@official", "adnet", ["default_weights=none", "failed_threshold=-1.0e+9"],
          note="official size, random weights, no failures (random policy: many actions/frame)", floor=False),
    Entry("adnet-fast", "adnet-fast", note="shipped weights", floor=False),
    Entry("adnet-fast@official", "adnet-fast", ["default_weights=none", "failed_threshold=-1.0e+9"],
          note="official size, random weights, no failures", floor=False),
]
# ---- end of the online-learning block ---------------------------------------------------------------


def matmul_rate(threads: int, n: int = 2048, reps: int = 10) -> float:
    """Best float32 GFLOP/s of an n x n matmul over ``reps`` runs."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def update_flops(tracker, frames, box) -> int:
    """FLOPs of one ``update`` (convolutions and matmuls, counted by torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    t = tracker.spawn()
    t.init(frames[0], box)
    t.update(frames[1])
    with FlopCounterMode(display=False) as fc:
        t.update(frames[2])
    return int(fc.get_total_flops())


def shared_bound(tracker, box: np.ndarray, boxes: np.ndarray) -> Optional[float]:
    """Lower bound of "N batched / 1" for ANY scheme that shares backbone work between targets.

    Every target needs the features of its own search region (side ``s_x`` image px, one
    scale). One backbone (+ RPN search branch) pass over the smallest rectangle covering all
    N regions (all targets here have the same size, so one input scale serves all) is the
    least any sharing can compute; its FLOPs over one target's pass bound the ratio from below
    (correlations and decoding only add to it). None for non-Siamese trackers."""
    from torch.utils.flop_counter import FlopCounterMode
    import torch

    c, net = getattr(tracker, "config", None), getattr(tracker, "net", None)
    if c is None or net is None or not hasattr(c, "instance_size") or not hasattr(net, "backbone"):
        return None
    p = c.context * (box[2] + box[3])
    s_x = float(np.sqrt((box[2] + p) * (box[3] + p))) * c.instance_size / c.exemplar_size
    k = c.instance_size / s_x
    centers = boxes[:, :2] + boxes[:, 2:] / 2
    size = [int(round((np.ptp(centers[:, j]) + s_x) * k)) for j in (0, 1)]

    def flops(w: int, h: int) -> int:
        with FlopCounterMode(display=False) as fc, torch.inference_mode():
            f = net.backbone(torch.zeros(1, 3, h, w))
            if hasattr(net, "rpn"):
                net.rpn.search(f)
        return int(fc.get_total_flops())

    return flops(*size) / flops(c.instance_size, c.instance_size)


def _time(fn: Callable[[], object], reps: int) -> float:
    """Median seconds of ``fn`` over ``reps`` calls."""
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def target_boxes(box: np.ndarray, n: int, size) -> np.ndarray:
    """``n`` copies of ``box`` spread over the frame (deterministic)."""
    rng = np.random.default_rng(n)
    w, h = size
    out = np.repeat(box[None].astype(np.float64), n, 0)
    out[0] = box
    out[1:, 0] = rng.uniform(0, w - box[2], n - 1)
    out[1:, 1] = rng.uniform(0, h - box[3], n - 1)
    return out


def bench_entry(e: Entry, frames, box, targets: List[int], reps: int, rate: float) -> Dict[str, object]:
    from bench.core.build import build_tracker
    from bench.core.tracker import LoopedBatch

    tr = build_tracker(e.tracker, overrides=e.overrides, weights=e.weights)
    # warm-up
    t = tr.spawn()
    t.init(frames[0], box)
    for f in frames[1:4]:
        t.update(f)
    init_s = _time(lambda: tr.spawn().init(frames[0], box), max(3, reps // 2))
    t = tr.spawn()
    t.init(frames[0], box)
    it = iter(range(10 ** 9))
    update_s = _time(lambda: t.update(frames[1 + next(it) % (len(frames) - 1)]), reps)
    flops = update_flops(tr, frames, box)
    row: Dict[str, object] = {"entry": e.label, "tracker": e.tracker, "note": e.note, "init_ms": init_s * 1e3,
                              "update_ms": update_s * 1e3, "update_gflop": flops / 1e9}
    if e.floor:
        floor = flops / (rate * 1e9)
        row["floor_ms"] = floor * 1e3
        row["update_over_floor"] = update_s / floor if floor else float("nan")
    size = (frames[0].shape[1], frames[0].shape[0])
    per_n = {}
    for n in targets:
        boxes = target_boxes(box, n, size)
        res = {}
        for mode in ("batched", "looped"):
            b = tr.batch() if mode == "batched" else LoopedBatch(tr)
            b.add(frames[0], boxes)
            b.update(frames[1])
            k = iter(range(10 ** 9))
            r = max(2, reps // max(1, n // 4)) if mode == "looped" else max(3, reps // 2)
            s = _time(lambda: b.update(frames[1 + next(k) % (len(frames) - 1)]), r)
            res[mode] = {"frame_ms": s * 1e3, "fps": 1.0 / s}
        per_n[n] = res
    row["targets"] = per_n
    one = per_n.get(1, {}).get("batched", {}).get("frame_ms")
    top = per_n.get(max(targets), {}).get("batched", {}).get("frame_ms")
    if one and top:
        row["batched_max_over_one"] = top / one
    bound = shared_bound(tr, box, target_boxes(box, max(targets), size))
    if bound is not None:
        row["shared_bound"] = bound
    return row


def markdown(rows: List[Dict[str, object]], info: Dict[str, str], rate: float, threads: int, cmd: str,
             targets: List[int]) -> str:
    lines = [f"## SOT speed ({info['date']})", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, torch {info['torch']}; "
             f"{threads} threads; load average before the run: {info['load']}.",
             f"Command: `{cmd}`", f"Measured float32 matmul rate: {rate:.0f} GFLOP/s.", "",
             "| tracker | init ms | update ms | GFLOP/update | floor ms | update / floor | "
             f"{max(targets)} batched / 1 | shared-feature bound | note |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fl = f"{r['floor_ms']:.1f}" if "floor_ms" in r else "-"
        rf = f"{r['update_over_floor']:.2f}" if "update_over_floor" in r else "-"
        bo = f"{r.get('batched_max_over_one', float('nan')):.2f}"
        sb = f"{r['shared_bound']:.2f}" if "shared_bound" in r else "-"
        lines.append(f"| {r['entry']} | {r['init_ms']:.1f} | {r['update_ms']:.1f} | {r['update_gflop']:.2f} | {fl} | "
                     f"{rf} | {bo} | {sb} | {r['note']} |")
    lines += ["", "Frames per second (all targets of a frame), batched vs looped:", "",
              "| tracker | " + " | ".join(f"N={n}" for n in targets) + " |",
              "|---|" + "---|" * len(targets)]
    for r in rows:
        cells = []
        for n in targets:
            t = r["targets"][n]
            cells.append(f"{t['batched']['fps']:.1f} / {t['looped']['fps']:.1f}")
        lines.append(f"| {r['entry']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", default=",".join(ENTRIES), help="comma-separated entry labels")
    ap.add_argument("--targets", default="1,2,4,8,16,32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--sequence", default="test000-distractors", help="synthetic test sequence to take frames from")
    ap.add_argument("--out", default=None, help="append the markdown table to this file")
    ap.add_argument("--json", default=None, help="write the raw numbers as JSON")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from bench.datasets import open_dataset

    seq = open_dataset("synthetic")[args.sequence]
    frames = [seq.frame(i) for i in range(12)]
    box = np.asarray(seq.init_box, dtype=np.float64)
    targets = [int(x) for x in args.targets.split(",")]
    info = machine()
    rate = matmul_rate(args.threads)
    rows = []
    for label in args.entries.split(","):
        if label not in ENTRIES:
            print(f"unknown entry {label}; known: {', '.join(ENTRIES)}", file=sys.stderr)
            return 2
        r = bench_entry(ENTRIES[label], frames, box, targets, args.reps, rate)
        rows.append(r)
        print(f"{label}: init {r['init_ms']:.1f} ms, update {r['update_ms']:.1f} ms, "
              f"{r['update_gflop']:.2f} GFLOP, x{r.get('update_over_floor', float('nan')):.2f} floor, "
              f"{max(targets)} batched / 1 = {r.get('batched_max_over_one', float('nan')):.2f}, "
              f"shared-feature bound {r.get('shared_bound', float('nan')):.2f}", flush=True)
    cmd = "python benchmarks/sot_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    md = markdown(rows, info, rate, args.threads, cmd.strip(), targets)
    print(md)
    if args.out:
        append_markdown(args.out, md)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "matmul_gflops": rate, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
