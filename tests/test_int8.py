"""The full-integer student family (models/intconv.py) and its files: every node on XNNPACK, integer I/O,
the per-feature input range applied by the runtime."""

import json

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from click.testing import CliRunner

from lsm_edge.core import tflite
from lsm_edge.verbs import convert as conv
from lsm_edge import schema
from lsm_edge.cli import main
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.simulate import write_simulated
from lsm_edge.data.windows import fill_linear
from lsm_edge.verbs.distill import distill
from lsm_edge.errors import LsmEdgeError
from lsm_edge.models.intconv import IntStudent, feature_range
from lsm_edge.recipe import DistillConfig
from lsm_edge.runtime import (Embedder, Forecaster, Imputer, InputError, ModelFileError, dequantize, quantize,
                              read_metadata)
from lsm_edge.verbs.train import TrainConfig, train
from lsm_edge.core.run import load_run

FAST = dict(steps=6, batch_size=8, checkpoint_every=6, warmup_steps=1, xla=False)
# what the edges (lsm_edge/core/edges.py) may run outside XNNPACK: masks, counts, gathers and selects
EDGE_OPS = {"CUMSUM", "UNSORTED_SEGMENT_SUM", "GATHER", "SELECT", "SELECT_V2", "LOGICAL_AND", "LOGICAL_NOT", "CAST",
            "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "ADD", "SUM", "PACK", "RESHAPE", "STRIDED_SLICE",
            "REDUCE_MAX", "SUB", "MUL", "MAXIMUM", "MINIMUM", "DIV", "QUANTIZE", "DEQUANTIZE"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A nano teacher, an intconv student and a conv student distilled from it for a few steps."""
    root = tmp_path_factory.mktemp("int8")
    write_simulated(root / "data", 12, 3, seed=5, progress=False)
    train(root / "data", root / "t", TrainConfig(size="nano", steps=4, batch_size=16, checkpoint_every=4,
                                                 warmup_steps=1, val_windows=16, xla=False), progress=False)
    distill(root / "t", root / "data", root / "int", DistillConfig(family="intconv", dim=16, depth=2, **FAST),
            progress=False)
    distill(root / "t", root / "data", root / "conv", DistillConfig(family="conv", dim=16, depth=2, **FAST),
            progress=False)
    return root


def test_feature_range_spans_each_feature_and_leaves_unobserved_ones():
    rng = np.random.default_rng(0)
    z = np.full((50, 300, 26), np.nan, np.float32)
    z[..., 0] = rng.uniform(-2.0, 6.0, size=(50, 300))  # skewed: the offset moves to the middle
    z[..., 1] = rng.uniform(-0.1, 0.1, size=(50, 300))  # narrow: the scale stops at 0.5
    offset, scale = feature_range(z)
    assert offset[0] == pytest.approx(2.0, abs=0.05) and scale[0] == pytest.approx(4.0, abs=0.05)
    assert scale[1] == 0.5 and (offset[2], scale[2]) == (0.0, 1.0)
    m = IntStudent(8, 1, offset=offset, scale=scale)
    u = np.asarray(m.to_u(np.nan_to_num(z[:2])))
    assert u.min() >= -1 and u.max() <= 1 and np.abs(u[..., 0]).max() > 0.99
    np.testing.assert_allclose(np.asarray(m.from_u(m.to_u(np.full((1, 300, 26), 1.0, np.float32))))[0, 0, :3],
                               [1.0, 0.5, 1.0], atol=1e-3)  # clipped where 1 z-unit lies outside the range
    with pytest.raises(LsmEdgeError, match="offset and scale need 26 values"):
        IntStudent(8, 1, offset=[0.0] * 3, scale=[1.0] * 3)


def test_intconv_int8_file_is_integer_everywhere_and_matches_keras(runs, tmp_path):
    """--strict passes: every node of every signature on XNNPACK, QUANTIZE / DEQUANTIZE only at the edges;
    the runtime maps raw units to u and back, so its fills track the Keras model's within int8 error."""
    meta = conv.convert(runs / "int", tmp_path / "int8.tflite", "int8", calibration_windows=32, strict=True)
    assert set(meta["xnnpack_core"]) == set(meta["xnnpack"]) == {"impute", "forecast", "embed"}
    for sig, c in meta["xnnpack_core"].items():  # the model's own graph: every node int8 on XNNPACK
        assert c["xnnpack_nodes"] == c["nodes"] > 0 and c["reference_ops"] == {} and c["inner_quantize"] == 0, sig
    for sig, c in meta["xnnpack"].items():  # with its float edges: only their index and select ops off XNNPACK
        assert c["nodes"] > meta["xnnpack_core"][sig]["nodes"], sig
        assert set(c["reference_ops"]) <= EDGE_OPS, (sig, set(c["reference_ops"]) - EDGE_OPS)
    model, stats, _ = load_run(runs / "int")
    assert meta["normalization"]["scale"] == pytest.approx(model.scale) and len(meta["normalization"]["offset"]) == 26
    raw = Dataset(runs / "data").load("test").values[:8].copy()
    hidden = raw.copy()
    hidden[:, 100:160] = np.nan
    got = Imputer(tmp_path / "int8.tflite").impute(hidden)
    obs = ~np.isnan(hidden)
    np.testing.assert_array_equal(got[obs], hidden[obs])  # observed cells pass through, bit-exact
    z = stats.normalize(hidden)
    from lsm_edge.data.windows import fill_linear

    want = stats.denormalize(np.asarray(model.impute(fill_linear(z), np.isnan(z).astype(np.float32))))
    gap = np.isnan(hidden) & ~np.isnan(raw)
    err = np.abs(stats.normalize(got) - stats.normalize(want))[gap]
    spread = np.abs(stats.normalize(want)[gap] - np.nanmean(stats.normalize(want)[gap]))
    assert err.mean() < 0.25 * spread.mean(), (err.mean(), spread.mean())
    # embed: the runtime pools the file's tokens over the steps with data, as the Keras model does
    short = np.full_like(raw[:2], np.nan)
    short[:, 40:52] = raw[:2, 40:52]  # 12 minutes of data: 3 of the 60 steps
    zs = stats.normalize(short)
    want = np.asarray(model.embed(fill_linear(zs), np.isnan(zs).astype(np.float32))[1])
    got = Embedder(tmp_path / "int8.tflite").embed(short)
    plain = np.asarray(model.embed_u(model.to_u(fill_linear(zs)), np.isnan(zs).astype(np.float32))[1])
    assert np.abs(got - want).mean() < 0.3 * np.abs(plain - want).mean()


def test_integer_io_carries_scale_and_zero_point(runs, tmp_path):
    """--io int8: the core's own inputs and outputs are int8 (their scale and zero point in ``core_io``), joined to
    the float edges; the file still takes and returns raw float units, within one output step of the float-I/O file."""
    f_io = tmp_path / "io.tflite"
    conv.convert(runs / "int", tmp_path / "f.tflite", "int8", calibration_windows=32)
    meta = conv.convert(runs / "int", f_io, "int8", calibration_windows=32, io="int8", strict=True)
    from ai_edge_litert.interpreter import Interpreter

    r = Interpreter(model_path=str(f_io)).get_signature_runner("impute")
    assert {k: d["dtype"] for k, d in r.get_input_details().items()} == {"values": np.float32}
    for name in ("values", "missing"):
        assert meta["core_io"]["impute"]["inputs"][name]["dtype"] == "int8"
    # u-units span [-1, 1]: the core's input scale is about 2 / 255, not one scale for every z-scored feature
    assert meta["core_io"]["impute"]["inputs"]["values"]["scale"] == pytest.approx(2 / 255, rel=0.05)
    raw = Dataset(runs / "data").load("test").values[:4].copy()
    raw[:, 50:110] = np.nan
    a, b = Imputer(tmp_path / "f.tflite").impute(raw), Imputer(f_io).impute(raw)
    std = np.asarray(meta["normalization"]["std"]) * np.asarray(meta["normalization"]["scale"])
    out_step = meta["core_io"]["impute"]["outputs"]["values"]["scale"]
    assert (np.abs(a - b) <= 1.01 * out_step * std + 1e-4).all()  # at most one output step apart
    assert read_metadata(f_io.read_bytes())["core_io"]["forecast"]["outputs"]["forecast"]["dtype"] == "int8"


def test_strict_refuses_a_file_with_nodes_off_xnnpack_and_io_needs_int8(runs, tmp_path):
    with pytest.raises(LsmEdgeError, match=r"--strict: impute: \d+ of \d+ nodes on XNNPACK \(off it: .*GELU"):
        conv.convert(runs / "conv", tmp_path / "c.tflite", "int8", calibration_windows=16, strict=True)
    assert not (tmp_path / "c.tflite").exists()
    with pytest.raises(LsmEdgeError, match="integer input and output \\(int8\\) need --quant int8"):
        conv.convert(runs / "int", tmp_path / "d.tflite", "dynamic", io="int8")
    r = CliRunner().invoke(main, ["convert", str(runs / "conv"), "--quant", "int8", "--calibration-windows", "16",
                                  "--out", str(tmp_path / "c.tflite")])
    assert r.exit_code == 0, r.output
    assert "impute:" in r.output and "nodes on XNNPACK (off it:" in r.output and "GELU" in r.output
    r = CliRunner().invoke(main, ["convert", str(runs / "int"), "--quant", "float16", "--io", "int8",
                                  "--out", str(tmp_path / "e.tflite")])
    assert r.exit_code != 0 and "need --quant int8" in r.output and "Traceback" not in r.output


def test_intconv_saves_and_loads_safely(runs):
    m = keras.models.load_model(runs / "int" / "model.keras", safe_mode=True)
    assert isinstance(m, IntStudent) and len(m.offset) == 26
    cfg = json.loads((runs / "int" / "config.json").read_text())
    assert cfg["name"] == "intconv-16x2" and cfg["model"]["scale"] == pytest.approx(m.scale)


def test_quantization_aware_fine_tuning_tracks_ranges_and_rounds_in_training(runs, tmp_path):
    """--init a finished intconv student with qat: the ranges of every int8 tensor are tracked (the input's is
    [-1, 1]: u-units), the training pass is fake-quantized (its output sits on 8-bit steps), inference is not."""
    out = distill(runs / "t", runs / "data", tmp_path / "qat", DistillConfig(family="intconv", qat=True, **FAST),
                  init=runs / "int", progress=False)
    m = keras.models.load_model(out / "model.keras", safe_mode=True)
    cfg = json.loads((out / "config.json").read_text())
    assert m.qat and cfg["distill"]["qat"] and cfg["distill"]["dim"] == 16  # the architecture of --init
    lo, hi = np.asarray(m.ranges["input"])
    assert lo == pytest.approx(-1.0, abs=0.02) and hi == pytest.approx(1.0, abs=0.02)
    assert all(float(v[1]) > float(v[0]) for v in m.ranges.values())
    z = np.random.default_rng(0).normal(size=(2, 300, 26)).astype("float32")
    miss = np.zeros_like(z)
    u_train = np.asarray(m.to_u(m.reconstruct(z, miss, training=True)[0]))
    lo, hi = (float(x) for x in np.asarray(m.ranges["output"]))
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    step = (hi - lo) / 255
    nudged_lo = -np.round(-lo / step) * step  # fake_quant moves the range so that 0 is on the grid
    inside = np.abs(u_train) < 0.99  # to_u clips at +-1
    grid = (u_train[inside] - nudged_lo) / step
    assert inside.sum() > 1000 and np.abs(grid - np.round(grid)).max() < 0.02
    u_inf = np.asarray(m.to_u(m.reconstruct(z, miss)[0]))
    assert not np.allclose(u_inf, u_train)
    conv.convert(out, tmp_path / "q.tflite", "int8", calibration_windows=16, strict=True)


# -- self-contained files (lsm_edge/core/edges.py, stitch.py) on this module's runs: raw units in and out ----------
F = schema.N_FEATURES
LO, HI = schema.valid_range()


def _numpy_path(core: bytes, model, stats, x, io_q=None):
    """What the runtime did before the edges moved into the graph (metadata version 1): normalise, fill, map to
    u for integer cores, quantize integer I/O, call the core, map back, pass observed cells through."""
    r = Interpreter(model_content=core).get_signature_runner("impute")
    z = fill_linear(stats.normalize(x))
    if conv.integer_family(model):
        z = np.clip((z - np.float32(model.offset)) / np.float32(model.scale), -1, 1).astype(np.float32)
    feeds = {"values": z, "missing": np.isnan(x).astype(np.float32)}
    if io_q:
        feeds = {k: quantize(v, io_q["inputs"][k]) for k, v in feeds.items()}
    out = np.concatenate([r(**{k: v[i:i + 1] for k, v in feeds.items()})["values"] for i in range(len(x))])
    if io_q:
        out = dequantize(out, io_q["outputs"]["values"])
    if conv.integer_family(model):
        out = out * np.float32(model.scale) + np.float32(model.offset)
    return np.where(np.isnan(x), stats.denormalize(out), x)


@pytest.mark.parametrize("run, quant, io", [("t", "float32", "float32"), ("int", "int8", "float32"),
                                            ("int", "int8", "int8")])  # dynamic-range files: benchmarks/apps.py
def test_each_file_matches_its_core_with_the_numpy_edges(runs, tmp_path, run, quant, io):
    model, stats, _ = load_run(runs / run)
    core, sigs = conv.convert_core(runs / run, model, stats, quant, calibration_windows=32, io=io)
    f = tmp_path / "m.tflite"
    meta = conv.convert(runs / run, f, quant, calibration_windows=32, io=io)
    assert meta["metadata_version"] == 2 and Interpreter(model_path=str(f)).get_signature_list()["impute"] == \
        {"inputs": ["values"], "outputs": ["invalid", "values"]}
    x = Dataset(runs / "data").load("test").values[:6].copy()
    x[:, 120:180] = np.nan
    want = _numpy_path(core, model, stats, x, meta["core_io"].get("impute") if io != "float32" else None)
    got = Imputer(f).impute(x)
    obs = ~np.isnan(x)
    np.testing.assert_array_equal(got[obs], x[obs])
    if quant in ("float32", "dynamic"):  # a 4-step nano ViT's LayerNorm of near-constant tokens magnifies one
        # float rounding of the input now and then, so: nearly every cell within 1e-4, every cell close
        # (dynamic-range files quantize activations at run time: such a rounding can flip an int8 step)
        zg, zw = stats.normalize(got), stats.normalize(want)
        assert np.mean(np.abs(got - want) > 1e-4 * np.abs(want) + 1e-6) < (0.02 if quant == "float32" else 0.1)
        assert np.abs(zg - zw).mean() < 1e-3 and np.abs(zg - zw).max() < 0.05, np.abs(zg - zw).max()
    else:  # within one step of the core's int8 output, in raw units
        q = tflite.io_quantization(core)["impute"]["outputs"]["values"]["scale"] if io != "float32" else \
            tflite.float_output_scale(core, "impute", "values")
        step = q * np.float32(model.scale) * stats.std
        assert (np.abs(got - want) <= 1.01 * step + 1e-5).all(), np.abs(got - want).max(0)
    assert Forecaster(f).forecast(x).shape == (6, 60, F) and Embedder(f).embed(x).shape[0] == 6


def test_bad_cells_are_filled_and_counted_and_old_files_are_refused(runs, tmp_path):
    f = tmp_path / "f.tflite"
    conv.convert(runs / "t", f, "float32")
    imp = Imputer(f)
    x = Dataset(runs / "data").load("test").values[:2].copy()
    x[0, 10, 0], x[0, 11, 0], x[1, 12, 13] = np.inf, 500.0, -3.0  # inf, 500 bpm, negative steps
    out = imp.impute(x)
    assert imp.last_invalid.tolist() == [2, 1] and np.isfinite(out).all()
    assert LO[0] <= out[0, 10, 0] <= HI[0] and LO[0] <= out[0, 11, 0] <= HI[0] and out[1, 12, 13] >= LO[13]
    with pytest.raises(InputError, match="window 1 has no observed value"):
        imp.impute(np.stack([x[0], np.full_like(x[0], np.nan)]))
    # a file of metadata version 1 (its signatures took z-units): refused, saying to reconvert
    flat = f.read_bytes().replace(b'"metadata_version": 2', b'"metadata_version": 1')
    (tmp_path / "old.tflite").write_bytes(flat)
    with pytest.raises(ModelFileError, match=r"metadata version 1: .* reconvert it \(lsm-edge convert RUN --quant "
                                             r"float32"):
        Imputer(tmp_path / "old.tflite")
