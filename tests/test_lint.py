"""Static checks run by the test command: ruff (configured in pyproject.toml) over the whole tree."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_ruff_clean():
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]' installs it (the test command runs it)")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "bench", "sot", "mot", "tests", "benchmarks"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
