"""The weight-file module: shipped-weight lookup and its error messages, safe reading, saving."""
import pickle

import pytest
import torch

from bench.core.build import build_tracker
from bench.core.errors import CheckpointError
from sot.checkpoints.files import (WEIGHTS_DIR, flush_denormals, read_torch_file, resolve_weights, save_weights)


@pytest.mark.parametrize("name", ["siamfc.pth", "siamrpn.pth", "dasiamrpn.pth", "mdnet.pth", "adnet.pth"])
def test_shipped_defaults_resolve_into_sot_weights(name):
    assert resolve_weights(None, name) == WEIGHTS_DIR / name
    assert resolve_weights("", name) == WEIGHTS_DIR / name          # an empty --weights = not given
    assert resolve_weights(name, "") == WEIGHTS_DIR / name          # a bare --weights name of sot/weights


@pytest.mark.parametrize("random", ["", "none", "None", "random", "null"])
def test_random_initialisation_names(random):
    assert resolve_weights(None, random) is None
    assert resolve_weights(random, "siamfc.pth") is None or random == ""


def test_missing_files_say_where_they_were_looked_for_and_what_to_do(tmp_path):
    with pytest.raises(CheckpointError) as err:
        resolve_weights(None, "nothere.pth")
    msg = str(err.value)
    assert str(WEIGHTS_DIR / "nothere.pth") in msg and "shipped weights not found" in msg
    assert "--weights FILE" in msg and "--set default_weights=none" in msg
    with pytest.raises(CheckpointError, match="weight file not found .looked in the working directory and"):
        resolve_weights(str(tmp_path / "missing.pth"), "siamfc.pth")
    # the same message from every tracker whose default is missing
    for tracker in ("siamfc", "mdnet", "adnet"):
        with pytest.raises(CheckpointError, match="shipped weights not found"):
            build_tracker(tracker, overrides=["default_weights=nothere.pth"])


def test_save_read_roundtrip_and_refusal_of_pickles(tmp_path):
    state = {"w": torch.arange(4.0), "b": torch.zeros(2)}
    save_weights(tmp_path / "a.pth", state, {"arch": "x"})
    obj = read_torch_file(tmp_path / "a.pth")
    assert obj["meta"] == {"arch": "x"} and torch.equal(obj["state_dict"]["w"], state["w"])

    class Evil:
        def __reduce__(self):
            return (print, ("unpickled",))

    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"x": Evil()}, protocol=2))
    with pytest.raises(CheckpointError, match="weights_only=True"):
        read_torch_file(tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="weight file not found"):
        read_torch_file(tmp_path / "none.pth")


def test_flush_denormals():
    tiny = torch.finfo(torch.float32).tiny
    out = flush_denormals({"a": torch.tensor([tiny / 4, 1.0, -tiny / 8, 0.0]), "i": torch.tensor([1, 2])})
    assert out["a"].tolist() == [0.0, 1.0, 0.0, 0.0] and out["i"].tolist() == [1, 2]
