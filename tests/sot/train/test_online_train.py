"""Training recipes mdnet, adnet_sl, adnet_rl on a tiny synthetic subset: they run, write loadable
weights, are deterministic, and --resume continues exactly where an interrupted run stopped."""
import json

import pytest
import torch

from bench.core.errors import ConfigError
from tests.sot.online_toy import one_torch_thread  # noqa: F401 (autouse fixture)
from sot.checkpoints.adnet import load_adnet
from sot.checkpoints.files import read_torch_file
from sot.checkpoints.mdnet import load_mdnet
from sot.train.recipes import run_recipe

DATA = ["num_sequences=3", "dataset_options={length: 20, size: [160, 120]}", "threads=1"]
MDNET = DATA + ["width=0.25", "fc_dim=16", "batch_frames=2", "batch_pos=4", "batch_neg=12", "save_every=2",
                "log_every=1", "optimizer=adam", "lr=0.001"]
SL = DATA + ["width=0.25", "fc_dim=16", "batch_frames=2", "batch_pos=8", "batch_neg=4", "save_every=2", "log_every=1",
             "optimizer=adam", "lr=0.001"]


def write_cfg(tmp_path, name, recipe):
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"recipe: {recipe}\nparams: {{}}\n")
    return p


def state(path):
    return read_torch_file(path)["state_dict"]


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_mdnet_recipe_deterministic_and_resumable(tmp_path):
    cfg = write_cfg(tmp_path, "m", "mdnet")
    full = run_recipe(cfg, MDNET + ["epochs=2"], out=str(tmp_path / "full"), quiet=True)
    net = load_mdnet(full["weights"])
    assert net.backbone.channels == (24, 64, 128) and net.fc4.out_features == 16
    meta = read_torch_file(full["weights"])["meta"]
    assert meta["recipe"] == "mdnet" and meta["domains"] == 3 and meta["iterations"] == 6
    log = [json.loads(x) for x in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 6 and all(0 <= r["pos_acc"] <= 1 for r in log)
    again = run_recipe(cfg, MDNET + ["epochs=2"], out=str(tmp_path / "again"), quiet=True)
    assert_same(state(full["weights"]), state(again["weights"]))
    # interrupted after one cycle, then resumed
    run_recipe(cfg, MDNET + ["epochs=1"], out=str(tmp_path / "part"), quiet=True)
    assert read_torch_file(tmp_path / "part" / "checkpoint_last.pth")["epoch"] == 3
    resumed = run_recipe(cfg, MDNET + ["epochs=2"], out=str(tmp_path / "part"), resume=True, quiet=True)
    assert_same(state(full["weights"]), state(resumed["weights"]))


def test_adnet_sl_then_rl(tmp_path):
    sl_cfg = write_cfg(tmp_path, "sl", "adnet_sl")
    sl = run_recipe(sl_cfg, SL + ["epochs=2"], out=str(tmp_path / "sl"), quiet=True)
    net = load_adnet(sl["weights"])
    assert net.backbone.input_size == 112 and net.fc6.weight.shape == (11, 16)
    assert torch.count_nonzero(net.fc6_ah.weight) == 0  # no history inputs before RL
    heads = read_torch_file(tmp_path / "sl" / "domain_heads.pth")
    assert len(heads["meta"]["domain_names"]) == 3
    run_recipe(sl_cfg, SL + ["epochs=1"], out=str(tmp_path / "sl_part"), quiet=True)
    resumed = run_recipe(sl_cfg, SL + ["epochs=2"], out=str(tmp_path / "sl_part"), resume=True, quiet=True)
    assert_same(state(sl["weights"]), state(resumed["weights"]))

    rl_cfg = write_cfg(tmp_path, "rl", "adnet_rl")
    rl_opts = DATA + [f"sl_dir={tmp_path / 'sl'}", "epochs=1", "rl_steps=3", "rl_clips=2", "batch_size=4",
                      "max_steps=5", "log_every=1", "save_every=1"]
    rl = run_recipe(rl_cfg, rl_opts, out=str(tmp_path / "rl"), quiet=True)
    net = load_adnet(rl["weights"])
    assert torch.count_nonzero(net.fc6_ah.weight) > 0  # history weights learned by REINFORCE
    assert torch.count_nonzero(net.fc7_ah.weight) == 0  # the confidence head gets no RL gradient
    log = [json.loads(x) for x in (tmp_path / "rl" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(-1 <= r["mean_reward"] <= 1 for r in log)
    rl2 = run_recipe(rl_cfg, rl_opts, out=str(tmp_path / "rl2"), quiet=True)
    assert_same(state(rl["weights"]), state(rl2["weights"]))


def test_recipe_config_errors(tmp_path):
    cfg = write_cfg(tmp_path, "m", "mdnet")
    with pytest.raises(ConfigError, match="unknown key 'batch_size'"):
        run_recipe(cfg, ["batch_size=3"], out=str(tmp_path / "x"), quiet=True)
    rl_cfg = write_cfg(tmp_path, "rl", "adnet_rl")
    with pytest.raises(Exception, match="weight file not found|not found"):
        run_recipe(rl_cfg, DATA + [f"sl_dir={tmp_path / 'missing'}"], out=str(tmp_path / "y"), quiet=True)
