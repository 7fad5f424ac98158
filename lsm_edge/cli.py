"""The ``lsm-edge`` command line, built from the Python API (``lsm_edge/api.py``).

Each verb is declared once, as its API function: the command's options are the function's parameters
(``--data-dir`` spelled ``--data`` where ``SPELLING`` says so), their defaults the signature's, their help the
docstring's ``:param name:`` lines, the command's help the docstring's text above them; the options of a
verb that trains are the fields of its recipe (lsm_edge/recipe.py).  What stays here is how the command line
parses a value (a range, a choice, a path that must exist: ``PARSE``) and how each verb prints its result.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from dataclasses import fields
from pathlib import Path

import click

from . import api
from .errors import LsmEdgeError, OptionError
from .recipe import DistillConfig, FinetuneConfig, TrainConfig  # light: no TensorFlow
from .verbs.report import DEFAULT_GATE  # light: numpy and the LiteRT runtime only

# CLI spellings of API parameters whose option is not simply --name-with-dashes (a tuple: the first is the name
# the help shows, the others aliases)
SPELLING = {"data_dir": "--data", "stats_path": "--stats", "others": "--with", "peers_dir": "--peers",
            "json_out": "--json", "adb_serial": "--adb", "bench_json": "--bench", "arm_bench_json": "--arm-bench",
            "classifiers": "--classifier"}

_POSITIVE = click.IntRange(1)
_SHARE = click.FloatRange(0, 1)
_DIR = click.Path(file_okay=False)
_IN_DIR = click.Path(exists=True, file_okay=False)
_IN_FILE = click.Path(exists=True, dir_okay=False)
_FILE = click.Path(dir_okay=False)
_DATA = {"out": _DIR, "min_observed": _SHARE}

# how the command line parses each verb's values (the API checks them too, or takes them as given)
PARSE = {
    "data_simulate": {**_DATA, "subjects": _POSITIVE, "days": _POSITIVE, "chunk_subjects": _POSITIVE},
    "data_import": {**_DATA, "folder": _IN_DIR},
    "data_import_fitbit": {**_DATA, "folder": _IN_DIR},
    "data_import_long": {**_DATA, "file": _IN_FILE},
    "data_describe": {"folder": _IN_DIR},
    "data_stats": {"folder": _IN_DIR, "out": _FILE},
    "train": {"recipe": _FILE, "data_dir": _DIR, "out": _DIR, "stats_path": _IN_FILE, "init": _IN_DIR},
    "distill": {"teacher": _IN_DIR, "recipe": _FILE, "data_dir": _DIR, "out": _DIR, "init": _IN_DIR},
    "evaluate": {"task": click.Choice(["generative", "exercise", "activity"]), "run": _DIR, "data_dir": _DIR,
                 "split": click.Choice(["train", "val", "test"]), "windows": _POSITIVE, "others": _IN_DIR,
                 "out": _DIR, "epochs": _POSITIVE, "full_epochs": _POSITIVE, "pool": click.Choice(["mean", "stats"]),
                 "flip_p": _SHARE, "hide_p": _SHARE},
    "finetune": {"teacher": _IN_DIR, "data_dir": _IN_DIR, "task": click.Choice(["exercise", "activity"]),
                 "head": click.Choice(["linear", "conv", "full"]), "out": _DIR, "recipe": _FILE, "kd_from": _IN_DIR},
    "convert": {"run": _IN_DIR, "out": click.Path(), "horizon": click.IntRange(1, 299), "batch": _POSITIVE,
                "calibration_windows": _POSITIVE, "calibration": click.Choice(["observed", "masked"]),
                "data_dir": _DIR, "classifiers": _IN_DIR, "io": click.Choice(["float32", "int8", "uint8"])},
    "inspect": {"file": _IN_FILE},
    "evaluate_real": {"data_dir": _IN_DIR, "teacher": _IN_DIR, "others": _IN_DIR, "artifacts": _IN_DIR,
                      "adapt_steps": click.IntRange(0), "people": click.Choice(["test", "val"]), "peers_dir": _IN_DIR,
                      "adapt_norm": click.Choice(["init", "own"]), "out": _DIR},
    "bench": {"files": _IN_FILE, "runs": _POSITIVE, "warmup": click.IntRange(0), "json_out": _FILE,
              "benchmark_binary": _FILE, "arm_calls": _POSITIVE},
    "fill": {"source": _IN_DIR, "model": click.Path(exists=True), "out": _DIR, "stride": click.IntRange(1, 300),
             "max_gap": _POSITIVE},
    "evaluate_people": {"source": _IN_DIR, "out": _DIR, "models": click.Path(exists=True)},
    "report": {"teacher": _IN_DIR, "artifacts": _IN_DIR, "data_dir": _IN_DIR, "out": _DIR, "windows": _POSITIVE,
               "bench_json": _IN_FILE, "runs": _POSITIVE, "arm_windows": _POSITIVE, "arm_bench_json": _IN_FILE},
}
RECIPES = {"train": TrainConfig, "distill": DistillConfig, "finetune": FinetuneConfig}


class _Group(click.Group):
    """Turns user errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OptionError as e:  # a bad option value or combination: a usage error (exit 2)
            raise click.UsageError(str(e), ctx) from None
        except LsmEdgeError as e:
            raise click.ClickException(str(e)) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
            raise click.ClickException(f"{e.strerror}: {e.filename}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="lsm-edge")
@click.option("--verbose", is_flag=True, help="Show TensorFlow's, absl's, XLA's and LiteRT's log lines and "
              "deprecation warnings (hidden by default; also LSM_EDGE_VERBOSE=1).")
def main(verbose):
    """lsm-edge: take a wearable foundation model from pretraining to a phone."""


def run():
    """The ``lsm-edge`` executable: quiet logs (lsm_edge/logs.py) unless ``lsm-edge --verbose ...``."""
    from . import logs

    if not (logs.verbose_requested() or "--verbose" in sys.argv[1:2]):
        logs.quiet()
    main()


@main.group(cls=_Group)
def data():
    """Simulate, import and describe minute-level wearable datasets."""


# -- the command of an API function ----------------------------------------------------------------
def docstring_parts(fn) -> tuple[str, dict[str, str]]:
    """(the text above the ``:param`` lines, {parameter: its help}) of a function's docstring."""
    head, *blocks = re.split(r"^:param ", inspect.cleandoc(fn.__doc__ or ""), flags=re.M)
    helps = {}
    for block in blocks:
        name, _, text = block.partition(":")
        helps[name.strip()] = " ".join(text.split())
    return head.strip(), helps


def _field_type(fld):
    """A recipe field's click type: the default's type, or the annotation's for a field that defaults to None."""
    if fld.default is not None:
        return type(fld.default)
    return {"int": int, "float": float, "str": str}[str(fld.type).split("|")[0].strip()]


def recipe_options(config_class) -> list[click.Option]:
    """One ``--option`` per field of a recipe dataclass (unset: the recipe's value, else the field's default); its
    help is the comment beside the field in lsm_edge/recipe.py."""
    said = dict(re.findall(r"^    (\w+): [^#\n]*#\s*(.+)$", inspect.getsource(config_class), re.M))
    said = {k: v[0].upper() + v[1:].rstrip(".") + ". " for k, v in said.items()}
    return [click.Option([f"--{f.name.replace('_', '-')}", f.name], type=_field_type(f), default=None,
                         show_default=False, help=said.get(f.name, "") + f"Overrides the recipe (built-in default "
                         f"{f.default}).") for f in fields(config_class)]


def api_params(fn, parse: dict, arguments: dict, spelling: dict) -> list[click.Parameter]:
    """The click parameters of an API function: names, defaults and help from its signature and docstring;
    ``arguments``: {parameter given by position: its nargs}."""
    _, helps = docstring_parts(fn)
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_KEYWORD or p.name in api.API_ONLY:
            continue
        if p.name not in helps:
            raise TypeError(f"{fn.__name__}: parameter {p.name} has no ':param {p.name}:' line in its docstring")
        required = p.default is inspect.Parameter.empty
        default = None if required else p.default
        kind = parse.get(p.name) or (type(default) if isinstance(default, (int, float, str)) else None)
        if p.name in arguments:
            out.append(click.Argument([p.name], type=kind, nargs=arguments[p.name], required=required))
            continue
        names = spelling.get(p.name, f"--{p.name.replace('_', '-')}")
        flag = isinstance(default, bool)
        out.append(click.Option([*([names] if isinstance(names, str) else names), p.name], is_flag=flag,
                                default=default, required=required, multiple=default == () and not flag,
                                type=None if flag else kind, help=helps[p.name]))
    return out


def verb(group, name: str, fn, arguments=(), extra=(), spelling=None, given=None):
    """Declare the command ``name`` of ``group`` from API function ``fn``; the decorated function prints what
    ``fn`` returns (it receives the result and {option: value}).  ``arguments``: parameters given by
    position (a name, or {name: nargs}); ``extra``: options of the command line alone (how it prints);
    ``spelling``: this verb's own spellings of parameters, over ``SPELLING``; ``given``: values the command
    line passes itself for parameters of the API alone (``api.API_ONLY``, e.g. a callback that prints)."""

    def deco(show):
        args = arguments if isinstance(arguments, dict) else dict.fromkeys(arguments, 1)
        params = api_params(fn, PARSE.get(fn.__name__, {}), args, {**SPELLING, **(spelling or {})})
        if fn.__name__ in RECIPES:
            params += recipe_options(RECIPES[fn.__name__])
        params += list(extra)
        own = {p.name for p in extra}

        def callback(**kw):
            show(fn(**{k: v for k, v in kw.items() if k not in own}, **(given or {})), kw)  # show(result, options)

        head, _ = docstring_parts(fn)
        group.add_command(click.Command(name, callback=callback, params=params, help=head.replace("``", "`")))
        return show

    return deco


def _describe(folder) -> str:
    from .data.describe import format_description

    return format_description(api.data_describe(folder))


# -- data ------------------------------------------------------------------------------------------
@verb(data, "simulate", api.data_simulate)
def _simulated(folder, _):
    click.echo(_describe(folder))


@verb(data, "import-fitbit", api.data_import_fitbit, arguments=("folder",))
def _fitabase(folder, _):
    click.echo(_describe(folder))


@verb(data, "import", api.data_import, arguments=("folder",))
def _imported(folder, _):
    manifest = json.loads((folder / "dataset.json").read_text())
    found = manifest["source"]["layouts"]
    click.echo("layouts: " + ", ".join(f"{k} ({len(v)} file{'s' * (len(v) > 1)})" for k, v in sorted(found.items())))
    for path, why in manifest["source"].get("not_read", []):
        click.echo(f"  not read: {path}: {why}")
    for r in manifest.get("recordings", []):
        click.echo(f"  {Path(r['file']).name}: {r['device']}, {r['epoch_s']:g}-s epochs, {', '.join(r['channels'])}; "
                   f"{r['minutes']:,} minutes ({r['observed_minutes']:,} observed"
                   + (f", {r['partial_minutes']:,} partly covered: counts as recorded)" if r.get("partial_minutes") else ")"))
    click.echo(_describe(folder))


@verb(data, "import-long", api.data_import_long, arguments=("file",))
def _long(folder, _):
    click.echo(_describe(folder))


@verb(data, "describe", api.data_describe, arguments=("folder",),
      extra=[click.Option(["--json", "as_json"], is_flag=True, help="Print JSON instead of a table.")])
def _described(d, o):
    from .data.describe import format_description

    click.echo(json.dumps(d, indent=1) if o["as_json"] else format_description(d))


@verb(data, "stats", api.data_stats, arguments=("folder",))
def _stats(st, o):
    from . import schema

    click.echo(f"statistics of {int(st.count.max())} training minutes written to {o['out']}")
    for f, m, s in zip(schema.FEATURES, st.mean, st.std):
        click.echo(f"  {f.name:22s} mean {m:10.3f}  std {s:9.3f}  {f.unit}")


@data.command("schema")
def data_schema():
    """The 26 features: name, unit, sensor group and valid range."""
    from .schema import describe_schema

    click.echo(describe_schema())


# -- models ----------------------------------------------------------------------------------------
@verb(main, "train", api.train)
def _trained(run, _):
    click.echo(f"run written to {run}")


@verb(main, "distill", api.distill, spelling={"recipe": ("--recipe", "--student")})
def _distilled(run, _):
    c = json.loads((run / "config.json").read_text())
    click.echo(f"student {c['name']} ({c['params']:,} params, {c['flops'] / 1e6:.1f} MFLOPs) written to {run}; "
               f"teacher {c['teacher']['params']:,} params, {c['teacher']['flops'] / 1e6:.1f} MFLOPs")


@verb(main, "evaluate", api.evaluate, spelling={"run": "--teacher"})
def _evaluated(res, o):
    if o["task"] != "generative":
        from .verbs.finetune import discriminative_markdown

        click.echo(discriminative_markdown(res))
        return
    from .verbs.evaluate import to_markdown

    click.echo(to_markdown(res["results"], res["model_name"]))
    click.echo(f"\nreport: {res['report']}")


@verb(main, "finetune", api.finetune)
def _finetuned(m, o):
    click.echo(f"{o['task']} / {o['head']}: accuracy {100 * m['accuracy']:.1f}%  mAP {100 * m['mAP']:.1f}%  "
               f"({m['n']} held-out windows) -> {o['out']}")


def _skipped(variant, error):
    click.echo(f"{variant:8s} skipped: {error}", err=True)


@verb(main, "convert", api.convert, arguments=("run",), given={"on_skip": _skipped})
def _converted(written, _):
    from .core.tflite import edge_nodes
    from .runtime import read_metadata
    from .verbs.convert import describe_coverage

    for q, path in written.items():
        click.echo(f"{q:8s} -> {path} ({path.stat().st_size / 1e3:,.0f} KB)")
        if q in ("int8", "int16x8"):  # integer kernels: say which nodes of the model XNNPACK does not take
            meta = read_metadata(path.read_bytes(), str(path))
            for sig, c in meta["xnnpack_core"].items():
                click.echo(f"         {describe_coverage(sig, c)}; + {edge_nodes(meta, sig)['nodes']} float nodes "
                           f"of raw-unit edges")


@verb(main, "inspect", api.inspect, arguments=("file",),
      extra=[click.Option(["--json", "as_json"], is_flag=True, help="Print JSON.")])
def _inspected(info, o):
    if o["as_json"]:
        click.echo(json.dumps(info, indent=1, default=str))
        return
    m = info["metadata"]
    click.echo(f"{info['file']}  {info['bytes']:,} bytes")
    click.echo(f"model     {m['model']['name']} ({m['model']['kind']}, {m['model']['params']:,} params), "
               f"lsm-edge {m['lsm_edge_version']}, quantization {m['quantization']}")
    click.echo(f"window    {m['window_minutes']} min x {len(m['features'])} features, patch {m['patch']}, "
               f"batch {m['batch']}, forecast {m['forecast_minutes']} min")
    click.echo(f"source    {m['source_run']['path']} (sha256 {m['source_run']['sha256'][:16]}...)")
    click.echo(f"normalise {m['normalization']['applied']}")
    click.echo("features  " + ", ".join(f"{f['name']} [{f['unit']}]" for f in m["features"]))
    for name, io in info["signatures"].items():
        ins = ", ".join(f"{k}{v[0]}" for k, v in io["inputs"].items())
        outs = ", ".join(f"{k}{v[0]}" for k, v in io["outputs"].items())
        click.echo(f"signature {name}({ins}) -> {outs}")
    for task, c in m.get("classifiers", {}).items():
        click.echo(f"classify  {task}: {c['head']} head, encoder {'shared' if c['shares_encoder'] else 'its own'}, "
                   f"classes {', '.join(c['classes'])}")
    click.echo("ops       " + ", ".join(f"{k} {v}" for k, v in info["ops"].items()))


@verb(main, "evaluate-real", api.evaluate_real)
def _evaluated_real(res, o):
    click.echo((Path(o["out"]) / "real.md").read_text())


@verb(main, "bench", api.bench, arguments={"files": -1})
def _benched(result, o):
    from .core.measure import reference_ops, to_table

    if o["arm"]:
        from .core.arm import to_table as arm_table

        click.echo(arm_table(result))
        return
    click.echo(to_table(result, o["signature"]))
    for name, ops in reference_ops(result).items():
        if ops:
            click.echo(f"{name}: on reference kernels (not XNNPACK): " + ", ".join(f"{k} {v}" for k, v in ops.items()))


@verb(main, "report", api.report, extra=[
    click.Option(["--min-retention"], default=None, type=click.FloatRange(0, 2),
                 help="Exit non-zero, naming them, if an artifact keeps less than this of the teacher."),
    click.Option(["--gate", "gate_metrics"], default=",".join(DEFAULT_GATE),
                 help="Comma-separated kept figures the --min-retention gate checks.")])
def _reported(rep, o):
    from .verbs.report import gate, to_markdown

    click.echo(to_markdown(rep))
    if o["min_retention"] is not None:
        failures = gate(rep, o["min_retention"], api._names(o["gate_metrics"]))  # the API's comma-list parser
        if failures:
            raise LsmEdgeError(f"{len(failures)} below the retention gate:\n  " + "\n  ".join(failures))
        click.echo(f"retention gate {o['min_retention']:.0%}: every artifact passes")


@verb(main, "fill", api.fill, arguments=("source",))
def _filled(res, o):
    click.echo((Path(o["out"]) / "summary.md").read_text())
    for f, why in res["not_read"]:
        click.echo(f"not read: {why}", err=True)


@verb(main, "evaluate-people", api.evaluate_people, arguments=("source",), spelling={"models": "--model"})
def _people(res, o):
    click.echo((Path(o["out"]) / "people.md").read_text())


if __name__ == "__main__":
    sys.exit(main())
