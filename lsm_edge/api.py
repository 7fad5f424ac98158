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
import sys
from dataclasses import asdict
from pathlib import Path

from .errors import LsmEdgeError, OptionError

__all__ = ["data_simulate", "data_import", "data_import_fitbit", "data_import_long", "data_describe", "data_stats",
           "train", "distill", "evaluate", "finetune", "convert", "inspect", "evaluate_real", "bench", "report"]


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
    cfg = config_class.from_toml(path) if path else config_class()
    return config_class.from_dict({**asdict(cfg), **{k: v for k, v in overrides.items() if v is not None}})


# -- data ------------------------------------------------------------------------------------------
def data_simulate(out, subjects: int = 100, days: int = 14, seed: int = 0, chunk_subjects: int = 16,
                  min_observed: float = 0.2, resume: bool = False) -> Path:
    """Simulate a dataset of 300-minute windows (the embedded default data source); returns its folder."""
    from .data.simulate import write_simulated

    write_simulated(out, subjects, days, seed, chunk_subjects, min_observed, resume)
    return Path(out)


def data_import(folder, out, min_observed: float = 0.2, skip_malformed: bool = False, strict: bool = False) -> Path:
    """Import every recording under ``folder`` (any depth; each layout recognised by its files and columns),
    split by person (train / val / test, stratified by source); returns the dataset folder.  Files no layout
    recognises are listed in the manifest (``source.not_read``: file and reason) and the rest is imported;
    with ``strict`` such a file is refused (DataFormatError).  Person-level labels a layout keeps beside its
    files (CGMacros' HbA1c) go to the manifest's ``person_labels`` ({subject: {label: value}}), with the
    class names in ``person_label_names``."""
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
    """Import a Fitbit export in the Fitabase layout; returns the dataset folder."""
    from .data.fitabase import read_fitabase
    from .data.importing import write_dataset

    write_dataset(read_fitabase(folder, skip_malformed), out, {"kind": "fitabase", "path": str(folder)}, min_observed)
    return Path(out)


def data_import_long(file, out, min_observed: float = 0.2, skip_malformed: bool = False) -> Path:
    """Import a long-format CSV or Parquet file (subject,timestamp,feature,value); returns the dataset folder."""
    from .data.importing import write_dataset
    from .data.longform import read_long

    write_dataset(read_long(file, skip_malformed), out, {"kind": "long", "path": str(file)}, min_observed)
    return Path(out)


def data_describe(folder) -> dict:
    """Subjects, windows, hours, per-feature missingness and label counts of a dataset folder."""
    from .data.dataset import Dataset
    from .data.describe import describe

    return describe(Dataset(folder))


def data_stats(folder, out):
    """Per-feature z-score statistics over the training subjects only, saved as JSON at ``out``; returns them."""
    from .data.dataset import Dataset
    from .data.stats import NormStats

    st = NormStats.fit(w.values for w in Dataset(folder).iter_windows("train"))
    st.save(out)
    return st


# -- models ----------------------------------------------------------------------------------------
def train(data_dir, out, recipe=None, resume: bool = False, stats_path=None, init=None, quiet: bool = False,
          **overrides) -> Path:
    """Pretrain a teacher masked autoencoder, or continue a finished run on new data (``init``); returns the run
    folder.  ``recipe``: a TOML under train/; ``overrides``: any recipe field (``steps=300``, ``lr=1e-3``, ...)."""
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
    """Distil a teacher run into a small student (recipe: a TOML under distill/); returns the student's run folder."""
    from .verbs.distill import distill as _distill
    from .recipe import DistillConfig

    cfg = _recipe(DistillConfig, recipe, overrides)
    return _distill(teacher, data_dir, out, cfg, resume=resume, progress=not quiet, init=init)


