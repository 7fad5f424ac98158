import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lsm_edge.data.dataset import Dataset
from lsm_edge.data.sharding import batch_indices, process_share
from lsm_edge.core.distributed import select_backend
from lsm_edge.errors import LsmEdgeError
from lsm_edge.recipe import TrainConfig
from lsm_edge.core.run import load_run
from lsm_edge.verbs.train import train

WORKER = Path(__file__).with_name("scale_worker.py")


@pytest.fixture(scope="module")
def sharded_data(tmp_path_factory):
    from lsm_edge.data.simulate import write_simulated

    d = tmp_path_factory.mktemp("sharded") / "data"
    write_simulated(d, 10, 3, seed=0, chunk_subjects=3, progress=False)  # 4 shard files
    return d


def _worker(backend, data, out):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    p = subprocess.run([sys.executable, str(WORKER), backend, str(data), str(out)], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def _max_rel_diff(a, b):
    """Largest weight difference relative to the tensor's scale (floored at 0.01: attention key
    biases get no gradient and stay at ~1e-7, where rounding alone is relatively large)."""
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    return max(float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-2)) for x, y in zip(wa, wb))


@pytest.fixture(scope="module")
def jax_runs(sharded_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("jax")
    return out, _worker("jax", sharded_data, out)


def test_processes_read_disjoint_files_and_see_every_window_once_per_epoch(sharded_data):
    ds = Dataset(sharded_data)
    assert len(ds.shards) == 4
    shares = [process_share(ds.shards, p, 2) for p in range(2)]
    assert sorted(shares[0] + shares[1]) == ds.shards and not set(shares[0]) & set(shares[1])
    everything = ds.load("train")
    seen = []
    for p in range(2):
        mine = ds.load("train", process=(p, 2))
        n, batch = len(mine), 8
        steps = -(-n // batch)  # one epoch of this process, and a bit of the next
        idx = np.concatenate([batch_indices(n, batch, s, seed=0, process_index=p) for s in range(steps)])
        first_epoch = idx[:n]
        assert sorted(first_epoch) == list(range(n))  # each of its windows exactly once
        assert len(idx) > n and len(set(idx[n:])) == len(idx[n:])  # the next epoch starts afresh
        seen += [(s, t) for s, t in zip(mine.subject[first_epoch], mine.start[first_epoch])]
    assert len(seen) == len(set(seen)) == len(everything)  # together: every window, none twice
    assert set(seen) == set(zip(everything.subject, everything.start))
    # resumable: a step's batch depends only on (seed, process, step)
    np.testing.assert_array_equal(batch_indices(50, 8, 13, 0, 1), batch_indices(50, 8, 13, 0, 1))
    assert not np.array_equal(batch_indices(50, 8, 13, 0, 0), batch_indices(50, 8, 13, 0, 1))


def test_share_errors_name_the_problem():
    with pytest.raises(LsmEdgeError, match="3 processes but only 2 shard files"):
        process_share(["a", "b"], 0, 3)
    with pytest.raises(LsmEdgeError, match="outside 0..1"):
        process_share(["a", "b"], 2, 2)
    with pytest.raises(LsmEdgeError, match="no training window"):
        batch_indices(0, 4, 0, 0)


def test_jax_data_parallel_matches_one_device(jax_runs):
    out, r = jax_runs
    # one global computation sharded over 2 devices: the same curve to float rounding, whether the
    # data-parallel segment comes first (two_then_one) or last (one_then_two)
    for name in ("two_then_one", "one_then_two"):
        np.testing.assert_allclose(r[name]["loss"], r["one"]["loss"], rtol=1e-4)
        np.testing.assert_allclose(r[name]["val_loss"], r["one"]["val_loss"], rtol=1e-4)
    assert r["one"]["devices"] == [1, 1]


def test_jax_model_parallel_matches_one_device(jax_runs):
    out, r = jax_runs
    # attention and MLP kernels split over 2 devices (distributed.layout_map): the same computation
    assert r["sharded"] == ["attention_output/kernel", "key/kernel", "mlp_in/bias", "mlp_in/kernel", "mlp_out/kernel",
                            "query/kernel", "value/kernel"]
    np.testing.assert_allclose(r["model_parallel"]["loss"], r["one"]["loss"], rtol=1e-4)
    assert _max_rel_diff(load_run(out / "model_parallel")[0], load_run(out / "one")[0]) < 1e-3


def test_jax_checkpoints_resume_on_another_device_count(jax_runs):
    out, r = jax_runs
    one = load_run(out / "one")[0]
    for name, devices in (("two_then_one", [2, 1]), ("one_then_two", [1, 2])):
        assert r[name]["devices"] == devices
        np.testing.assert_allclose(r[name]["loss"], r["one"]["loss"], rtol=1e-4)
        assert _max_rel_diff(load_run(out / name)[0], one) < 1e-3


def test_mixed_bfloat16_follows_float32_and_saves_float32(jax_runs):
    out, r = jax_runs
    # bfloat16 math (8-bit mantissa) over a few steps: the loss curve within 1 %
    np.testing.assert_allclose(r["bf16"]["loss"], r["one"]["loss"], rtol=1e-2)
    assert r["bf16"]["loss"] != r["one"]["loss"]  # it did run in another precision
    model = load_run(out / "bf16")[0]
    assert {w.dtype.name if hasattr(w.dtype, "name") else str(w.dtype) for w in model.weights} == {"float32"}
    assert model.dtype_policy.name == "float32"  # what convert exports: float32 math


def test_tf_mirrored_strategy_matches_one_device(sharded_data, tmp_path):
    r = _worker("tensorflow", sharded_data, tmp_path)
    assert r["two"]["devices"] == [2, 2]
    # each replica averages the loss over its own half (Keras' rule under tf.distribute), so the step
    # is not bit-identical to one device: the validation curve within 0.5 %; the weights within 5 %
    # (Adam's first steps move each weight by about lr x sign(gradient), whatever its size)
    np.testing.assert_allclose(r["two"]["val_loss"], r["one"]["val_loss"], rtol=5e-3)
    assert _max_rel_diff(load_run(tmp_path / "two")[0], load_run(tmp_path / "one")[0]) < 5e-2


def test_a_data_parallel_run_converts_with_parity(jax_runs, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.verbs import convert as conv
    from lsm_edge.core.inputs import model_inputs

    out, _ = jax_runs
    run = out / "one_then_two"  # its last segment trained on 2 devices
    conv.convert(run, tmp_path / "dp.tflite", "float32")
    model, stats, cfg = load_run(run)
    assert cfg["train"]["backend"] == "jax" and (run / "log.csv").read_text().split()[-1].endswith(",2")
    data = Dataset(Path(json.loads((run / "manifest.json").read_text())["data"]["path"]))
    w = data.load("test").values[:2].copy()
    w[:, 100:160] = np.nan
    x = model_inputs(stats.normalize(w))
    run = Interpreter(model_path=str(tmp_path / "dp.tflite")).get_signature_runner("impute")
    for i in range(2):
        feed = {"values": x["values"][i:i + 1], "missing": x["missing"][i:i + 1]}
        expect = np.where(feed["missing"] > 0.5, np.asarray(model.infer(feed["values"], feed["missing"])),
                          feed["values"])
        got = stats.normalize(run(values=w[i:i + 1])["values"])  # raw units in and out: compared in z-units
        assert np.isfinite(got).all() and np.abs(got - expect).max() < 1e-4


def test_placement_errors(sharded_data, tmp_path):
    with pytest.raises(LsmEdgeError, match="asks for the jax backend but Keras runs on tensorflow"):
        train(sharded_data, tmp_path / "a", TrainConfig(backend="jax"), progress=False)
    with pytest.raises(LsmEdgeError, match="has to be chosen before Keras is imported"):
        select_backend("jax")
    with pytest.raises(LsmEdgeError, match="CPU devices but TensorFlow started with 1"):
        train(sharded_data, tmp_path / "b", TrainConfig(devices=3, batch_size=15), progress=False)
    with pytest.raises(LsmEdgeError, match="does not split over 2 data-parallel devices"):
        TrainConfig.from_dict({"devices": 2, "batch_size": 15})
    with pytest.raises(LsmEdgeError, match="needs the JAX backend"):
        train(sharded_data, tmp_path / "c", TrainConfig(devices=2, model_parallel=2), progress=False)
