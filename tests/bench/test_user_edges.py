"""The rough edges a new user hits: each with the message or behaviour it must have."""
from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import DataError
from bench.datasets import open_dataset
from bench.evaluate import evaluate
from tests.helpers import shared_path


def _otb_couple(tmp_path, first_row=None):
    src = shared_path("sot", "sequences", "Couple")
    dst = tmp_path / "otb" / "Couple"
    shutil.copytree(src, dst)
    if first_row is not None:
        f = dst / "groundtruth_rect.txt"
        lines = f.read_text().splitlines()
        lines[0] = first_row
        f.write_text("\n".join(lines) + "\n")
    return tmp_path / "otb"


def test_zero_size_initial_box_is_named_before_any_tracker_runs(tmp_path, capsys):
    root = _otb_couple(tmp_path, "205 151 0 0")
    code = main(["run", "--tracker", "ncc", "--dataset", "otb100", "--root", str(root), "--sequences", "Couple",
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "groundtruth_rect.txt:1: the initial box of sequence 'Couple' has no size" in out
    assert "NaN to integer" not in out


def test_missing_sequences_are_one_line_with_the_hint_once(tmp_path, capsys):
    root = _otb_couple(tmp_path)
    code = main(["run", "--tracker", "identity", "--dataset", "otb100", "--root", str(root),
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "99 of 100 sequences not found under" in out and "--sequences Couple" in out
    assert out.count("cvlab.hanyang.ac.kr") == 1 and len(out.splitlines()) < 20
    assert "AUC" in out  # the sequence that exists is evaluated


def test_repetitions_option_takes_effect_on_vot(tmp_path):
    from bench.datasets.synthetic import export

    export(open_dataset("synthetic", num_sequences=1, length=12), "vot", tmp_path / "vot")
    ds = open_dataset("vot2018", tmp_path / "vot", repetitions=2)
    assert ds.settings.repetitions == 2

    class Stochastic:
        is_deterministic = False

    assert ds.protocol_object().repetitions(Stochastic()) == 2
    assert open_dataset("vot2018", tmp_path / "vot").protocol_object().repetitions(Stochastic()) == 15


def test_unknown_dataset_option_names_both_sets(tmp_path):
    from bench.core.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        open_dataset("vot2018", tmp_path, repetitons=1)
    assert "repetitions" in str(e.value) and "dataset options" in str(e.value)


def test_vot_root_of_another_edition_is_refused(tmp_path):
    root = shared_path("sot", "vot2019")
    with pytest.raises(DataError, match="--dataset vot2019"):
        open_dataset("vot2018", root)
    # a list.txt root whose sequences are VOT2019's is refused as VOT2018 too
    (tmp_path / "list.txt").write_text("\n".join(open_dataset("vot2019", root).names()) + "\n")
    with pytest.raises(DataError, match="holds VOT2019"):
        open_dataset("vot2018", tmp_path)


def test_vot_root_without_list_uses_the_folders_present(tmp_path):
    src = shared_path("sot", "sequences", "bag")
    shutil.copytree(src, tmp_path / "bag")
    ds = open_dataset("vot2018", tmp_path)
    assert ds.names() == ["bag"] and len(ds["bag"]) == 196


def test_first_row_in_another_format_is_warned(tmp_path):
    root = _otb_couple(tmp_path)
    ds = open_dataset("otb100", root).select(["Couple"])
    gt = ds["Couple"].gt
    res = tmp_path / "res"
    res.mkdir()
    rows = gt.copy()
    rows[0] = [gt[0, 0], gt[0, 1], gt[0, 0] + gt[0, 2], gt[0, 1] + gt[0, 3]]   # x1,y1,x2,y2
    np.savetxt(res / "Couple.txt", rows, fmt="%.2f", delimiter=",")
    rep = evaluate(ds, res, first_frame="result")
    assert any("reads as x1,y1,x2,y2" in w and "it is scored" in w for w in rep["warnings"])
    assert any("not scored" in w for w in evaluate(ds, res)["warnings"])


def test_short_file_at_a_placeholder_row_says_so(tmp_path):
    root = _otb_couple(tmp_path)
    f = root / "Couple" / "groundtruth_rect.txt"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-1] + ["0,0,0,0"]) + "\n")       # the last frame has no target
    ds = open_dataset("otb100", root).select(["Couple"])
    res = tmp_path / "res"
    res.mkdir()
    np.savetxt(res / "Couple.txt", np.nan_to_num(ds["Couple"].gt[:-1]), fmt="%.2f", delimiter=",")
    rep = evaluate(ds, res)
    assert any("placeholder row" in w for w in rep["warnings"])
    assert not any("count as failures" in w for w in rep["warnings"])


def test_output_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["run", "--tracker", "identity", "--dataset", "synthetic", "--dataset-option", "num_sequences=1",
                     "--dataset-option", "length=10", "--out", str(tmp_path), "--quiet"]) == 0
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files)
    assert any(p.suffix == ".png" for p in files)


def test_usage_errors_exit_2(capsys):
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--set", "noequals"]) == 2
    assert "expected key=value" in capsys.readouterr().err
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--dataset-option", "x"]) == 2


def test_unknown_sequence_lists_sequences_not_synthetics(capsys):
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--sequences", "nope", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "known sequences of synthetic:" in err and "synthetics" not in err


def test_table_fps_equals_the_line_under_it(tmp_path, capsys):
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetic", "--dataset-option", "num_sequences=2",
                 "--dataset-option", "length=15", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    row = next(l for l in out if l.startswith("ncc ") and "sequences run" not in l)
    line = next(l for l in out if l.startswith("Tracking speed of this run"))
    assert row.split()[-1] == line.split(": ")[1].split()[0]


def test_plot_title_names_a_selection(tmp_path):
    from bench.protocols.one_pass import dataset_title

    root = _otb_couple(tmp_path)
    ds = open_dataset("otb100", root)
    assert dataset_title(ds) == "otb100" and dataset_title(ds.select(["Couple"])) == "otb100 (1 of 100 sequences)"


def test_image_tracker_on_partial_frames_names_frames_available(tmp_path, capsys):
    root = shared_path("mot", "MOT17")
    code = main(["run", "--tracker", "sot-identity", "--dataset", "mot17", "--root", str(root), "--detections",
                 "FRCNN", "--sequences", "MOT17-02-FRCNN", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1 and "--dataset-option frames=available" in out
    assert main(["run", "--tracker", "sot-identity", "--dataset", "mot17", "--root", str(root), "--detections",
                 "FRCNN", "--sequences", "MOT17-02-FRCNN", "--dataset-option", "frames=available",
                 "--out", str(tmp_path / "b"), "--quiet"]) == 0
