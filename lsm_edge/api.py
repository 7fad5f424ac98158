"""The Python API: every ``lsm-edge`` verb as a function with the CLI's options and defaults.

The CLI (``lsm_edge/cli.py``) parses, calls these and prints; nothing is implemented twice.  Each
function returns the folder it wrote or the results it computed, and raises
:class:`lsm_edge.errors.LsmEdgeError` (with the value found and the one expected) on bad input.
Also importable from the package itself: ``lsm_edge.train(...)``, ``lsm_edge.distill(...)``,
``lsm_edge.convert(...)``::

    import lsm_edge
    data = lsm_edge.data_import("../shared/data/real", out="runs/real")
    run = lsm_edge.train(data, "runs/adapted", init="pretrained/real_conv96x5", steps=200, lr=2e-4)
    student = lsm_edge.distill("runs/adapted", data, "runs/student", recipe="distill/conv64.toml", steps=300)
    files = lsm_edge.convert(student, out="student_int8.tflite", quant="int8")

Errors name options as the CLI spells them (``--flip-p`` is ``flip_p`` here); a bad option value or
combination raises :class:`lsm_edge.errors.OptionError`.  Comma-separated options of the CLI
(``horizons="10,60"``) also take a sequence here (``horizons=(10, 60)``).
Light to import: TensorFlow loads when a function that needs it runs.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

from .errors import LsmEdgeError, OptionError

__all__ = ["data_simulate", "data_import", "data_import_fitbit", "data_import_long", "data_describe", "data_stats",
           "train", "distill", "evaluate", "finetune", "convert", "inspect", "evaluate_real", "bench", "report", "fill",
           "evaluate_people"]


API_ONLY = ("on_skip",)  # parameters of the Python API alone (a callback): the CLI has no option for them


def _ints(value, option: str, unit: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip())
    except (TypeError, ValueError):
        raise OptionError(f"{option}: {value!r} is not a comma-separated list of {unit}") from None


def _names(value) -> tuple[str, ...]:
    """A comma-separated option ("linear, conv") or a sequence -> its non-empty names, stripped."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(n.strip() for n in items if n.strip())


def _recipe(config_class, path, overrides: dict):
    from dataclasses import fields

    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise OptionError(f"unknown option {', '.join(unknown)} for {config_class.__name__}; expected one of "
                           f"{', '.join(sorted(known))}")
    cfg = config_class.from_toml(path) if path else config_class()  # a bad recipe file: LsmEdgeError
    try:
        return config_class.from_dict({**asdict(cfg), **{k: v for k, v in overrides.items() if v is not None}})
    except LsmEdgeError as e:  # then an option's value is the bad one: named as the CLI spells it
        given = sorted((k for k, v in overrides.items() if v is not None), key=len, reverse=True)
        msg = str(e).replace("config: ", "", 1)
        if given:
            msg = re.sub(rf"(?<![-\w])({'|'.join(given)})\b", lambda m: "--" + m.group(1).replace("_", "-"), msg)
        raise OptionError(msg) from None


# -- data ------------------------------------------------------------------------------------------
def data_simulate(out, subjects: int = 100, days: int = 14, seed: int = 0, chunk_subjects: int = 16,
                  min_observed: float = 0.2, resume: bool = False) -> Path:
    """Simulate a dataset of 300-minute windows (the embedded default data source); returns its folder.

    :param out: Output dataset folder.
    :param subjects: Number of simulated subjects.
    :param days: Days simulated per subject.
    :param seed: Random seed; the same seed gives the same data.
    :param chunk_subjects: Subjects per shard (memory bound).
    :param min_observed: Keep a window when at least this share of its minutes has an observed feature.
    :param resume: Continue an interrupted write, keeping the shards already written.
    """
    from .data.simulate import write_simulated

    write_simulated(out, subjects, days, seed, chunk_subjects, min_observed, resume)
    return Path(out)


