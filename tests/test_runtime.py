import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lsm_edge.verbs import convert as conv
from lsm_edge import schema
from lsm_edge.runtime import Embedder, Forecaster, ExerciseDetector, Imputer, InputError, ModelFileError



def _valid_window(seed=0):
    lo, hi = schema.valid_range()
    rng = np.random.default_rng(seed)
    mid = np.where(np.isfinite(lo + hi), (lo + hi) / 2, 0)
    w = (mid + (hi - lo) * 0.01 * rng.normal(size=(300, 26))).astype(np.float32)
    w[rng.random(w.shape) < 0.3] = np.nan
    return w


def test_runtime_imports_without_tensorflow():
    code = ("import sys, lsm_edge.runtime\n"
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_imputer_forecaster_embedder(small_run):
    imp = Imputer(small_run / "f32.tflite", num_threads=2)
    w = _valid_window()
    out = imp.impute(w)
    assert out.shape == w.shape and not np.isnan(out).any()
    np.testing.assert_array_equal(out[~np.isnan(w)], w[~np.isnan(w)])
    batch = imp.impute(np.stack([w, _valid_window(1)]))
    np.testing.assert_allclose(batch[0], out, rtol=1e-6)
    assert imp.runner("impute") is imp.runner("impute")  # one reusable runner
    assert Forecaster(small_run / "f32.tflite").forecast(w).shape == (60, 26)
    e = Embedder(small_run / "f32.tflite")
    assert e.embed(w).shape == (64,) and e.embed(np.stack([w, w])).shape == (2, 64)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((299, 26)), r"expected a window \[300, 26\]"),
    (np.zeros((300, 25)), "expected 26 features per minute"),
    (np.zeros((2, 3, 300, 26)), "got shape"),
    (np.full((300, 26), np.nan), "window 0 has no observed value"),
])
def test_bad_shapes_and_empty(small_run, bad, match):
    with pytest.raises(InputError, match=match):
        Imputer(small_run / "f32.tflite").impute(bad)


def test_bad_values_are_missing_and_counted(small_run):
    """inf and values outside a feature's valid range are treated as missing inside the graph, filled, and
    counted per window (``last_invalid``), so an app can warn; the rest of the window is untouched."""
    imp = Imputer(small_run / "f32.tflite")
    w = _valid_window()
    w[5, 0] = 70.0
    clean = imp.impute(np.where(np.arange(300)[:, None] == 5, np.where(np.arange(26) == 0, np.nan, w), w))
    assert imp.last_invalid.tolist() == [0]
    for bad in (np.inf, -np.inf, 500.0, 3.0):
        w2 = w.copy()
        w2[5, 0] = bad
        out = imp.impute(w2)
        assert imp.last_invalid.tolist() == [1], bad
        np.testing.assert_array_equal(out, clean)  # the same as a NaN there
    with pytest.raises(InputError, match="numeric"):
        imp.impute([["a"] * 26] * 300)


def test_bad_files(small_run, tmp_path):
    (tmp_path / "x.tflite").write_text("hello")
    with pytest.raises(ModelFileError, match="not a .tflite file"):
        Imputer(tmp_path / "x.tflite")
    with pytest.raises(ModelFileError, match="no such file"):
        Imputer(tmp_path / "nope.tflite")
    import tensorflow as tf

    c = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec([1], tf.float32)]).get_concrete_function()])
    plain = tmp_path / "plain.tflite"
    plain.write_bytes(c.convert())
    with pytest.raises(ModelFileError, match="no lsm-edge metadata"):
        Imputer(plain)
    newer = tmp_path / "newer.tflite"
    meta = conv.inspect(small_run / "f32.tflite")["metadata"]
    newer.write_bytes(conv.add_metadata(plain.read_bytes(), {**meta, "metadata_version": 99}))
    with pytest.raises(ModelFileError, match="metadata version 99.*upgrade"):
        Imputer(newer)
    with pytest.raises(ModelFileError, match="no 'classify_exercise' signature"):
        ExerciseDetector(small_run / "f32.tflite")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lead=st.lists(st.integers(0, 3), max_size=2), tail=st.lists(st.integers(0, 301), min_size=1, max_size=2))
def test_random_shapes_never_pass_silently(small_run, lead, tail):
    # leading dimensions stay small: four free dimensions up to 301 once drew an array of 33 GB
    shape = lead + tail
    imp = _imputer(small_run)
    x = np.full(shape, 60.0, np.float32)
    if len(shape) in (2, 3) and tuple(shape[-2:]) == (300, 26) and (len(shape) == 2 or shape[0] > 0):
        assert imp.impute(x).shape == x.shape
    else:
        with pytest.raises(InputError):
            imp.impute(x)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(missing=hnp.arrays(bool, (300, 26)), seed=st.integers(0, 2**16))
def test_random_missingness_keeps_observed_and_fills_the_rest(small_run, missing, seed):
    w = _valid_window(seed)
    w = np.where(missing, np.nan, np.nan_to_num(w, nan=50.0)).astype(np.float32)
    w = np.clip(w, *schema.valid_range())
    imp = _imputer(small_run)
    if missing.all():
        with pytest.raises(InputError):
            imp.impute(w)
        return
    out = imp.impute(w)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[~missing], w[~missing])


_cache = {}


def _imputer(root):
    if root not in _cache:
        _cache[root] = Imputer(root / "f32.tflite")
    return _cache[root]
