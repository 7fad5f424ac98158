"""Mask generators for pretraining and for the evaluation tasks of the LSM paper.

Every generator returns ``hide: [N, 300, 26]`` bool (True = hidden from the model), built from a
seeded ``numpy.random.Generator``; the patch-grid ones work on the ``[30, 6]`` grid of
10-minute x 5-feature patches over the input padded 26 -> 30 features.  Scoring is always on
``hide & ~missing``: cells that were hidden AND originally observed.

Tasks (N = span in minutes, one of HORIZONS):
- ``random``: random patch masking at a ratio (0.8 in pretraining and evaluation);
- ``interpolation``: a gap of N minutes, all sensors, with context on both sides;
- ``extrapolation``: the last N minutes, all sensors;
- ``sensor``: a random 67% of the features over a random span of N minutes;
- ``structured_temporal`` / ``structured_sensor``: whole rows / columns of the patch grid.
"""

from __future__ import annotations

import numpy as np

from .. import schema
from ..errors import LsmEdgeError

HORIZONS = (10, 20, 30, 60, 120)
TASKS = ("random", "interpolation", "extrapolation", "sensor", "structured_temporal", "structured_sensor")
GRID = (schema.WINDOW_MINUTES // schema.PATCH_MINUTES, schema.PADDED_FEATURES // schema.PATCH_FEATURES)  # (30, 6)


def grid_to_cells(grid_hide: np.ndarray, n_features: int = schema.N_FEATURES) -> np.ndarray:
    """[N, 30, 6] patch mask -> [N, 300, n_features] cell mask (padding columns dropped)."""
    cells = np.repeat(np.repeat(grid_hide, schema.PATCH_MINUTES, 1), schema.PATCH_FEATURES, 2)
    return cells[:, :, :n_features]


def grid_missing(missing: np.ndarray) -> np.ndarray:
    """[N, 300, 26] cell mask -> [N, 30, 6]: True where a patch has no observed cell (padding counts as missing)."""
    n = len(missing)
    pad = np.ones((n, schema.WINDOW_MINUTES, schema.PADDED_FEATURES - missing.shape[2]), bool)
    m = np.concatenate([missing, pad], 2).reshape(n, GRID[0], schema.PATCH_MINUTES, GRID[1], schema.PATCH_FEATURES)
    return m.all((2, 4))


def random_patches(rng, n: int, ratio: float = 0.8) -> np.ndarray:
    """[n, 30, 6]: exactly round(ratio * 180) patches hidden per window, chosen uniformly."""
    if not 0 <= ratio < 1:
        raise LsmEdgeError(f"mask ratio must be in [0, 1), got {ratio}")
    k = GRID[0] * GRID[1]
    n_hide = int(round(ratio * k))
    order = np.argsort(rng.random((n, k)), axis=1)
    hide = np.zeros((n, k), bool)
    np.put_along_axis(hide, order[:, :n_hide], True, axis=1)
    return hide.reshape(n, *GRID)


def interpolation(rng, n: int, minutes: int, context: int = 30) -> np.ndarray:
    """A gap of ``minutes`` at a random start, at least ``context`` minutes from either edge."""
    _check_horizon(minutes, 2 * context)
    start = rng.integers(context, schema.WINDOW_MINUTES - context - minutes + 1, n)
    return _time_span(start, minutes)


def extrapolation(rng, n: int, minutes: int) -> np.ndarray:
    """The last ``minutes`` of every window."""
    _check_horizon(minutes, 1)
    return _time_span(np.full(n, schema.WINDOW_MINUTES - minutes), minutes)


def sensor(rng, n: int, minutes: int, fraction: float = 0.67) -> np.ndarray:
    """A random ``fraction`` of the 26 features hidden over a random span of ``minutes``."""
    _check_horizon(minutes, 0)
    F = schema.N_FEATURES
    k = int(round(fraction * F))
    feats = np.argsort(rng.random((n, F)), axis=1)[:, :k]
    fmask = np.zeros((n, F), bool)
    np.put_along_axis(fmask, feats, True, axis=1)
    start = rng.integers(0, schema.WINDOW_MINUTES - minutes + 1, n)
    return _time_span(start, minutes) & fmask[:, None, :]


def structured_temporal(rng, n: int, ratio: float = 0.5) -> np.ndarray:
    """Whole 10-minute rows of the grid hidden (every feature), ``ratio`` of the rows."""
    rows = np.argsort(rng.random((n, GRID[0])), axis=1) < int(round(ratio * GRID[0]))
    return grid_to_cells(np.broadcast_to(rows[:, :, None], (n, *GRID)))


def structured_sensor(rng, n: int, ratio: float = 0.5) -> np.ndarray:
    """Whole 5-feature columns of the grid hidden over all 300 minutes, ``ratio`` of the columns."""
    cols = np.argsort(rng.random((n, GRID[1])), axis=1) < max(1, int(round(ratio * GRID[1])))
    return grid_to_cells(np.broadcast_to(cols[:, None, :], (n, *GRID)))


def make_mask(task: str, rng, n: int, minutes: int | None = None, ratio: float = 0.8) -> np.ndarray:
    """Cell mask [n, 300, 26] for an evaluation ``task`` (see module docstring)."""
    if task == "random":
        return grid_to_cells(random_patches(rng, n, ratio))
    if task in ("interpolation", "extrapolation", "sensor"):
        if minutes is None:
            raise LsmEdgeError(f"task {task!r} needs a span in minutes, one of {HORIZONS}")
        return {"interpolation": interpolation, "extrapolation": extrapolation, "sensor": sensor}[task](rng, n, minutes)
    if task == "structured_temporal":
        return structured_temporal(rng, n, 0.5 if ratio is None else ratio)
    if task == "structured_sensor":
        return structured_sensor(rng, n, 0.5 if ratio is None else ratio)
    raise LsmEdgeError(f"unknown mask task {task!r}; expected one of {', '.join(TASKS)}")


def _time_span(start: np.ndarray, minutes: int) -> np.ndarray:
    t = np.arange(schema.WINDOW_MINUTES)
    span = (t[None, :] >= start[:, None]) & (t[None, :] < start[:, None] + minutes)
    return np.broadcast_to(span[:, :, None], (len(start), schema.WINDOW_MINUTES, schema.N_FEATURES)).copy()


def _check_horizon(minutes: int, reserve: int):
    if not 1 <= minutes <= schema.WINDOW_MINUTES - reserve:
        raise LsmEdgeError(f"span of {minutes} minutes does not fit a {schema.WINDOW_MINUTES}-minute window "
                           f"(at most {schema.WINDOW_MINUTES - reserve}); usual spans: {HORIZONS}")
