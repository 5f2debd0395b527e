"""Build a registered tracker from its YAML config, a user config file and ``--set`` overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Optional, Union

from .config import load_config
from .registry import TRACKERS, Entry, configs_dir


def config_files(entry: Entry, user_file: Optional[Union[str, Path]] = None) -> List[Path]:
    files: List[Path] = []
    if entry.config:
        files.append(configs_dir() / entry.config)
    if user_file:
        files.append(Path(user_file))
    return files


def build_tracker(name: str, *, config_file: Optional[Union[str, Path]] = None,
                  overrides: Iterable[str] = (), weights: Optional[str] = None, seed: int = 0):
    """Instantiate tracker ``name``: ``cls(cls.Config from YAML + overrides, weights=, seed=)``."""
    entry = TRACKERS.get(name)
    cls = entry.obj
    cfg = load_config(cls.Config, config_files(entry, config_file), overrides)
    return cls(cfg, weights=weights, seed=seed)
