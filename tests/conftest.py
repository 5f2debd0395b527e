"""Shared fixtures (the helpers themselves are in tests/helpers.py)."""
from __future__ import annotations

import pytest

from tests.helpers import ROOT, SHARED, shared_path  # noqa: F401


@pytest.fixture
def shared():
    return shared_path
