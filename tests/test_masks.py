import numpy as np
import pytest

from lsm_edge.data import masks
from lsm_edge.errors import LsmEdgeError


def rng():
    return np.random.default_rng(0)


def test_random_patches_exact_ratio_and_cells():
    g = masks.random_patches(rng(), 5, 0.8)
    assert g.shape == (5, 30, 6) and (g.sum((1, 2)) == 144).all()
    cells = masks.grid_to_cells(g)
    assert cells.shape == (5, 300, 26)
    # a cell is hidden exactly when its patch is
    assert cells[0, 13, 7] == g[0, 1, 1] and cells[0, 299, 25] == g[0, 29, 5]


def test_interpolation_gap_has_context_on_both_sides():
    m = masks.interpolation(rng(), 200, 60, context=30)
    t_hidden = m.any(2)
    assert (t_hidden.sum(1) == 60).all()
    first = t_hidden.argmax(1)
    assert (first >= 30).all() and (first + 60 <= 270).all()
    assert (m.all(2) == t_hidden).all()  # all sensors


def test_extrapolation_is_the_end():
    m = masks.extrapolation(rng(), 3, 120)
    assert m[:, 180:].all() and not m[:, :180].any()


def test_sensor_hides_two_thirds_of_features():
    m = masks.sensor(rng(), 50, 30)
    per_window_features = m.any(1).sum(1)
    assert (per_window_features == 17).all()
    assert (m.any(2).sum(1) == 30).all()


def test_structured_and_determinism():
    a = masks.make_mask("structured_sensor", np.random.default_rng(1), 4, ratio=0.5)
    b = masks.make_mask("structured_sensor", np.random.default_rng(1), 4, ratio=0.5)
    np.testing.assert_array_equal(a, b)
    assert (a.all(1) == a.any(1)).all()  # whole columns
    t = masks.make_mask("structured_temporal", rng(), 4, ratio=0.5)
    assert (t.all(2) == t.any(2)).all() and (t.any(2).sum(1) == 150).all()


def test_bad_requests_are_clear():
    with pytest.raises(LsmEdgeError, match="needs a span"):
        masks.make_mask("interpolation", rng(), 1)
    with pytest.raises(LsmEdgeError, match="does not fit"):
        masks.make_mask("interpolation", rng(), 1, minutes=290)
    with pytest.raises(LsmEdgeError, match="unknown mask task 'gap'"):
        masks.make_mask("gap", rng(), 1, minutes=10)
    with pytest.raises(LsmEdgeError, match="ratio"):
        masks.random_patches(rng(), 1, 1.0)
