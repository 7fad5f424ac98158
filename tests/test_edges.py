"""Self-contained files: the graph's own edges (lsm_edge/core/edges.py, stitch.py) do what the runtime's numpy did, so
every signature takes raw units with NaN and returns raw units."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from lsm_edge import schema
from lsm_edge.data.stats import NormStats
from lsm_edge.data.windows import fill_linear
from lsm_edge.core.edges import convert_edges
from lsm_edge.errors import LsmEdgeError

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


def test_a_missing_edge_graph_is_refused():
    from lsm_edge.core.stitch import stitch

    stats = NormStats(schema.FEATURE_NAMES, np.zeros(F), np.ones(F), np.ones(F))
    edges = convert_edges(stats, 60, 1, ["impute"])
    with pytest.raises(LsmEdgeError, match=r"no edge graph pre_\w+ for the signature"):
        stitch(edges, convert_edges(stats, 60, 1, ["forecast"]))
    assert edges  # the edges themselves convert on their own
