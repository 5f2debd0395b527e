"""Training recipes by name. A recipe is ``fn(cfg, out_dir, resume, quiet) -> dict`` with a
config dataclass ``fn.Config`` (a :class:`sot.train.config.TrainConfig`); recipe modules of
``sot.train`` (and ``mot.train``) register with ``@register_recipe("name", ConfigClass)``,
found by the project's registry (:class:`bench.core.registry.Registry`) without importing
them; third-party recipes register through the ``bench.recipes`` entry-point group."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Optional

from bench.core.config import load_config, read_yaml
from bench.core.errors import ConfigError
from bench.core.registry import Registry

RECIPES = Registry("training recipe", packages=("sot.train", "mot.train"), decorator="register_recipe",
                   group="bench.recipes")


def register_recipe(name: str, config_cls):
    """Decorator registering recipe ``fn`` under ``name`` with its config dataclass
    (kept as ``fn.Config`` and in the entry's ``extra["config_cls"]``)."""
    reg = RECIPES.register(name, config=None, config_cls=config_cls)

    def deco(fn):
        fn.Config = config_cls
        return reg(fn)

    return deco


def get_recipe(name: str) -> Callable:
    """The recipe function ``name``; an unknown name raises ``UnknownNameError`` listing the known ones."""
    return RECIPES.get(name).obj


def run_recipe(config_path, overrides: Iterable[str] = (), out: Optional[str] = None,
               resume: bool = False, quiet: bool = False) -> dict:
    data = read_yaml(config_path)
    name = data.get("recipe")
    if not name:
        raise ConfigError(f"{config_path}: missing 'recipe' (one of {', '.join(RECIPES.names())})")
    fn = get_recipe(name)
    cfg = load_config(fn.Config, [config_path], overrides)
    out_dir = Path(out or data.get("out") or Path("runs") / "train" / Path(config_path).stem)
    return fn(cfg, out_dir=out_dir, resume=resume, quiet=quiet)
