import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lsm_edge.core import measure, tflite
from lsm_edge.cli import main

DATA = Path(__file__).parent / "data"


def _tflite(model, tmp_path, name):
    import tensorflow as tf

    path = tmp_path / name
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path.read_bytes()


def test_flops_of_dense_and_matmul_counted_by_hand(tmp_path):
    import keras

    x = keras.Input((7, 8), batch_size=1)
    h = keras.layers.Dense(16)(x)                                     # 7 x 8 x 16 MACs
    att = keras.ops.matmul(h, keras.ops.transpose(h, (0, 2, 1)))       # 7 x 16 x 7 MACs
    conv = keras.layers.Conv1D(4, 3, padding="same")(h)               # 7 x 3 x 16 x 4 MACs
    flat = _tflite(keras.Model(x, [att, conv]), tmp_path, "m.tflite")
    got = tflite.signature_flops(flat)
    assert list(got.values()) == [2 * (7 * 8 * 16 + 7 * 16 * 7 + 7 * 3 * 16 * 4)]


def test_measure_in_child_process(small_run):
    row = measure.measure(small_run / "f32.tflite", threads=1, runs=5, warmup=1)
    assert set(row["signatures"]) == {"impute", "forecast", "embed"}
    for s in row["signatures"].values():
        assert 0 < s["min_ms"] <= s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"]
        assert s["runs"] == 5
    assert row["init_ms"] > 0 and row["peak_rss_mb"] > row["model_rss_mb"] > 0
    ops = row["ops"]
    assert ops["signature"] == "impute"  # the signature the tables report, not the file's first subgraph
    assert ops["xnnpack_nodes"] + sum(ops["reference_ops"].values()) == ops["nodes"]
    assert ops["xnnpack_ops"].get("FULLY_CONNECTED", 0) > 0 and ops["partitions"] >= 1


def test_coverage_is_counted_on_each_signatures_own_subgraph(small_run):
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.interpreter import Interpreter

    flat = (small_run / "f32.tflite").read_bytes()
    m = fb.Model.GetRootAsModel(flat, 0)
    ops_in = {m.SignatureDefs(i).SignatureKey().decode(): m.Subgraphs(m.SignatureDefs(i).SubgraphIndex()).OperatorsLength()
              for i in range(m.SignatureDefsLength())}
    assert len(set(ops_in.values())) > 1  # embed, forecast and impute differ: a first-subgraph count would be wrong
    for sig, n in ops_in.items():
        assert tflite.signature_coverage(flat, sig)["nodes"] == n, sig
    moved = tflite.signature_first(flat, "impute")
    a, b = (Interpreter(model_content=f).get_signature_runner("impute") for f in (flat, moved))
    feeds = tflite.example_inputs(a.get_input_details(), np.random.default_rng(0))
    assert np.array_equal(a(**feeds)["values"], b(**feeds)["values"]) and moved != flat
    with pytest.raises(measure.LsmEdgeError, match="no signature 'classify_activity'.*impute"):
        tflite.signature_first(flat, "classify_activity")


def test_bench_rows_flops_and_table(small_run):
    res = measure.bench([small_run / "f32.tflite"], threads=(1,), runs=3, warmup=0, progress=False)
    assert res["ceiling_gflops"] > 0.5
    (row,) = res["rows"]
    assert row["bytes"] == (small_run / "f32.tflite").stat().st_size and row["quantization"] == "float32"
    s = row["signatures"]
    # impute and forecast run the same encoder + decoder; embed is the encoder alone
    assert s["impute"]["flops"] == s["forecast"]["flops"] > s["embed"]["flops"] > 0
    assert s["impute"]["gflops"] == pytest.approx(s["impute"]["flops"] / (s["impute"]["p50_ms"] * 1e6))
    table = measure.to_table(res, "impute")
    assert table.count("\n") == 2 and "| f32 | 1 | impute |" in table


def test_bench_refuses_bad_input(small_run, tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    with pytest.raises(measure.LsmEdgeError, match="not a .tflite"):
        measure.bench([junk], progress=False)
    with pytest.raises(measure.BenchError, match="--benchmark-binary"):
        measure.bench([small_run / "f32.tflite"], adb_serial="emulator-5554", progress=False)
    r = CliRunner().invoke(main, ["bench", str(small_run / "f32.tflite"), "--threads", "1,zero"])
    assert r.exit_code != 0 and "--threads must be positive integers" in r.output and "Traceback" not in r.output


def test_cli_bench_writes_json(small_run, tmp_path):
    out = tmp_path / "b.json"
    r = CliRunner().invoke(main, ["bench", str(small_run / "f32.tflite"), "--runs", "2", "--warmup", "0",
                                  "--json", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert [row["threads"] for row in res["rows"]] == [1]
    assert "| f32 | 1 | embed |" in r.output


def test_parse_recorded_benchmark_model_output():
    got = measure.parse_benchmark_model((DATA / "benchmark_model_mobilenet_v2.txt").read_text())
    assert got["init_ms"] == pytest.approx(6.395) and got["avg_ms"] == pytest.approx(2.94227)
    assert got["runs"] == 337 and got["p50_ms"] == pytest.approx(2.781) and got["min_ms"] == pytest.approx(2.605)
    assert got["p95_ms"] == pytest.approx(3.169) and got["model_rss_mb"] == pytest.approx(40.8281)
    logcat = measure.parse_benchmark_model((DATA / "benchmark_model_logcat.txt").read_text())
    assert logcat["avg_ms"] == pytest.approx(2719.85) and logcat["runs"] == 10
    assert logcat["p50_ms"] == pytest.approx(2709.263) and logcat["model_rss_mb"] == 337


def test_parse_failed_benchmark_model_output():
    with pytest.raises(measure.BenchError, match="no 'Inference timings' line.*Failed to load model"):
        measure.parse_benchmark_model("INFO: STARTING!\nERROR: Failed to load model x.tflite\n")


def test_example_inputs_follow_the_signature():
    rng = np.random.default_rng(0)
    feeds = tflite.example_inputs({"values": {"shape": [1, 300, 26], "dtype": np.float32},
                                  "missing": {"shape": [1, 300, 26], "dtype": np.float32}}, rng)
    assert set(np.unique(feeds["missing"])) <= {0.0, 1.0} and 0.1 < feeds["missing"].mean() < 0.3
    assert feeds["values"].dtype == np.float32 and abs(feeds["values"].std() - 1) < 0.1
