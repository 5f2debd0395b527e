"""The fields every training recipe has (:class:`TrainConfig`) and the training data they open.

Each recipe's config dataclass subclasses :class:`TrainConfig` and adds its own fields; a
field that two recipes share has one name everywhere (``configs/train/*.yaml``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple


@dataclasses.dataclass
class TrainConfig:
    """Shared training settings. Intervals count iterations (one optimiser step per iteration,
    except ADNet's REINFORCE stage, which takes several per domain visit); an *epoch* is
    ``iters_per_epoch`` iterations for the Siamese recipes and one visit of every training
    sequence (domain) for MDNet and ADNet (py-MDNet's "cycle")."""

    seed: int = 0
    threads: int = 1                  # torch threads (0 = leave as is)
    dataset: str = "synthetic"        # any registered dataset of annotated videos
    dataset_root: Optional[str] = None
    split: str = "train"              # synthetic: the split to generate
    num_sequences: int = 0            # the first N sequences only (0 = all)
    dataset_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int = 10
    optimizer: str = "sgd"            # "sgd" (with momentum) or "adam"
    lr: float = 1e-4
    momentum: float = 0.9             # SGD only
    weight_decay: float = 5e-4
    grad_clip: float = 10.0           # gradient-norm clip (0 = none)
    save_every: int = 0               # iterations between checkpoints (0 = once per epoch)
    log_every: int = 0                # iterations between log lines (0 = once per epoch)
    stop_after: int = 0               # stop after this many epochs in this invocation (0 = all); --resume continues


def open_sequences(cfg: TrainConfig) -> Tuple[Any, List[str]]:
    """The training dataset of ``cfg`` and the names of the sequences to train on.

    The synthetic benchmark gets ``split`` and ``num_sequences`` as options (unless
    ``dataset_options`` sets them) and keeps the textures of as many scenes as it trains on.
    """
    from bench.datasets import open_dataset

    opts = dict(cfg.dataset_options or {})
    if cfg.dataset == "synthetic":
        opts.setdefault("split", cfg.split)
        if cfg.num_sequences > 0:
            opts.setdefault("num_sequences", cfg.num_sequences)
            try:
                from bench.datasets.synthetic.scene import set_texture_cache_size

                set_texture_cache_size(min(cfg.num_sequences, 64))
            except ImportError:  # pragma: no cover - older synthetic module
                pass
    dataset = open_dataset(cfg.dataset, cfg.dataset_root, **opts)
    names = dataset.names()
    return dataset, names[:cfg.num_sequences] if cfg.num_sequences > 0 else names
