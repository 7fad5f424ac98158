"""The ``lsm-edge`` command line.  Each verb is a thin shell over a library module."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import LsmEdgeError, OptionError
from .recipe import DistillConfig, TrainConfig  # light: no TensorFlow
from .verbs.report import DEFAULT_GATE  # light: numpy and the LiteRT runtime only


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


@data.command("simulate")
@click.option("--subjects", default=100, type=click.IntRange(1), help="Number of simulated subjects.")
@click.option("--days", default=14, type=click.IntRange(1), help="Days simulated per subject.")
@click.option("--seed", default=0, type=int, help="Random seed; the same seed gives the same data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--chunk-subjects", default=16, type=click.IntRange(1), help="Subjects per shard (memory bound).")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--resume", is_flag=True, help="Continue an interrupted write, keeping the shards already written.")
def data_simulate(subjects, days, seed, out, chunk_subjects, min_observed, resume):
    """Simulate a dataset of 300-minute windows (the embedded default data source)."""
    from . import api

    click.echo(_describe(api.data_simulate(out, subjects, days, seed, chunk_subjects, min_observed, resume)))


@data.command("import-fitbit")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_fitbit(folder, out, min_observed, skip_malformed):
    """Import a Fitbit export in the Fitabase layout (heartrate_seconds_merged.csv, minute*_merged.csv)."""
    from . import api

    click.echo(_describe(api.data_import_fitbit(folder, out, min_observed, skip_malformed)))


@data.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
@click.option("--strict", is_flag=True, help="Refuse the folder when a file in it is of no layout lsm-edge reads "
              "(default: import the rest and list such files).")
def data_import(folder, out, min_observed, skip_malformed, strict):
    """Import every recording in FOLDER (at any depth), recognising each layout by its files and columns:
    Fitabase exports, MMASH, actigraph exports (Actiwatch .AWD, Actiware CSV, ActTrust, ActiGraph .agd,
    MotionWatch .mtn, Tempatilumi, Daqtometer, biobankAccelerometerAnalysis), aw_fb labelled minutes,
    covid19 Fitbit minutes, Actiwatch minute counts (Depresjon / Psykose), CGMacros tables, Garmin 5-minute
    exports (T1D-UOM), long-format tables; .csv, .csv.gz or one-file .zip.  Each device recording is listed
    with its device, epoch, channels and minutes; a file of no known layout is listed with its reason and
    the rest imported (with --strict, refused)."""
    from . import api

    out = api.data_import(folder, out, min_observed, skip_malformed, strict)
    manifest = json.loads((out / "dataset.json").read_text())
    found = manifest["source"]["layouts"]
    click.echo("layouts: " + ", ".join(f"{k} ({len(v)} file{'s' * (len(v) > 1)})" for k, v in sorted(found.items())))
    for path, why in manifest["source"].get("not_read", []):
        click.echo(f"  not read: {path}: {why}")
    for r in manifest.get("recordings", []):
        click.echo(f"  {Path(r['file']).name}: {r['device']}, {r['epoch_s']:g}-s epochs, {', '.join(r['channels'])}; "
                   f"{r['minutes']:,} minutes ({r['observed_minutes']:,} observed"
                   + (f", {r['partial_minutes']:,} partly covered: counts as recorded)" if r.get("partial_minutes") else ")"))
    click.echo(_describe(out))


@data.command("import-long")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_long(file, out, min_observed, skip_malformed):
    """Import a long-format CSV or Parquet file with columns subject,timestamp,feature,value."""
    from . import api

    click.echo(_describe(api.data_import_long(file, out, min_observed, skip_malformed)))


@data.command("describe")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def data_describe(folder, as_json):
    """Subjects, windows, hours, per-feature missingness and label counts of a dataset folder."""
    from . import api
    from .data.describe import format_description

    d = api.data_describe(folder)
    click.echo(json.dumps(d, indent=1) if as_json else format_description(d))


@data.command("stats")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the JSON statistics.")
def data_stats(folder, out):
    """Per-feature z-score statistics over the training subjects only, saved as JSON."""
    from . import api, schema

    st = api.data_stats(folder, out)
    click.echo(f"statistics of {int(st.count.max())} training minutes written to {out}")
    for f, m, s in zip(schema.FEATURES, st.mean, st.std):
        click.echo(f"  {f.name:22s} mean {m:10.3f}  std {s:9.3f}  {f.unit}")


@data.command("schema")
def data_schema():
    """The 26 features: name, unit, sensor group and valid range."""
    from .schema import describe_schema

    click.echo(describe_schema())


def _describe(folder) -> str:
    from . import api
    from .data.describe import format_description

    return format_description(api.data_describe(folder))


def _recipe_options(config_class):
    """One --option per field of a recipe dataclass (default: the recipe's value, else the field's default)."""
    from dataclasses import fields

    def deco(f):
        for fld in reversed(fields(config_class)):
            f = click.option(f"--{fld.name.replace('_', '-')}", fld.name, type=type(fld.default), default=None,
                             help=f"Overrides the recipe (built-in default {fld.default}).")(f)
        return f

    return deco


@main.command("train")
@click.option("--recipe", type=click.Path(dir_okay=False), default=None,
              help="A recipe TOML under train/ (e.g. train/micro.toml); options below override it.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False),
              help="Dataset folder (from `lsm-edge data simulate` / `import-*`).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder to write.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint "
              "(on any number of devices).")
@click.option("--stats", "stats_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Normalisation statistics from `lsm-edge data stats` (required with several processes).")
@click.option("--init", "init", type=click.Path(exists=True, file_okay=False), default=None,
              help="Continue pretraining this run on --data (adapt it to your own recordings): a teacher, or a "
              "conv model trained on the masks alone such as pretrained/real_conv96x5.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_recipe_options(TrainConfig)
def train_cmd(recipe, data_dir, out, resume, stats_path, init, quiet, **overrides):
    """Pretrain a teacher masked autoencoder (80% patch masking, AdamW, warm-up + cosine).

    --backend jax|tensorflow and --devices N pick the engine and the data-parallel devices of this
    process (N virtual devices on a CPU); several hosts: see docs/scale-out.md."""
    from . import api

    run = api.train(data_dir, out, recipe, resume, stats_path, init, quiet, **overrides)
    click.echo(f"run written to {run}")


@main.command("distill")
@click.option("--teacher", required=True, type=click.Path(exists=True, file_okay=False), help="Teacher run folder.")
@click.option("--student", "recipe", type=click.Path(dir_okay=False), default=None,
              help="A student recipe under distill/ (e.g. distill/conv64.toml); options below override it.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Student run folder to write.")
@click.option("--resume", is_flag=True, help="Continue an interrupted distillation from its last checkpoint.")
@click.option("--init", default=None, type=click.Path(exists=True, file_okay=False),
              help="A finished student run to start from (e.g. to adapt it beside a teacher adapted with "
                   "`train --init`); its architecture replaces the recipe's.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_recipe_options(DistillConfig)
def distill_cmd(teacher, recipe, data_dir, out, resume, init, quiet, **overrides):
    """Distil a teacher into a small student (ViT or conv family) on all imputation tasks."""
    from . import api

    run = api.distill(teacher, data_dir, out, recipe, resume, init, quiet, **overrides)
    c = json.loads((run / "config.json").read_text())
    click.echo(f"student {c['name']} ({c['params']:,} params, {c['flops'] / 1e6:.1f} MFLOPs) written to {run}; "
               f"teacher {c['teacher']['params']:,} params, {c['teacher']['flops'] / 1e6:.1f} MFLOPs")


@main.command("evaluate")
@click.option("--task", default="generative", type=click.Choice(["generative", "exercise", "activity"]),
              help="generative: Table 3(a) imputation; exercise / activity: Table 3(b)/(c) classification.")
@click.option("--teacher", "run", required=True, type=click.Path(file_okay=False), help="Run folder of a teacher.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@click.option("--split", default="test", type=click.Choice(["train", "val", "test"]), help="Subjects to score on.")
@click.option("--windows", default=512, type=click.IntRange(1), help="At most this many windows (the first ones).")
@click.option("--horizons", default="10,20,30,60,120", help="Comma-separated spans in minutes.")
@click.option("--seed", default=0, type=int, help="Seed of the evaluation masks.")
@click.option("--with", "others", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Another run (e.g. a student) scored on the same windows and masks (repeatable).")
@click.option("--compare-hidden", is_flag=True,
              help="Also score the inference path that feeds missing tokens to the encoder instead of masking them.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder for generative.md / generative.json (default: RUN/eval).")
@click.option("--epochs", default=30, type=click.IntRange(1), help="Discriminative: epochs of a probe head.")
@click.option("--full-epochs", default=30, type=click.IntRange(1),
              help="Discriminative: epochs of full fine-tuning and of the supervised-from-scratch ViT.")
@click.option("--few-shot", default="5,10,15,20", help="Discriminative: labelled windows per class of the "
              "few-shot rows, comma-separated ('' for none).")
@click.option("--methods", default="linear,conv,full,supervised",
              help="Discriminative: neural rows of the full-data table, comma-separated ('' for none).")
@click.option("--few-shot-methods", default="linear,conv",
              help="Discriminative: neural rows of the few-shot table (full and supervised train the whole ViT "
              "on the few windows).")
@click.option("--pool", default="mean", type=click.Choice(["mean", "stats"]),
              help="Discriminative: what the linear probe, the fine-tuned teacher and the supervised ViT read: "
              "the pooled embedding (the paper's), or its mean, max and std over tokens.")
@click.option("--flip-p", default=0.0, type=click.FloatRange(0, 1),
              help="Discriminative: fraction of training windows reversed in time, for the rows that train the whole "
              "ViT (fine-tune, supervised); the probes train on embeddings and are not augmented.")
@click.option("--hide-p", default=0.0, type=click.FloatRange(0, 1),
              help="Discriminative: fraction of training windows with one 5-60 minute span hidden, for the rows that "
              "train the whole ViT.")
def evaluate_cmd(task, run, data_dir, split, windows, horizons, seed, others, compare_hidden, out, epochs,
                 full_epochs, few_shot, methods, few_shot_methods, pool, flip_p, hide_p):
    """Generative (vs mean / nearest / linear / MICE) or discriminative (probes, fine-tune, baselines) evaluation."""
    from . import api

    res = api.evaluate(run, data_dir, task, split, windows, horizons, seed, others, compare_hidden, out, epochs,
                       full_epochs, few_shot, methods, few_shot_methods, pool, flip_p, hide_p)
    if task != "generative":
        from .verbs.finetune import discriminative_markdown

        click.echo(discriminative_markdown(res))
        return
    from .verbs.evaluate import to_markdown

    click.echo(to_markdown(res["results"], res["model_name"]))
    click.echo(f"\nreport: {res['report']}")


@main.command("finetune")
@click.option("--teacher", required=True, type=click.Path(exists=True, file_okay=False), help="Teacher run folder.")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False), help="Labelled dataset.")
@click.option("--task", required=True, type=click.Choice(["exercise", "activity"]), help="Which labels.")
@click.option("--head", default="conv", type=click.Choice(["linear", "conv", "full"]),
              help="linear / conv probe on the frozen encoder, or full fine-tuning.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Classifier run folder to write.")
@click.option("--shots", default=None, type=click.IntRange(1), help="Labelled windows per class (few-shot).")
@click.option("--epochs", default=30, type=click.IntRange(1), help="Epochs of a probe head.")
@click.option("--full-epochs", default=30, type=click.IntRange(1), help="Epochs of full fine-tuning.")
@click.option("--full-lr", default=3e-4, type=click.FloatRange(min=0, min_open=True),
              help="Peak learning rate of full fine-tuning (warm-up, then cosine decay).")
@click.option("--layer-decay", default=1.0, type=click.FloatRange(min=0, max=1, min_open=True),
              help="Full fine-tuning: each ViT encoder block's lr is the next one's x this (MAE's recipe: 0.75; "
                   "1 = one lr for every layer).")
@click.option("--probe-epochs", default=0, type=click.IntRange(0),
              help="Full fine-tuning: first fit the linear head on the frozen encoder for this many epochs "
                   "(LP-FT, at --lr of the probes); 0 = start from a random head.")
@click.option("--lr", "probe_lr", default=1e-3, type=click.FloatRange(min=0, min_open=True),
              help="Peak learning rate of a probe head (and of --probe-epochs).")
@click.option("--from-scratch", is_flag=True,
              help="The supervised baseline: the same architecture with fresh weights (needs --head full).")
@click.option("--seed", default=0, type=int, help="Random seed.")
@click.option("--kd-from", default=None, type=click.Path(exists=True, file_okay=False),
              help="A fine-tuned teacher's classifier run of the same task: distil its softened logits too.")
@click.option("--kd-temperature", default=2.0, type=click.FloatRange(min=0.1), help="Softening temperature.")
@click.option("--kd-alpha", default=0.5, type=click.FloatRange(0, 1), help="Weight of the labels (1 - of the teacher).")
@click.option("--pool", default="mean", type=click.Choice(["mean", "stats"]),
              help="Linear / full heads: the pooled embedding, or its mean, max and std over tokens.")
@click.option("--flip-p", default=0.0, type=click.FloatRange(0, 1),
              help="Full fine-tuning: fraction of training windows shown reversed in time (augmentation).")
@click.option("--hide-p", default=0.0, type=click.FloatRange(0, 1),
              help="Full fine-tuning: fraction of training windows with one 5-60 minute span hidden "
                   "(a temporal gap or 67 %% of the sensors), seen as missing (augmentation).")
def finetune_cmd(teacher, data_dir, task, head, out, shots, epochs, full_epochs, full_lr, layer_decay, probe_epochs,
                 probe_lr, from_scratch, seed, kd_from, kd_temperature, kd_alpha, pool, flip_p, hide_p):
    """Train a classification head on a teacher or student run (exercise or 8-class activity)."""
    from . import api

    m = api.finetune(teacher, data_dir, task, out, head, shots, epochs, full_epochs, full_lr, layer_decay, probe_epochs,
                     probe_lr, from_scratch, seed, kd_from, kd_temperature, kd_alpha, pool, flip_p, hide_p)
    click.echo(f"{task} / {head}: accuracy {100 * m['accuracy']:.1f}%  mAP {100 * m['mAP']:.1f}%  "
               f"({m['n']} held-out windows) -> {out}")


@main.command("convert")
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--quant", default="float32", help="One of float32, float16, dynamic, int8, int16x8, wo-int8, int4; "
              "several comma-separated, or 'all' (then --out is a folder).")
@click.option("--out", required=True, type=click.Path(),
              help="The .tflite file to write (a folder with several variants or --quant all).")
@click.option("--horizon", default=60, type=click.IntRange(1, 299), help="Minutes the forecast signature predicts.")
@click.option("--batch", default=1, type=click.IntRange(1), help="Static batch size of every signature.")
@click.option("--calibration-windows", default=400, type=click.IntRange(1),
              help="Training windows used to calibrate int8 / int16x8 (400: the same accuracy as 100 on "
                   "average, a quarter of the spread between draws; benchmarks/results/convert/int8_calibration.md).")
@click.option("--calibration", default="observed", type=click.Choice(["observed", "masked"]),
              help="Calibrate int8 / int16x8 on the windows as recorded, or with the gaps imputation fills "
                   "(random 80%, interpolation, extrapolation, sensor) hidden in turn.")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              help="Dataset with the run's training windows (default: the one in the run's manifest).")
@click.option("--classifier", "classifiers", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A classifier run from `lsm-edge finetune` (repeatable, one per task): adds classify_<task>.")
@click.option("--io", "io", default="float32", type=click.Choice(["float32", "int8", "uint8"]),
              help="Dtype of every signature's inputs and outputs: int8 / uint8 (with --quant int8) for "
                   "accelerators that take integer tensors only; scale and zero point go in the metadata.")
@click.option("--strict", is_flag=True, help="Refuse a file with any node off XNNPACK or a QUANTIZE / DEQUANTIZE "
                                              "inside its graph.")
def convert_cmd(run, quant, out, horizon, batch, calibration_windows, calibration, data_dir, classifiers, io, strict):
    """Convert a run to .tflite: named signatures (impute, forecast, embed, classify_*), metadata, builtin ops only."""
    from . import api
    from .core.tflite import edge_nodes
    from .verbs.convert import describe_coverage
    from .runtime import read_metadata

    written = api.convert(run, out, quant, horizon, batch, calibration_windows, calibration, data_dir, classifiers,
                          on_skip=lambda q, e: click.echo(f"{q:8s} skipped: {e}", err=True), io=io, strict=strict)
    for q, path in written.items():
        click.echo(f"{q:8s} -> {path} ({path.stat().st_size / 1e3:,.0f} KB)")
        if q in ("int8", "int16x8"):  # integer kernels: say which nodes of the model XNNPACK does not take
            meta = read_metadata(path.read_bytes(), str(path))
            for sig, c in meta["xnnpack_core"].items():
                click.echo(f"         {describe_coverage(sig, c)}; + {edge_nodes(meta, sig)['nodes']} float nodes "
                           f"of raw-unit edges")


@main.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect_cmd(file, as_json):
    """Metadata, signatures, op counts and size of a .tflite file."""
    from . import api

    info = api.inspect(file)
    if as_json:
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


@main.command("evaluate-real")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="A folder laid out like ../shared/data/real/: one sub-folder per set, layouts recognised from the files.")
@click.option("--teacher", required=True, type=click.Path(exists=True, file_okay=False),
              help="Teacher run folder: scored zero-shot and adapted on the sets' train people.")
@click.option("--with", "others", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Another model run scored as it is (e.g. a teacher pretrained on real people), named by its "
                   "folder; repeatable.")
@click.option("--artifacts", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of .tflite files scored through lsm_edge.runtime beside the teacher.")
@click.option("--adapt-steps", default=200, type=click.IntRange(0),
              help="Steps of continued pretraining on the adaptation subjects (0: zero-shot only).")
@click.option("--seed", default=0, type=int, help="Seed of the hidden spans.")
@click.option("--horizons", default="10,30,60,120", help="Comma-separated spans in minutes (of 10, 30, 60, 120).")
@click.option("--people", type=click.Choice(["test", "val"]), default="test", show_default=True,
              help="Score the test people (the figures to report) or the validation people (to choose on).")
@click.option("--peers", "peers_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of PyPOTS peers saved by benchmarks/peers.py --save (needs lsm-edge[peers]): "
                   "scored zero-shot and adapted beside the teacher.")
@click.option("--adapt-per-set", is_flag=True,
              help="One adapted teacher per set, on that set alone (device families whose counts have their own "
                   "scales, e.g. ../shared/data/actigraphs) instead of one on every set's adaptation people.")
@click.option("--adapt-norm", type=click.Choice(["init", "own"]), default="init", show_default=True,
              help="The adapted model's normalisation: the teacher's statistics, or its adaptation data's own "
                   "(a device whose units differ).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Report folder.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def evaluate_real_cmd(data_dir, teacher, others, artifacts, adapt_steps, seed, horizons, people, peers_dir,
                      adapt_per_set, adapt_norm, out, quiet):
    """Score the teacher, its adaptation, other runs and .tflite artifacts on real people never seen:
    imputation of real heart rate, steps, activity counts (in each device's unit), skin temperature and
    light, and activity recognition on aw_fb with participant-grouped folds.  DIR may be laid out like
    ../shared/data/real/ or like ../shared/data/actigraphs/ (one sub-folder per device family; a family
    with too few people to hold one out is scored on the later third of each recording, after adapting
    on the earlier part)."""
    from . import api

    api.evaluate_real(data_dir, teacher, out, others, artifacts, adapt_steps, seed, horizons, people, peers_dir, quiet,
                      adapt_per_set, adapt_norm)
    click.echo((Path(out) / "real.md").read_text())


@main.command("bench")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--threads", default="1", help="Comma-separated thread counts, e.g. 1,2,4.")
@click.option("--runs", default=100, type=click.IntRange(1), help="Timed calls per signature.")
@click.option("--warmup", default=10, type=click.IntRange(0), help="Untimed calls before them.")
@click.option("--signature", default=None, help="Print only this signature in the table (all are measured; with "
              "--arm, only this one is emulated).")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False), help="Write the full result here.")
@click.option("--adb", "adb_serial", default=None, help="Serial of an Android device: run LiteRT's benchmark_model there.")
@click.option("--benchmark-binary", default=None, type=click.Path(dir_okay=False),
              help="Path of the benchmark_model binary built for the phone (with --adb).")
@click.option("--arm", default=None, help="Emulated ARM cores instead of this machine, comma-separated "
              "(cortex-a53, cortex-a76): parity with this machine, instructions per call (make arm sets it up).")
@click.option("--arm-calls", default=20, type=click.IntRange(1), help="Calls counted per signature with --arm.")
def bench_cmd(files, threads, runs, warmup, signature, json_out, adb_serial, benchmark_binary, arm, arm_calls):
    """Latency (p50/p90/p99/min), init time, peak memory, size, FLOPs and XNNPACK coverage of .tflite files."""
    from . import api
    from .core.measure import reference_ops, to_table

    result = api.bench(files, threads, runs, warmup, json_out, adb_serial, benchmark_binary, arm, arm_calls, signature)
    if arm:
        from .core.arm import to_table as arm_table

        click.echo(arm_table(result))
        return
    click.echo(to_table(result, signature))
    for name, ops in reference_ops(result).items():
        if ops:
            click.echo(f"{name}: on reference kernels (not XNNPACK): " + ", ".join(f"{k} {v}" for k, v in ops.items()))


@main.command("report")
@click.option("--teacher", required=True, type=click.Path(exists=True, file_okay=False),
              help="The teacher run; its float32 conversion must be in --artifacts.")
@click.option("--artifacts", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of .tflite files (from `lsm-edge convert`).")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Dataset folder (its held-out test split is scored).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for report.md/.json, pareto.png.")
@click.option("--windows", default=512, type=click.IntRange(1), help="Held-out windows for the generative tasks.")
@click.option("--horizons", default="10,20,30,60,120", help="Minutes of the interpolation/extrapolation/sensor tasks.")
@click.option("--bench", "bench_json", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Reuse an `lsm-edge bench --json` result instead of measuring.")
@click.option("--threads", default="1", help="Thread counts to measure (without --bench).")
@click.option("--runs", default=50, type=click.IntRange(1), help="Timed calls per signature (without --bench).")
@click.option("--seed", default=0, type=int, help="Seed of the masks.")
@click.option("--min-retention", default=None, type=click.FloatRange(0, 2),
              help="Exit non-zero, naming them, if an artifact keeps less than this of the teacher.")
@click.option("--gate", "gate_metrics", default=",".join(DEFAULT_GATE),
              help="Comma-separated kept figures the --min-retention gate checks.")
@click.option("--arm", default=None, help="Emulated ARM cores, comma-separated (cortex-a53, cortex-a76): add their "
              "instructions per impute call and parity with this machine (make arm sets it up).")
@click.option("--arm-windows", default=64, type=click.IntRange(1),
              help="Held-out windows filled on each emulated core for the MAE parity (with --arm).")
@click.option("--arm-bench", "arm_bench_json", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Reuse an `lsm-edge bench --arm --json` result for the instruction counts (with --arm).")
def report_cmd(teacher, artifacts, data_dir, out, windows, horizons, bench_json, threads, runs, seed, min_retention,
               gate_metrics, arm, arm_windows, arm_bench_json):
    """Every artifact: generative MAE and task accuracy kept of the teacher, beside size, latency and memory."""
    from . import api
    from .verbs.report import gate, to_markdown

    rep = api.report(teacher, artifacts, data_dir, out, windows, horizons, bench_json, threads, runs, seed, arm,
                     arm_windows, arm_bench_json)
    click.echo(to_markdown(rep))
    if min_retention is not None:
        failures = gate(rep, min_retention, api._names(gate_metrics))  # the API's comma-list parser
        if failures:
            raise LsmEdgeError(f"{len(failures)} below the retention gate:\n  " + "\n  ".join(failures))
        click.echo(f"retention gate {min_retention:.0%}: every artifact passes")


if __name__ == "__main__":
    sys.exit(main())