def data_import(folder, out, min_observed: float = 0.2, skip_malformed: bool = False, strict: bool = False) -> Path:
    """Import every recording in FOLDER (at any depth), recognising each layout by its files and columns:
    Fitabase exports, MMASH, actigraph exports (Actiwatch .AWD, Actiware CSV, ActTrust, ActiGraph .agd,
    MotionWatch .mtn, Tempatilumi, Daqtometer, biobankAccelerometerAnalysis), aw_fb labelled minutes,
    covid19 Fitbit minutes, Actiwatch minute counts (Depresjon / Psykose), CGMacros tables, Garmin 5-minute
    exports (T1D-UOM), long-format tables; .csv, .csv.gz or one-file .zip.  Each device recording is listed
    with its device, epoch, channels and minutes; a file of no known layout is listed with its reason and
    the rest imported (with --strict, refused).

    Split by person (train / val / test, stratified by source); returns the dataset folder.  Files no layout
    recognises are listed in the manifest (``source.not_read``: file and reason).  Person-level labels a layout
    keeps beside its files (CGMacros' HbA1c) go to the manifest's ``person_labels`` ({subject: {label: value}}),
    with the class names in ``person_label_names``.

    :param folder: The folder of recordings.
    :param out: Output dataset folder.
    :param min_observed: Keep a window when at least this share of its minutes has an observed feature.
    :param skip_malformed: Drop malformed rows (each is still reported) instead of failing.
    :param strict: Refuse the folder when a file in it is of no layout lsm-edge reads (default: import the rest
        and list such files).
    """
    from .data.autoimport import LABEL_NAMES, PERSON_LABEL_NAMES, person_labels, read_any, split_key
    from .data.importing import write_dataset

    import numpy as np

    not_read = []
    tls, found = read_any(folder, skip_malformed, strict, report=lambda p, why: not_read.append([str(p), why]))
    recordings = [{"subject": t.subject, **{k: t.meta[k] for k in ("file", "device", "epoch_s", "channels", "units")},
                   "minutes": t.minutes, "observed_minutes": int(np.isfinite(t.values).any(1).sum()),
                   "partial_minutes": t.meta.get("partial_minutes", 0)}
                  for t in tls if t.meta.get("device")]
    subjects = {t.subject for t in tls}
    people = {k: v for k, v in person_labels(found).items() if k in subjects}
    write_dataset(tls, out, {"kind": "import", "path": str(folder), "layouts": found, "not_read": not_read}, min_observed,
                  split_key=split_key, stratified=True,
                  extra={"label_names": LABEL_NAMES, "recordings": recordings, "person_labels": people,
                         "person_label_names": PERSON_LABEL_NAMES})
    return Path(out)


def data_import_fitbit(folder, out, min_observed: float = 0.2, skip_malformed: bool = False) -> Path:
    """Import a Fitbit export in the Fitabase layout (heartrate_seconds_merged.csv, minute*_merged.csv); returns
    the dataset folder.  An alias of ``data import`` for one Fitabase folder, kept for the scripts that use it
    (``data import`` recognises the layout too).

    :param folder: The Fitabase folder.
    :param out: Output dataset folder.
    :param min_observed: Keep a window when at least this share of its minutes has an observed feature.
    :param skip_malformed: Drop malformed rows (each is still reported) instead of failing.
    """
    from .data.fitabase import read_fitabase
    from .data.importing import write_dataset

    write_dataset(read_fitabase(folder, skip_malformed), out, {"kind": "fitabase", "path": str(folder)}, min_observed)
    return Path(out)


def data_import_long(file, out, min_observed: float = 0.2, skip_malformed: bool = False) -> Path:
    """Import a long-format CSV or Parquet file with columns subject,timestamp,feature,value; returns the dataset
    folder.  An alias of ``data import`` for one file (``data import`` recognises the layout in a folder too).

    :param file: The long-format file.
    :param out: Output dataset folder.
    :param min_observed: Keep a window when at least this share of its minutes has an observed feature.
    :param skip_malformed: Drop malformed rows (each is still reported) instead of failing.
    """
    from .data.importing import write_dataset
    from .data.longform import read_long

    write_dataset(read_long(file, skip_malformed), out, {"kind": "long", "path": str(file)}, min_observed)
    return Path(out)


