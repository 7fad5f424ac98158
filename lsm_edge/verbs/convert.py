"""Keras run -> one ``.tflite`` file per quantization variant (``lsm-edge convert``).

Every file holds named signatures over one set of weights:

    impute(values[B,300,26], missing[B,300,26]) -> values[B,300,26]   observed cells pass through
    forecast(values, missing)                  -> forecast[B,N,26]    the last N minutes, predicted
    embed(values, missing)                     -> tokens[B,180,D], embedding[B,D]

Normalisation and fill, the one way: the graph works in z-units.  ``values`` is the z-scored
window with missing cells filled by linear interpolation along time (edges back/forward-filled,
a feature with nothing observed = 0), ``missing`` is float (> 0.5 = missing); for ``forecast``
the fill is computed with the last N minutes treated as missing.  The file's metadata carries
the per-feature mean and std; ``lsm_edge.runtime`` normalises, fills and de-normalises, so apps
pass and receive raw units.  (With
the statistics inside the graph, full-integer variants quantized the raw-unit input tensor with
one scale for RR intervals of ~1000 ms and skin-conductance slopes of ~0.1 uS/min: measured mean
error 1.7 z-units.)  In ``forecast`` the last N minutes are hidden whatever they hold.

Full-integer students (family ``intconv``, models/intconv.py) differ in three ways: the graph takes and
returns *u-units*, u = clip((z - offset) / scale, -1, 1) with a per-feature offset and scale in the
metadata's ``normalization`` (LiteRT gives an activation tensor one scale; this way every feature spans
it); ``impute`` blends with arithmetic (values + missing * (fill - values)), not SELECT; and the output is
the linear fill plus a correction, so ``values`` must hold the runtime's fill where ``missing`` is set, in
``forecast`` too (the runtime hides the last N minutes before filling).  With ``io="int8"`` / ``"uint8"``
every signature's tensors are integer and the metadata's ``io`` entry gives each one's scale and zero point.

Variants: float32, float16 (weights), dynamic (int8 weights, float activations), int8 (full
integer kernels, float I/O, calibrated on training windows), int16x8 (int16 activations, int8
weights), and from litert-quantizer: wo-int8 (weight-only int8) and int4 (dynamic int4 weights).
Every file is run once in a child process before it is kept; int16x8 of a model with Keras
LayerNormalization fails that check on LiteRT 2.3 (no int16 SQUARED_DIFFERENCE kernel) and is
refused with that message.  Only TFLite builtin ops are allowed; a Flex op fails the conversion.  The metadata
(feature names and units, window and patch sizes, statistics, model name/version, signatures,
hash of the source run) is a flatbuffer metadata entry named ``lsm_edge``; ``lsm-edge inspect``
prints it with the op counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .. import schema
from ..core.edges import convert_edges
from ..core.run import run_hash, run_name
from ..core.stitch import stitch
from ..core.tflite import METADATA_VERSION, _output_shape, add_metadata, io_quantization, op_counts
from ..errors import LsmEdgeError
from ..io import atomic_path, sha256_file
from ..version import __version__

VARIANTS = ("float32", "float16", "dynamic", "int8", "int16x8", "wo-int8", "int4")
# Variants made by litert-quantizer (the maintained AI Edge Quantizer) from the float32 file; kept because
# they measured better than the converter's own (benchmarks/results/convert/README.md): weight-only int8
# matched `dynamic` in size with less error; dynamic int4 weights gave the smallest file.
QUANTIZER_RECIPES = {"wo-int8": "weight_only_wi8_afp32", "int4": "dynamic_wi4_afp32"}
DEFAULT_HORIZON = 60


def build_module(model, stats, horizon: int = DEFAULT_HORIZON, batch: int = 1, classifiers: dict | None = None):
    """A tf.Module whose tf.functions are the exported signatures (TensorFlow backend).

    classifiers: {task: TaskModel-like with ``classify(values, missing) -> probabilities``}; each
    becomes ``classify_<task>``.  A probe built on ``model``'s own encoder shares its weights.
    """
    import tensorflow as tf

    T, F = schema.WINDOW_MINUTES, schema.N_FEATURES
    if not 1 <= horizon < T:
        raise LsmEdgeError(f"forecast horizon must be 1..{T - 1} minutes, got {horizon}")
    spec = [tf.TensorSpec([batch, T, F], tf.float32, name="values"),
            tf.TensorSpec([batch, T, F], tf.float32, name="missing")]
    tail = tf.constant((np.arange(T)[None, :, None] >= T - horizon).astype(np.float32))
    classifiers = dict(classifiers or {})

    def impute(self, values, missing):
        miss = missing > 0.5
        return {"values": tf.where(miss, model.infer(values, tf.cast(miss, tf.float32)), values)}

    def forecast(self, values, missing):
        rec = model.infer(values, tf.maximum(missing, tail))
        return {"forecast": rec[:, T - horizon:, :]}

    def embed(self, values, missing):
        tokens, pooled = model.embed(values, missing)
        return {"tokens": tokens, "embedding": pooled}

    def classify(clf, name):
        def fn(self, values, missing):
            if integer_family(model):  # the classifier was trained on z-units
                values = model.from_u(values)
            return {"probabilities": clf.classify(values, missing)}

        fn.__name__ = name  # the converter names each signature after its function
        return fn

    if integer_family(model):  # u-units in and out (the runtime maps z to u), arithmetic instead of SELECT / MAXIMUM
        keep = 1.0 - tail

        def impute(self, values, missing):
            return {"values": values + missing * (model.infer_u(values, missing) - values)}

        def forecast(self, values, missing):
            return {"forecast": model.infer_u(values, missing * keep + tail)[:, T - horizon:, :]}

        def embed(self, values, missing):
            tokens, pooled = model.embed_u(values, missing)
            return {"tokens": tokens, "embedding": pooled}

    fns = {"impute": impute, "forecast": forecast, "embed": embed}
    for task in ("exercise", "activity"):
        if task in classifiers:
            fns[f"classify_{task}"] = classify(classifiers[task], f"classify_{task}")
    # only the signatures this file has are members: saving the module traces every tf.function on it
    Export = type("Export", (tf.Module,), {k: tf.function(f, input_signature=spec) for k, f in fns.items()})
    m = Export()
    m.signature_names = list(fns)
    variables = {id(v): v for v in [*model.variables, *(w for c in classifiers.values() for w in c.variables)]}
    # Track the backend's tf.Variables (``v.value``), not the Keras objects: the Keras model brings its own
    # serving signature, and Keras Variable wrappers are not frozen by the converter (their weights would be
    # exported as uninitialised resource variables and every output would be NaN).
    m.weights = [v.value for v in variables.values()]
    return m


def integer_family(model) -> bool:
    """A model built for full-integer files (models/intconv.py): its graph works in u-units."""
    return hasattr(model, "infer_u")


def load_classifiers(paths, model, stats) -> tuple[dict, dict]:
    """Classifier run folders (``lsm-edge finetune``) -> ({task: classifier}, {task: info}).

    A probe (linear / conv head on the frozen encoder) whose encoder equals ``model``'s is rebuilt on
    ``model`` itself, so the file stores the encoder once; a fully fine-tuned classifier brings its
    own encoder (its weights are stored a second time: the metadata says so).
    """
    import keras

    from ..core.tasks import TASKS, TaskModel
    from ..data.stats import NormStats

    out, info = {}, {}
    for p in map(Path, paths):
        if not (p / "model.keras").is_file() or not (p / "config.json").is_file():
            raise LsmEdgeError(f"{p} is not a classifier run (expected model.keras and config.json from "
                               f"`lsm-edge finetune`)")
        cfg = json.loads((p / "config.json").read_text())
        task = cfg.get("task")
        if task not in TASKS:
            raise LsmEdgeError(f"{p}: config.json names task {task!r}; expected one of {', '.join(TASKS)}")
        if task in out:
            raise LsmEdgeError(f"two classifiers for {task!r} ({info[task]['path']} and {p}); pass one per task")
        st = NormStats.load(p / "stats.json")
        if not (np.allclose(st.mean, stats.mean) and np.allclose(st.std, stats.std)):
            raise LsmEdgeError(f"{p} was trained with other normalisation statistics than the run it is "
                               f"exported with; fine-tune it from this run")
        clf = keras.models.load_model(p / "model.keras", safe_mode=True, compile=False)
        if not isinstance(clf, TaskModel):
            raise LsmEdgeError(f"{p}/model.keras holds a {type(clf).__name__}, expected a TaskModel")
        shared = clf.head_kind != "full" and _same_weights(clf.mae, model)
        if shared:
            clf = _rebind(clf, model)
        out[task] = clf
        info[task] = {"path": str(p), "head": clf.head_kind, "shares_encoder": bool(shared),
                      "classes": list(TASKS[task]), "sha256": sha256_file(p / "model.keras")}
    return out, info


def _same_weights(a, b) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wb))


def _rebind(clf, model):
    """The classifier's head on ``model``'s encoder (same weights, one copy)."""
    from ..core.tasks import TaskModel

    t = TaskModel(model, clf.head_kind, clf.n_classes, clf.dropout, clf.pool)
    t.head.set_weights(clf.head.get_weights())
    return t


# What a calibration window is hidden by under ``calibration="masked"``, in turn: nothing, or the gaps
# the model is asked to fill (the evaluation tasks at a random horizon).
CALIBRATION_MASKS = ("none", "random", "interpolation", "extrapolation", "sensor")
CALIBRATIONS = ("observed", "masked")


def _check_calibration(calibration: str) -> None:
    if calibration not in CALIBRATIONS:
        raise LsmEdgeError(f"unknown calibration {calibration!r}; expected one of {', '.join(CALIBRATIONS)}")


def representative(z: np.ndarray, n: int, signatures, seed: int = 0, calibration: str = "observed", to_input=None):
    """Calibration data for int8 / int16x8: normalised training windows, filled and flagged as the runtime does.

    ``observed``: the windows as recorded.  ``masked``: each window also gets one of CALIBRATION_MASKS in
    turn, so activation ranges are measured on inputs with the long filled gaps that imputation sees.
    Measured on the conv student (benchmarks/results/convert/int8_calibration.md): ``masked`` is no
    better on average; which windows are drawn moves the 60-min interpolation gain by +-1 point at 100
    windows and +-0.2 at 400, hence the default of 400.  ``to_input``: the map from filled z-units to
    what the graph takes (u-units for the integer family).
    """
    from ..data import masks
    from ..data.windows import fill_linear

    _check_calibration(calibration)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(z), min(n, len(z)), replace=False)
    hidden = []
    for j in range(len(idx)):
        task = CALIBRATION_MASKS[j % len(CALIBRATION_MASKS)] if calibration == "masked" else "none"
        hidden.append(None if task == "none" else masks.make_mask(
            task, rng, 1, None if task == "random" else int(rng.choice(masks.HORIZONS)))[0])

    def gen():
        for i, hide in zip(idx, hidden):
            v = z[i:i + 1] if hide is None else np.where(hide[None], np.nan, z[i:i + 1])
            filled = fill_linear(v)
            inputs = {"values": filled if to_input is None else to_input(filled), "missing": np.isnan(v).astype(np.float32)}
            for sig in signatures:
                yield sig, inputs

    return gen


def convert_core(run, model, stats, quant: str = "float32", horizon: int = DEFAULT_HORIZON, batch: int = 1,
                 heads=None, data_dir=None, calibration_windows: int = 400, calibration: str = "observed",
                 calibration_seed: int = 0, io: str = "float32") -> tuple[bytes, list]:
    """The model's own graph as a .tflite (the *core*: prepared z- or u-unit inputs, ``build_module``), quantized
    as ``quant`` asks -> (flatbuffer, signature names).  ``self_contained`` wraps it for apps."""
    import tensorflow as tf

    module = build_module(model, stats, horizon, batch, heads or {})
    sigs = module.signature_names
    # one converter, all signatures: the weights are stored once and shared
    conv = tf.lite.TFLiteConverter.from_concrete_functions(
        [getattr(module, s).get_concrete_function() for s in sigs], module)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quant == "float16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    elif quant == "dynamic":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quant in ("int8", "int16x8"):
        raw = _calibration_windows(run, data_dir)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative(stats.normalize(raw), calibration_windows, sigs,
                                                     calibration_seed, calibration, input_map(model))
        if io != "float32":
            conv.inference_input_type = conv.inference_output_type = getattr(tf, io)
        conv.target_spec.supported_ops = (
            [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS] if quant == "int8" else
            [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
             tf.lite.OpsSet.TFLITE_BUILTINS])
    if quant in QUANTIZER_RECIPES:
        conv.optimizations = []
    try:
        flat = conv.convert()
        if quant in QUANTIZER_RECIPES:
            flat = quantize_with_recipe(flat, QUANTIZER_RECIPES[quant])
    except Exception as e:  # the converter raises ConverterError and others; the message is what matters
        raise LsmEdgeError(f"conversion to {quant} failed: {str(e).splitlines()[0][:500]}") from None
    return flat, sigs


def self_contained(core: bytes, model, stats, horizon: int, batch: int, sigs) -> bytes:
    """The core with its edges (``edges.py``) spliced in: every signature takes raw units with NaN and returns
    raw units."""
    integer = _integer_edges(model)  # a full-integer core's embedding is pooled by the edges: its token width
    tokens = _output_shape(core, "embed", "tokens")[-1] if integer else None
    return stitch(core, convert_edges(stats, horizon, batch, sigs, integer, tokens))


def convert(run_dir, out_file, quant: str = "float32", horizon: int = DEFAULT_HORIZON, batch: int = 1,
            calibration_windows: int = 400, data_dir=None, classifiers=(), calibration: str = "observed",
            calibration_seed: int = 0, io: str = "float32", strict: bool = False) -> dict:
    """Convert a run to ``out_file``; returns the embedded metadata.  Every signature of the file takes raw units
    (NaN = missing) and returns raw units (``edges.py``).

    ``io``: the dtype of the core's input and output tensors; int8 / uint8 (full-integer ``int8`` files only)
    make the core integer at its edges too, joined to the float edge graphs by QUANTIZE / DEQUANTIZE nodes
    (the metadata's ``core_io`` gives each tensor's scale and zero point).  ``strict``: refuse the file unless
    every node of every signature's core runs on XNNPACK and no QUANTIZE / DEQUANTIZE sits inside the core
    (the metadata's ``xnnpack_core`` and, for the whole file with its edges, ``xnnpack`` entries say which
    nodes do, either way)."""
    from ..core.run import load_run

    if quant not in VARIANTS:
        raise LsmEdgeError(f"unknown quantization {quant!r}; expected one of {', '.join(VARIANTS)}")
    _check_calibration(calibration)
    if io not in IO_TYPES:
        raise LsmEdgeError(f"unknown input/output type {io!r}; expected one of {', '.join(IO_TYPES)}")
    if io != "float32" and quant != "int8":
        raise LsmEdgeError(f"integer input and output ({io}) need --quant int8 (every op integer), got {quant!r}")
    run = Path(run_dir)
    model, stats, cfg = load_run(run)
    heads, heads_info = load_classifiers(classifiers, model, stats)
    flat, sigs = convert_core(run, model, stats, quant, horizon, batch, heads, data_dir, calibration_windows,
                              calibration, calibration_seed, io)
    core_coverage = _coverage(flat, sigs, quant)
    if strict:
        off = {sig: c for sig, c in core_coverage.items() if c["reference_ops"] or c["inner_quantize"]}
        if off:
            raise LsmEdgeError("--strict: " + "; ".join(describe_coverage(sig, c) for sig, c in off.items()))
    core_io = io_quantization(flat) if io != "float32" else {}
    flat = self_contained(flat, model, stats, horizon, batch, sigs)
    ops = op_counts(flat)
    flex = [op for op in ops if op.startswith("Flex") or op == "CUSTOM"]
    if flex:
        raise LsmEdgeError(f"conversion produced non-builtin ops {flex}; lsm-edge artifacts must be builtin-only")
    if "VAR_HANDLE" in ops:
        raise LsmEdgeError("conversion left the weights as resource variables (they would be uninitialised)")
    coverage = _coverage(flat, sigs, quant)
    norm = {"mean": stats.mean.tolist(), "std": stats.std.tolist(),
            "applied": "in the graph (lsm_edge/core/edges.py): cells outside [valid_min, valid_max] (NaN, inf) are "
                       "missing; z = (x - mean) / std, missing cells linearly filled along time, in; "
                       "x = z * std + mean out"}
    if integer_family(model):
        norm.update(offset=list(model.offset), scale=list(model.scale),
                    applied="in the graph (lsm_edge/core/edges.py): cells outside [valid_min, valid_max] (NaN, inf) are "
                            "missing; z = (x - mean) / std, missing cells linearly filled along time, then "
                            "u = clip((z - offset) / scale, -1, 1) in; x = (u * scale + offset) * std + mean out "
                            "(impute and forecast)")
    meta = {
        "format": "lsm-edge", "metadata_version": METADATA_VERSION, "lsm_edge_version": __version__,
        "model": {**{k: v for k, v in cfg["model"].items() if k not in ("trainable", "dtype")},
                  "name": run_name(cfg), "kind": cfg.get("kind", "teacher"), "params": cfg["params"]},
        "quantization": quant, "batch": batch, "forecast_minutes": horizon,
        **({"calibration": {"windows": calibration_windows, "inputs": calibration, "seed": calibration_seed}}
           if quant in ("int8", "int16x8") else {}),
        "window_minutes": schema.WINDOW_MINUTES, "patch": [schema.PATCH_MINUTES, schema.PATCH_FEATURES],
        "features": [{"name": f.name, "unit": f.unit, "group": f.group, "valid_min": f.valid_min,
                      "valid_max": f.valid_max} for f in schema.FEATURES],
        "normalization": norm, "io": "float32", "core_io": core_io,
        **({"embedding_pool": {"by": "graph", "step_minutes": model.step,
                               "how": "mean of the core's step tokens over the steps with at least one valid cell"}}
           if integer_family(model) else {}),
        "xnnpack": coverage, "xnnpack_core": core_coverage, "signatures": sigs, "classes": {t: i["classes"] for t, i in heads_info.items()},
        "classifiers": heads_info,
        "source_run": {"path": str(run), "sha256": run_hash(run)},
    }
    with atomic_path(out_file) as tmp:
        tmp.write_bytes(add_metadata(flat, meta))
        smoke_test(tmp, quant)
    return meta


IO_TYPES = ("float32", "int8", "uint8")


def _coverage(flat: bytes, sigs, quant: str) -> dict:
    """``xnnpack_report``, or the interpreter's refusal of the file (e.g. a tensor with scale 0) as LsmEdgeError."""
    try:
        return xnnpack_report(flat, sigs)
    except (RuntimeError, ValueError) as e:
        raise LsmEdgeError(f"the {quant} file does not run on the LiteRT interpreter: {str(e).splitlines()[0][:300]}") from None


