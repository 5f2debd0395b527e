"""Render speed of the synthetic benchmarks (bench/datasets/synthetic).

    python benchmarks/synthetic_speed.py [--mot]

Prints, for the default test split: the time to build a sequence's parameters and labels,
its textures (first frame), the per-frame render time, and the total for a 100-frame
sequence. Numbers go to benchmarks/results/synthetic.md.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from bench.datasets import open_dataset
from bench.datasets.synthetic.scene import assets_of, render_frame


def measure(name: str, **opts) -> None:
    ds = open_dataset(name, **opts)
    build, tex, per_frame, total100 = [], [], [], []
    for n in ds.names():
        t0 = time.perf_counter()
        seq = ds[n]
        t1 = time.perf_counter()
        scene = seq.meta["scene"]
        assets_of(scene)
        t2 = time.perf_counter()
        for i in range(len(seq)):
            render_frame(scene, i)
        t3 = time.perf_counter()
        build.append(t1 - t0)
        tex.append(t2 - t1)
        per_frame.append((t3 - t2) / len(seq))
        total100.append((t1 - t0) + (t2 - t1) + 100 * (t3 - t2) / len(seq))
        scene._assets = None
    cfg = ds.meta["config"]
    print(f"{name}: {len(ds)} sequences x {cfg.length} frames at {cfg.size[0]}x{cfg.size[1]}")
    print(f"  parameters + labels per sequence: {np.mean(build) * 1e3:7.1f} ms (max {np.max(build) * 1e3:.1f})")
    print(f"  textures per sequence:            {np.mean(tex) * 1e3:7.1f} ms")
    print(f"  render per frame:                 {np.mean(per_frame) * 1e3:7.2f} ms (max {np.max(per_frame) * 1e3:.2f})")
    print(f"  100-frame sequence, everything:   {np.mean(total100) * 1e3:7.1f} ms (max {np.max(total100) * 1e3:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mot", action="store_true", help="also measure synthetic-mot")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    import cv2

    print(f"opencv threads: {cv2.getNumThreads()}")
    measure("synthetic")
    t = time.perf_counter()
    tr = open_dataset("synthetic", split="train", num_sequences=500)
    for n in tr.names():
        tr[n]
    print(f"synthetic train, 500 sequences: parameters + labels {time.perf_counter() - t:.2f} s total")
    if args.mot:
        measure("synthetic-mot")


if __name__ == "__main__":
    main()