def data_describe(folder) -> dict:
    """Subjects, windows, hours, per-feature missingness and label counts of a dataset folder.

    :param folder: The dataset folder.
    """
    from .data.dataset import Dataset
    from .data.describe import describe

    return describe(Dataset(folder))


def data_stats(folder, out):
    """Per-feature z-score statistics over the training subjects only, saved as JSON at ``out``; returns them.

    :param folder: The dataset folder.
    :param out: Where to write the JSON statistics.
    """
    from .data.dataset import Dataset
    from .data.stats import NormStats

    st = NormStats.fit(w.values for w in Dataset(folder).iter_windows("train"))
    st.save(out)
    return st


# -- models ----------------------------------------------------------------------------------------
def train(data_dir, out, recipe=None, resume: bool = False, stats_path=None, init=None, quiet: bool = False,
          **overrides) -> Path:
    """Pretrain a teacher masked autoencoder (80% patch masking, AdamW, warm-up + cosine), or continue a finished
    run on new data (``init``); returns the run folder.  ``overrides``: any recipe field (``steps=300``,
    ``lr=1e-3``, ...); ``backend`` jax|tensorflow and ``devices`` N pick the engine and the data-parallel
    devices of this process (N virtual devices on a CPU); several hosts: see docs/scale-out.md.

    :param data_dir: Dataset folder (from `lsm-edge data simulate` / `data import`).
    :param out: Run folder to write.
    :param recipe: A recipe: a TOML file, or one lsm-edge ships (e.g. train/micro.toml); options below override it.
    :param resume: Continue an interrupted run from its last checkpoint (on any number of devices).
    :param stats_path: Normalisation statistics from `lsm-edge data stats` (required with several processes).
    :param init: Continue pretraining this run on --data (adapt it to your own recordings): a teacher, or a conv
        model trained on the masks alone such as pretrained/real_conv96x5.
    :param quiet: No progress bar.
    """
    from .core.distributed import select_backend
    from .recipe import TrainConfig

    cfg = _recipe(TrainConfig, recipe, overrides)
    select_backend(cfg.backend, cfg.devices)  # before Keras starts
    return fit(data_dir, out, cfg, resume=resume, progress=not quiet, stats_path=stats_path, init=init)


def fit(data_dir, out, cfg, resume: bool = False, progress: bool = True, stats_path=None, init=None,
        refit_stats: bool = False, stop_after_segments: int | None = None) -> Path:
    """:func:`train` with a :class:`lsm_edge.recipe.TrainConfig` already built (what ``evaluate_real`` adapts
    with).  ``init``: a finished teacher continues through the training loop (verbs/train.py); a conv model
    trained on the masks alone (pretrained/real_conv96x5) continues through distill's loop without a teacher,
    the same objective (verbs/distill.py ``continue_masked``)."""
    from .core.run import masked_student

    if init is not None and masked_student(init):
        from .verbs.distill import continue_masked

        return continue_masked(data_dir, out, cfg, init, resume, progress, stop_after_segments, refit_stats)
    from .verbs.train import train as _train

    return _train(data_dir, out, cfg, resume=resume, progress=progress, stop_after_segments=stop_after_segments,
                  stats_path=stats_path, init=init, refit_stats=refit_stats)


def distill(teacher, data_dir, out, recipe=None, resume: bool = False, init=None, quiet: bool = False,
            **overrides) -> Path:
    """Distil a teacher into a small student (ViT or conv family) on all imputation tasks; returns the student's
    run folder.  ``overrides``: any field of the student recipe.

    :param teacher: Teacher run folder.
    :param data_dir: Dataset folder.
    :param out: Student run folder to write.
    :param recipe: A student recipe: a TOML file, or one lsm-edge ships (e.g. distill/conv64.toml); options below
        override it.
    :param resume: Continue an interrupted distillation from its last checkpoint.
    :param init: A finished student run to start from (e.g. to adapt it beside a teacher adapted with
        `train --init`); its architecture replaces the recipe's.
    :param quiet: No progress bar.
    """
    from .verbs.distill import distill as _distill
    from .recipe import DistillConfig

    cfg = _recipe(DistillConfig, recipe, overrides)
    return _distill(teacher, data_dir, out, cfg, resume=resume, progress=not quiet, init=init)


