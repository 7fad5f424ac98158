"""Import MMASH (Rossi et al., PhysioNet): one folder per person holding

| file | columns | goes to |
|---|---|---|
| ``Actigraph.csv`` | ``,Axis1,Axis2,Axis3,Steps,HR,Inclinometer Off,... Lying,Vector Magnitude,day,time`` (one row per second, some removed) | see below |
| ``RR.csv``        | ``,ibi_s,day,time`` (one row per beat)                                   | the schema's RR features |
| ``Activity.csv``  | ``,Activity,Start,End,Day`` (a diary)                                     | label channel ``diary_activity`` |
| ``sleep.csv``, ``questionnaire.csv``, ``saliva.csv``, ``user_info.csv`` | per-person tables | part of the layout, not read |

(each plain, ``.csv.gz`` or a one-file ``.zip``).  The subject is ``mmash-<folder name>``.  The
files hold a day number (1, 2) and a clock time, no date: day 1 starts at 2000-01-01 00:00.  Day
``-29`` (users 8 and 9) is the second day written wrongly and is read as day 2.

**Seconds to minutes.**  About 23 % of the seconds were removed before release, so a minute holds
fewer than 60 rows.  A minute with fewer than ``MIN_SECONDS`` (30) rows is missing.  Otherwise:

* ``heart_rate``: the mean of the chest strap's ``HR`` over the minute's seconds.  Seconds outside
  the schema's valid range (the strap reads 3-20 bpm when it loses contact) are left out and
  counted.
* ``step_count``: the mean of ``Steps`` per second × 60, a rate, so removed seconds do not lower it.
* ``Vector Magnitude`` counts go to ``log_energy = ln(1 + counts / min)`` (the per-second mean ×
  60), with the counts as the extra channel ``activity_counts``, as wrist actigraphy counts do
  (``data/awd.py``): they measure motion energy, not steps.  ActiGraph counts are not on the
  Actiwatch's scale; a model sees them through the same slot, and scores stay per set.
* label ``posture``: the inclinometer state held most of the minute (0 off, 1 standing, 2 sitting,
  3 lying).

**RR intervals.**  An interval under 0.3 s or over 2 s (200-30 bpm) is an artefact.  In a minute with
at least ``MIN_BEATS`` (10) valid intervals: ``rr_percent_valid`` (valid / all, %), ``rr_mean``,
``rr_median``, ``rr_p20``, ``rr_p80``, ``sdnn`` (ms), and from successive valid intervals
``rmssd`` (ms) and ``pnn30`` (% of differences over 30 ms).  The entropy features are left missing:
their binning is not specified in the paper.  A value outside the schema's range is left missing.

**Diary.**  Codes 1 sleeping, 2 lying down, 3 sitting, 4 light movement, 5 medium, 6 heavy, 7 eating,
8 small screen, 9 large screen, 10 caffeine, 11 smoking, 12 alcohol.  Entries overlap (screen and
caffeine during sitting); the body's state (1-6) wins over the events (7-12).  An entry whose end is
before its start is read as crossing midnight when that makes it at most 12 hours long; an entry
without a usable start or end, or with another code (the files hold some 0s), is left out and counted
in one line on stderr (with the first such entry's file and line): it is an annotation, not a
measurement, so it does not stop the import.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors
from .textio import base_name, header, rows
from .windows import NO_LABEL, Timeline

NAME = "mmash"
ACTIGRAPH = ("", "Axis1", "Axis2", "Axis3", "Steps", "HR", "Inclinometer Off", "Inclinometer Standing",
             "Inclinometer Sitting", "Inclinometer Lying", "Vector Magnitude", "day", "time")
RR = ("", "ibi_s", "day", "time")
DIARY = ("", "Activity", "Start", "End", "Day")
TABLES = ("sleep.csv", "questionnaire.csv", "saliva.csv", "user_info.csv")
DIARY_CODES = ("none", "sleeping", "lying down", "sitting", "light movement", "medium movement",
               "heavy movement", "eating", "small screen", "large screen", "caffeine", "smoking", "alcohol")
POSTURES = ("off", "standing", "sitting", "lying")
LABEL_NAMES = {"posture": list(POSTURES), "diary_activity": list(DIARY_CODES)}
EXTRA_CHANNELS = ("activity_counts",)
MIN_SECONDS = 30
MIN_BEATS = 10
RR_VALID = (0.3, 2.0)
START = np.datetime64("2000-01-01T00:00", "m")
DAYS = {"1": 0, "2": 1, "-29": 1}


def claim(folder, files) -> list:
    """All of a person's files when the folder holds an ``Actigraph.csv`` of this layout, else []."""
    acti = [p for p in files if base_name(p) == "Actigraph.csv"]
    if not acti or tuple(header(acti[0])) != ACTIGRAPH:
        return []
    known = {"Actigraph.csv", "RR.csv", "Activity.csv", *TABLES}
    return [p for p in files if base_name(p) in known]


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    by_folder = {}
    for p in files:
        by_folder.setdefault(Path(p).parent, {})[base_name(p)] = Path(p)
    errors, out, notes = RowErrors(), [], {"hr": [], "diary": []}
    for folder, named in sorted(by_folder.items()):
        if "Actigraph.csv" not in named:
            raise DataFormatError(f"{folder}: no Actigraph.csv; expected an MMASH person folder")
        tl = _read_person(folder, named, errors, notes)
        if tl is not None:
            out.append(tl)
    errors.raise_or_report(skip_malformed)
    _report(notes)
    if not out:
        raise DataFormatError(f"{', '.join(str(named['Actigraph.csv']) for named in by_folder.values())}: no valid "
                              f"rows; expected the MMASH Actigraph columns ({','.join(ACTIGRAPH[1:])}), one row a second")
    return out


