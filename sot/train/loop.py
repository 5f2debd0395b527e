"""The one training loop of every recipe: seeding, threads, optimiser steps, checkpoints with
resume, logging and progress.

A recipe builds its network, optimiser (:meth:`TrainLoop.optimizer`) and data, tells the loop
what a checkpoint holds (:meth:`TrainLoop.track`) and hands :meth:`TrainLoop.run` two
functions: ``body(it)`` runs iteration ``it`` (calling :meth:`TrainLoop.step` for each
optimiser step) and returns its metrics, or None when there was nothing to train on;
``summarize(done, rows)`` turns the metrics since the last log line into a log record.

Checkpoints (``<out>/checkpoint_last.pth``, written atomically every ``save_every``
iterations and at the end) hold only tensors and plain Python values so that they load
with ``torch.load(weights_only=True)``: model, optimiser, the torch RNG, the recipe's NumPy
generator and dropout generator, and the number of iterations done (under the key
``epoch``). ``--resume`` restores all of it and continues with the next iteration, so an
interrupted run ends with the same weights as an uninterrupted one. Log lines are appended
to ``<out>/log.jsonl``.
"""
from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import ConfigError
from bench.core.io import atomic_write_text
from sot.checkpoints.files import read_torch_file, save_torch_file

from .config import TrainConfig

LAST = "checkpoint_last.pth"


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; use deterministic algorithms; return a NumPy generator."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def rng_state(rng: np.random.Generator) -> Dict[str, object]:
    """A numpy generator's state as plain strings/ints (loadable with ``weights_only=True``)."""
    st = rng.bit_generator.state
    return {"bit_generator": st["bit_generator"], "state": str(st["state"]["state"]),
            "inc": str(st["state"]["inc"]), "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"])}


def set_rng_state(rng: np.random.Generator, saved: Dict[str, object]) -> None:
    rng.bit_generator.state = {"bit_generator": saved["bit_generator"],
                               "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
                               "has_uint32": int(saved["has_uint32"]), "uinteger": int(saved["uinteger"])}


def make_optimizer(cfg: TrainConfig, groups: Sequence[Tuple[Iterable[torch.Tensor], float]]
                   ) -> torch.optim.Optimizer:
    """SGD (momentum ``cfg.momentum``) or Adam over ``(params, lr multiplier)`` groups at
    ``cfg.lr * multiplier`` (empty groups are dropped), weight decay ``cfg.weight_decay``."""
    pg = [g for g in ({"params": list(p), "lr": cfg.lr * m} for p, m in groups)
          if g["params"]]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(pg, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(pg, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"optimizer must be 'sgd' or 'adam', not {cfg.optimizer!r}")


def write_log(out_dir: Path, record: Dict[str, Any]) -> None:
    """Append one JSON line to ``<out>/log.jsonl`` (rewritten atomically)."""
    path = Path(out_dir) / "log.jsonl"
    old = path.read_text() if path.is_file() else ""
    atomic_write_text(path, old + json.dumps(record) + "\n")


def progress(it: Iterable, quiet: bool = False, **kw):
    if quiet:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, **kw)