def evaluate(run, data_dir, task: str = "generative", split: str = "test", windows: int = 512,
             horizons="10,20,30,60,120", seed: int = 0, others=(), compare_hidden: bool = False, out=None,
             epochs: int = 30, full_epochs: int = 30, few_shot="5,10,15,20", methods="linear,conv,full,supervised",
             few_shot_methods="linear,conv", pool: str = "mean", flip_p: float = 0.0, hide_p: float = 0.0) -> dict:
    """Generative (imputation against mean / nearest / linear / MICE) or discriminative (probes, fine-tune,
    baselines) evaluation of a run; returns the results and writes them under ``out`` (default RUN/eval)."""
    if task not in ("generative", "exercise", "activity"):
        raise OptionError(f"--task {task!r}: expected generative, exercise or activity")
    out_dir = Path(out) if out else Path(run) / "eval"
    if task != "generative":
        from .verbs.finetune import FinetuneConfig, evaluate_discriminative

        cfg = FinetuneConfig(seed=seed, epochs=epochs, full_epochs=full_epochs, pool=pool, flip_p=flip_p, hide_p=hide_p)
        return evaluate_discriminative(run, data_dir, task, cfg, out_dir, shots_list=_ints(few_shot, "--few-shot", "counts"),
                                       methods=_names(methods), few_shot_methods=_names(few_shot_methods))
    if flip_p or hide_p:
        raise OptionError(f"--flip-p / --hide-p augment classifier training; --task generative trains nothing (got "
                          f"--flip-p {flip_p} --hide-p {hide_p}, expected 0)")
    import numpy as np

    from .data.dataset import Dataset
    from .core.run import load_run
    from .core.scoring import baseline_methods, default_tasks, evaluate_generative, model_method
    from .verbs.evaluate import write_report

    hs = _ints(horizons, "--horizons", "minutes")
    model, stats, cfg = load_run(run)
    ds = Dataset(data_dir)
    test = ds.load(split)
    if len(test) == 0:
        raise LsmEdgeError(f"{data_dir} has no {split} windows")
    z = stats.normalize(test.values[:windows])
    z_train = stats.normalize(ds.load("train").values[:2000])
    found = baseline_methods(z_train, seed)
    name = cfg.get("kind", "teacher")  # a student run is scored under its own name
    found[name] = model_method(model)
    for other in others:
        m2, st2, c2 = load_run(other)
        if not (np.allclose(st2.mean, stats.mean) and np.allclose(st2.std, stats.std)):
            raise LsmEdgeError(f"--with {other}: its normalisation statistics differ from {run}'s; "
                               f"compare runs trained on the same data")
        found[f"{c2.get('kind', 'teacher')} {Path(other).name}"] = model_method(m2)
    if compare_hidden:
        found["teacher (mask-token encoder)"] = model_method(model, hidden="token")
    res = evaluate_generative(z, found, default_tasks(hs), seed)
    meta = {"teacher": str(run), "data": str(data_dir), "split": split, "windows": len(z),
            "subjects": int(len(set(test.subject[:windows]))), "seed": seed,
            "model": f"{cfg.get('name') or cfg['train']['size']} ({cfg['params']:,} params)"}
    write_report(res, out_dir, meta, name)
    return {"results": res, "model_name": name, "report": out_dir / "generative.md"}


def finetune(teacher, data_dir, task: str, out, head: str = "conv", shots=None, epochs: int = 30,
             full_epochs: int = 30, full_lr: float = 3e-4, layer_decay: float = 1.0, probe_epochs: int = 0,
             probe_lr: float = 1e-3, from_scratch: bool = False, seed: int = 0, kd_from=None,
             kd_temperature: float = 2.0, kd_alpha: float = 0.5, pool: str = "mean", flip_p: float = 0.0,
             hide_p: float = 0.0) -> dict:
    """Train a classification head (exercise or 8-class activity) on a teacher or student run; returns the
    held-out metrics (accuracy, mAP, n) and writes the classifier run to ``out``."""
    from .verbs.finetune import FinetuneConfig, finetune as _finetune

    if from_scratch and head != "full":
        raise OptionError(f"--from-scratch: a model trained from scratch has no pretrained encoder to probe; got "
                          f"--head {head}, expected --head full")
    if probe_epochs and (head != "full" or from_scratch):
        raise OptionError("--probe-epochs fits the head on a pretrained encoder before full fine-tuning: it needs --head "
                          f"full without --from-scratch (got --head {head}{' --from-scratch' if from_scratch else ''})")
    if (flip_p or hide_p) and head != "full":
        raise OptionError(f"--flip-p / --hide-p augment full fine-tuning; a {head} probe trains on embeddings computed "
                          f"once (got --head {head}, expected --head full)")
    return _finetune(teacher, data_dir, task, head, out, FinetuneConfig(
        shots=shots, epochs=epochs, full_epochs=full_epochs, full_lr=full_lr, layer_decay=layer_decay, seed=seed,
        probe_epochs=probe_epochs, lr=probe_lr, kd_temperature=kd_temperature, kd_alpha=kd_alpha, pool=pool,
        flip_p=flip_p, hide_p=hide_p), from_scratch=from_scratch, kd_from=kd_from)


