"""Training data for the online-learning trackers' recipes (MDNet, ADNet): domains = sequences.

A *domain* is one training sequence (MDNet's multi-domain learning, ADNet's per-video
heads). :class:`Domains` opens a registered dataset (normally ``synthetic`` with
``split=train``), keeps for each sequence the frames with a usable ground-truth box
(finite, at least ``min_size`` pixels wide and high) and draws frames from a seeded
generator. The round-robin order is one random permutation of the domains per cycle
(py-MDNet ``pretrain/train_mdnet.py``; ADNet ``adnet_train_RL.m`` ``randperm``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from bench.core.errors import ConfigError

from .common import load_checkpoint, save_checkpoint


class Domains:
    """Sequences of a dataset with their usable frames."""

    def __init__(self, dataset: str = "synthetic", split: str = "train", num_sequences: int = 50,
                 min_size: float = 10.0, options: Dict[str, object] = None):
        from bench.datasets import open_dataset

        opts = dict(options or {})
        if dataset == "synthetic":
            opts.setdefault("split", split)
            opts.setdefault("num_sequences", num_sequences)
            try:
                from bench.datasets.synthetic.scene import set_texture_cache_size

                set_texture_cache_size(min(num_sequences, 64))
            except ImportError:  # pragma: no cover - older synthetic module
                pass
        self.dataset = open_dataset(dataset, **opts)
        names = self.dataset.names()[:num_sequences]
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
            raise ConfigError(f"{dataset}: no sequence with usable ground truth among {len(names)}")

    def __len__(self) -> int:
        return len(self.names)

    def sequence(self, k: int):
        return self.dataset[self.names[k]]

    def schedule(self, n_cycles: int, seed: int) -> np.ndarray:
        """Domain index per iteration: one random permutation per cycle, fixed by ``seed``."""
        rng = np.random.default_rng([seed, 7])
        return np.concatenate([rng.permutation(len(self)) for _ in range(n_cycles)])

    def sample_frames(self, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` usable frame indices of domain ``k`` (without replacement when possible)."""
        fr = self.frames[k]
        return fr[rng.choice(len(fr), size=n, replace=len(fr) < n)]

    def frame(self, k: int, i: int) -> Tuple[np.ndarray, np.ndarray]:
        seq = self.sequence(k)
        return seq.frame(int(i)), np.asarray(seq.gt[int(i)], dtype=np.float64)


def rng_state(rng: np.random.Generator) -> Dict[str, object]:
    """A numpy generator's state as plain strings/ints (loadable with ``weights_only=True``)."""
    st = rng.bit_generator.state
    return {"bit_generator": st["bit_generator"], "state": str(st["state"]["state"]),
            "inc": str(st["state"]["inc"]), "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"])}


def set_rng_state(rng: np.random.Generator, saved: Dict[str, object]) -> None:
    rng.bit_generator.state = {"bit_generator": saved["bit_generator"],
                               "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
                               "has_uint32": int(saved["has_uint32"]), "uinteger": int(saved["uinteger"])}


def split_counts(total: int, parts: int) -> List[int]:
    """``total`` spread as evenly as possible over ``parts`` (py-MDNet spreads a batch over frames)."""
    base, extra = divmod(int(total), int(parts))
    return [base + (1 if i < extra else 0) for i in range(parts)]


def stack_boxes(groups: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1, 4) for g in groups]) if groups else np.zeros((0, 4))


# -- pieces shared by the MDNet and ADNet recipes ---------------------------------------------
def start_recipe(threads: int) -> None:
    """Thread count (``threads`` > 0) and flushing of subnormal floats: weight decay pushes the
    weights of dead units into the subnormal range, where x86 CPUs compute up to ~10x slower."""
    if threads > 0:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def init_conv(backbone: nn.Module, init: str) -> None:
    """``kaiming``: He-normal conv1-3 weights and zero biases (training from scratch, no ImageNet
    VGG-M at hand); ``pytorch``: keep PyTorch's default initialisation."""
    if init == "kaiming":
        for conv in (backbone.conv1, backbone.conv2, backbone.conv3):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
    elif init != "pytorch":
        raise ConfigError(f"init must be 'pytorch' or 'kaiming', not {init!r}")


def make_optimizer(cfg, conv_params: Iterable[torch.Tensor], fc_params: Iterable[torch.Tensor]
                   ) -> torch.optim.Optimizer:
    """SGD (momentum) or Adam over two groups: conv at ``cfg.lr``, fc at ``cfg.lr * cfg.lr_mult_fc``
    (an empty group is dropped); weight decay ``cfg.weight_decay`` on both."""
    groups = [g for g in ({"params": list(conv_params), "lr": cfg.lr},
                          {"params": list(fc_params), "lr": cfg.lr * cfg.lr_mult_fc}) if g["params"]]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"optimizer must be 'sgd' or 'adam', not {cfg.optimizer!r}")


def crops_to_tensor(u8: np.ndarray) -> torch.Tensor:
    """uint8 crops (N, S, S, 3) -> float (N, 3, S, S) minus 128, ``channels_last`` (MDNet / ADNet input)."""
    x = torch.from_numpy(u8).float().sub_(128.0).permute(0, 3, 1, 2)
    return x.contiguous(memory_format=torch.channels_last)


def save_state(out_dir: Path, it: int, model: nn.Module, opt: torch.optim.Optimizer, rng: np.random.Generator,
               gen: Optional[torch.Generator] = None, extra: Optional[Dict[str, object]] = None) -> None:
    """Checkpoint after ``it`` iterations with the NumPy sampling state (and the dropout generator)."""
    state: Dict[str, object] = {"numpy": rng_state(rng)}
    if gen is not None:
        state["dropout"] = gen.get_state()
    save_checkpoint(out_dir, it, model, opt, extra=extra, rng_state=state)


def resume_state(out_dir: Path, model: nn.Module, opt: torch.optim.Optimizer, rng: np.random.Generator,
                 gen: Optional[torch.Generator] = None) -> int:
    """Restore what :func:`save_state` wrote; the iteration to continue from (0 without a checkpoint)."""
    ck = load_checkpoint(out_dir)
    if ck is None:
        return 0
    model.load_state_dict(ck["state_dict"])
    opt.load_state_dict(ck["optimizer"])
    set_rng_state(rng, ck["rng"]["numpy"])
    if gen is not None:
        gen.set_state(ck["rng"]["dropout"])
    torch.set_rng_state(ck["torch_rng"])
    return int(ck["epoch"])