def evaluate(run, data_dir, task: str = "generative", split: str = "test", windows: int = 512,
             horizons="10,20,30,60,120", seed: int = 0, others=(), compare_hidden: bool = False, out=None,
             epochs: int = 30, full_epochs: int = 30, few_shot="5,10,15,20", methods="linear,conv,full,supervised",
             few_shot_methods="linear,conv", pool: str = "mean", flip_p: float = 0.0, hide_p: float = 0.0) -> dict:
    """Generative (imputation against mean / nearest / linear / MICE) or discriminative (probes, fine-tune,
    baselines) evaluation of a run; returns the results and writes them under ``out`` (default RUN/eval).

    :param run: Run folder of a teacher (or a student).
    :param data_dir: Dataset folder.
    :param task: generative: Table 3(a) imputation; exercise / activity: Table 3(b)/(c) classification.
    :param split: Subjects to score on.
    :param windows: At most this many windows (the first ones).
    :param horizons: Comma-separated spans in minutes.
    :param seed: Seed of the evaluation masks.
    :param others: Another run (e.g. a student) scored on the same windows and masks (repeatable).
    :param compare_hidden: Also score the inference path that feeds missing tokens to the encoder instead of
        masking them.
    :param out: Folder for generative.md / generative.json (default: RUN/eval).
    :param epochs: Discriminative: epochs of a probe head.
    :param full_epochs: Discriminative: epochs of full fine-tuning and of the supervised-from-scratch ViT.
    :param few_shot: Discriminative: labelled windows per class of the few-shot rows, comma-separated ('' for none).
    :param methods: Discriminative: neural rows of the full-data table, comma-separated ('' for none).
    :param few_shot_methods: Discriminative: neural rows of the few-shot table (full and supervised train the whole
        ViT on the few windows).
    :param pool: Discriminative: what the linear probe, the fine-tuned teacher and the supervised ViT read: the
        pooled embedding (the paper's), or its mean, max and std over tokens.
    :param flip_p: Discriminative: fraction of training windows reversed in time, for the rows that train the whole
        ViT (fine-tune, supervised); the probes train on embeddings and are not augmented.
    :param hide_p: Discriminative: fraction of training windows with one 5-60 minute span hidden, for the rows that
        train the whole ViT.
    """
    if task not in ("generative", "exercise", "activity"):
        raise OptionError(f"--task {task!r}: expected generative, exercise or activity")
    out_dir = Path(out) if out else Path(run) / "eval"
    if task != "generative":
        from .recipe import FinetuneConfig
        from .verbs.finetune import evaluate_discriminative

        cfg = FinetuneConfig(seed=seed, epochs=epochs, full_epochs=full_epochs, pool=pool, flip_p=flip_p, hide_p=hide_p)
        return evaluate_discriminative(run, data_dir, task, cfg, out_dir, shots_list=_ints(few_shot, "--few-shot", "counts"),
                                       methods=_names(methods), few_shot_methods=_names(few_shot_methods))
    if flip_p or hide_p:
        raise OptionError(f"--flip-p / --hide-p augment classifier training; --task generative trains nothing (got "
                          f"--flip-p {flip_p} --hide-p {hide_p}, expected 0)")
    from .verbs.evaluate import evaluate_run

    return evaluate_run(run, data_dir, split, windows, _ints(horizons, "--horizons", "minutes"), seed, others,
                        compare_hidden, out_dir)


