"""Import Garmin 5-minute exports as published by the Manchester T1D study (T1D-UOM, ``UoMsleepNNNN.csv``)::

    sleep_ts,step_count,heart_rate,current_activity_type_intensity,stress_level_value,sleep_level,resting_heart_rate
    06/10/2023 00:05,0,83,8,29,0,0

Recognised by its columns (``sleep_ts`` with ``heart_rate``; any order).  One file is one person
(subject ``garmin-<file stem>``); times are ``dd/mm/yyyy HH:MM``, local clock.

**Rows onto minutes.** Each row is a 5-minute epoch ``[t, t + 5 min)`` and goes onto the minute grid
by the one minute rule of ``data/epochs.py``, as any device epoch does: a level (heart rate) holds
for the five minutes its epoch covers.  Why not one minute of five: the row is the device's summary
of its 5 minutes, as a 5-minute actigraph epoch is; with one minute of five, every window of a
Garmin person would be 80 % missing by construction and fall at the 20 % observed-minutes rule of
``cut_windows`` whenever one reading is absent, and a score on a hidden span weighs each reading the
same either way (each counts five times, or once).  Plateaus of five equal minutes are what the
model sees of this device; its finer structure is not in the file.

| column | goes to |
|---|---|
| ``heart_rate`` (0 = no reading) | ``heart_rate``; ``on_wrist`` = 1 where there is a reading |
| ``step_count`` | extra ``garmin_step_counter``, **not** ``step_count`` (below) |
| ``stress_level_value`` (Garmin's 0-100; negative = not measured) | label ``garmin_stress`` (the value) |
| ``sleep_level`` | label ``garmin_sleep_level`` (the code as written: 0 or 1 in these files) |
| ``current_activity_type_intensity`` | extra ``garmin_activity_code`` (Garmin's packed code, as written) |
| ``resting_heart_rate`` (0 = none) | extra ``resting_heart_rate`` (bpm, Garmin's daily estimate) |

**Steps are not read as steps.**  Measured on the 11 published files: ``step_count`` is non-zero in
21-33 % of rows, with values up to 34,358 in one 5-minute row, in interleaved rising sequences
(5,249, 12,126, 5,344, 5,366, 12,139 ...): Garmin's running per-activity-type daily counters, not
the steps taken in the row's five minutes.  The steps per minute cannot be recovered from them
without the device's own records, so ``step_count`` stays missing for this device and the counter
is kept as it is.  Stress and sleep level are Garmin's estimates, not ground truth.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, clock, kept_rows, step, subject_id, to_timeline
from .importing import RowErrors
from .textio import header, is_table, rows, stem
from .windows import NO_LABEL, Timeline

NAME = "garmin5min"
EPOCH_S = 300.0
REQUIRED = ("sleep_ts", "heart_rate")
EXTRA = {"step_count": ("garmin_step_counter", "steps (Garmin daily counter)"),
         "current_activity_type_intensity": ("garmin_activity_code", "code"),
         "resting_heart_rate": ("resting_heart_rate", "bpm")}
LABELS = {"stress_level_value": "garmin_stress", "sleep_level": "garmin_sleep_level"}
EXTRA_CHANNELS = tuple(v[0] for v in EXTRA.values())
_TIME = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?\s*")


def _columns(path) -> dict | None:
    cols = {c.strip(): i for i, c in enumerate(header(path))}
    return cols if all(c in cols for c in REQUIRED) else None


def recognise(path) -> bool:
    return is_table(path) and _columns(path) is not None


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_file(p, skip_malformed) for p in sorted(files, key=str)]


def read_file(path, skip_malformed: bool = False) -> Timeline:
    cols = _columns(path)
    if cols is None:
        raise DataFormatError(f"{path}:1: header {header(path)!r}; expected the Garmin 5-minute columns "
                              f"sleep_ts,heart_rate,... (T1D-UOM)")
    errors = RowErrors()
    numeric = [c for c in ("heart_rate", *EXTRA, *LABELS) if c in cols]
    secs, lines, vals = [], [], []
    for line, r in rows(path, errors=errors, width=len(cols)):
        m = _TIME.fullmatch(r[cols["sleep_ts"]])
        t = clock(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]), int(m[6] or 0)) if m else None
        if t is None:
            errors.add(path, line, f"sleep_ts {r[cols['sleep_ts']]!r} is not like 06/10/2023 00:05 (dd/mm/yyyy HH:MM)")
            continue
        try:
            row = [float(r[cols[c]]) if r[cols[c]].strip() else np.nan for c in numeric]
        except ValueError:
            errors.add(path, line, f"a value of {', '.join(r[cols[c]] for c in numeric)!r} is not a number")
            continue
        secs.append(t)
        lines.append(line)
        vals.append(row)
    if not secs:
        errors.raise_or_report(skip_malformed)
        raise DataFormatError(f"{path}: no valid rows")
    keep, secs = kept_rows(path, np.asarray(secs, np.float64), np.ones(len(secs), bool), lines, errors,
                           skip_malformed)
    v = np.asarray(vals, np.float64)[keep]
    secs = secs[keep]
    col = {c: v[:, i] for i, c in enumerate(numeric)}
    hr = np.where(col["heart_rate"] > 0, col["heart_rate"], np.nan)  # 0 = no reading
    channels = {"heart_rate": (hr, "mean", "bpm"), "on_wrist": (np.where(np.isfinite(hr), 1.0, np.nan), "mean", "0/1")}
    for c, (name, unit) in EXTRA.items():
        if c in col:
            x = col[c]
            if c == "resting_heart_rate":
                x = np.where(x > 0, x, np.nan)
            channels[name] = (x, "mean", unit)
    labels = {name: np.where(np.isfinite(col[c]) & (col[c] >= 0), col[c], NO_LABEL).astype(np.int16)
              for c, name in LABELS.items() if c in col}
    start, offsets = at(secs)
    rec = Recording(str(path), subject_id("garmin", stem(path), path), "Garmin (5-minute export, T1D-UOM)", start,
                    step(secs, EPOCH_S), offsets, channels, labels=labels)
    return to_timeline(rec)