def _integer_edges(model):
    """What the edge graphs need of a full-integer model (its u-map and token step); None for the others."""
    if not integer_family(model):
        return None
    return {"offset": np.asarray(model.offset, np.float32), "scale": np.asarray(model.scale, np.float32),
            "step": int(model.step)}


def input_map(model):
    """Filled z-units -> what the exported graph takes: u-units for the integer family (its own ``to_u``),
    else z itself."""
    return (lambda z: np.asarray(model.to_u(z), np.float32)) if integer_family(model) else None


def xnnpack_report(flat: bytes, signatures) -> dict:
    """{signature: XNNPACK coverage of its subgraph (bench.signature_coverage) + "inner_quantize": QUANTIZE /
    DEQUANTIZE nodes that neither read a signature input nor write a signature output}."""
    from ..core.tflite import signature_coverage

    out = {}
    for sig in signatures:
        c = signature_coverage(flat, sig)
        out[sig] = {k: c[k] for k in ("nodes", "xnnpack_nodes", "reference_ops", "inner_quantize")}
    return out


def describe_coverage(sig: str, c: dict) -> str:
    off = ", ".join(f"{k} x{v}" for k, v in c["reference_ops"].items())
    s = f"{sig}: {c['xnnpack_nodes']} of {c['nodes']} nodes on XNNPACK"
    s += f" (off it: {off})" if off else ""
    return s + (f", {c['inner_quantize']} QUANTIZE/DEQUANTIZE inside the graph" if c["inner_quantize"] else "")


