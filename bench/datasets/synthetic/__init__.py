"""The procedural benchmark: ``synthetic`` (single object, protocol ``ope``) and
``synthetic-mot`` (multi object, protocol ``mot``), deterministic from a seed, no download.

    from bench.datasets import open_dataset
    ds = open_dataset("synthetic")                                  # test split, 20 x 120 frames, 320x240
    train = open_dataset("synthetic", split="train", num_sequences=500)
    harder = open_dataset("synthetic", **{"factors.noise_sigma": [6.0, 9.0]})   # any generator parameter
    seq = ds["test000-distractors"]; img = seq.frame(0); seq.gt; seq.flags["absent"]; seq.attributes
    mot = open_dataset("synthetic-mot")                             # 4 x 150 frames, 640x360
    export(ds, "otb", "out/")                                        # or "vot"; export(mot, "mot", "out/")

``root=None`` generates in memory (frames rendered on demand); ``root=DIR`` reads a copy
written by :func:`export` (OTB layout for ``synthetic``, MOTChallenge layout for
``synthetic-mot``). See docs/synthetic.md for the conventions.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Union

from ...core.errors import ConfigError
from ..base import Dataset, register_loader
from .config import PRIMARIES, SyntheticConfig, SyntheticMOTConfig
from .export import export, read_motchallenge_copy, read_otb_copy, write_motchallenge, write_otb, write_vot
from .sot import ATTRIBUTES, make_sequence, sequence_names

__all__ = ["open_synthetic", "open_synthetic_mot", "export", "write_otb", "write_vot", "write_motchallenge",
           "read_otb_copy", "read_motchallenge_copy", "select_attribute", "ATTRIBUTES", "PRIMARIES",
           "SyntheticConfig", "SyntheticMOTConfig"]

PathLike = Union[str, Path]


def _from_root(name: str, params, root, defaults) -> Optional[Dataset]:
    """A copy on disk is read as it is: generator options would not apply to it."""
    changed = [f.name for f in dataclasses.fields(params) if getattr(params, f.name) != getattr(defaults, f.name)]
    if changed:
        raise ConfigError(f"{name}: options {', '.join(changed)} apply to generated data only, "
                          "not to a copy read from --root")


@register_loader("synthetic", params=SyntheticConfig, description="procedural single-object benchmark")
def open_synthetic(name: str, params: SyntheticConfig, root: Optional[PathLike] = None) -> Dataset:
    """The single-object benchmark: generated in memory, or a copy written by :func:`export` at ``root``."""
    if root is not None:
        _from_root(name, params, root, _yaml_defaults(name, SyntheticConfig))
        return read_otb_copy(root, name=name)
    cfg = params
    n = cfg.num_sequences or (cfg.test_sequences if cfg.split == "test" else cfg.train_sequences)
    names = sequence_names(cfg, cfg.split, n)
    index = {nm: i for i, nm in enumerate(names)}

    def loader(nm: str):
        return make_sequence(cfg, cfg.split, index[nm], nm)

    return Dataset(name, names, loader, has_gt=True)


@register_loader("synthetic-mot", params=SyntheticMOTConfig, description="procedural multi-object benchmark")
def open_synthetic_mot(name: str, params: SyntheticMOTConfig, root: Optional[PathLike] = None) -> Dataset:
    """The multi-object benchmark: generated in memory, or a MOTChallenge-layout copy at ``root``."""
    from .mot import make_mot_sequence, mot_sequence_names

    if root is not None:
        _from_root(name, params, root, _yaml_defaults(name, SyntheticMOTConfig))
        return read_motchallenge_copy(root, name=name)
    cfg = params
    n = cfg.num_sequences or (cfg.test_sequences if cfg.split == "test" else cfg.train_sequences)
    names = mot_sequence_names(cfg.split, n)
    index = {nm: i for i, nm in enumerate(names)}

    def loader(nm: str):
        return make_mot_sequence(cfg, cfg.split, index[nm], nm)

    return Dataset(name, names, loader, has_gt=True)


def _yaml_defaults(name: str, cls):
    from ...core.config import build, split_sources
    from ..base import dataset_config

    return build(cls, split_sources(dataset_config(name).get("params", {}))[0], f"dataset '{name}'")


def select_attribute(dataset: Dataset, attribute: str) -> Dataset:
    """The sequences of a single-object dataset carrying ``attribute`` (e.g. ``"Distractors"``)."""
    names = [s.name for s in dataset if attribute in s.attributes]
    if names:
        return dataset.select(names)
    return dataset._copy([])
