"""Training recipes by name. A recipe is ``fn(cfg, out_dir, resume, quiet) -> dict`` with a
config dataclass ``fn.Config``; recipe modules register with :func:`register_recipe`."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional

from bench.core.config import load_config, read_yaml
from bench.core.errors import ConfigError, UnknownNameError

RECIPES: Dict[str, Callable] = {}
# recipe name -> module that defines it (imported on demand)
MODULES = {
    "siamfc": "sot.train.siamese",
    "siamrpn": "sot.train.siamese",
    "dasiamrpn": "sot.train.siamese",
    "mdnet": "sot.train.mdnet",
    "adnet_sl": "sot.train.adnet",
    "adnet_rl": "sot.train.adnet",
}


def register_recipe(name: str, config_cls):
    def deco(fn):
        fn.Config = config_cls
        RECIPES[name] = fn
        return fn
    return deco


def get_recipe(name: str) -> Callable:
    if name not in RECIPES and name in MODULES:
        importlib.import_module(MODULES[name])
    if name not in RECIPES:
        raise UnknownNameError("training recipe", name, set(MODULES) | set(RECIPES))
    return RECIPES[name]


def run_recipe(config_path, overrides: Iterable[str] = (), out: Optional[str] = None,
               resume: bool = False, quiet: bool = False) -> dict:
    data = read_yaml(config_path)
    name = data.get("recipe")
    if not name:
        raise ConfigError(f"{config_path}: missing 'recipe' (one of {', '.join(sorted(MODULES))})")
    fn = get_recipe(name)
    cfg = load_config(fn.Config, [config_path], overrides)
    out_dir = Path(out or data.get("out") or Path("runs") / "train" / Path(config_path).stem)
    return fn(cfg, out_dir=out_dir, resume=resume, quiet=quiet)
