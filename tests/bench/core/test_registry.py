"""Tracker registry: decorator, unknown names (exit 2, closest match), third-party entry-point plugins."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import BenchError, UnknownNameError
from bench.core.registry import Registry, TRACKERS, register_tracker
from bench.core.tracker import SOTTracker

from tests.helpers import ROOT  # noqa: E402
FIXTURE = Path(__file__).parent / "plugin_fixture"


def test_decorator_registers_and_rejects_duplicates():
    reg = Registry("tracker")

    @reg.register("t-one", kind="sot", config="trackers/t-one.yaml")
    class One(SOTTracker):
        """First line is the description."""

        def init(self, image, box):
            pass

        def update(self, image):
            return np.zeros(4), 1.0

    e = reg.get("t-one")
    assert e.obj is One and e.kind == "sot" and e.config == "trackers/t-one.yaml"
    assert e.description == "First line is the description."
    with pytest.raises(BenchError, match="registered twice"):
        reg.register("t-one", kind="sot")(type("Other", (), {}))
    with pytest.raises(ValueError):
        register_tracker("x", kind="both")


def test_builtin_baselines_are_found_through_entry_points():
    for name in ("identity", "ncc", "opencv-mil"):
        e = TRACKERS.get(name)
        assert e.kind == "sot" and e.config == f"trackers/{name}.yaml"
        assert e.obj.__module__ == "sot.trackers.baselines"


def test_unknown_names_exit_2_with_closest_match(capsys):
    assert main(["run", "--tracker", "nnc", "--dataset", "synthetic"]) == 2
    err = capsys.readouterr().err
    assert "unknown tracker 'nnc'" in err and "Did you mean 'ncc'?" in err
    assert "identity" in err and "opencv-mil" in err  # the known names are listed
    assert "Traceback" not in err
    assert main(["run", "--tracker", "ncc", "--dataset", "synthetc"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'synthetc'" in err and "Did you mean 'synthetic'?" in err
    with pytest.raises(UnknownNameError) as exc:
        TRACKERS.get("zzzzzz")
    assert exc.value.exit_code == 2 and exc.value.closest is None


def test_list_shows_trackers_datasets_metrics(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Trackers" in out and "Datasets" in out and "Metrics" in out
    assert "configs/trackers/ncc.yaml" in out
    line = next(l for l in out.splitlines() if l.split()[:1] == ["opencv-mil"])
    assert " SOT " in line
    line = next(l for l in out.splitlines() if l.split()[:1] == ["synthetic"])
    assert " ope " in line


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """The fixture package plus a dist-info declaring its entry point, as pip would install it."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(FIXTURE / "bench_plugin_demo", site / "bench_plugin_demo")
    info = site / "bench_plugin_demo-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-plugin-demo\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[bench.trackers]\ndemo-plugin = bench_plugin_demo.tracker:ConstantVelocity\n")
    (info / "RECORD").write_text("")
    return site


def _bench(args, site, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)] + env.get("PYTHONPATH", "").split(os.pathsep))
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_entry_point_plugin_is_listed_and_runs(plugin_path, tmp_path):
    r = _bench(["list", "trackers"], plugin_path, tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if l.split()[:1] == ["demo-plugin"])
    assert " SOT " in line and "demo.yaml" in line and "Plugin demo" in line
    r = _bench(["run", "--tracker", "demo-plugin", "--dataset", "synthetic", "--sequences", "test004-scale",
                "--out", str(tmp_path / "out"), "--quiet", "--set", "damping=0.25"], plugin_path, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AUC" in r.stdout
    assert (tmp_path / "out" / "synthetic" / "demo-plugin" / "test004-scale.txt").is_file()
    # the plugin's own YAML is read and --set reaches its config: an unknown key names the valid ones
    r = _bench(["run", "--tracker", "demo-plugin", "--dataset", "synthetic", "--sequences", "test004-scale",
                "--out", str(tmp_path / "out2"), "--quiet", "--set", "dampng=1"], plugin_path, tmp_path)
    assert r.returncode == 1 and "dampng" in r.stderr and "damping" in r.stderr


def test_plugin_absent_without_its_distribution(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bench", "list", "trackers"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and "demo-plugin" not in r.stdout
