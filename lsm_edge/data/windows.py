"""Timelines, windows and the fill the model is fed.

A *timeline* is one subject's minute-level recording ``values: [T, 26]`` (NaN = missing).
A *window* is 300 consecutive minutes of it; a :class:`Windows` batch carries
``values: [N, 300, 26]`` float32 (NaN where missing) with ``missing: [N, 300, 26]`` bool beside it,
the subject of each window, its start time, its labels and its split.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .. import schema
from ..errors import SchemaError

SPLITS = ("train", "val", "test")
NO_LABEL = -1


@dataclass
class Timeline:
    """One subject's minute-level data.

    values: [T, 26] float32, NaN = missing.  start: minute timestamp of row 0 (datetime64[m]).
    extras: optional per-minute channels the schema lacks (e.g. METs), each [T] float32.
    labels: optional per-minute integer labels, each [T] int (NO_LABEL = none), e.g. ``activity``.
    meta: what the importer knew of the recording (device readers: ``file``, ``device``, ``epoch_s``,
    ``channels``, ``units`` of the extras); not stored in datasets beyond the manifest.
    """

    subject: str
    start: np.datetime64
    values: np.ndarray
    extras: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.values = np.asarray(self.values, np.float32)
        if self.values.ndim != 2 or self.values.shape[1] != schema.N_FEATURES:
            raise SchemaError(f"timeline of {self.subject}: expected values [T, {schema.N_FEATURES}], "
                              f"found {list(self.values.shape)}")
        self.start = np.datetime64(self.start, "m")

    @property
    def minutes(self) -> int:
        return self.values.shape[0]


@dataclass
class Windows:
    """A batch of windows.  Shapes: values/missing [N, 300, F]; every other field [N]."""

    values: np.ndarray
    missing: np.ndarray
    subject: np.ndarray  # str
    start: np.ndarray  # datetime64[m]
    split: np.ndarray  # int8 index into SPLITS
    exercise: np.ndarray  # int8: 0/1, NO_LABEL if unknown
    activity: np.ndarray  # int8: index into schema.ACTIVITIES, NO_LABEL if none

    def __post_init__(self):
        n = len(self.values)
        for f in fields(self):
            if len(getattr(self, f.name)) != n:
                raise SchemaError(f"Windows.{f.name} has {len(getattr(self, f.name))} rows, expected {n}")

    def __len__(self):
        return len(self.values)

    def take(self, idx) -> "Windows":
        return Windows(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def of_split(self, name: str) -> "Windows":
        if name not in SPLITS:
            raise SchemaError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return self.take(self.split == SPLITS.index(name))

    def as_arrays(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["start"] = d["start"].astype("datetime64[m]").astype(np.int64)
        d["subject"] = d["subject"].astype(str)
        return d

    @classmethod
    def from_arrays(cls, d) -> "Windows":
        d = {f.name: d[f.name] for f in fields(cls)}
        d["start"] = np.asarray(d["start"], np.int64).astype("datetime64[m]")
        return cls(**d)

    @classmethod
    def concat(cls, parts) -> "Windows":
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    @classmethod
    def empty(cls, n_features: int = schema.N_FEATURES) -> "Windows":
        return cls(values=np.zeros((0, schema.WINDOW_MINUTES, n_features), np.float32),
                   missing=np.zeros((0, schema.WINDOW_MINUTES, n_features), bool),
                   subject=np.zeros(0, "<U1"), start=np.zeros(0, "datetime64[m]"),
                   split=np.zeros(0, np.int8), exercise=np.zeros(0, np.int8), activity=np.zeros(0, np.int8))


def window_labels(activity_minutes: np.ndarray, min_exercise_minutes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Labels of windows from per-minute activity codes ``[N, 300]`` (NO_LABEL = no labelled activity).

    exercise = at least ``min_exercise_minutes`` minutes of a labelled activity; activity = the
    labelled activity with the most minutes in an exercise window, NO_LABEL otherwise.
    """
    n_act = len(schema.ACTIVITIES)
    counts = np.stack([(activity_minutes == k).sum(1) for k in range(n_act)], 1)  # [N, 8]
    exercise = (counts.sum(1) >= min_exercise_minutes).astype(np.int8)
    activity = np.where(exercise == 1, counts.argmax(1), NO_LABEL).astype(np.int8)
    return exercise, activity