def quantize_with_recipe(flat: bytes, recipe_name: str) -> bytes:
    """Apply a litert-quantizer recipe to a float32 flatbuffer."""
    import tempfile

    from litert_quantizer import quantizer, recipe

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "f32.tflite", Path(tmp) / "q.tflite"
        src.write_bytes(flat)
        q = quantizer.Quantizer(str(src))
        q.load_quantization_recipe(getattr(recipe, recipe_name)())
        q.quantize().export_model(str(dst), overwrite=True)
        return dst.read_bytes()


def smoke_test(path, what: str = "model") -> None:
    """Run every signature of ``path`` once in a child process (a missing kernel can abort the
    interpreter's process); raise LsmEdgeError if it dies or returns non-finite values."""
    code = ("import sys, numpy as np\n"
            "from ai_edge_litert.interpreter import Interpreter\n"
            "it = Interpreter(model_path=sys.argv[1])\n"
            "for name in it.get_signature_list():\n"
            "    r = it.get_signature_runner(name)\n"
            "    ins = {k: np.zeros(d['shape'], d['dtype']) for k, d in r.get_input_details().items()}\n"
            "    for k, v in r(**ins).items():\n"
            "        assert np.isfinite(v).all(), f'{name}/{k} is not finite'\n")
    p = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    if p.returncode != 0:
        lines = [l for l in p.stderr.strip().splitlines() if l.strip() and not l.startswith("INFO")]
        why = lines[-1] if lines else f"the interpreter process died (exit {p.returncode})"
        raise LsmEdgeError(f"the {what} file does not run on the LiteRT interpreter: {why}")


