import json
import subprocess
import sys

import numpy as np
import pytest

from lsm_edge.verbs import convert as conv
from lsm_edge.data.dataset import Dataset
from lsm_edge.errors import LsmEdgeError
from lsm_edge.runtime import read_metadata
from lsm_edge.core.run import load_run
from lsm_edge.core.inputs import model_inputs


def _windows(root, n=3):
    w = Dataset(root / "data").load("test").values[:n].copy()
    w[:, 100:160, :] = np.nan
    return w


def test_float32_parity_with_keras(small_run):
    """Raw units in, raw units out: the file's signatures match the Keras model fed the runtime's old numpy edges
    (z-scores, linear fill, the mask) and mapped back."""
    from ai_edge_litert.interpreter import Interpreter

    model, stats, _ = load_run(small_run / "run")
    w = _windows(small_run)
    x = model_inputs(stats.normalize(w))
    it = Interpreter(model_path=str(small_run / "f32.tflite"))
    zs = lambda a: a / stats.std.astype(np.float32)  # noqa: E731  (a raw difference in z-units)
    for i in range(len(w)):
        feed = {"values": x["values"][i:i + 1], "missing": x["missing"][i:i + 1]}
        raw = {"values": w[i:i + 1]}
        rec = np.asarray(model.infer(feed["values"], feed["missing"]))
        out = it.get_signature_runner("impute")(**raw)
        expect = np.where(np.isnan(w[i:i + 1]), stats.denormalize(rec), w[i:i + 1])
        assert np.isfinite(out["values"]).all() and out["invalid"].tolist() == [0]
        assert np.abs(zs(out["values"] - expect)).max() < 1e-4
        tokens, pooled = model.embed(feed["values"], feed["missing"])
        emb = it.get_signature_runner("embed")(**raw)
        assert np.abs(emb["embedding"] - np.asarray(pooled)).max() < 1e-4
        assert np.abs(emb["tokens"] - np.asarray(tokens)).max() < 1e-4
        tail = np.zeros((1, 300, 26), bool)
        tail[:, 240:] = True
        xf = model_inputs(stats.normalize(w[i:i + 1]), tail)
        fc = it.get_signature_runner("forecast")(**raw)["forecast"]
        ref = stats.denormalize(np.asarray(model.infer(xf["values"], xf["missing"]))[:, 240:])
        assert fc.shape == (1, 60, 26) and np.abs(zs(fc - ref)).max() < 1e-4


def test_metadata_ops_and_inspect(small_run):
    info = conv.inspect(small_run / "f32.tflite")
    m = info["metadata"]
    assert m["signatures"] == ["impute", "forecast", "embed"]
    assert [f["name"] for f in m["features"]][:2] == ["heart_rate", "rr_percent_valid"]
    assert m["features"][0]["unit"] == "bpm" and m["window_minutes"] == 300 and m["patch"] == [10, 5]
    stats = json.loads((small_run / "run" / "stats.json").read_text())
    assert m["normalization"]["mean"] == stats["mean"]
    assert m["source_run"]["sha256"] == conv.run_hash(small_run / "run")
    assert not any(op.startswith("Flex") or op == "CUSTOM" or op == "VAR_HANDLE" for op in info["ops"])
    assert info["ops"]["FULLY_CONNECTED"] > 0
    assert info["signatures"]["impute"]["inputs"]["values"] == [[1, 300, 26], "float32"]


def test_quantized_variant_error_is_measured(small_run):
    from lsm_edge.runtime import Imputer

    conv.convert(small_run / "run", small_run / "dyn.tflite", "dynamic")
    w = _windows(small_run)
    a = Imputer(small_run / "f32.tflite").impute(w)
    b = Imputer(small_run / "dyn.tflite").impute(w)
    _, stats, _ = load_run(small_run / "run")
    err = np.abs(stats.normalize(a) - stats.normalize(b))[np.isnan(w)]
    assert np.isfinite(err).all() and 0 < err.mean() < 0.2
    assert (small_run / "dyn.tflite").stat().st_size < 0.7 * (small_run / "f32.tflite").stat().st_size


