"""Result folders of several trackers (``bench report --results DIR``: one folder per tracker)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from ..core.errors import BenchError, UnknownNameError


def tracker_folders(results_root: Path, trackers: Optional[List[str]]) -> List[Path]:
    """The tracker folders under ``results_root`` (all, or ``trackers`` in that order)."""
    if not results_root.is_dir():
        raise BenchError(f"{results_root}: results folder not found")
    present = sorted(p.name for p in results_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if trackers:
        for t in trackers:
            if t not in present:
                raise UnknownNameError(f"tracker results folder in {results_root}", t, present)
        return [results_root / t for t in trackers]
    if not present:
        raise BenchError(f"{results_root}: no tracker folders (expected one folder of result files per tracker)")
    return [results_root / t for t in present]