def _calibration_windows(run: Path, data_dir) -> np.ndarray:
    from ..data.dataset import Dataset

    path = data_dir or json.loads((run / "manifest.json").read_text())["data"]["path"]
    try:
        return Dataset(path).load("train").values
    except LsmEdgeError as e:
        raise LsmEdgeError(f"int8 / int16x8 need the run's training windows for calibration: {e} "
                           f"(pass --data DIR)") from None


# -- flatbuffer helpers (the same schema module the app runtime reads) ----------------------------


def inspect(path) -> dict:
    """Metadata, ops, tensors and size of a .tflite file."""
    from ..runtime import read_metadata

    path = Path(path)
    flat = path.read_bytes()
    meta = read_metadata(flat, str(path))
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=flat)
    sigs = {}
    for name, io in it.get_signature_list().items():
        r = it.get_signature_runner(name)
        sigs[name] = {"inputs": {k: [[int(d) for d in v["shape"]], np.dtype(v["dtype"]).name]
                                 for k, v in r.get_input_details().items()},
                      "outputs": {k: [[int(d) for d in v["shape"]], np.dtype(v["dtype"]).name]
                                  for k, v in r.get_output_details().items()}}
    return {"file": str(path), "bytes": os.path.getsize(path), "metadata": meta, "ops": op_counts(flat),
            "signatures": sigs}