def finetune(teacher, data_dir, task: str, out, head: str = "conv", recipe=None, from_scratch: bool = False,
             kd_from=None, **overrides) -> dict:
    """Train a classification head (exercise or 8-class activity) on a teacher or student run; returns the
    held-out metrics (accuracy, mAP, n) and writes the classifier run to ``out``.  ``overrides``: any field of
    the fine-tuning recipe (``epochs=30``, ``lr=1e-3`` for a probe head, ``full_lr=3e-4``, ...).

    :param teacher: Teacher (or student) run folder.
    :param data_dir: Labelled dataset.
    :param task: Which labels.
    :param out: Classifier run folder to write.
    :param head: linear / conv probe on the frozen encoder, or full fine-tuning.
    :param recipe: A fine-tuning recipe: a TOML file, or one lsm-edge ships (e.g. finetune/full_augmented.toml);
        options below override it.
    :param from_scratch: The supervised baseline: the same architecture with fresh weights (needs --head full).
    :param kd_from: A fine-tuned teacher's classifier run of the same task: distil its softened logits too.
    """
    from .recipe import FinetuneConfig
    from .verbs.finetune import finetune as _finetune

    cfg = _recipe(FinetuneConfig, recipe, overrides)
    if from_scratch and head != "full":
        raise OptionError(f"--from-scratch: a model trained from scratch has no pretrained encoder to probe; got "
                          f"--head {head}, expected --head full")
    if cfg.probe_epochs and (head != "full" or from_scratch):
        raise OptionError("--probe-epochs fits the head on a pretrained encoder before full fine-tuning: it needs --head "
                          f"full without --from-scratch (got --head {head}{' --from-scratch' if from_scratch else ''})")
    if (cfg.flip_p or cfg.hide_p) and head != "full":
        raise OptionError(f"--flip-p / --hide-p augment full fine-tuning; a {head} probe trains on embeddings computed "
                          f"once (got --head {head}, expected --head full)")
    return _finetune(teacher, data_dir, task, head, out, cfg, from_scratch=from_scratch, kd_from=kd_from)


def convert(run, out, quant="float32", horizon: int = 60, batch: int = 1, calibration_windows: int = 400,
            calibration: str = "observed", data_dir=None, classifiers=(), on_skip=None, io: str = "float32",
            strict: bool = False) -> dict:
    """Convert a run to .tflite: named signatures (impute, forecast, embed, classify_*), metadata, builtin ops only.
    Returns {variant: file written}; with several variants one that fails is skipped (``on_skip(variant,
    error)`` is told) unless all fail.

    :param run: Run folder (teacher, student).
    :param out: The .tflite file to write (a folder with several variants or --quant all).
    :param quant: One of float32, float16, dynamic, int8, int16x8, wo-int8, int4; several comma-separated, or 'all'
        (then --out is a folder).
    :param horizon: Minutes the forecast signature predicts.
    :param batch: Static batch size of every signature.
    :param calibration_windows: Training windows used to calibrate int8 / int16x8 (400: the same accuracy as 100 on
        average, a quarter of the spread between draws; benchmarks/results/convert/int8_calibration.md).
    :param calibration: Calibrate int8 / int16x8 on the windows as recorded, or with the gaps imputation fills
        (random 80%, interpolation, extrapolation, sensor) hidden in turn.
    :param data_dir: Dataset with the run's training windows (default: the one in the run's manifest).
    :param classifiers: A classifier run from `lsm-edge finetune` (repeatable, one per task): adds classify_<task>.
    :param on_skip: Told ``(variant, error)`` of a variant skipped among several.
    :param io: Dtype of every signature's inputs and outputs: int8 / uint8 (with --quant int8) for accelerators that
        take integer tensors only; scale and zero point go in the metadata.
    :param strict: Refuse a file with any node off XNNPACK or a QUANTIZE / DEQUANTIZE inside its graph.
    """
    from .verbs.convert import VARIANTS, convert as _convert

    wanted = list(VARIANTS) if quant == "all" else list(_names(quant))
    unknown = [q for q in wanted if q not in VARIANTS]
    if unknown or not wanted:
        raise OptionError(f"unknown --quant {', '.join(map(repr, unknown)) or repr(quant)}; expected one of "
                           f"{', '.join(VARIANTS)}, several comma-separated, or all")
    several = len(wanted) > 1
    targets = [(q, Path(out) / f"{Path(run).name}_{q}.tflite") for q in wanted] if several else [(wanted[0], Path(out))]
    written = {}
    for q, path in targets:
        try:
            _convert(run, path, q, horizon, batch, calibration_windows, data_dir, classifiers, calibration,
                     io=io, strict=strict)
            written[q] = path
        except LsmEdgeError as e:
            if not several:
                raise
            if on_skip:
                on_skip(q, e)
    if not written:
        raise LsmEdgeError("no variant converted")
    return written


