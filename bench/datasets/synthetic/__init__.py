"""The procedural benchmark: ``synthetic`` (single object, protocol ``ope``) and
``synthetic-mot`` (multi object, protocol ``mot``), deterministic from a seed, no download.

    from bench.datasets import open_dataset
    ds = open_dataset("synthetic")                                  # test split, 20 x 120 frames, 320x240
    train = open_dataset("synthetic", split="train", num_sequences=500)
    seq = ds["test000-distractors"]; img = seq.frame(0); seq.gt; seq.flags["absent"]; seq.attributes
    mot = open_dataset("synthetic-mot")                             # 4 x 150 frames, 640x360
    export(ds, "otb", "out/")                                        # or "vot"; export(mot, "mot", "out/")

``root=None`` generates in memory (frames rendered on demand); ``root=DIR`` reads a copy
written by :func:`export` (OTB layout for ``synthetic``, MOTChallenge layout for
``synthetic-mot``). See docs/synthetic.md for the conventions.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

from ...core.errors import ConfigError
from ...core.registry import register_dataset
from ..base import Dataset
from .config import PRIMARIES, SyntheticConfig, SyntheticMOTConfig, load
from .export import export, read_motchallenge_copy, read_otb_copy, write_motchallenge, write_otb, write_vot
from .sot import ATTRIBUTES, make_sequence, sequence_names

__all__ = ["open_synthetic", "open_synthetic_mot", "export", "write_otb", "write_vot", "write_motchallenge",
           "read_otb_copy", "read_motchallenge_copy", "select_attribute", "ATTRIBUTES", "PRIMARIES",
           "SyntheticConfig", "SyntheticMOTConfig"]

PathLike = Union[str, Path]


def _no_generation_options(name: str, options: dict, config, overrides) -> None:
    given = [k for k, v in options.items() if v is not None]
    if config is not None or overrides:
        given.append("config/overrides")
    if given:
        raise ConfigError(f"{name}: options {', '.join(given)} apply to generated data only, "
                          "not to a copy read from --root")


@register_dataset("synthetic", protocol="ope", config="datasets/synthetic.yaml",
                  description="procedural single-object benchmark (no download)")
def open_synthetic(root: Optional[PathLike] = None, *, config: Optional[PathLike] = None,
                   overrides: Sequence[str] = (), **options) -> Dataset:
    """Open the single-object benchmark. Options: ``split`` ("test" / "train"),
    ``num_sequences``, ``length`` (frames), ``size`` ((W, H) pixels), ``seed``; ``config`` a
    YAML file and ``overrides`` ``key=value`` strings for any generator parameter."""
    if root is not None:
        _no_generation_options("synthetic", options, config, overrides)
        return read_otb_copy(root, name="synthetic")
    cfg = load(SyntheticConfig, "datasets/synthetic.yaml", options, config, overrides)
    n = cfg.num_sequences or (cfg.test_sequences if cfg.split == "test" else cfg.train_sequences)
    names = sequence_names(cfg, cfg.split, n)
    index = {nm: i for i, nm in enumerate(names)}

    def loader(nm: str):
        return make_sequence(cfg, cfg.split, index[nm], nm)

    meta = {"attributes": ATTRIBUTES, "split": cfg.split, "seed": cfg.seed, "config": cfg, "generated": True,
            "has_gt": True}
    return Dataset("synthetic", "ope", names, loader, None, meta)


@register_dataset("synthetic-mot", protocol="mot", config="datasets/synthetic-mot.yaml",
                  description="procedural multi-object benchmark with simulated public detections")
def open_synthetic_mot(root: Optional[PathLike] = None, *, config: Optional[PathLike] = None,
                       overrides: Sequence[str] = (), **options) -> Dataset:
    """Open the multi-object benchmark (same options as :func:`open_synthetic`)."""
    from .mot import make_mot_sequence, mot_sequence_names

    if root is not None:
        _no_generation_options("synthetic-mot", options, config, overrides)
        return read_motchallenge_copy(root, name="synthetic-mot")
    cfg = load(SyntheticMOTConfig, "datasets/synthetic-mot.yaml", options, config, overrides)
    n = cfg.num_sequences or (cfg.test_sequences if cfg.split == "test" else cfg.train_sequences)
    names = mot_sequence_names(cfg.split, n)
    index = {nm: i for i, nm in enumerate(names)}

    def loader(nm: str):
        return make_mot_sequence(cfg, cfg.split, index[nm], nm)

    meta = {"split": cfg.split, "seed": cfg.seed, "config": cfg, "generated": True, "has_gt": True}
    return Dataset("synthetic-mot", "mot", names, loader, None, meta)


def select_attribute(dataset: Dataset, attribute: str) -> Dataset:
    """The sequences of a single-object dataset carrying ``attribute`` (e.g. ``"Distractors"``)."""
    names = [s.name for s in dataset if attribute in s.attributes]
    if names:
        return dataset.select(names)
    return Dataset(dataset.name, dataset.protocol, [], dataset._loader, dataset.root, dataset.meta)
