"""Non-parametric rest-activity rhythm measures, computed from their published definitions.

x: one person's minute values [T] (activity counts, or heart rate where a cohort has no activity), NaN missing;
``start_minute``: the minute of the day of x[0] on the recording's clock.

- **IS**, interdaily stability (Witting et al. 1990; van Someren et al. 1999), on hourly means x_i (N hours
  with enough data) and the mean 24-hour profile x̄_h:  IS = N Σ_h (x̄_h - x̄)² / (24 Σ_i (x_i - x̄)²);
  0 (no day resembles another) to 1 (every day the same).
- **IV**, intradaily variability:  IV = N Σ_{i≥2} (x_i - x_{i-1})² / ((N - 1) Σ_i (x_i - x̄)²), over consecutive
  hours both with data; about 0 for a sine wave, about 2 for noise.
- **L5** / **M10**: the mean of the least active 5 and the most active 10 consecutive hours of the mean 24-hour
  profile at minute resolution (circular: a window may cross midnight); **RA**, relative amplitude,
  (M10 - L5) / (M10 + L5).

An hour counts when at least half its minutes have a value; a minute of the profile is the mean over the days
that have it.
"""

from __future__ import annotations

import numpy as np

MIN_IN_HOUR = 30  # an hour's mean counts when at least this many of its minutes have a value


def hourly(x: np.ndarray, start_minute: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(hourly means [H], hour of the day of each [H]) on the clock: the first and last hours may be partial."""
    pad_front = start_minute % 60
    v = np.concatenate([np.full(pad_front, np.nan), np.asarray(x, float)])
    v = np.concatenate([v, np.full(-len(v) % 60, np.nan)]).reshape(-1, 60)
    n = np.isfinite(v).sum(1)
    with np.errstate(invalid="ignore"):
        means = np.where(n >= MIN_IN_HOUR, np.nansum(v, 1) / np.maximum(n, 1), np.nan)
    hours = (start_minute // 60 + np.arange(len(means))) % 24
    return means, hours


def interdaily_stability(x: np.ndarray, start_minute: int = 0) -> float:
    h, hod = hourly(x, start_minute)
    ok = np.isfinite(h)
    if ok.sum() < 48:
        return float("nan")
    h, hod = h[ok], hod[ok]
    mean = h.mean()
    profile = np.array([h[hod == k].mean() for k in range(24) if (hod == k).any()])
    denom = 24 * ((h - mean) ** 2).sum()
    return float(len(h) * ((profile - mean) ** 2).sum() / denom) if denom > 0 else float("nan")


def intradaily_variability(x: np.ndarray, start_minute: int = 0) -> float:
    h, _ = hourly(x, start_minute)
    ok = np.isfinite(h)
    if ok.sum() < 48:
        return float("nan")
    d = np.diff(h)
    d = d[np.isfinite(d)]
    mean = h[ok].mean()
    denom = ((h[ok] - mean) ** 2).sum()
    n = ok.sum()
    return float(n * (d ** 2).sum() / ((n - 1) * denom)) if denom > 0 else float("nan")


def profile_24h(x: np.ndarray, start_minute: int = 0) -> np.ndarray:
    """[1440] the mean value at each minute of the day over the days that have it (NaN where none does)."""
    x = np.asarray(x, float)
    minute = (start_minute + np.arange(len(x))) % 1440
    ok = np.isfinite(x)
    total = np.bincount(minute[ok], weights=x[ok], minlength=1440)
    count = np.bincount(minute[ok], minlength=1440)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def lowest_highest(x: np.ndarray, start_minute: int = 0) -> tuple[float, float]:
    """(L5, M10): the least active 5 and most active 10 consecutive hours of the 24-hour profile (circular)."""
    p = profile_24h(x, start_minute)
    if np.isnan(p).mean() > 0.1:
        return float("nan"), float("nan")
    p = np.where(np.isnan(p), np.nanmean(p), p)
    ring = np.concatenate([p, p])
    csum = np.concatenate([[0.0], np.cumsum(ring)])

    def rolling(minutes):
        return (csum[minutes:minutes + 1440] - csum[:1440]) / minutes

    return float(rolling(300).min()), float(rolling(600).max())


def rhythm(x: np.ndarray, start_minute: int = 0) -> dict:
    """{IS, IV, RA, L5, M10} of one person's minutes."""
    l5, m10 = lowest_highest(x, start_minute)
    ra = (m10 - l5) / (m10 + l5) if np.isfinite(l5) and (m10 + l5) > 0 else float("nan")
    return {"IS": interdaily_stability(x, start_minute), "IV": intradaily_variability(x, start_minute),
            "RA": float(ra), "L5": l5, "M10": m10}
