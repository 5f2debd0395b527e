"""Shared test helpers: the project root and the reference data in ../shared/data.

Tests that need ../shared/data skip where it is absent (a user's clone) and fail where
BENCH_REQUIRE_SHARED=1 (CI)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips (or fails under BENCH_REQUIRE_SHARED=1) when absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        msg = f"reference data not found: {p} (the ../shared/data folder beside the project)"
        if os.environ.get("BENCH_REQUIRE_SHARED") == "1":
            pytest.fail(msg + "; BENCH_REQUIRE_SHARED=1 makes this a failure")
        pytest.skip(msg)
    return p