def cut_windows(tl: Timeline, split: int, window: int = schema.WINDOW_MINUTES, stride: int | None = None,
                min_observed: float = 0.2) -> Windows:
    """Cut a timeline into windows ``[N, window, 26]``.

    Keeps a window when at least ``min_observed`` of its minutes have some observed feature
    (``on_wrist`` alone does not count: it is observed even when the watch is off).
    Labels come from ``tl.labels['activity']`` where present, else NO_LABEL.
    """
    stride = stride or window
    if tl.minutes < window:
        return Windows.empty()
    starts = np.arange(0, tl.minutes - window + 1, stride)
    idx = starts[:, None] + np.arange(window)[None, :]
    vals = tl.values[idx]  # [N, W, F]
    signal = np.delete(vals, schema.INDEX["on_wrist"], axis=2)
    observed_minutes = (~np.isnan(signal)).any(2).mean(1)
    keep = observed_minutes >= min_observed
    vals, idx, starts = vals[keep], idx[keep], starts[keep]
    n = len(vals)
    if "activity" in tl.labels:
        exercise, activity = window_labels(np.asarray(tl.labels["activity"])[idx])
    else:
        exercise = activity = np.full(n, NO_LABEL, np.int8)
    return Windows(values=vals, missing=np.isnan(vals), subject=np.full(n, tl.subject),
                   start=tl.start + starts.astype("timedelta64[m]"), split=np.full(n, split, np.int8),
                   exercise=exercise, activity=activity)


def fill_linear(values: np.ndarray, missing: np.ndarray | None = None, all_missing: float = 0.0) -> np.ndarray:
    """Linear interpolation along time inside each window, edges back/forward-filled (as the paper does).

    values: [..., T, F]; missing: same shape (default: NaN cells).  A feature with no observed
    minute in its window becomes ``all_missing`` (0 = the mean in z-units).  Vectorised.
    """
    values = np.asarray(values, np.float32)
    missing = np.isnan(values) if missing is None else np.asarray(missing, bool)
    prev_i, next_i, has_prev, has_next = _neighbours(missing)
    t = np.arange(values.shape[-2])[:, None]
    v = np.where(missing, 0.0, values)
    pv = np.take_along_axis(v, prev_i, axis=-2)
    nv = np.take_along_axis(v, next_i, axis=-2)
    span = np.maximum(next_i - prev_i, 1)
    w = (t - prev_i) / span
    interp = pv + (nv - pv) * w
    out = np.where(has_prev & has_next, interp, np.where(has_prev, pv, np.where(has_next, nv, all_missing)))
    return np.where(missing, out, values).astype(np.float32)


def fill_nearest(values: np.ndarray, missing: np.ndarray | None = None, all_missing: float = 0.0) -> np.ndarray:
    """Nearest observed minute along time (ties to the earlier one), edges back/forward-filled."""
    values = np.asarray(values, np.float32)
    missing = np.isnan(values) if missing is None else np.asarray(missing, bool)
    prev_i, next_i, has_prev, has_next = _neighbours(missing)
    t = np.arange(values.shape[-2])[:, None]
    v = np.where(missing, 0.0, values)
    pv = np.take_along_axis(v, prev_i, axis=-2)
    nv = np.take_along_axis(v, next_i, axis=-2)
    use_next = has_next & (~has_prev | ((next_i - t) < (t - prev_i)))
    out = np.where(use_next, nv, np.where(has_prev, pv, all_missing))
    return np.where(missing, out, values).astype(np.float32)


def fill_locf(values: np.ndarray, missing: np.ndarray | None = None, all_missing: float = 0.0) -> np.ndarray:
    """Last observation carried forward along time; minutes before the first observation take the
    first one (carried backward).  The same rule as PyPOTS' ``LOCF(first_step_imputation="backward")``."""
    values = np.asarray(values, np.float32)
    missing = np.isnan(values) if missing is None else np.asarray(missing, bool)
    prev_i, next_i, has_prev, has_next = _neighbours(missing)
    v = np.where(missing, 0.0, values)
    pv = np.take_along_axis(v, prev_i, axis=-2)
    nv = np.take_along_axis(v, next_i, axis=-2)
    out = np.where(has_prev, pv, np.where(has_next, nv, all_missing))
    return np.where(missing, out, values).astype(np.float32)


def _neighbours(missing):
    """Index of the previous / next observed minute for every cell of ``missing [..., T, F]``."""
    T = missing.shape[-2]
    t = np.broadcast_to(np.arange(T)[:, None], missing.shape)
    prev_i = np.maximum.accumulate(np.where(missing, -1, t), axis=-2)
    rev = np.flip(np.where(missing, T, t), axis=-2)
    next_i = np.flip(np.minimum.accumulate(rev, axis=-2), axis=-2)
    has_prev, has_next = prev_i >= 0, next_i < T
    return np.clip(prev_i, 0, T - 1), np.clip(next_i, 0, T - 1), has_prev, has_next