def inspect(file) -> dict:
    """Metadata, signatures (inputs and outputs with shapes), op counts and size of a .tflite file.

    :param file: The .tflite file.
    """
    from .verbs.convert import inspect as _inspect

    return _inspect(file)


def evaluate_real(data_dir, teacher, out, others=(), artifacts=None, adapt_steps: int = 200, seed: int = 0,
                  horizons="10,30,60,120", people: str = "test", peers_dir=None, quiet: bool = False,
                  adapt_per_set: bool = False, adapt_norm: str = "init") -> dict:
    """Score the teacher, its adaptation, other runs and .tflite artifacts on real people never seen: imputation of
    real heart rate, steps, activity counts (in each device's unit), skin temperature and light, and activity
    recognition on aw_fb with participant-grouped folds.  The folder may be laid out like ../shared/data/real/
    or like ../shared/data/actigraphs/ (one sub-folder per device family; a family with too few people to hold
    one out is scored on the later third of each recording, after adapting on the earlier part).  Returns
    real.json's content.

    :param data_dir: A folder laid out like ../shared/data/real/: one sub-folder per set, layouts recognised from
        the files.
    :param teacher: Teacher run folder: scored zero-shot and adapted on the sets' train people.
    :param out: Report folder.
    :param others: Another model run scored as it is (e.g. a teacher pretrained on real people), named by its
        folder; repeatable.
    :param artifacts: Folder of .tflite files scored through lsm_edge.runtime beside the teacher.
    :param adapt_steps: Steps of continued pretraining on the adaptation subjects (0: zero-shot only).
    :param seed: Seed of the hidden spans.
    :param horizons: Comma-separated spans in minutes (of 10, 30, 60, 120).
    :param people: Score the test people (the figures to report) or the validation people (to choose on).
    :param peers_dir: Folder of PyPOTS peers saved by benchmarks/peers.py --save (needs lsm-edge[peers]): scored
        zero-shot and adapted beside the teacher.
    :param quiet: No progress bars.
    :param adapt_per_set: One adapted teacher per set, on that set alone (device families whose counts have their
        own scales, e.g. ../shared/data/actigraphs) instead of one on every set's adaptation people.
    :param adapt_norm: The adapted model's normalisation: the teacher's statistics, or its adaptation data's own
        (a device whose units differ).
    """
    if peers_dir is not None:
        from .core import peers  # noqa: F401  (PyTorch first: it must load before TensorFlow)
    from .core.scoring import SPAN_HORIZONS
    from .verbs.evaluate_real import evaluate_real as _evaluate_real

    spans = _ints(horizons, "--horizons", "minutes")
    if not spans or not set(spans) <= set(SPAN_HORIZONS):
        raise OptionError(f"--horizons: spans must be among {SPAN_HORIZONS}, got {spans}")
    return _evaluate_real(data_dir, teacher, out, artifacts, adapt_steps, seed, progress=not quiet,
                          command="lsm-edge " + " ".join(sys.argv[1:]), horizons=spans, peers_dir=peers_dir,
                          others=others, people=people, adapt_per_set=adapt_per_set, adapt_norm=adapt_norm, fit=fit)


