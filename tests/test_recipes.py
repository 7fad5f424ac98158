"""Recipes: one dataclass per verb that trains, read from TOML; the ones lsm-edge ships are found from any folder
and travel in the wheel."""

import fnmatch
import sys
from pathlib import Path

import pytest

from lsm_edge.errors import LsmEdgeError, OptionError
from lsm_edge.recipe import RECIPES, DistillConfig, FinetuneConfig, TrainConfig, recipe_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIGS = {"train": TrainConfig, "distill": DistillConfig, "finetune": FinetuneConfig}


def test_every_shipped_recipe_loads_from_any_folder_by_its_short_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository: the names resolve to the recipes inside the package
    shipped = sorted(RECIPES.glob("*/*.toml"))
    assert {p.parent.name for p in shipped} == set(CONFIGS) and len(shipped) >= 11
    for p in shipped:
        verb, name = p.parent.name, p.stem
        for spelled in (f"{verb}/{name}.toml", f"{name}.toml", name):
            assert recipe_path(spelled, verb) == p
        CONFIGS[verb].from_toml(f"{verb}/{name}.toml")
    assert FinetuneConfig.from_toml("finetune/full_augmented.toml").flip_p == 0.5
    assert TrainConfig.from_toml("train/micro.toml").size == "micro"


def test_a_file_of_ones_own_wins_and_a_missing_recipe_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "micro.toml").write_text("[train]\nsteps = 7\n")
    assert TrainConfig.from_toml("train/micro.toml").steps == 7  # the local file, not the shipped one
    with pytest.raises(LsmEdgeError, match=r"recipe distill/nosuch.toml not found.*distill/conv64.toml"):
        DistillConfig.from_toml("distill/nosuch.toml")
    with pytest.raises(LsmEdgeError, match="not found"):
        recipe_path("train/conv64.toml", "train")  # a distill recipe's name is not a train recipe
    (tmp_path / "bad.toml").write_text("[finetune]\npool = 'max'\n")
    with pytest.raises(LsmEdgeError, match="pool must be one of mean, stats, got 'max'"):
        FinetuneConfig.from_toml(tmp_path / "bad.toml")


def test_the_wheel_carries_the_recipes():
    """pyproject's package-data globs match every shipped recipe (what setuptools puts in the wheel)."""
    root = Path(__file__).parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lsm_edge"]
    for p in RECIPES.glob("*/*.toml"):
        rel = p.relative_to(root / "lsm_edge").as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel
    assert any(fnmatch.fnmatch("core/insn.c", g) for g in globs)


def test_finetune_options_are_its_recipe_and_bad_values_name_the_option():
    import lsm_edge

    with pytest.raises(OptionError, match=r"--full-lr must be above 0, got 0.0"):
        lsm_edge.finetune("unused", "unused", "activity", "unused", head="full", full_lr=0.0)
    with pytest.raises(OptionError, match="unknown option nosuch for FinetuneConfig"):
        lsm_edge.finetune("unused", "unused", "activity", "unused", nosuch=1)
