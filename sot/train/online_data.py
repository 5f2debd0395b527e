"""Training data for the online-learning trackers' recipes (MDNet, ADNet): domains = sequences.

A *domain* is one training sequence (MDNet's multi-domain learning, ADNet's per-video
heads). :class:`Domains` opens the dataset of a training config (normally ``synthetic``
with ``split=train``, :func:`sot.train.config.open_sequences`), keeps for each sequence the
frames with a usable ground-truth box (finite, at least ``min_size`` pixels wide and high)
and draws frames from a seeded generator. The round-robin order is one random permutation
of the domains per epoch (py-MDNet ``pretrain/train_mdnet.py``; ADNet ``adnet_train_RL.m``
``randperm``).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import ConfigError

from .config import TrainConfig, open_sequences


class Domains:
    """Sequences of a dataset with their usable frames."""

    def __init__(self, cfg: TrainConfig, min_size: float = 10.0):
        self.dataset, names = open_sequences(cfg)
        self.names: List[str] = []
        self.frames: List[np.ndarray] = []
        for n in names:
            seq = self.dataset[n]
            g = np.asarray(seq.gt, dtype=np.float64)
            ok = np.all(np.isfinite(g), 1) & (g[:, 2] >= min_size) & (g[:, 3] >= min_size)
            if ok.sum() >= 2:
                self.names.append(n)
                self.frames.append(np.flatnonzero(ok))
        if not self.names:
            raise ConfigError(f"{cfg.dataset}: no sequence with usable ground truth among {len(names)}")

    def __len__(self) -> int:
        return len(self.names)

    def sequence(self, k: int):
        return self.dataset[self.names[k]]

    def schedule(self, epochs: int, seed: int) -> np.ndarray:
        """Domain index per iteration: one random permutation per epoch, fixed by ``seed``."""
        rng = np.random.default_rng([seed, 7])
        return np.concatenate([rng.permutation(len(self)) for _ in range(epochs)])

    def sample_frames(self, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` usable frame indices of domain ``k`` (without replacement when possible)."""
        fr = self.frames[k]
        return fr[rng.choice(len(fr), size=n, replace=len(fr) < n)]

    def frame(self, k: int, i: int) -> Tuple[np.ndarray, np.ndarray]:
        seq = self.sequence(k)
        return seq.frame(int(i)), np.asarray(seq.gt[int(i)], dtype=np.float64)


def split_counts(total: int, parts: int) -> List[int]:
    """``total`` spread as evenly as possible over ``parts`` (py-MDNet spreads a batch over frames)."""
    base, extra = divmod(int(total), int(parts))
    return [base + (1 if i < extra else 0) for i in range(parts)]


def stack_boxes(groups: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1, 4) for g in groups]) if groups else np.zeros((0, 4))


def crops_to_tensor(u8: np.ndarray) -> torch.Tensor:
    """uint8 crops (N, S, S, 3) -> float (N, 3, S, S) minus 128, ``channels_last`` (MDNet / ADNet input)."""
    x = torch.from_numpy(u8).float().sub_(128.0).permute(0, 3, 1, 2)
    return x.contiguous(memory_format=torch.channels_last)
