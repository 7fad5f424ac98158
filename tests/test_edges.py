"""Self-contained files: the graph's own edges (lsm_edge/edges.py, stitch.py) do what the runtime's numpy did, so
every signature takes raw units with NaN and returns raw units."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from lsm_edge import convert as conv
from lsm_edge import schema
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.simulate import write_simulated
from lsm_edge.data.stats import NormStats
from lsm_edge.data.windows import fill_linear
from lsm_edge.distill import distill
from lsm_edge.edges import convert_edges
from lsm_edge.errors import LsmEdgeError
from lsm_edge.recipe import DistillConfig
from lsm_edge.runtime import Embedder, Forecaster, Imputer, InputError, ModelFileError, dequantize, quantize
from lsm_edge.train import TrainConfig, load_run, train

T, F = schema.WINDOW_MINUTES, schema.N_FEATURES
LO, HI = schema.valid_range()


def _windows(rng, n):
    """Raw windows in range, with random missingness: whole features, long gaps, edges, single cells."""
    x = (LO + (HI - LO) * rng.uniform(0.2, 0.8, (n, T, F))).astype(np.float32)
    for i in range(n):
        x[i][rng.random((T, F)) < rng.uniform(0, 0.9)] = np.nan
        x[i, :, rng.integers(F)] = np.nan  # a feature with nothing observed
        a = rng.integers(0, T - 60)
        x[i, a:a + rng.integers(1, 60)] = np.nan
        x[i, :rng.integers(0, 30), 0] = np.nan  # a leading edge
    return x


def test_graph_fill_is_the_numpy_fill_and_bad_cells_are_missing():
    stats = NormStats(schema.FEATURE_NAMES, np.linspace(1, 50, F), np.linspace(0.5, 9, F), np.ones(F))
    it = Interpreter(model_content=convert_edges(stats, 60, 2, ["impute", "forecast"]))
    pre, fpre = it.get_signature_runner("pre_impute"), it.get_signature_runner("pre_forecast")
    post = it.get_signature_runner("post_impute")
    rng = np.random.default_rng(0)
    for k in range(6):
        x = _windows(rng, 2)
        x[0, 5, 2], x[0, 6, 3], x[1, 7, 0], x[1, 8, 1] = np.inf, -np.inf, HI[0] + 1, LO[1] - 1  # inf, out of range
        bad = np.isfinite(x) & ((x < LO) | (x > HI)) | np.isinf(x)
        clean = np.where(bad, np.nan, x)
        got = pre(values=x)
        np.testing.assert_allclose(got["values"], fill_linear(stats.normalize(clean)), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(got["missing"], np.isnan(clean).astype(np.float32))
        tail = clean.copy()
        tail[:, T - 60:] = np.nan  # forecast: the last 60 minutes are never seen
        np.testing.assert_allclose(fpre(values=x)["values"], fill_linear(stats.normalize(tail)), rtol=1e-5, atol=1e-5)
        out = post(values=x, pre_missing=got["missing"], pre_invalid=got["invalid"], core_values=got["values"])
        np.testing.assert_array_equal(out["invalid"], bad.sum((1, 2)))
        np.testing.assert_array_equal(got["invalid"], bad.sum((1, 2)))
        ok = ~np.isnan(clean)
        np.testing.assert_array_equal(out["values"][ok], x[ok])  # observed cells: the input's own bits
        np.testing.assert_allclose(out["values"], stats.denormalize(fill_linear(stats.normalize(clean))), rtol=1e-5,
                                   atol=1e-3)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A nano ViT teacher and an intconv student distilled from it for a few steps."""
    root = tmp_path_factory.mktemp("edges")
    write_simulated(root / "data", 12, 3, seed=5, progress=False)
    train(root / "data", root / "t", TrainConfig(size="nano", steps=4, batch_size=16, checkpoint_every=4,
                                                 warmup_steps=1, val_windows=16, xla=False), progress=False)
    distill(root / "t", root / "data", root / "int", DistillConfig(family="intconv", dim=16, depth=2, steps=6,
            batch_size=8, checkpoint_every=6, warmup_steps=1, xla=False), progress=False)
    return root


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
        q = conv.io_quantization(core)["impute"]["outputs"]["values"]["scale"] if io != "float32" else \
            _output_step(core)
        step = q * np.float32(model.scale) * stats.std
        assert (np.abs(got - want) <= 1.01 * step + 1e-5).all(), np.abs(got - want).max(0)
    assert Forecaster(f).forecast(x).shape == (6, 60, F) and Embedder(f).embed(x).shape[0] == 6


def _output_step(core: bytes) -> float:
    """The scale of the int8 tensor the core's impute output is dequantized from."""
    from lsm_edge.bench import unpack_model

    m = unpack_model(core)
    sig = next(s for s in m.signatureDefs if s.signatureKey in (b"impute", "impute"))
    g = m.subgraphs[sig.subgraphIndex]
    out = next(t.tensorIndex for t in sig.outputs if t.name in (b"values", "values"))
    producer = next(op for op in g.operators if out in list(op.outputs))
    return float(g.tensors[producer.inputs[0]].quantization.scale[0])


def test_integer_embed_pools_over_steps_with_data_in_the_graph(runs, tmp_path):
    f = tmp_path / "int8.tflite"
    conv.convert(runs / "int", f, "int8", calibration_windows=32)
    model, stats, _ = load_run(runs / "int")
    raw = Dataset(runs / "data").load("test").values[:2]
    short = np.full_like(raw, np.nan)
    short[:, 40:52] = raw[:, 40:52]  # 12 minutes of data: 3 of the 60 steps
    zs = stats.normalize(short)
    want = np.asarray(model.embed(fill_linear(zs), np.isnan(zs).astype(np.float32))[1])
    plain = np.asarray(model.embed_u(model.to_u(fill_linear(zs)), np.isnan(zs).astype(np.float32))[1])
    got = Embedder(f).embed(short)
    assert np.abs(got - want).mean() < 0.3 * np.abs(plain - want).mean()


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


def test_a_missing_edge_graph_is_refused():
    from lsm_edge.stitch import stitch

    stats = NormStats(schema.FEATURE_NAMES, np.zeros(F), np.ones(F), np.ones(F))
    edges = convert_edges(stats, 60, 1, ["impute"])
    with pytest.raises(LsmEdgeError, match=r"no edge graph pre_\w+ for the signature"):
        stitch(edges, convert_edges(stats, 60, 1, ["forecast"]))
    assert edges  # the edges themselves convert on their own
