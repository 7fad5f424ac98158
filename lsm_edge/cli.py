"""The ``lsm-edge`` command line.  Each verb is a thin shell over a library module."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import LsmEdgeError
from .recipe import DistillConfig, TrainConfig  # light: no TensorFlow
from .report import DEFAULT_GATE  # light: numpy and the LiteRT runtime only


class _Group(click.Group):
    """Turns user errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
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
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.simulate import write_simulated

    write_simulated(out, subjects, days, seed, chunk_subjects, min_observed, resume)
    click.echo(format_description(describe(Dataset(out))))


@data.command("import-fitbit")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_fitbit(folder, out, min_observed, skip_malformed):
    """Import a Fitbit export in the Fitabase layout (heartrate_seconds_merged.csv, minute*_merged.csv)."""
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.fitbit import read_fitabase
    from .data.importing import write_dataset

    tls = read_fitabase(folder, skip_malformed)
    write_dataset(tls, out, {"kind": "fitabase", "path": str(folder)}, min_observed)
    click.echo(format_description(describe(Dataset(out))))


@data.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import(folder, out, min_observed, skip_malformed):
    """Import every recording in FOLDER (at any depth), recognising each layout by its files and columns:
    Fitabase exports, MMASH, .AWD actigraphy, aw_fb labelled minutes, covid19 Fitbit minutes, Actiwatch
    minute counts (Depresjon / Psykose), long-format tables; .csv, .csv.gz or one-file .zip."""
    from .data.autoimport import LABEL_NAMES, read_any, split_key
    from .data.dataset import Dataset
    from .data.describe import describe, format_description
    from .data.importing import write_dataset

    tls, found = read_any(folder, skip_malformed)
    write_dataset(tls, out, {"kind": "import", "path": str(folder), "layouts": found}, min_observed,
                  split_key=split_key, extra={"label_names": LABEL_NAMES}, stratified=True)
    click.echo("layouts: " + ", ".join(f"{k} ({len(v)} file{'s' * (len(v) > 1)})" for k, v in sorted(found.items())))
    click.echo(format_description(describe(Dataset(out))))


@data.command("import-long")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_long(file, out, min_observed, skip_malformed):
    """Import a long-format CSV or Parquet file with columns subject,timestamp,feature,value."""
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.importing import write_dataset
    from .data.longform import read_long

    tls = read_long(file, skip_malformed)
    write_dataset(tls, out, {"kind": "long", "path": str(file)}, min_observed)
    click.echo(format_description(describe(Dataset(out))))


@data.command("describe")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def data_describe(folder, as_json):
    """Subjects, windows, hours, per-feature missingness and label counts of a dataset folder."""
    from .data.dataset import Dataset
    from .data.describe import describe, format_description

    d = describe(Dataset(folder))
    click.echo(json.dumps(d, indent=1) if as_json else format_description(d))


@data.command("stats")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the JSON statistics.")
def data_stats(folder, out):
    """Per-feature z-score statistics over the training subjects only, saved as JSON."""
    from .data.dataset import Dataset
    from .data.stats import NormStats

    ds = Dataset(folder)
    st = NormStats.fit(w.values for w in ds.iter_windows("train"))
    st.save(out)
    from . import schema

    click.echo(f"statistics of {int(st.count.max())} training minutes written to {out}")
    for f, m, s in zip(schema.FEATURES, st.mean, st.std):
        click.echo(f"  {f.name:22s} mean {m:10.3f}  std {s:9.3f}  {f.unit}")


@data.command("schema")
def data_schema():
    """The 26 features: name, unit, sensor group and valid range."""
    from .schema import describe_schema

    click.echo(describe_schema())


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated option ("linear, conv") -> its non-empty names, stripped."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _recipe_options(config_class):
    """One --option per field of a recipe dataclass (default: the recipe's value, else the field's default)."""
    from dataclasses import fields

    def deco(f):
        for fld in reversed(fields(config_class)):
            f = click.option(f"--{fld.name.replace('_', '-')}", fld.name, type=type(fld.default), default=None,
                             help=f"Overrides the recipe (built-in default {fld.default}).")(f)
        return f

    return deco


def _recipe(config_class, path, overrides):
    from dataclasses import asdict

    cfg = config_class.from_toml(path) if path else config_class()
    return config_class.from_dict({**asdict(cfg), **{k: v for k, v in overrides.items() if v is not None}})


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
              help="Continue pretraining this teacher run on --data (adapt it to your own recordings).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_recipe_options(TrainConfig)
