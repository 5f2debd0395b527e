"""Training recipes through the project registry, and the one config base they share."""
import dataclasses

import pytest

from bench.core.config import read_yaml
from bench.core.errors import ConfigError, UnknownNameError
from bench.core.registry import _package_modules, configs_dir
from sot.train.config import TrainConfig
from sot.train.recipes import RECIPES, get_recipe, run_recipe

NAMES = ["adnet_rl", "adnet_sl", "dasiamrpn", "mdnet", "siamfc", "siamrpn"]


def test_recipes_are_found_in_the_sources_and_unknown_names_are_listed():
    assert set(NAMES) <= set(RECIPES.names())
    assert RECIPES.declared()["mdnet"].module == "sot.train.mdnet"
    assert _package_modules("mot.train") == []          # a package that does not exist (yet): no names, no error
    with pytest.raises(UnknownNameError) as err:
        get_recipe("yolo")
    assert "yolo" in str(err.value) and all(n in str(err.value) for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_recipe_config_is_a_train_config(name):
    fn = get_recipe(name)
    assert issubclass(fn.Config, TrainConfig)
    assert RECIPES.get(name).extra["config_cls"] is fn.Config
    base = {f.name for f in dataclasses.fields(TrainConfig)}
    assert base <= {f.name for f in dataclasses.fields(fn.Config)}


def test_training_yamls_use_the_config_field_names():
    """Every key of configs/train/*.yaml is a field of its recipe's config; a field shared by two
    recipes has one name (e.g. trans_pos, never pos_trans)."""
    fields = {}
    for path in sorted((configs_dir() / "train").glob("*.yaml")):
        data = read_yaml(path)
        names = {f.name for f in dataclasses.fields(get_recipe(data["recipe"]).Config)}
        assert set(data["params"]) <= names, (path.name, set(data["params"]) - names)
        fields[data["recipe"]] = names
    every = set.union(*fields.values())
    for old, new in [("pos_trans", "trans_pos"), ("neg_trans", "trans_neg"), ("frame_batch", "batch_frames"),
                     ("n_cycles", "epochs"), ("n_epochs", "epochs"), ("lr_start", "lr"), ("minibatch", "batch_size")]:
        assert old not in every and new in every


def test_run_recipe_without_recipe_key_lists_the_recipes(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("params: {}\n")
    with pytest.raises(ConfigError, match="missing 'recipe'.*mdnet"):
        run_recipe(p, out=str(tmp_path / "out"), quiet=True)