def _second(day: str, time: str) -> int:
    """(day, ``10:10:22``) -> seconds since day 1 00:00.  Raises ValueError."""
    if day.strip() not in DAYS:
        raise ValueError(f"day {day!r} is not 1, 2 (or -29, the second day in users 8 and 9)")
    parts = time.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"time {time!r} is not like 10:10:22")
    h, m, s = (int(p) for p in (parts + ["0"])[:3])
    if (h > 23 and (h, m, s) != (24, 0, 0)) or m > 59 or s > 59:  # 24:00: the diary's end of a day
        raise ValueError(f"time {time!r} is not a time of day")
    return DAYS[day.strip()] * 86400 + h * 3600 + m * 60 + s


def _report(notes: dict) -> None:
    """One line on stderr for what was left out of all the people read (quiet logs, nothing hidden)."""
    parts = []
    if notes["hr"]:
        parts.append(f"{sum(n for _, n in notes['hr'])} seconds of HR outside the schema's valid range left out "
                     f"({len(notes['hr'])} files)")
    if notes["diary"]:
        kinds = {}
        for _, _, what in notes["diary"]:
            k = ("activity code 0" if "code 0" in what else "ends before it starts" if what.startswith("ends (")
                 else what.split(" (")[0].split(":")[0])
            kinds[k] = kinds.get(k, 0) + 1
        first = notes["diary"][0]
        parts.append(f"{len(notes['diary'])} diary entr{'y' if len(notes['diary']) == 1 else 'ies'} left out ("
                     + ", ".join(f"{k}: {n}" for k, n in kinds.items()) + f"; first {first[0]}:{first[1]}: {first[2]})")
    if parts:
        print("lsm-edge: MMASH: " + "; ".join(parts), file=sys.stderr)


