"""Speed of the single-object evaluation core on the shared real data.

    python benchmarks/sot_eval_speed.py [--shared ../shared/data] [--repeat 3]

Measures (best of ``--repeat``, process CPU time and wall time):
* rasterised VOT overlaps of all 19935 VOT2019 frames (Ocean vs ground truth), both conventions;
* ``evaluate_results`` on OTB-100 (DaSiamRPN files) and on VOT2019 Ocean (both conventions),
  including reading the annotation JSON and the result files.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np


def best(fn, repeat):
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    shared = Path(args.shared)

    from bench.core.regions import Regions, overlap
    from bench.datasets import open_dataset
    from bench.evaluate import evaluate_results
    from bench.results.sot import find_result_file, read_vot_file

    vot_root = shared / "sot" / "vot2019"
    ds = open_dataset("vot2019", vot_root)
    preds, gts, sizes = [], [], []
    for s in ds:
        r, _ = read_vot_file(find_result_file(vot_root / "results" / "Ocean", s.name, "vot"), len(s))
        preds.append(r)
        gts.append(s.meta["regions"])
        sizes.append(np.tile(s.image_size, (len(s), 1)))
    pred, gt, size = Regions.concat(preds), Regions.concat(gts), np.concatenate(sizes)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"VOT2019 Ocean: {len(pred)} frames")
    for conv in ("vot-toolkit", "pysot"):
        w, c = best(lambda: overlap(pred, gt, size, conv), args.repeat)
        print(f"  overlap ({conv:11s}): wall {w:.2f} s, cpu {c:.2f} s, {len(pred) / w:,.0f} frames/s")
    otb_root = shared / "sot" / "otb100"
    w, c = best(lambda: evaluate_results("otb100", otb_root / "results" / "DaSiamRPN", root=otb_root), args.repeat)
    print(f"evaluate_results otb100 DaSiamRPN (100 sequences, 59035 frames): wall {w:.2f} s, cpu {c:.2f} s")
    for conv in ("vot-toolkit", "pysot"):
        w, c = best(lambda: evaluate_results("vot2019", vot_root / "results" / "Ocean", root=vot_root,
                                             convention=conv), args.repeat)
        print(f"evaluate_results vot2019 Ocean ({conv}): wall {w:.2f} s, cpu {c:.2f} s")


if __name__ == "__main__":
    main()
