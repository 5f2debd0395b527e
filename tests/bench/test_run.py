"""A run killed midway (SIGKILL) keeps its finished sequences intact and resumes where it stopped."""
from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main

from tests.helpers import ROOT  # noqa: E402
SEQS = ["test000-distractors", "test001-occlusion", "test002-out-of-view", "test003-fast-motion",
        "test004-scale", "test005-illumination", "test006-motion-blur", "test007-distractors"]
LENGTH = 60


def bench_args(out: Path):
    return [sys.executable, "-m", "bench", "run", "--tracker", "ncc", "--dataset", "synthetic",
            "--sequences", ",".join(SEQS), "--dataset-option", f"length={LENGTH}", "--out", str(out), "--quiet"]


def finished(tdir: Path):
    return sorted(p for p in tdir.glob("*.txt") if not p.name.endswith("_time.txt"))


def run(out: Path, *extra: str):
    """``bench run`` in this process (same code path as the command): (exit code, stdout)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(bench_args(out)[3:] + list(extra))
    return code, buf.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_then_resume(tmp_path):
    out = tmp_path / "killed"
    tdir = out / "synthetic" / "ncc"
    proc = subprocess.Popen(bench_args(out), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while time.time() < deadline and len(finished(tdir)) < 2 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = finished(tdir)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert 2 <= len(done) < len(SEQS)

    # every result file present is complete: one finite x,y,w,h row per frame, and its time file
    for p in done:
        rows = np.loadtxt(p, delimiter=",")
        assert rows.shape == (LENGTH, 4) and np.isfinite(rows).all(), p
        times = np.loadtxt(p.with_name(p.stem + "_time.txt"))
        assert times.shape == (LENGTH,), p
    stamps = {p.name: p.stat().st_mtime_ns for p in done}

    # the rerun skips the finished sequences and completes the rest
    code, stdout = run(out)
    assert code == 0, stdout
    assert f"{len(SEQS) - len(done)} sequences run, {len(done)} already finished (skipped)" in stdout
    assert {p.name: p.stat().st_mtime_ns for p in done} == stamps
    assert not list(tdir.rglob("*.tmp")), "temporary files of the killed write were not cleaned up"

    # the final results equal those of an uninterrupted run
    ref = tmp_path / "uninterrupted"
    code, stdout = run(ref)
    assert code == 0, stdout
    a, b = finished(tdir), finished(ref / "synthetic" / "ncc")
    assert [p.name for p in a] == [p.name for p in b] == sorted(f"{s}.txt" for s in SEQS)
    for pa, pb in zip(a, b):
        assert pa.read_text() == pb.read_text(), pa.name

    # --overwrite reruns (here one sequence)
    code, stdout = run(out, "--overwrite", "--sequences", SEQS[0])
    assert code == 0 and "1 sequences run, 0 already finished" in stdout
    assert (tdir / f"{SEQS[0]}.txt").read_text() == (ref / "synthetic" / "ncc" / f"{SEQS[0]}.txt").read_text()


def test_resume_refuses_results_of_another_config(tmp_path, capsys):
    out = tmp_path / "o"
    code, stdout = run(out, "--sequences", SEQS[0], "--dataset-option", "length=10")
    assert code == 0, stdout
    code, stdout = run(out, "--sequences", SEQS[0], "--dataset-option", "length=10", "--set", "learning_rate=0.5")
    err = capsys.readouterr().err
    assert code == 1 and "another run" in err and "--name" in err and "params" in err
    code, stdout = run(out, "--sequences", SEQS[0], "--dataset-option", "length=10", "--set", "learning_rate=0.5",
                       "--name", "ncc-lr05")
    assert code == 0 and (out / "synthetic" / "ncc-lr05" / f"{SEQS[0]}.txt").is_file()