def train_cmd(recipe, data_dir, out, resume, stats_path, init, quiet, **overrides):
    """Pretrain a teacher masked autoencoder (80% patch masking, AdamW, warm-up + cosine).

    --backend jax|tensorflow and --devices N pick the engine and the data-parallel devices of this
    process (N virtual devices on a CPU); several hosts: see README, "Scale-out"."""
    from .distributed import select_backend

    cfg = _recipe(TrainConfig, recipe, overrides)
    select_backend(cfg.backend, cfg.devices)  # before Keras starts
    from .train import train

    run = train(data_dir, out, cfg, resume=resume, progress=not quiet, stats_path=stats_path, init=init)
    click.echo(f"teacher written to {run}")


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
    from .distill import distill

    cfg = _recipe(DistillConfig, recipe, overrides)
    run = distill(teacher, data_dir, out, cfg, resume=resume, progress=not quiet, init=init)
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
    from pathlib import Path

    if task != "generative":
        from .finetune import FinetuneConfig, discriminative_markdown, evaluate_discriminative

        try:
            shots = tuple(int(s) for s in few_shot.split(",") if s.strip())
        except ValueError:
            raise click.BadParameter(f"{few_shot!r} is not a comma-separated list of counts", param_hint="--few-shot")
        cfg = FinetuneConfig(seed=seed, epochs=epochs, full_epochs=full_epochs, pool=pool, flip_p=flip_p, hide_p=hide_p)
        res = evaluate_discriminative(run, data_dir, task, cfg, Path(out) if out else Path(run) / "eval",
                                      shots_list=shots, methods=_names(methods),
                                      few_shot_methods=_names(few_shot_methods))
        click.echo(discriminative_markdown(res))
        return

    if flip_p or hide_p:
        raise click.BadParameter(f"augments classifier training; --task generative trains nothing (got --flip-p {flip_p} "
                                 f"--hide-p {hide_p}, expected 0)", param_hint="--flip-p / --hide-p")
    import numpy as np

    from .data.dataset import Dataset
    from .evaluate import baseline_methods, default_tasks, evaluate_generative, model_method, to_markdown, write_report
    from .train import load_run

    try:
        hs = tuple(int(h) for h in horizons.split(","))
    except ValueError:
        raise LsmEdgeError(f"--horizons must be comma-separated minutes like 10,60,120, got {horizons!r}") from None
    model, stats, cfg = load_run(run)
    ds = Dataset(data_dir)
    test = ds.load(split)
    if len(test) == 0:
        raise LsmEdgeError(f"{data_dir} has no {split} windows")
    z = stats.normalize(test.values[:windows])
    z_train = stats.normalize(ds.load("train").values[:2000])
    methods = baseline_methods(z_train, seed)
    name = cfg.get("kind", "teacher")  # a student run is scored under its own name
    methods[name] = model_method(model)
    for other in others:
        m2, st2, c2 = load_run(other)
        if not (np.allclose(st2.mean, stats.mean) and np.allclose(st2.std, stats.std)):
            raise LsmEdgeError(f"--with {other}: its normalisation statistics differ from {run}'s; "
                               f"compare runs trained on the same data")
        methods[f"{c2.get('kind', 'teacher')} {Path(other).name}"] = model_method(m2)
    if compare_hidden:
        methods["teacher (mask-token encoder)"] = model_method(model, hidden="token")
    res = evaluate_generative(z, methods, default_tasks(hs), seed)
    meta = {"teacher": str(run), "data": str(data_dir), "split": split, "windows": len(z),
            "subjects": int(len(set(test.subject[:windows]))), "seed": seed,
            "model": f"{cfg.get('name') or cfg['train']['size']} ({cfg['params']:,} params)"}
    path = write_report(res, Path(out) if out else Path(run) / "eval", meta, name)
    click.echo(to_markdown(res, name))
    click.echo(f"\nreport: {path}")


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
    from .finetune import FinetuneConfig, finetune

    if from_scratch and head != "full":
        raise click.BadParameter(f"a model trained from scratch has no pretrained encoder to probe; got --head "
                                 f"{head}, expected --head full", param_hint="--from-scratch")
    if probe_epochs and (head != "full" or from_scratch):
        raise click.BadParameter("fits the head on a pretrained encoder before full fine-tuning: it needs --head full "
                                 f"without --from-scratch (got --head {head}{' --from-scratch' if from_scratch else ''})",
                                 param_hint="--probe-epochs")
    if (flip_p or hide_p) and head != "full":
        raise click.BadParameter(f"augments full fine-tuning; a {head} probe trains on embeddings computed once "
                                 f"(got --head {head}, expected --head full)", param_hint="--flip-p / --hide-p")
    m = finetune(teacher, data_dir, task, head, out, FinetuneConfig(
        shots=shots, epochs=epochs, full_epochs=full_epochs, full_lr=full_lr, layer_decay=layer_decay, seed=seed,
        probe_epochs=probe_epochs, lr=probe_lr, kd_temperature=kd_temperature, kd_alpha=kd_alpha, pool=pool,
        flip_p=flip_p, hide_p=hide_p),
        from_scratch=from_scratch, kd_from=kd_from)
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
def convert_cmd(run, quant, out, horizon, batch, calibration_windows, calibration, data_dir, classifiers):
    """Convert a run to .tflite: named signatures (impute, forecast, embed, classify_*), metadata, builtin ops only."""
    from pathlib import Path

    from .convert import VARIANTS, convert
    from .errors import LsmEdgeError

    wanted = list(VARIANTS) if quant == "all" else list(_names(quant))
    unknown = [q for q in wanted if q not in VARIANTS]
    if unknown or not wanted:
        raise LsmEdgeError(f"unknown --quant {', '.join(map(repr, unknown)) or repr(quant)}; expected one of "
                           f"{', '.join(VARIANTS)}, several comma-separated, or all")
    several = len(wanted) > 1
    targets = ([(q, Path(out) / f"{Path(run).name}_{q}.tflite") for q in wanted] if several
               else [(wanted[0], Path(out))])
    failed = []
    for q, path in targets:
        try:
            convert(run, path, q, horizon, batch, calibration_windows, data_dir, classifiers, calibration)
            click.echo(f"{q:8s} -> {path} ({path.stat().st_size / 1e3:,.0f} KB)")
        except LsmEdgeError as e:
            if not several:
                raise
            failed.append(q)
            click.echo(f"{q:8s} skipped: {e}", err=True)
    if failed and len(failed) == len(targets):
        raise LsmEdgeError("no variant converted")


