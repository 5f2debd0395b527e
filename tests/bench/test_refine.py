"""bench refine end to end on a tiny synthetic-mot run: files, evaluation, resume, determinism, compare."""
import json

import numpy as np
import pytest

from bench.compare import compare
from bench.core.errors import BenchError
from bench.evaluate import evaluate
from bench.refine import refine
from bench.run import run_dataset
from bench.core.build import build_tracker
from bench.datasets import open_dataset

OPTS = {"length": 20, "test_sequences": 1}
FAST = ["encoder.iterations=2", "encoder.batch_triplets=4", "labelled.sequences=1", "labelled.frames_per_sequence=3"]


@pytest.fixture(scope="module")
def sort_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("refine")
    ds = open_dataset("synthetic-mot", None, **OPTS)
    tdir = out / ds.name / "sort"
    run_dataset(build_tracker("sort"), ds, tdir, tracker_name="sort", progress=False)
    return out, tdir


def test_refined_files_evaluate_with_the_standard_evaluator(sort_run):
    out, tdir = sort_run
    s = refine("synthetic-mot", tdir, overrides=FAST, dataset_options=OPTS, progress=False)
    dest = out / "synthetic-mot" / "sort+remots"
    assert s["output"] == str(dest) and s["done"] == ["SYN-test-01"]
    report = evaluate(open_dataset("synthetic-mot", None, **OPTS), dest, "sort+remots")
    assert report["metrics"]["idf1"] == pytest.approx(s["after"]["idf1"])
    # same boxes, new identities
    a = np.loadtxt(tdir / "data" / "SYN-test-01.txt", delimiter=",")
    b = np.loadtxt(dest / "data" / "SYN-test-01.txt", delimiter=",")
    key = lambda r: r[np.lexsort((r[:, 2], r[:, 0]))][:, [0, 2, 3, 4, 5]]
    assert np.array_equal(key(a), key(b))
    info = json.loads((dest / "refine" / "SYN-test-01.json").read_text())
    assert -1 <= info["theta_short"]["value"] <= 1 and -1 <= info["theta_merge"]["value"] <= 1
    assert info["theta_short"]["normal_fit"]["k"] == 3.0
    assert (dest / "refine" / "SYN-test-01_short.png").stat().st_size > 1000
    assert (dest / "refine" / "SYN-test-01_merge.png").stat().st_size > 1000
    assert "HOTA" in s["table"] and "change" in s["table"]
    # resumable: a second call keeps the finished sequence; other settings are refused
    again = refine("synthetic-mot", tdir, overrides=FAST, dataset_options=OPTS, progress=False)
    assert again["skipped"] == ["SYN-test-01"] and again["done"] == []
    with pytest.raises(BenchError, match="another run"):
        refine("synthetic-mot", tdir, overrides=FAST + ["max_gap=3"], dataset_options=OPTS, progress=False)
    # compare lists the refined results beside trackers
    c = compare("synthetic-mot", ["sort", "sort+remots"], out=out, dataset_options=OPTS, progress=False, plot=False)
    assert [r["tracker"] for r in c["reports"]] == ["sort", "sort+remots"]
    assert c["rows"][1]["idf1"] == pytest.approx(s["after"]["idf1"])


def test_deterministic_with_a_seed(sort_run, tmp_path):
    _, tdir = sort_run
    texts = []
    for k in range(2):
        dest = tmp_path / f"r{k}"
        refine("synthetic-mot", tdir, out=dest, overrides=FAST + ["flow=false"], dataset_options=OPTS,
               progress=False, plot=False, seed=3)
        texts.append((dest / "data" / "SYN-test-01.txt").read_bytes())
    assert texts[0] == texts[1]


def test_clear_errors(sort_run, tmp_path):
    _, tdir = sort_run
    with pytest.raises(BenchError, match="no result file"):
        refine("synthetic-mot", tmp_path, dataset_options=OPTS, progress=False)
    with pytest.raises(BenchError, match="not a MOT dataset"):
        refine("synthetic", tdir, progress=False)
    with pytest.raises(BenchError, match="unknown key 'nonsense'"):
        refine("synthetic-mot", tdir, out=tmp_path / "x", overrides=["nonsense=1"], dataset_options=OPTS, progress=False)
