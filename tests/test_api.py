"""The Python API is the CLI's implementation: same options, same defaults, same errors."""

import inspect
import json
import sys

import click
import pytest

import lsm_edge
from lsm_edge import api
from lsm_edge.cli import main
from lsm_edge.errors import OptionError
from lsm_edge.recipe import DistillConfig, FinetuneConfig, TrainConfig

VERBS = {  # CLI path -> API function
    ("data", "simulate"): "data_simulate", ("data", "import"): "data_import", ("data", "import-fitbit"): "data_import_fitbit",
    ("data", "import-long"): "data_import_long", ("data", "describe"): "data_describe", ("data", "stats"): "data_stats",
    ("train",): "train", ("distill",): "distill", ("evaluate",): "evaluate", ("finetune",): "finetune",
    ("convert",): "convert", ("inspect",): "inspect", ("evaluate-real",): "evaluate_real", ("bench",): "bench",
    ("report",): "report", ("fill",): "fill", ("evaluate-people",): "evaluate_people"}
PRINTING_ONLY = {"as_json", "min_retention", "gate_metrics"}  # how the CLI prints, not what it does
API_ONLY = set(api.API_ONLY)
RECIPES = {"train": TrainConfig, "distill": DistillConfig, "finetune": FinetuneConfig}


def _command(path):
    cmd = main
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def test_every_verb_has_a_function_with_the_same_options_and_defaults():
    assert set(VERBS.values()) == set(api.__all__)
    for path, fn_name in VERBS.items():
        cmd, sig = _command(path), inspect.signature(getattr(api, fn_name))
        fn = {n: p for n, p in sig.parameters.items() if p.kind is not p.VAR_KEYWORD and n not in API_ONLY}
        cli = {p.name: p for p in cmd.params if p.name not in PRINTING_ONLY and p.name != "help"}
        if fn_name in RECIPES:
            recipe_fields = set(RECIPES[fn_name].__dataclass_fields__)
            assert recipe_fields <= set(cli) and any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
            cli = {n: p for n, p in cli.items() if n not in recipe_fields}
        assert set(fn) == set(cli), (path, set(fn) ^ set(cli))
        ctx = click.Context(cmd)
        for name, p in cli.items():
            if p.required:
                assert fn[name].default is inspect.Parameter.empty, (path, name)
                continue
            want = p.get_default(ctx, call=False)
            if getattr(p, "multiple", False) and not isinstance(want, (tuple, list)):
                want = ()  # click passes an empty tuple
            assert fn[name].default == want, (path, name, fn[name].default, want)


def test_every_option_says_what_its_api_parameter_docstring_says():
    """The CLI is built from the API: each option's help is its parameter's ``:param:`` line, each command's help
    the function's docstring above them, so the two cannot drift (lsm_edge/cli.py ``verb``)."""
    from lsm_edge.cli import docstring_parts

    for path, fn_name in VERBS.items():
        head, helps = docstring_parts(getattr(api, fn_name))
        cmd = _command(path)
        assert cmd.help == head.replace("``", "`"), path
        for p in cmd.params:
            if p.name in helps and isinstance(p, click.Option):
                assert p.help == helps[p.name], (path, p.name)
    assert docstring_parts(api.convert)[1]["quant"].startswith("One of float32, float16, dynamic, int8")


def test_package_verbs_are_plain_functions_even_after_every_module_loads():
    """``lsm_edge.train`` is the API function, never a module that shadows it (the verbs' modules live in
    lsm_edge/verbs/ and lsm_edge/core/, so importing them rebinds nothing on the package)."""
    import importlib
    import pkgutil
    import types

    for m in pkgutil.walk_packages(lsm_edge.__path__, "lsm_edge."):
        if m.name not in ("lsm_edge.core.peers", "lsm_edge.core.arm_guest"):  # peers need PyTorch; the guest is ARM's
            importlib.import_module(m.name)
    for verb in api.__all__:
        assert isinstance(getattr(lsm_edge, verb), types.FunctionType), verb
        assert getattr(lsm_edge, verb) is getattr(api, verb), verb
    with pytest.raises(OptionError, match="unknown option nosuch for TrainConfig"):
        lsm_edge.train("unused", "unused", nosuch=1)
    with pytest.raises(OptionError, match=r"spans must be among \(10, 30, 60, 120\), got \(60, 45\)"):
        lsm_edge.evaluate_real("unused", "unused", "unused", horizons=(60, 45))
    with pytest.raises(OptionError, match="'5,x' is not a comma-separated list of counts"):
        lsm_edge.evaluate("unused", "unused", task="activity", few_shot="5,x")


def test_api_runs_the_chain_and_returns_what_it_wrote(tmp_path):
    data = lsm_edge.data_simulate(tmp_path / "d", subjects=4, days=1, seed=1)
    assert data == tmp_path / "d" and sum(lsm_edge.data_describe(data)["subjects"].values()) == 4
    run = lsm_edge.train(data, tmp_path / "t", steps=2, batch_size=8, checkpoint_every=2, val_windows=8, xla=False,
                         quiet=True)
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 2
    files = lsm_edge.convert(run, tmp_path / "a", quant=("float32", "dynamic"))
    assert set(files) == {"float32", "dynamic"} and all(p.is_file() for p in files.values())
    assert lsm_edge.inspect(files["dynamic"])["metadata"]["quantization"] == "dynamic"
    assert "tensorflow" in sys.modules  # the chain needed it; `import lsm_edge` alone does not (test_cli)