class TrainLoop:
    """One training run of recipe ``name`` into ``out_dir`` (see the module docstring).

    Creating it makes the output folder, sets the torch thread count, seeds Python, NumPy and
    torch from ``cfg.seed`` and writes ``config.json``. ``flush_denormal`` makes the CPU
    flush subnormal floats (the VGG-M recipes: weight decay pushes the weights of dead
    units into the subnormal range, where x86 CPUs compute up to ~10x slower).
    """

    def __init__(self, name: str, cfg: TrainConfig, out_dir, *, quiet: bool = False,
                 flush_denormal: bool = False):
        self.name, self.cfg, self.quiet = name, cfg, quiet
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        if flush_denormal:
            torch.set_flush_denormal(True)
        seed_everything(cfg.seed)
        (self.out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1, default=str))
        self.model: Optional[torch.nn.Module] = None
        self.opt: Optional[torch.optim.Optimizer] = None
        self.clip: List[torch.Tensor] = []
        self.rng: Optional[np.random.Generator] = None
        self.gen: Optional[torch.Generator] = None
        self.extra: Optional[Dict[str, Any]] = None
        self.it = self.start = 0
        self.history: List[Dict[str, Any]] = []
        self.last: Dict[str, Any] = {}
        self._recent: List[float] = []
        self.t0 = self._t_log = time.time()

    # -- what is trained and checkpointed ---------------------------------------------
    def optimizer(self, *groups: Tuple[Iterable[torch.Tensor], float]) -> torch.optim.Optimizer:
        """:func:`make_optimizer` with this run's config."""
        return make_optimizer(self.cfg, groups)

    def track(self, model: torch.nn.Module, opt: torch.optim.Optimizer, *,
              clip: Optional[Iterable[torch.Tensor]] = None, rng: Optional[np.random.Generator] = None,
              gen: Optional[torch.Generator] = None, extra: Optional[Dict[str, Any]] = None) -> None:
        """The model and optimiser checkpoints hold, the parameters whose gradient norm is clipped
        (default: all of ``model``'s), and the random generators resume must restore."""
        self.model, self.opt = model, opt
        self.clip = list(model.parameters() if clip is None else clip)
        self.rng, self.gen, self.extra = rng, gen, extra

    def checkpoint(self, done: int) -> Path:
        """Write ``<out>/checkpoint_last.pth`` after ``done`` iterations."""
        obj: Dict[str, Any] = {"epoch": int(done), "state_dict": self.model.state_dict(),
                               "optimizer": self.opt.state_dict()}
        if self.extra:
            obj["extra"] = self.extra
        obj["torch_rng"] = torch.get_rng_state()
        rngs: Dict[str, Any] = {}
        if self.rng is not None:
            rngs["numpy"] = rng_state(self.rng)
        if self.gen is not None:
            rngs["dropout"] = self.gen.get_state()
        if rngs:
            obj["rng"] = rngs
        return save_torch_file(self.out_dir / LAST, obj)

    def resume(self) -> int:
        """Restore the last checkpoint of ``out_dir``; the iterations it had done (0 without one)."""
        path = self.out_dir / LAST
        if not path.is_file():
            return 0
        ck = read_torch_file(path)
        self.model.load_state_dict(ck["state_dict"])
        self.opt.load_state_dict(ck["optimizer"])
        if self.rng is not None:
            set_rng_state(self.rng, ck["rng"]["numpy"])
        if self.gen is not None:
            self.gen.set_state(ck["rng"]["dropout"])
        torch.set_rng_state(ck["torch_rng"])
        return int(ck["epoch"])

    # -- one optimiser step ---------------------------------------------------------------
    def step(self, loss: torch.Tensor) -> float:
        """Zero the gradients, back-propagate ``loss``, clip (``cfg.grad_clip``), step; the loss value."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.clip, self.cfg.grad_clip)
        self.opt.step()
        v = float(loss.detach())
        if not math.isfinite(v):
            raise FloatingPointError(f"{self.name}: non-finite loss at iteration {self.it + 1}")
        self._recent = (self._recent + [v])[-50:]
        return v

    # -- the loop ---------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.time() - self.t0

    def since_log(self) -> float:
        """Seconds since the last log line (or the start)."""
        return time.time() - self._t_log

    def run(self, total: int, per_epoch: int, body: Callable[[int], Optional[Any]],
            summarize: Callable[[int, List[Any]], Dict[str, Any]], *, resume: bool = False,
            describe: Optional[Callable[[Dict[str, Any]], str]] = None) -> List[Dict[str, Any]]:
        """Iterations ``start .. total - 1`` (``start`` from the checkpoint with ``resume``), at most
        ``cfg.stop_after`` epochs of ``per_epoch`` iterations in this invocation. Returns the log
        records written; the final checkpoint is written at the last iteration run."""
        cfg = self.cfg
        start = self.start = self.resume() if resume else 0
        end = total if cfg.stop_after <= 0 else min(total, start + cfg.stop_after * per_epoch)
        log_every = cfg.log_every if cfg.log_every > 0 else per_epoch
        save_every = cfg.save_every if cfg.save_every > 0 else per_epoch
        rows: List[Any] = []
        self.t0 = self._t_log = time.time()
        bar = progress(range(start, end), self.quiet, desc=self.name, initial=start, total=total)
        for it in bar:
            self.it = it
            metrics = body(it)
            if metrics is None:  # nothing to train on in this iteration: no log line, no checkpoint
                continue
            rows.append(metrics)
            done = it + 1
            if not self.quiet and self._recent and hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{np.mean(self._recent):.4f}")
            if done % log_every == 0 or done == end:
                rec = summarize(done, rows)
                rows = []
                self._t_log = time.time()
                self.last = rec
                self.history.append(rec)
                write_log(self.out_dir, rec)
                if not self.quiet:
                    print(describe(rec) if describe is not None else json.dumps(rec), flush=True)
            if done % save_every == 0 and done < end:
                self.checkpoint(done)
        self.checkpoint(end)
        return self.history
