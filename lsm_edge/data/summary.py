"""Per-window summary statistics, the input of the classical baselines (random forest, logistic regression)."""

from __future__ import annotations

import warnings

import numpy as np

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
STAT_NAMES = ("mean", "std", "min", "max") + tuple(f"q{int(q * 100)}" for q in QUANTILES) + ("observed",)


def window_summary(values: np.ndarray) -> np.ndarray:
    """values: [N, T, F] with NaN for missing -> [N, F * 10] statistics ignoring missing cells.

    Per feature: mean, std, min, max, 10/25/50/75/90th percentiles and the observed fraction.
    A feature with no observed cell gets 0 statistics (and observed fraction 0).
    """
    values = np.asarray(values, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices -> NaN, replaced below
        parts = [np.nanmean(values, 1), np.nanstd(values, 1), np.nanmin(values, 1), np.nanmax(values, 1)]
        parts += list(np.nanquantile(values, QUANTILES, axis=1))
    parts.append((~np.isnan(values)).mean(1))
    out = np.stack(parts, 2)  # [N, F, S]
    return np.nan_to_num(out, nan=0.0).reshape(len(values), -1).astype(np.float32)
