import numpy as np
import pytest

from lsm_edge import schema
from lsm_edge.data.windows import (NO_LABEL, Timeline, cut_windows, fill_linear, fill_locf, fill_nearest,
                                   window_labels)
from lsm_edge.errors import SchemaError

nan = np.nan


def test_fill_linear_interpolates_and_fills_edges():
    x = np.array([[nan], [1.0], [nan], [nan], [4.0], [nan]], np.float32)
    out = fill_linear(x)
    np.testing.assert_allclose(out[:, 0], [1, 1, 2, 3, 4, 4])


def test_fill_nearest_and_all_missing():
    x = np.array([[nan, nan], [1.0, nan], [nan, nan], [nan, nan], [nan, nan], [5.0, nan]], np.float32)
    out = fill_nearest(x, all_missing=-7)
    np.testing.assert_allclose(out[:, 0], [1, 1, 1, 1, 5, 5])  # tie at t=3 goes to the earlier
    np.testing.assert_allclose(out[:, 1], -7)


def test_fill_locf_carries_forward_and_the_first_value_backward():
    x = np.array([[nan, nan], [2.0, nan], [nan, nan], [nan, nan], [5.0, nan], [nan, nan]], np.float32)
    out = fill_locf(x, all_missing=-7)
    np.testing.assert_allclose(out[:, 0], [2, 2, 2, 2, 5, 5])
    np.testing.assert_allclose(out[:, 1], -7)


def test_fill_keeps_observed_and_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 300, 26)).astype(np.float32)
    hole = rng.random(x.shape) < 0.5
    y = np.where(hole, nan, x)
    for f in (fill_linear, fill_nearest, fill_locf):
        out = f(y)
        assert not np.isnan(out).any()
        np.testing.assert_array_equal(out[~hole], x[~hole])


def test_cut_windows_threshold_and_labels():
    T = 900
    v = np.full((T, 26), nan, np.float32)
    v[:300, 0] = 60  # window 0: fully observed heart rate
    v[300:330, 0] = 60  # window 1: 10% observed
    v[:, schema.INDEX["on_wrist"]] = 0  # on_wrist alone never makes a minute "observed"
    act = np.full(T, NO_LABEL, np.int8)
    act[10:40] = schema.ACTIVITIES.index("running")
    act[40:45] = schema.ACTIVITIES.index("walking")
    tl = Timeline("s1", np.datetime64("2024-01-01T00:00"), v, labels={"activity": act})
    w = cut_windows(tl, split=2, min_observed=0.2)
    assert len(w) == 1 and w.split[0] == 2 and w.subject[0] == "s1"
    assert w.exercise[0] == 1 and w.activity[0] == schema.ACTIVITIES.index("running")
    np.testing.assert_array_equal(w.missing, np.isnan(w.values))
    assert len(cut_windows(tl, split=0, min_observed=0.05)) == 2
    assert len(cut_windows(tl, split=0, stride=150, min_observed=0.0)) == 5


def test_window_labels_short_bout_is_not_exercise():
    a = np.full((2, 300), NO_LABEL)
    a[0, :9] = 1
    a[1, :12] = 1
    ex, act = window_labels(a, min_exercise_minutes=10)
    assert ex.tolist() == [0, 1] and act.tolist() == [NO_LABEL, 1]


def test_timeline_rejects_wrong_shape():
    with pytest.raises(SchemaError, match=r"expected values \[T, 26\], found \[10, 3\]"):
        Timeline("x", np.datetime64("2024-01-01"), np.zeros((10, 3)))