@main.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect_cmd(file, as_json):
    """Metadata, signatures, op counts and size of a .tflite file."""
    from .convert import inspect

    info = inspect(file)
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
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Report folder.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def evaluate_real_cmd(data_dir, teacher, others, artifacts, adapt_steps, seed, horizons, people, peers_dir, out, quiet):
    """Score the teacher, its adaptation, other runs and .tflite artifacts on real people never seen:
    imputation of real heart rate, steps and activity counts, and activity recognition on aw_fb with
    participant-grouped folds."""
    if peers_dir is not None:
        from . import peers  # noqa: F401  (PyTorch first: it must load before TensorFlow)
    from .evaluate_real import HORIZONS, evaluate_real

    try:
        spans = tuple(int(h) for h in horizons.split(","))
    except ValueError:
        raise click.BadParameter(f"{horizons!r} is not a comma-separated list of minutes", param_hint="--horizons")
    if not set(spans) <= set(HORIZONS):
        raise click.BadParameter(f"spans must be among {HORIZONS}, got {spans}", param_hint="--horizons")
    evaluate_real(data_dir, teacher, out, artifacts, adapt_steps, seed, progress=not quiet,
                  command="lsm-edge " + " ".join(sys.argv[1:]), horizons=spans, peers_dir=peers_dir, others=others,
                  people=people)
    click.echo((Path(out) / "real.md").read_text())


@main.command("bench")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--threads", default="1", help="Comma-separated thread counts, e.g. 1,2,4.")
@click.option("--runs", default=100, type=click.IntRange(1), help="Timed calls per signature.")
@click.option("--warmup", default=10, type=click.IntRange(0), help="Untimed calls before them.")
@click.option("--signature", default=None, help="Print only this signature in the table (all are measured).")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False), help="Write the full result here.")
@click.option("--adb", "adb_serial", default=None, help="Serial of an Android device: run LiteRT's benchmark_model there.")
@click.option("--benchmark-binary", default=None, type=click.Path(dir_okay=False),
              help="Path of the benchmark_model binary built for the phone (with --adb).")
def bench_cmd(files, threads, runs, warmup, signature, json_out, adb_serial, benchmark_binary):
    """Latency (p50/p90/p99/min), init time, peak memory, size, FLOPs and XNNPACK coverage of .tflite files."""
    from .bench import bench, reference_ops, to_table
    from .io import atomic_write_text

    try:
        counts = tuple(int(t) for t in threads.split(","))
        if not counts or min(counts) < 1:
            raise ValueError
    except ValueError:
        raise LsmEdgeError(f"--threads must be positive integers separated by commas (e.g. 1,2,4), got {threads!r}")
    result = bench(files, counts, runs, warmup, adb_serial, benchmark_binary)
    if json_out:
        atomic_write_text(json_out, json.dumps(result, indent=1))
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
def report_cmd(teacher, artifacts, data_dir, out, windows, horizons, bench_json, threads, runs, seed, min_retention,
               gate_metrics):
    """Every artifact: generative MAE and task accuracy kept of the teacher, beside size, latency and memory."""
    from .evaluate import default_tasks
    from .report import build_report, gate, to_markdown, write_report

    try:
        hz = tuple(int(h) for h in horizons.split(","))
        counts = tuple(int(t) for t in threads.split(","))
    except ValueError:
        raise LsmEdgeError(f"--horizons and --threads take integers separated by commas, got {horizons!r} / {threads!r}")
    res = json.loads(open(bench_json).read()) if bench_json else None
    rep = build_report(teacher, artifacts, data_dir, windows, seed, default_tasks(hz), res, counts, runs)
    write_report(rep, out, command="lsm-edge " + " ".join(sys.argv[1:]))
    click.echo(to_markdown(rep))
    if min_retention is not None:
        failures = gate(rep, min_retention, _names(gate_metrics))
        if failures:
            raise LsmEdgeError(f"{len(failures)} below the retention gate:\n  " + "\n  ".join(failures))
        click.echo(f"retention gate {min_retention:.0%}: every artifact passes")


if __name__ == "__main__":
    sys.exit(main())