def _read_person(folder: Path, named: dict, errors: RowErrors, notes: dict) -> Timeline | None:
    path = named["Actigraph.csv"]
    sec, cols = [], []
    for line, r in rows(path, ACTIGRAPH, errors):
        try:
            s = _second(r[11], r[12])
            v = [float(x) for x in r[1:11]]
            if not all(np.isfinite(v)):
                raise ValueError("a value is not a finite number")
        except ValueError as e:
            errors.add(path, line, str(e))
            continue
        sec.append(s)
        cols.append(v)
    if not sec:
        return None
    sec, cols = np.asarray(sec, np.int64), np.asarray(cols)
    t0 = int(sec.min() // 60)
    minute = sec // 60 - t0
    T = int(minute.max()) + 1
    n = np.bincount(minute, minlength=T)
    enough = n >= MIN_SECONDS
    values = np.full((T, schema.N_FEATURES), np.nan, np.float32)

    lo, hi = schema.valid_range()
    hr = cols[:, 4]
    ok = (hr >= lo[schema.INDEX["heart_rate"]]) & (hr <= hi[schema.INDEX["heart_rate"]])
    if (~ok).any():
        notes["hr"].append((path, int((~ok).sum())))
    n_hr = np.bincount(minute[ok], minlength=T)
    with np.errstate(invalid="ignore", divide="ignore"):
        values[:, schema.INDEX["heart_rate"]] = np.where(enough & (n_hr >= MIN_SECONDS // 2),
                                                         np.bincount(minute[ok], hr[ok], T) / n_hr, np.nan)
        steps = np.bincount(minute, cols[:, 3], T) / n * 60
        counts = np.bincount(minute, cols[:, 9], T) / n * 60
    values[:, schema.INDEX["step_count"]] = np.where(enough & (steps <= hi[schema.INDEX["step_count"]]), steps, np.nan)
    counts = np.where(enough, counts, np.nan).astype(np.float32)
    values[:, schema.INDEX["log_energy"]] = np.log1p(counts)
    incl = np.stack([np.bincount(minute, cols[:, 5 + k], T) for k in range(4)], 1)
    posture = np.where(enough & (incl.sum(1) > 0), incl.argmax(1), NO_LABEL).astype(np.int16)

    if "RR.csv" in named:
        _rr_features(named["RR.csv"], t0, T, values, errors)
    labels = {"posture": posture}
    if "Activity.csv" in named:
        labels["diary_activity"] = _diary(named["Activity.csv"], t0, T, notes["diary"])
    return Timeline(f"mmash-{folder.name}", START + np.timedelta64(t0, "m"), values,
                    extras={"activity_counts": counts}, labels=labels)


def _rr_features(path, t0: int, T: int, values: np.ndarray, errors: RowErrors) -> None:
    sec, ibi = [], []
    for line, r in rows(path, RR, errors):
        try:
            s, v = _second(r[2], r[3]), float(r[1])
            if not np.isfinite(v):
                raise ValueError(f"ibi_s {r[1]!r} is not a finite number")
        except ValueError as e:
            errors.add(path, line, str(e))
            continue
        sec.append(s)
        ibi.append(v)
    if not sec:
        return
    minute = np.asarray(sec, np.int64) // 60 - t0
    ibi = np.asarray(ibi)
    valid = (ibi >= RR_VALID[0]) & (ibi <= RR_VALID[1])
    lo, hi = schema.valid_range()
    order = np.argsort(minute, kind="stable")
    minute, ibi, valid = minute[order], ibi[order], valid[order]
    bounds = np.flatnonzero(np.diff(np.r_[-1, minute, T + 1]))
    for a, b in zip(bounds[:-1], bounds[1:]):
        m = int(minute[a])
        if not 0 <= m < T:
            continue
        ms = ibi[a:b][valid[a:b]] * 1000
        if len(ms) < MIN_BEATS:
            continue
        d = np.abs(np.diff(ms))
        feats = {"rr_percent_valid": 100 * len(ms) / (b - a), "rr_mean": ms.mean(), "rr_median": np.median(ms),
                 "rr_p20": np.percentile(ms, 20), "rr_p80": np.percentile(ms, 80), "sdnn": ms.std(),
                 "rmssd": np.sqrt(np.mean(d ** 2)), "pnn30": 100 * np.mean(d > 30)}
        for k, v in feats.items():
            j = schema.INDEX[k]
            if lo[j] <= v <= hi[j]:
                values[m, j] = v


def _diary(path, t0: int, T: int, skipped: list) -> np.ndarray:
    """Per-minute diary codes; entries that cannot be placed are appended to ``skipped`` (path, line, why)."""
    lab = np.full(T, NO_LABEL, np.int16)
    entries = []
    for line, r in rows(path, DIARY):
        if len(r) != len(DIARY):
            if r:
                skipped.append((path, line, f"{len(r)} fields, expected {len(DIARY)}"))
            continue
        try:
            code = int(r[1])
            if not 1 <= code <= 12:
                raise ValueError(f"activity code {code} is not 1-12")
            a = _second(r[4], r[2]) // 60
            b = _second(r[4], r[3]) // 60
            if b < a:
                b += 1440
                if b - a > 720:
                    raise ValueError(f"ends ({r[3]}) before it starts ({r[2]})")
        except ValueError as e:
            skipped.append((path, line, str(e)))
            continue
        entries.append((code, a - t0, b - t0))
    for code, a, b in sorted(entries, key=lambda e: e[0] <= 6):  # events first, the body's state over them
        lab[max(a, 0):max(min(b, T), 0)] = code
    return lab
