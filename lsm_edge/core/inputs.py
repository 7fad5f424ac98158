"""The model's numpy inputs: masks, augmentations and batches, shared by train, distill, finetune and scoring.

``model_inputs(z, hide)`` is the input contract of every model (values linearly filled + the missing
mask); the ``.tflite`` files compute the same inside the graph (core/edges.py), so an app passes raw
values with NaN.  ``mae_batch`` / ``task_batch`` / ``hidden_batch`` build one training batch each.
"""

from __future__ import annotations

import numpy as np

from .. import schema
from ..data import masks
from ..data.windows import fill_linear
from ..recipe import TrainConfig


def augment(z: np.ndarray, rng, cfg: TrainConfig) -> np.ndarray:
    """Flip (time axis), stretch (time axis, then crop back to 300), Gaussian noise, and (with
    ``feature_drop_p``) features dropped for the whole window.  z: [B, 300, 26]."""
    if cfg.feature_drop_p > 0:
        z = drop_features(z, rng, cfg.feature_drop_p)
    B, T, _ = z.shape
    z = flip_time(z, rng, cfg.flip_p)
    if cfg.stretch_max > 1:
        f = rng.uniform(1.0, cfg.stretch_max, B)
        off = rng.uniform(0, 1, B) * (T * f - T)
        src = np.floor((np.arange(T)[None, :] + off[:, None]) / f[:, None]).astype(int).clip(0, T - 1)
        z = np.take_along_axis(z, src[:, :, None], axis=1)
    return (z + rng.normal(0, cfg.noise_std, z.shape)).astype(np.float32)


def flip_time(z: np.ndarray, rng, p: float) -> np.ndarray:
    """Each window of z [B, 300, 26] reversed in time with probability ``p`` (one draw per window)."""
    flip = rng.random(len(z)) < p
    return np.where(flip[:, None, None], z[:, ::-1], z)


def drop_features(z: np.ndarray, rng, p: float) -> np.ndarray:
    """A device that lacks sensors (docs/architecture.md: it supplies those features as all-missing).  Each
    window, with probability ``p``, keeps k of the features it observes (k uniform in 1 .. their number
    - 1, which k at random) and loses the others for all 300 minutes.  z: [B, 300, 26], NaN = missing.

    Without it the simulator never shows a window whose heart rate comes without the PPG-derived and
    motion features, and a teacher trained on it fills a heart-rate-only gap (a Fitbit export) from its
    resting prior: 2.4x linear interpolation's error at 60 minutes on simulated windows
    (benchmarks/results/teacher/feature_drop/)."""
    drop = rng.random(len(z)) < p
    if not drop.any():
        return z
    z = z.copy()
    for i in np.flatnonzero(drop):
        have = np.flatnonzero(~np.isnan(z[i]).all(0))
        if len(have) < 2:
            continue
        lose = rng.permutation(have)[rng.integers(1, len(have)):]
        z[i, :, lose] = np.nan
    return z


def mae_batch(z: np.ndarray, rng, mask_ratio: float) -> tuple[dict, dict]:
    """z: [B, 300, 26] normalised, NaN = missing -> (model inputs, loss targets) for the training path.

    Tokens with no observed cell are masked first (nothing to show the encoder); the visible
    tokens are the ``n_keep`` with the lowest noise.
    """
    B = len(z)
    missing0 = np.isnan(z)
    grid_missing = masks.grid_missing(missing0)  # [B, 30, 6] token has no observed cell
    noise = rng.random((B, masks.GRID[0] * masks.GRID[1])) + grid_missing.reshape(B, -1)
    n_keep = noise.shape[1] - int(round(mask_ratio * noise.shape[1]))
    rank = np.argsort(np.argsort(noise, axis=1), axis=1)
    hidden = rank >= n_keep
    hide = masks.grid_to_cells(hidden.reshape(B, *masks.GRID))
    missing_in = missing0 | hide
    x = {"values": fill_linear(np.where(missing_in, np.nan, z)), "missing": missing_in.astype(np.float32),
         "noise": (noise + 2.0 * hidden).astype(np.float32)}
    y = {"target": np.nan_to_num(z).astype(np.float32), "weight": (hide & ~missing0).astype(np.float32)}
    return x, y


TRAIN_TASKS = ("interpolation", "extrapolation", "sensor")


def task_batch(z: np.ndarray, rng, max_minutes: int = 150, min_minutes: int = 5) -> tuple[dict, dict]:
    """z: [B, 300, 26] -> inference-path inputs and targets under evaluation-style masks.

    Each window gets one task (temporal interpolation, extrapolation, or sensor imputation over a
    random span of ``min_minutes``..``max_minutes`` minutes, not aligned to patches).  Unlike patch masking, these
    hide cells inside tokens that stay visible, and leave most tokens visible: exactly what the
    model faces when it imputes; with patch masking alone it never learns either (measured:
    worse than linear interpolation on every task, see benchmarks/results/teacher/README.md).
    """
    return hidden_batch(z, task_masks(len(z), rng, min_minutes, max_minutes))


def task_masks(n: int, rng, min_minutes: int, max_minutes: int) -> np.ndarray:
    """-> hide [n, 300, 26] bool: per window one of TRAIN_TASKS over a span of min..max minutes."""
    hide = np.zeros((n, schema.WINDOW_MINUTES, schema.N_FEATURES), bool)
    tasks = rng.integers(0, len(TRAIN_TASKS), n)
    minutes = rng.integers(min_minutes, max_minutes + 1, n)
    for i in range(n):
        hide[i] = masks.make_mask(TRAIN_TASKS[tasks[i]], rng, 1, int(minutes[i]))[0]
    return hide


def hidden_batch(z: np.ndarray, hide: np.ndarray) -> tuple[dict, dict]:
    """z: [B, 300, 26], hide: [B, 300, 26] bool -> inference-path inputs with ``hide`` masked, and the
    targets: every cell of z, weighted 1 where it was hidden and observed."""
    y = {"target": np.nan_to_num(z).astype(np.float32), "weight": (hide & ~np.isnan(z)).astype(np.float32)}
    return model_inputs(z, hide), y


def model_inputs(z: np.ndarray, hide: np.ndarray | None = None) -> dict:
    """Inference-path inputs from normalised windows (NaN = missing) and an optional hide mask:
    missing cells linearly filled along time (from visible cells only) and flagged.  The encoder
    never sees the fill (the model zeroes missing cells); the fill gate blends it into the output
    (models/mae.py), and it is the exported graph's input contract (the runtime computes it)."""
    missing = np.isnan(z) if hide is None else np.isnan(z) | hide
    return {"values": fill_linear(np.where(missing, np.nan, z)), "missing": missing.astype(np.float32)}
