"""DanceTrack and SportsMOT: MOTChallenge-layout benchmarks declared by YAML alone (no public detections)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.core.errors import DataError, DatasetNotFoundError
from bench.core.tracker import MOTTracker
from bench.datasets import open_dataset
from bench.evaluate import evaluate
from bench.run import run_dataset

# (dataset, split folders, image name digits, first gt id, fps)
BENCHMARKS = {"dancetrack": (("train", "val", "test"), 8, 1, 20), "sportsmot": (("train", "val", "test"), 6, 0, 25)}


def _fixture(root: Path, dataset: str, n: int = 8, images: bool = True, det: bool = False) -> Path:
    """Two sequences per split (test without gt), MOTChallenge layout with the benchmark's image names."""
    splits, digits, id0, fps = BENCHMARKS[dataset]
    rng = np.random.default_rng(0)
    for split in splits:
        for k in range(2):
            name = f"{dataset}{split}{k:02d}"
            d = root / split / name
            d.mkdir(parents=True)
            (d / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={n}\n"
                                           "imWidth=64\nimHeight=48\nimExt=.jpg\n")
            if images:
                (d / "img1").mkdir()
                for t in range(1, n + 1):
                    cv2.imwrite(str(d / "img1" / f"{t:0{digits}d}.jpg"), np.full((48, 64, 3), t, np.uint8))
            rows = [f"{t}, {i + id0}, {5 + 3 * t + 20 * i}, {10 + i}, 12, 30, 1, 1, 1"
                    for t in range(1, n + 1) for i in range(3)]
            if split != "test":
                (d / "gt").mkdir()
                (d / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
            if det:
                (d / "det").mkdir()
                (d / "det" / "det.txt").write_text("".join(
                    f"{t},-1,{5 + 3 * t + 20 * i + rng.normal(0, 0.5):.2f},{10 + i},12,30,0.9\n"
                    for t in range(1, n + 1) for i in range(3)))
    return root


@pytest.mark.parametrize("dataset", list(BENCHMARKS))
def test_layout_splits_and_images(tmp_path, dataset):
    splits, digits, id0, fps = BENCHMARKS[dataset]
    root = _fixture(tmp_path / dataset, dataset)
    ds = open_dataset(dataset, root)
    assert ds.protocol == "mot" and ds.names() == [f"{dataset}val00", f"{dataset}val01"]  # default split: val
    seq = ds[f"{dataset}val00"]
    assert len(seq) == 8 and seq.fps == fps and seq.image_size == (64, 48) and seq.detections is None
    assert seq.frames.paths[0].endswith("img1/" + "1".zfill(digits) + ".jpg")
    assert int(seq.frame(7)[0, 0, 0]) in (7, 8, 9)  # the 8th image (JPEG rounding)
    assert seq.gt.shape == (24, 9) and seq.gt[:, 1].min() == id0
    assert ds.settings.preprocess and ds.settings.distractor_classes == [2, 7, 8, 12]
    assert len(open_dataset(dataset, root, split="all")) == 6
    test = open_dataset(dataset, root, split="test")
    assert not test.has_ground_truth()
    with pytest.raises(DataError, match="nothing to evaluate"):
        evaluate(test, tmp_path)


@pytest.mark.parametrize("dataset", list(BENCHMARKS))
def test_missing_split_and_malformed_gt(tmp_path, dataset):
    with pytest.raises(DatasetNotFoundError, match="no 'val' folder"):
        (tmp_path / "empty").mkdir()
        open_dataset(dataset, tmp_path / "empty")
    root = _fixture(tmp_path / dataset, dataset, images=False)
    gt = root / "val" / f"{dataset}val00" / "gt" / "gt.txt"
    gt.write_text(gt.read_text() + "9, 1, 1, 1, 5, 5, 1, 1, 1\n")
    with pytest.raises(DataError, match="beyond the sequence length 8") as e:
        open_dataset(dataset, root)[f"{dataset}val00"]
    assert e.value.path == str(gt) and e.value.line == 25


@pytest.mark.parametrize("dataset,te_benchmark", [("dancetrack", "MOT17"), ("sportsmot", "sportsmot")])
def test_evaluation_equals_trackeval(tmp_path, dataset, te_benchmark):
    """As the benchmarks' official commands run TrackEval (DanceTrack README: default BENCHMARK; SportsMOT
    evalutate.sh: --BENCHMARK sportsmot; DO_PREPROC default True)."""
    trackeval = pytest.importorskip("trackeval")
    root = _fixture(tmp_path / dataset, dataset, n=30, images=False)
    rng = np.random.default_rng(1)
    res = tmp_path / "trk" / "T" / "data"
    res.mkdir(parents=True)
    names = [f"{dataset}val00", f"{dataset}val01"]
    for name in names:
        gt = np.loadtxt(root / "val" / name / "gt" / "gt.txt", delimiter=",")
        keep = gt[rng.random(len(gt)) < 0.8]
        boxes = keep[:, 2:6] + rng.normal(0, 2, (len(keep), 4))
        ids = keep[:, 1] + 10 * (keep[:, 0] > 15)  # an identity switch half way
        tr = np.column_stack([keep[:, 0], ids, boxes, np.ones(len(keep)), -np.ones((len(keep), 3))])
        np.savetxt(res / f"{name}.txt", tr, delimiter=",", fmt="%.3f")
    ev = trackeval.Evaluator({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
                              "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False,
                              "PLOT_CURVES": False})
    te_ds = trackeval.datasets.MotChallenge2DBox({
        "GT_FOLDER": str(root / "val"), "TRACKERS_FOLDER": str(tmp_path / "trk"), "SKIP_SPLIT_FOL": True,
        "SEQ_INFO": {n: None for n in names}, "TRACKERS_TO_EVAL": ["T"], "BENCHMARK": te_benchmark,
        "SPLIT_TO_EVAL": "val", "PRINT_CONFIG": False, "OUTPUT_FOLDER": str(tmp_path / "out")})
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    with contextlib.redirect_stdout(io.StringIO()):
        out, msg = ev.evaluate([te_ds], metrics)
    ref = out["MotChallenge2DBox"]["T"]
    rep = evaluate(open_dataset(dataset, root), res, raw=True)
    for seq in names + ["COMBINED_SEQ"]:
        for metric in ("CLEAR", "Identity", "HOTA"):
            for field, want in ref[seq]["pedestrian"][metric].items():
                got = np.asarray(rep["trackeval"][seq][metric][field], float)
                assert np.max(np.abs(got - np.asarray(want, float))) <= 1e-9 * max(1.0, np.max(np.abs(want))), \
                    (seq, metric, field)


class _OwnDetector(MOTTracker):
    needs_detections = False

    def reset(self, fps=None):
        self.fps = fps

    def update(self, image, dets):
        assert len(dets) == 0
        return np.array([[8.0, 10.0, 12.0, 30.0]]), np.array([1]), np.array([0.9])


@pytest.mark.parametrize("dataset", list(BENCHMARKS))
def test_no_public_detections(tmp_path, dataset):
    from mot.trackers.sort import Sort

    root = _fixture(tmp_path / dataset, dataset, images=False, det=True)
    ds = open_dataset(dataset, root)
    bench_name = ds[ds.names()[0]].meta["benchmark"]
    s = run_dataset(Sort(), ds, tmp_path / "runs" / "sort", tracker_name="sort", progress=False)
    msg = s.failed[ds.names()[0]]
    assert not s.done and f"{bench_name} has no public detections and this tracker needs detections" in msg
    assert "detections_file" in msg and "needs_detections = False" in msg
    # a tracker with its own detector runs on the same sequences
    s = run_dataset(_OwnDetector(), ds, tmp_path / "runs" / "own", tracker_name="own", progress=False)
    assert s.done == ds.names()
    # with the user's detections (here det/det.txt) SORT runs
    ds = open_dataset(dataset, root, detections_file="det/det.txt")
    s = run_dataset(Sort(), ds, tmp_path / "runs" / "sort2", tracker_name="sort", progress=False)
    assert s.done == ds.names()
    rep = evaluate(ds, tmp_path / "runs" / "sort2")
    assert rep["metrics"]["mota"] > 0.5