def bench(files, threads="1", runs: int = 100, warmup: int = 10, json_out=None, adb_serial=None,
          benchmark_binary=None, arm=None, arm_calls: int = 20, signature=None) -> dict:
    """Latency (p50/p90/p99/min), init time, peak memory, size, FLOPs and XNNPACK coverage of .tflite files, each in
    a fresh process; returns the result (also written to ``json_out`` when given).  On this machine every
    signature is measured.

    :param files: The .tflite files.
    :param threads: Comma-separated thread counts, e.g. 1,2,4.
    :param runs: Timed calls per signature.
    :param warmup: Untimed calls before them.
    :param json_out: Write the full result here.
    :param adb_serial: Serial of an Android device: run LiteRT's benchmark_model there.
    :param benchmark_binary: Path of the benchmark_model binary built for the phone (with --adb).
    :param arm: Emulated ARM cores instead of this machine, comma-separated (cortex-a53, cortex-a76): parity with
        this machine, instructions per call, instructions per FLOP, XNNPACK's nodes on each core (make arm sets
        it up; lsm_edge/core/arm.py).
    :param arm_calls: Calls counted per signature with --arm.
    :param signature: Print only this signature in the table (all are measured; with --arm, only this one is
        emulated).
    """
    from .core.measure import bench as _bench
    from .io import atomic_write_text

    files = [files] if isinstance(files, (str, Path)) else list(files)
    if arm:
        from .core.arm import arm_bench

        result = arm_bench(files, _cores(arm), arm_calls, signatures=(signature,) if signature else None)
        if json_out:
            atomic_write_text(json_out, json.dumps(result, indent=1))
        return result

    try:
        counts = _ints(threads, "--threads", "thread counts")
    except OptionError:
        counts = ()
    if not counts or min(counts) < 1:
        raise OptionError(f"--threads must be positive integers separated by commas (e.g. 1,2,4), got {threads!r}")
    result = _bench(files, counts, runs, warmup, adb_serial, benchmark_binary)
    if json_out:
        atomic_write_text(json_out, json.dumps(result, indent=1))
    return result


def _cores(arm) -> list[str]:
    from .core.arm import CORES

    cores = _names(arm)
    unknown = [c for c in cores if c not in CORES]
    if unknown or not cores:
        raise OptionError(f"--arm {', '.join(unknown) or repr(arm)}: expected cores among {', '.join(CORES)}")
    return cores


def report(teacher, artifacts, data_dir, out, windows: int = 512, horizons="10,20,30,60,120", bench_json=None,
           threads="1", runs: int = 50, seed: int = 0, arm=None, arm_windows: int = 64, arm_bench_json=None) -> dict:
    """Every artifact: generative MAE and task accuracy kept of the teacher, beside size, latency and memory; writes
    report.md / report.json / pareto.png to ``out`` and returns the report (:func:`lsm_edge.verbs.report.gate`
    checks it against a retention bar).

    :param teacher: The teacher run; its float32 conversion must be in --artifacts.
    :param artifacts: Folder of .tflite files (from `lsm-edge convert`).
    :param data_dir: Dataset folder (its held-out test split is scored).
    :param out: Folder for report.md/.json, pareto.png.
    :param windows: Held-out windows for the generative tasks.
    :param horizons: Minutes of the interpolation/extrapolation/sensor tasks.
    :param bench_json: Reuse an `lsm-edge bench --json` result instead of measuring.
    :param threads: Thread counts to measure (without --bench).
    :param runs: Timed calls per signature (without --bench).
    :param seed: Seed of the masks.
    :param arm: Emulated ARM cores, comma-separated (cortex-a53, cortex-a76): add their instructions per impute call
        (counted here, or read from --arm-bench) and parity with this machine (make arm sets it up).
    :param arm_windows: Held-out windows filled on each emulated core for the MAE parity (with --arm).
    :param arm_bench_json: Reuse an `lsm-edge bench --arm --json` result for the instruction counts (with --arm).
    """
    from .core.scoring import default_tasks
    from .verbs.report import build_report, write_report

    hz, counts = _ints(horizons, "--horizons", "minutes"), _ints(threads, "--threads", "thread counts")
    res = json.loads(Path(bench_json).read_text()) if bench_json else None
    cores = _cores(arm) if arm else []
    if arm_bench_json and not cores:
        raise OptionError("--arm-bench needs --arm (the cores to report)")
    arm_res = json.loads(Path(arm_bench_json).read_text()) if arm_bench_json else None
    if arm_res is not None and "cores" not in arm_res:
        raise OptionError(f"--arm-bench {arm_bench_json}: not an `lsm-edge bench --arm --json` result (no 'cores')")
    rep = build_report(teacher, artifacts, data_dir, windows, seed, default_tasks(hz), res, counts, runs,
                       arm_cores=cores, arm_windows=arm_windows, arm_result=arm_res)
    write_report(rep, out, command="lsm-edge " + " ".join(sys.argv[1:]))
    return rep