def convert(run, out, quant="float32", horizon: int = 60, batch: int = 1, calibration_windows: int = 400,
            calibration: str = "observed", data_dir=None, classifiers=(), on_skip=None, io: str = "float32",
            strict: bool = False) -> dict:
    """Convert a run to ``.tflite`` (signatures impute, forecast, embed, classify_*; metadata; builtin ops only).
    ``quant``: one variant, several comma-separated or a sequence, or "all" (then ``out`` is a folder).
    ``io``: int8 / uint8 input and output tensors (``int8`` only); ``strict``: refuse a file with a node
    off XNNPACK or a QUANTIZE / DEQUANTIZE inside its graph.
    Returns {variant: file written}; with several variants one that fails is skipped (``on_skip(variant,
    error)`` is told) unless all fail."""
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
    """Metadata, signatures (inputs and outputs with shapes), op counts and size of a ``.tflite`` file."""
    from .verbs.convert import inspect as _inspect

    return _inspect(file)


def evaluate_real(data_dir, teacher, out, others=(), artifacts=None, adapt_steps: int = 200, seed: int = 0,
                  horizons="10,30,60,120", people: str = "test", peers_dir=None, quiet: bool = False,
                  adapt_per_set: bool = False, adapt_norm: str = "init") -> dict:
    """Score a teacher (zero-shot and adapted on the train people), other runs and ``.tflite`` files on real
    people never seen (a folder laid out like ../shared/data/real/ or ../shared/data/actigraphs/: a set with
    too few people to hold one out is scored on the later part of each recording after adapting on the
    earlier part); ``adapt_per_set``: one adapted teacher per set (device families); ``adapt_norm``: "own" to
    normalise the adapted model by its adaptation data's statistics; returns real.json's content."""
    if peers_dir is not None:
        from .core import peers  # noqa: F401  (PyTorch first: it must load before TensorFlow)
    from .verbs.evaluate_real import HORIZONS, evaluate_real as _evaluate_real

    spans = _ints(horizons, "--horizons", "minutes")
    if not spans or not set(spans) <= set(HORIZONS):
        raise OptionError(f"--horizons: spans must be among {HORIZONS}, got {spans}")
    return _evaluate_real(data_dir, teacher, out, artifacts, adapt_steps, seed, progress=not quiet,
                          command="lsm-edge " + " ".join(sys.argv[1:]), horizons=spans, peers_dir=peers_dir,
                          others=others, people=people, adapt_per_set=adapt_per_set, adapt_norm=adapt_norm, fit=fit)


def bench(files, threads="1", runs: int = 100, warmup: int = 10, json_out=None, adb_serial=None,
          benchmark_binary=None, arm=None, arm_calls: int = 20, signature=None) -> dict:
    """Latency (p50/p90/p99/min), init time, peak memory, size, FLOPs and XNNPACK coverage of ``.tflite`` files,
    each in a fresh process; returns the result (also written to ``json_out`` when given).  ``arm``: emulated
    ARM cores instead (e.g. "cortex-a53,cortex-a76"; ``lsm_edge/core/arm.py``): parity with this machine, guest
    instructions per call over ``arm_calls`` calls, instructions per FLOP, XNNPACK's nodes on each core; with
    ``signature``, only that signature is emulated (on this machine every signature is measured)."""
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
    """Every artifact's generative MAE and task accuracy kept of the teacher, beside size, latency and memory;
    writes report.md / report.json / pareto.png to ``out`` and returns the report
    (:func:`lsm_edge.verbs.report.gate` checks it against a retention bar).  ``arm``: emulated cores (e.g.
    "cortex-a53,cortex-a76") whose columns the report gains: instructions per impute call (counted here, or read
    from ``arm_bench_json``, an ``lsm-edge bench --arm --json`` result), parity with this machine, and the
    headline tasks' MAE on ``arm_windows`` held-out windows filled on each core."""
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
