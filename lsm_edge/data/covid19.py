"""Import the Fitbit minute files of Mishra et al. 2020 (the ``covid19`` layout).

Per person, one or both of (plain, ``.csv.gz`` or a one-file ``.zip``):

| file | columns | goes to |
|---|---|---|
| ``<ID>_hr.csv``    | ``,user,datetime,heartrate`` (a reading every 5 s or once a minute) | ``heart_rate`` (mean per minute); ``on_wrist`` = 1 in minutes with a reading |
| ``<ID>_steps.csv`` | ``,user,datetime,steps`` (one row per minute, zero-filled)          | ``step_count`` |

The first column is the exporter's row index and is ignored; the person is the ``user`` column
(subject ``covid19-<user>``), never the file name, and a person's files join into one timeline.
Times are ``2020-03-10 00:00:06`` (local clock, floored to the minute).

Rules (measured caveats in ../shared/data/real/README.md):

* **Duplicate minutes.** Some steps files hold one minute in two rows, one of them 0 and the other
  a count (the export zero-fills every minute, then appends the synced count). The larger value
  is kept: a zero beside a count is the fill, not a second measurement.  Several heart-rate
  readings in one minute are averaged.
* **Non-wear.** The steps files are zero-filled, so a zero can be stillness or a band left on the
  table.  For a person with heart rate, a zero-step minute counts as observed only when a
  heart-rate reading lies within ``WEAR_MINUTES`` (15) minutes of it: the optical sensor saw skin.
  Otherwise it is missing.  A minute with steps > 0 is always kept, with or without heart rate
  (for three people 14-15 % of the minutes without heart rate have steps: a loose band still
  counts steps).  For a person with steps alone nothing tells wear, so only a run of zeros of at
  least ``STEPS_ONLY_OFF_MINUTES`` (12 h) is taken as not worn: nobody awake takes no step for
  12 hours, and a night's sleep is shorter.
* Heart rate outside the schema's valid range and unparsable rows are reported with file and line.
"""

from __future__ import annotations

import re

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors, TimelineBuilder
from .textio import header, is_table, rows
from .windows import Timeline

NAME = "covid19"
KINDS = {"heartrate": "heart_rate", "steps": "step_count"}  # last header column -> channel
WEAR_MINUTES = 15
STEPS_ONLY_OFF_MINUTES = 12 * 60


def _kind(path) -> str | None:
    h = header(path)
    if len(h) == 4 and h[1:3] == ["user", "datetime"] and h[3] in KINDS:
        return h[3]
    return None


def recognise(path) -> bool:
    """A table whose header is ``<index>,user,datetime,heartrate`` or ``...,steps``."""
    return is_table(path) and _kind(path) is not None


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    errors, builder = RowErrors(), TimelineBuilder()
    lo, hi = schema.valid_range()
    has_hr = set()
    for path in sorted(files, key=str):
        kind = _kind(path)
        if kind is None:
            raise DataFormatError(f"{path}:1: header {header(path)!r}; expected ,user,datetime,heartrate or "
                                  f",user,datetime,steps (the covid19 layout)")
        channel = KINDS[kind]
        users, minutes, vals = _read_table(path, channel, lo, hi, errors)
        for u in np.unique(users):
            sel = users == u
            m, v = minutes[sel], vals[sel]
            subject = f"covid19-{u}"
            if channel == "step_count":  # duplicate minutes: the largest count (see the module doc)
                m, inv = np.unique(m, return_inverse=True)
                best = np.full(len(m), -np.inf)
                np.maximum.at(best, inv, v)
                v = best
            else:
                has_hr.add(subject)
                builder.add(subject, m, "on_wrist", np.ones(len(m)))
            builder.add(subject, m, channel, v)
    errors.raise_or_report(skip_malformed)
    if not builder.subjects():
        raise DataFormatError(f"{', '.join(map(str, files))}: no valid rows")
    return [_non_wear(tl, tl.subject in has_hr) for tl in builder.build(where=", ".join(map(str, files)))]


def _read_table(path, channel, lo, hi, errors: RowErrors):
    users, stamps, vals, lines = [], [], [], []
    for line, r in rows(path, errors=errors, width=4):  # index, user, datetime, value
        users.append(r[1].strip())
        stamps.append(r[2].strip())
        vals.append(r[3].strip())
        lines.append(line)
    users, lines = np.asarray(users), np.asarray(lines)
    minutes = _parse_minutes(stamps, lines, path, errors)
    v = np.full(len(vals), np.nan)
    ok = minutes >= 0
    j = schema.INDEX[channel]
    for i, s in enumerate(vals):
        if not ok[i]:
            continue
        try:
            v[i] = float(s)
        except ValueError:
            pass
        if not np.isfinite(v[i]):
            errors.add(path, int(lines[i]), f"{channel} {s!r} is not a finite number")
            ok[i] = False
        elif not lo[j] <= v[i] <= hi[j]:
            errors.add(path, int(lines[i]), f"{channel} {v[i]:g} outside the valid range [{lo[j]:g}, {hi[j]:g}]")
            ok[i] = False
        elif not users[i]:
            errors.add(path, int(lines[i]), "empty user")
            ok[i] = False
    return users[ok], minutes[ok], v[ok]


_STAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?")  # local clock time, no zone


def _parse_minutes(stamps, lines, path, errors) -> np.ndarray:
    """``2020-03-10 00:00:06`` -> minutes since 1970 (floored); -1 where unparsable (reported).  The files hold
    local clock times: anything else (a time zone suffix such as ``+02:00``, stray characters, which numpy would
    read as a zone and shift) is refused rather than shifted silently."""
    zoned = np.array([_STAMP.fullmatch(str(s).strip()) is None for s in stamps], bool)
    try:
        if zoned.any():
            raise ValueError
        return np.asarray(stamps, "datetime64[s]").astype("datetime64[m]").astype(np.int64)
    except ValueError:
        out = np.full(len(stamps), -1, np.int64)
        for i, s in enumerate(stamps):
            try:
                if zoned[i]:
                    raise ValueError
                out[i] = np.datetime64(s, "s").astype("datetime64[m]").astype(np.int64)
            except ValueError:
                errors.add(path, int(lines[i]),
                           f"datetime {str(s)!r} is not like 2020-03-10 00:00:06 (local time, no zone)")
        return out


def _non_wear(tl: Timeline, has_hr: bool) -> Timeline:
    j = schema.INDEX["step_count"]
    steps = tl.values[:, j]
    zero = steps == 0
    if has_hr:
        hr = ~np.isnan(tl.values[:, schema.INDEX["heart_rate"]])
        full = np.convolve(hr.astype(np.int32), np.ones(2 * WEAR_MINUTES + 1, np.int32))  # [T + 2 WEAR]
        near = full[WEAR_MINUTES:WEAR_MINUTES + len(hr)] > 0
        off = zero & ~near
    else:
        off = zero & (_run_length(zero) >= STEPS_ONLY_OFF_MINUTES)
    tl.values[off, j] = np.nan
    return tl


def _run_length(mask: np.ndarray) -> np.ndarray:
    """For each True cell, the length of the run of True it belongs to (0 elsewhere)."""
    out = np.zeros(len(mask), np.int64)
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        out[a:b] = b - a
    return out