# -- your own recordings ---------------------------------------------------------------------------
def fill(source, model, out, channels=None, stride: int = 60, max_gap: int = 120, skip_malformed: bool = False,
         quiet: bool = False) -> dict:
    """Fill every person's whole recording: 300-minute windows every ``stride`` minutes through the model, each
    minute's fill from the window in which it lies farthest from the edges; a gap longer than ``max_gap``
    minutes is left missing and reported.  Writes per person a CSV and a Parquet file on the recording's own
    clock (each channel in its unit, with a flag: observed / filled / missing) and a plot of the day with the
    most filling, and for everyone summary.md / summary.csv; returns {"people": {person: {channel: minutes
    observed, filled, missing, gaps_left, longest_gap_left}}, "not_read": [[file, why]]}.  A file that cannot
    be read is named and the others are filled.

    :param source: A folder of recordings in any layout `data import` recognises, or an imported dataset (its
        recordings are read again from the folder it was imported from).
    :param model: A .tflite file (run through lsm_edge.runtime, as an app would) or a run folder.
    :param out: Folder for the filled files, plots and summary.
    :param channels: Comma-separated channels to fill (heart_rate, step_count, log_energy, skin_temperature;
        default: each that the recording observes).
    :param stride: Minutes between the starts of two windows (1-300).
    :param max_gap: Gaps longer than this many minutes are left missing (120: the longest span evaluate-real
        scores).
    :param skip_malformed: Drop malformed rows (each is still reported) instead of leaving their file unread.
    :param quiet: No progress bar.
    """
    from .core.scoring import CHANNELS
    from .verbs.fill import W, fill as _fill

    names = _names(channels) if channels else None
    unknown = [c for c in (names or ()) if c not in CHANNELS]
    if unknown:
        raise OptionError(f"--channels {', '.join(unknown)}: expected some of {', '.join(CHANNELS)}")
    if not 1 <= stride <= W:
        raise OptionError(f"--stride {stride}: expected 1 to {W} minutes (every minute must lie in a window)")
    if max_gap < 1:
        raise OptionError(f"--max-gap {max_gap}: expected at least 1 minute")
    return _fill(source, model, out, names, stride, max_gap, skip_malformed, progress=not quiet)


def evaluate_people(source, out, labels="depression,schizophrenia,glycaemic", models=(), seed: int = 0,
                    quiet: bool = False) -> dict:
    """Person-level labels from people's days: each day's embedding (from each model) and each day's statistics
    with the person's rest-activity rhythm (IS, IV, RA, L5, M10), classified by logistic regression and a random
    forest on person-grouped, label-stratified folds; a person's prediction is the mean of their days'
    probabilities.  Accuracy, macro-F1 and MCC per person with 95 % intervals from a bootstrap over people;
    writes people.md / people.json and a confusion matrix per task to ``out`` and returns people.json's
    content.  Research use, not a diagnostic.

    :param source: A folder of recordings `data import` reads, with the participant tables beside them (Depresjon's
        scores.csv, Psykose's patients_info.csv, CGMacros' bio.csv).
    :param out: Report folder.
    :param labels: Comma-separated tasks: depression (Depresjon: condition vs control), schizophrenia (Psykose's
        patients vs Depresjon's controls), glycaemic (CGMacros: normal / prediabetes / type 2 diabetes from
        HbA1c), or a CSV file with columns subject,label.
    :param models: A .tflite file (through lsm_edge.runtime) or a run folder whose day embeddings are classified
        (repeatable).
    :param seed: Seed of the folds, the forests and the bootstrap.
    :param quiet: No progress bars.
    """
    from .verbs.people import evaluate_people as _evaluate_people

    return _evaluate_people(source, out, _names(labels), models, seed, progress=not quiet)
