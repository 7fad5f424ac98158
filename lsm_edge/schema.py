"""The 26 minutely features of the LSM paper (Narayanswamy et al. 2025, Table 18).

Order is the paper's: clustered by sensor (PPG/HRV 12, accelerometer 10, skin conductance 2,
skin temperature 1, altimeter 1); clustered order beat random order in the paper's ablation.
Each feature has a unit, a sensor group and a physically valid range; a value outside the range
is a corrupt reading and is rejected (by importers and the app runtime), never silently clipped.

A dataset may declare a subset of the features (``Schema.subset``); features it lacks are
supplied as all-missing, so every window is always ``[300, 26]`` in this order.

Real-data mappings (documented here because they are schema decisions):
- Fitbit heart rate (Fitabase) -> ``heart_rate`` (mean of the readings in each minute);
  Fitbit steps -> ``step_count``.
- Wrist actigraphy counts (.AWD) -> ``log_energy`` as ``log(1 + counts)``: an activity count is
  an integral of band-passed acceleration magnitude, i.e. motion energy, the closest slot in
  meaning. Never ``step_count``. The raw counts stay available as the extra channel
  ``activity_counts``.  The same for Actiwatch minute counts (Depresjon / Psykose) and for
  MMASH's ActiGraph ``Vector Magnitude`` (per-second counts x 60 per minute); counts of different
  devices share the slot but not a scale, so scores are kept per set.
- Research actigraphs (``data/epochs.py`` and one module per format, docs/actigraphs.md): every
  device's activity channel in its own unit x per minute -> ``log_energy = ln(1 + x)`` (counts summed
  over a minute's epochs, biobank's milli-g averaged), the raw values as an extra channel with their
  unit; wrist temperature -> ``skin_temperature``; ActiGraph steps -> ``step_count``; light -> the
  extra ``light``.
- Wear (``data/covid19.py``): the covid19 steps files are zero-filled.  A zero-step minute is
  observed only when a heart-rate reading lies within 15 minutes of it (the optical sensor saw
  skin); otherwise it is missing (not worn).  Steps > 0 are always kept, heart rate or not (a loose
  band still counts steps).  A person with steps alone: only a run of zeros of 12 h or more is
  missing.  ``on_wrist`` = 1 in minutes with a heart-rate reading, missing otherwise (Fitbit).
- MMASH (``data/mmash.py``): the chest strap's per-second HR -> ``heart_rate`` (minute mean),
  ``Steps`` -> ``step_count`` (a rate over the seconds present), beat-to-beat intervals -> the RR
  features (``rr_mean``, ``rr_median``, ``rr_p20``, ``rr_p80``, ``sdnn``, ``rmssd``, ``pnn30``,
  ``rr_percent_valid``) after dropping intervals under 0.3 s or over 2 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SchemaError

WINDOW_MINUTES = 300
PATCH_MINUTES = 10
PATCH_FEATURES = 5
PADDED_FEATURES = 30  # 26 zero-padded to a multiple of PATCH_FEATURES


@dataclass(frozen=True)
class Feature:
    name: str
    unit: str
    group: str
    valid_min: float
    valid_max: float
    description: str


_PPG, _ACC, _EDA, _TEMP, _ALT = "ppg_hrv", "accelerometer", "skin_conductance", "skin_temperature", "altimeter"

FEATURES: tuple[Feature, ...] = (
    # PPG / HRV (12)
    Feature("heart_rate", "bpm", _PPG, 25, 240, "heart rate"),
    Feature("rr_percent_valid", "%", _PPG, 0, 100, "share of RR intervals that passed quality checks"),
    Feature("rr_p80", "ms", _PPG, 200, 2500, "80th percentile of RR intervals"),
    Feature("rr_p20", "ms", _PPG, 200, 2500, "20th percentile of RR intervals"),
    Feature("rr_median", "ms", _PPG, 200, 2500, "median RR interval"),
    Feature("rr_mean", "ms", _PPG, 200, 2500, "mean RR interval"),
    Feature("rr_entropy", "nats", _PPG, 0, 10, "Shannon entropy of RR intervals"),
    Feature("rr_diff_entropy", "nats", _PPG, 0, 10, "Shannon entropy of successive RR differences"),
    Feature("pnn30", "%", _PPG, 0, 100, "share of successive RR differences above 30 ms"),
    Feature("rmssd", "ms", _PPG, 0, 600, "root mean square of successive RR differences"),
    Feature("sdnn", "ms", _PPG, 0, 600, "standard deviation of RR intervals"),
    Feature("on_wrist", "0/1", _PPG, 0, 1, "device worn (1) or not (0)"),
    # accelerometer (10)
    Feature("jerk_autocorr_ratio", "ratio", _ACC, -1, 1, "autocorrelation ratio of the jerk signal (periodicity)"),
    Feature("step_count", "steps/min", _ACC, 0, 300, "steps in the minute"),
    Feature("log_energy", "log", _ACC, -5, 20, "log of accelerometer energy"),
    Feature("covariance_cond", "ratio", _ACC, 1, 1e6, "condition number of the 3-axis covariance"),
    Feature("log_energy_ratio", "log ratio", _ACC, -10, 10, "log ratio of high- to low-band energy"),
    Feature("zero_crossing_std", "s", _ACC, 0, 60, "standard deviation of time between zero crossings"),
    Feature("zero_crossing_mean", "s", _ACC, 0, 60, "mean time between zero crossings"),
    Feature("arm_tilt", "degrees", _ACC, -90, 90, "robust arm tilt"),
    Feature("kurtosis", "unitless", _ACC, -3, 1000, "kurtosis of acceleration magnitude"),
    Feature("sleep_coefficient", "unitless", _ACC, 0, 100, "stillness-based sleep coefficient"),
    # skin conductance (2)
    Feature("scl_value", "uS", _EDA, 0, 100, "skin conductance level"),
    Feature("scl_slope", "uS/min", _EDA, -20, 20, "slope of the skin conductance level"),
    # skin temperature (1)
    Feature("skin_temperature", "degC", _TEMP, 15, 45, "skin temperature"),
    # altimeter (1)
    Feature("altimeter_std", "hPa", _ALT, 0, 50, "standard deviation of barometric pressure in the minute"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
N_FEATURES = len(FEATURES)
SENSOR_GROUPS: tuple[str, ...] = (_PPG, _ACC, _EDA, _TEMP, _ALT)
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}

# The labelled activities of the paper's Table 2(b), in a fixed order (class index = position).
ACTIVITIES: tuple[str, ...] = (
    "biking", "elliptical", "hiit", "strength_training", "swimming", "running", "walking", "weightlifting",
)
EXERCISE_LABELS: tuple[str, ...] = ("non_exercise", "exercise")


def valid_range() -> tuple[np.ndarray, np.ndarray]:
    """Per-feature valid minimum and maximum, float32 ``[26]`` each."""
    lo = np.array([f.valid_min for f in FEATURES], np.float32)
    hi = np.array([f.valid_max for f in FEATURES], np.float32)
    return lo, hi


def group_indices(group: str) -> list[int]:
    if group not in SENSOR_GROUPS:
        raise SchemaError(f"unknown sensor group {group!r}; expected one of {', '.join(SENSOR_GROUPS)}")
    return [i for i, f in enumerate(FEATURES) if f.group == group]


def indices_of(names) -> list[int]:
    """Positions of feature ``names`` in the schema; unknown names raise SchemaError naming them."""
    unknown = [n for n in names if n not in INDEX]
    if unknown:
        raise SchemaError(f"unknown feature(s) {', '.join(map(repr, unknown))}; expected names from the "
                          f"26-feature schema, e.g. {', '.join(FEATURE_NAMES[:4])}, ... (see `lsm_edge.schema`)")
    return [INDEX[n] for n in names]


def out_of_range(values: np.ndarray) -> np.ndarray:
    """Boolean mask of observed cells outside the valid range, for ``values[..., 26]`` (NaN = missing, never flagged)."""
    lo, hi = valid_range()
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & ((values < lo) | (values > hi))


def check_range(values: np.ndarray, where: str = "input") -> None:
    """Raise SchemaError naming the first feature with a value outside its valid range, or an infinity."""
    values = np.asarray(values)
    if values.shape[-1] != N_FEATURES:
        raise SchemaError(f"{where}: expected {N_FEATURES} features in the last axis, found {values.shape[-1]}")
    if np.isinf(values).any():
        raise SchemaError(f"{where}: contains inf; use NaN for a missing value")
    bad = out_of_range(values)
    if bad.any():
        j = int(np.argwhere(bad.reshape(-1, N_FEATURES).any(0))[0, 0])
        f = FEATURES[j]
        col = values.reshape(-1, N_FEATURES)[:, j]
        v = col[bad.reshape(-1, N_FEATURES)[:, j]][0]
        raise SchemaError(f"{where}: {f.name} = {v:g} {f.unit} is outside its valid range "
                          f"[{f.valid_min:g}, {f.valid_max:g}] ({int(bad[..., j].sum())} value(s))")


def describe_schema() -> str:
    rows = [f"{i:2d}  {f.name:22s} {f.unit:10s} {f.group:17s} [{f.valid_min:g}, {f.valid_max:g}]"
            for i, f in enumerate(FEATURES)]
    return "\n".join(rows)
