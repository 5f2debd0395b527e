"""Configs: every hyperparameter in configs/ carries its source; --set; unknown keys; bad YAML."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List

import pytest
import yaml

from bench.cli import main
from bench.core.build import build_tracker
from bench.core.config import load_config, missing_sources, read_yaml
from bench.core.errors import ConfigError
from tests.helpers import ROOT
from bench.published import load_published

CONFIGS = ROOT / "configs"
PARAM_YAMLS = sorted(p for sub in ("trackers", "datasets", "train") for p in (CONFIGS / sub).rglob("*.yaml"))
PUBLISHED = sorted((CONFIGS / "published").glob("*.yaml"))


def test_there_are_configs():
    names = {p.name for p in PARAM_YAMLS}
    assert {"identity.yaml", "ncc.yaml", "opencv-mil.yaml"} <= names
    assert {p.stem for p in PUBLISHED} >= {"otb100", "vot2016", "vot2018"}


@pytest.mark.parametrize("path", PARAM_YAMLS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_hyperparameter_has_a_source(path):
    data = read_yaml(path)
    params = data.get("params", {})
    assert isinstance(params, dict), f"{path}: 'params' must be a mapping"
    missing = missing_sources(params)
    assert not missing, f"{path}: hyperparameters without a source: {missing}"


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_every_published_number_has_a_source_and_rounding(path):
    table = load_published(path)  # validates: source per entry, rounding per value, reasons
    assert table.entries
    for e in table.entries:
        assert len(e.source) > 10, e.tracker
        for v in e.values + [v for vs in e.sequences.values() for v in vs]:
            count = v.rounding == 1  # counts (FP, FN, failures...) are published as integers and must match
            assert count or 0 <= v.value <= 1 or v.metric == "fps", (e.tracker, v.metric)
            assert v.rounding in (1, 0.1, 0.01, 0.001, 0.0001), (e.tracker, v.metric)
            assert not count or float(v.value).is_integer(), (e.tracker, v.metric)


def test_set_overrides_and_types():
    t = build_tracker("ncc", overrides=["learning_rate=0.2", "scales=[0.9, 1.0, 1.1]"])
    assert t.config.learning_rate == 0.2 and t.config.scales == [0.9, 1.0, 1.1]
    assert build_tracker("ncc").config.learning_rate == read_yaml(CONFIGS / "trackers/ncc.yaml")[
        "params"]["learning_rate"]["value"]
    with pytest.raises(ConfigError, match="template_size"):
        build_tracker("ncc", overrides=["template_size=big"])


@dataclasses.dataclass
class Inner:
    k: int = 1


@dataclasses.dataclass
class Outer:
    a: float = 0.5
    inner: Inner = dataclasses.field(default_factory=Inner)
    names: List[str] = dataclasses.field(default_factory=list)


def test_nested_set_and_unknown_key_names_valid_keys(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("params:\n  a: {value: 0.25, source: test}\n  inner:\n    k: {value: 3, source: test}\n")
    cfg = load_config(Outer, [f], ["inner.k=7"])
    assert cfg.a == 0.25 and cfg.inner.k == 7
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, [f], ["inner.q=1"])
    msg = str(exc.value)
    assert "inner.q" in msg and "inner.k" in msg
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, [f], ["b=1"])
    assert "'b'" in str(exc.value) and "a, inner, names" in str(exc.value)


def test_cli_unknown_key_and_bad_yaml(tmp_path, capsys):
    args = ["run", "--tracker", "ncc", "--dataset", "synthetic", "--sequences", "test004-scale",
            "--out", str(tmp_path / "out"), "--quiet"]
    assert main(args + ["--set", "learnin_rate=0.1"]) == 1
    err = capsys.readouterr().err
    assert "learnin_rate" in err and "learning_rate" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("params:\n  learning_rate: 0.1\n  scales: [1.0, 1.1\n  padding: 2\n")
    assert main(args + ["--config", str(bad)]) == 1
    err = capsys.readouterr().err
    line = yaml_error_line(bad)
    assert f"{bad}:{line}" in err and "invalid YAML" in err
    assert main(args + ["--config", str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml" in capsys.readouterr().err


def yaml_error_line(path: Path) -> int:
    try:
        yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return exc.problem_mark.line + 1
    raise AssertionError("expected a YAML error")