def test_calibration_inputs_observed_and_masked():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 300, 26)).astype(np.float32)
    z[:, :5, 3] = np.nan  # recorded gaps
    observed = list(conv.representative(z, 10, ["impute"])())
    assert len(observed) == 10 and all(sig == "impute" for sig, _ in observed)
    for _, x in observed:  # as recorded: only the recorded gaps are flagged, and they are filled
        assert x["missing"].sum() == 5 and np.isfinite(x["values"]).all()
    masked = [x for _, x in conv.representative(z, 10, ["impute", "embed"], calibration="masked")()][::2]
    frac = [float(x["missing"].mean()) for x in masked]
    # in turn: nothing hidden, 80 % random patches, interpolation, extrapolation, sensor gaps
    assert frac[0] == frac[5] == pytest.approx(5 / 7800)
    assert 0.75 < frac[1] < 0.85 and 0.75 < frac[6] < 0.85
    for k in (2, 3, 7, 8):  # interpolation / extrapolation: every sensor over one span of 10-120 minutes
        rows = masked[k]["missing"][0].all(1)
        assert 10 <= rows.sum() <= 120 and np.diff(rows.astype(int)).clip(0).sum() <= 1
    assert 0 < masked[4]["missing"].mean() < 0.67 * 120 / 300 + 0.01  # sensor: part of the features
    assert masked[3]["missing"][0, -1].all()  # extrapolation hides the end
    assert all(np.isfinite(x["values"]).all() for x in masked)
    with pytest.raises(LsmEdgeError, match="unknown calibration 'bogus'; expected one of observed, masked"):
        conv.representative(z, 10, ["impute"], calibration="bogus")


def test_conversion_is_atomic_and_refuses_bad_requests(small_run, monkeypatch):
    target = small_run / "f32.tflite"
    before = target.read_bytes()

    def boom(flat, meta):
        raise KeyboardInterrupt

    monkeypatch.setattr(conv, "add_metadata", boom)
    with pytest.raises(KeyboardInterrupt):
        conv.convert(small_run / "run", target, "float32")
    assert target.read_bytes() == before
    assert not [p for p in small_run.iterdir() if p.name.startswith(".f32.tflite")]
    monkeypatch.undo()
    with pytest.raises(LsmEdgeError, match="unknown quantization 'int3'"):
        conv.convert(small_run / "run", small_run / "x.tflite", "int3")
    with pytest.raises(LsmEdgeError, match="unknown calibration 'bogus'"):  # refused for any variant
        conv.convert(small_run / "run", small_run / "x.tflite", "float32", calibration="bogus")
    with pytest.raises(LsmEdgeError, match="not a finished lsm-edge run"):
        conv.convert(small_run / "data", small_run / "x.tflite")


def test_a_file_that_does_not_run_is_refused(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00\x00\x00\x00TFL3" + b"\x00" * 64)
    with pytest.raises(LsmEdgeError, match="does not run on the LiteRT interpreter"):
        conv.smoke_test(bad)


def test_cli_convert_and_inspect(small_run):
    from click.testing import CliRunner

    from lsm_edge.cli import main

    r = CliRunner().invoke(main, ["inspect", str(small_run / "f32.tflite")])
    assert r.exit_code == 0 and "signature impute(" in r.output and "FULLY_CONNECTED" in r.output
    r = CliRunner().invoke(main, ["convert", str(small_run / "run"), "--quant", "fp8", "--out", "x.tflite"])
    assert r.exit_code != 0 and "unknown --quant 'fp8'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["convert", str(small_run / "run"), "--quant", "float32,fp8", "--out", "x"])
    assert r.exit_code != 0 and "unknown --quant 'fp8'" in r.output


def test_cli_convert_several_variants_into_a_folder(small_run, tmp_path):
    from click.testing import CliRunner

    from lsm_edge.cli import main

    r = CliRunner().invoke(main, ["convert", str(small_run / "run"), "--quant", "float32, dynamic",
                                  "--out", str(tmp_path / "arts")])
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in (tmp_path / "arts").glob("*.tflite"))
    assert files == ["run_dynamic.tflite", "run_float32.tflite"]
    assert read_metadata((tmp_path / "arts" / "run_dynamic.tflite").read_bytes())["quantization"] == "dynamic"

