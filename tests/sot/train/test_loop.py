"""The training loop: an interrupted run resumed from its last checkpoint ends with the weights of
an uninterrupted run (model, optimiser, NumPy and dropout generators, torch RNG restored), log
lines and checkpoints at their intervals, stop_after."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from sot.checkpoints.files import read_torch_file
from sot.train.config import TrainConfig
from sot.train.loop import LAST, TrainLoop


@dataclasses.dataclass
class ToyConfig(TrainConfig):
    threads: int = 0
    lr: float = 0.05
    optimizer: str = "adam"
    save_every: int = 2
    log_every: int = 3


class Stop(Exception):
    pass


def train(out, cfg, resume=False, crash_at=None):
    loop = TrainLoop("toy", cfg, out, quiet=True)
    net = torch.nn.Linear(3, 1)
    opt = loop.optimizer((net.parameters(), 1.0))
    rng = np.random.default_rng([cfg.seed, 1])
    gen = torch.Generator().manual_seed(cfg.seed)
    loop.track(net, opt, rng=rng, gen=gen)

    def body(it):
        if it == crash_at:
            raise Stop
        x = torch.from_numpy(rng.standard_normal((8, 3)).astype(np.float32))
        noise = torch.rand(8, 1, generator=gen) + torch.rand(8, 1)        # dropout-style and global torch draws
        loss = ((net(x) - x.sum(1, keepdim=True) - noise) ** 2).mean()
        return {"loss": loop.step(loss)}

    def summarize(done, rows):
        return {"iter": done, "loss": sum(r["loss"] for r in rows) / len(rows)}

    loop.run(10, 5, body, summarize, resume=resume)
    return net.state_dict(), loop


def test_resume_after_a_crash_gives_the_uninterrupted_weights(tmp_path):
    cfg = ToyConfig()
    full, loop = train(tmp_path / "full", cfg)
    assert [r["iter"] for r in loop.history] == [3, 6, 9, 10]
    assert read_torch_file(tmp_path / "full" / LAST)["epoch"] == 10
    with pytest.raises(Stop):
        train(tmp_path / "part", cfg, crash_at=7)                        # last checkpoint: after 6 iterations
    assert read_torch_file(tmp_path / "part" / LAST)["epoch"] == 6
    resumed, loop2 = train(tmp_path / "part", cfg, resume=True)
    assert [r["iter"] for r in loop2.history] == [9, 10]
    assert all(torch.equal(full[k], resumed[k]) for k in full)
    log = [json.loads(x) for x in (tmp_path / "part" / "log.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in log] == [3, 6, 9, 10]


def test_stop_after_epochs_then_resume(tmp_path):
    full, _ = train(tmp_path / "full", ToyConfig())
    _, loop = train(tmp_path / "part", ToyConfig(stop_after=1))         # one epoch of 5 iterations
    assert read_torch_file(tmp_path / "part" / LAST)["epoch"] == 5 and loop.history[-1]["iter"] == 5
    resumed, _ = train(tmp_path / "part", ToyConfig(), resume=True)
    assert all(torch.equal(full[k], resumed[k]) for k in full)


def test_non_finite_loss_stops_the_run(tmp_path):
    with pytest.raises(FloatingPointError, match="toy: non-finite loss at iteration"):
        train(tmp_path / "nan", ToyConfig(lr=float("inf")))
