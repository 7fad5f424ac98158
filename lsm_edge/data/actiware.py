"""Import Philips Respironics Actiware CSV exports (Actiwatch 2, Spectrum, Spectrum Plus ...), in any
export language and version.

An export is a header of ``"key:","value"`` properties in sections set off by lines of dashes,
statistics tables, then the epoch-by-epoch table::

    "Actiware Export File  (Version 05.00 )"          (French: "Fichier d'exportation Actiware ...")
    ...
    "Line","Date","Time","Activity","Marker","White Light","Sleep/Wake","Interval Status",
    "1","04/07/2015","09:45:00","0","0","0.01","NaN","ACTIVE",

Header words, date formats, decimal separators and the text encoding change with the export
language, so nothing here reads a word:

- **recognised** by the product name ``Actiware`` in the first line and an epoch table;
- **the epoch table** is the last run of rows numbered 1, 2, 3 ... that hold a date and a clock time
  (the marker and statistics tables above it are shorter or have no time);
- **columns** by position and values: the date and time cells; a column of seconds since the start
  (some versions) is skipped; after the time, flag columns (only 0 / 1) before the first numeric
  column are skipped (off-wrist status in some versions); that first numeric column is the
  activity (counts per epoch); the flag column right after it is the event marker; the next
  non-flag numeric column is white light (lux); later columns (colour light bands, sleep / wake,
  mobility, interval status) are not read;
- **dates** ``d/m/y``, ``m/d/y``, ``y-m-d``, ``d.m.y`` or ``y/m/d`` (separators ``/ . -``), the
  order chosen as the one under which the rows advance one epoch at a time (ties: day first); a
  12-hour clock with AM / PM is read too;
- **numbers** with a decimal point or a decimal comma (always in a ``;``-separated export; in a
  comma-separated one, where such cells are quoted, when commas outnumber points), in E-notation too
  (``"2,35E+02"``); ``NaN``, ``NAN`` or an empty cell is missing; a column of number-like cells that
  still do not read is named on stderr with file and line, never dropped in silence;
- **the subject** is the first property after the first line of dashes (``Identity`` in English).

The epoch is the rows' time step.  Counts fold onto minutes as in ``data/epochs.py``.
"""

from __future__ import annotations

import csv
import functools
import re
import sys

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, kept_rows, step, subject_id, to_timeline
from .importing import RowErrors
from .textio import head_lines, text_lines
from .windows import Timeline

NAME = "actiware"
EXTRA_CHANNELS = ("activity_counts", "light")
_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?$")
_MISSING = {"", "nan", "na", "n/a", "-"}


def recognise(path) -> bool:
    lines = [ln for ln in head_lines(path, 4096) if ln.strip()]
    return bool(lines) and "actiware" in lines[0].lower()


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_actiware(p, skip_malformed) for p in files]


def _delimiter(lines) -> str:
    sample = [ln for ln in lines[:400] if ln.strip()]
    return max((",", ";", "\t"), key=lambda d: sum(ln.count(d) for ln in sample))


_COMMA = re.compile(r"^[-+]?\d*,\d+(?:[eE][-+]?\d+)?$")  # 2,35E+02 or 0,01: a decimal comma
_POINT = re.compile(r"^[-+]?\d*\.\d+(?:[eE][-+]?\d+)?$")


def _number(cell: str, comma_decimal: bool) -> float:
    c = cell.strip()
    if c.lower() in _MISSING:
        return np.nan
    if comma_decimal:
        c = c.replace(".", "").replace(",", ".") if "," in c else c
    return float(c)


def _comma_decimal(table, delim: str) -> bool:
    """Whether the export writes decimal commas: always in a ``;``- or tab-separated one; in a comma-separated
    one (where such cells are quoted, ``"2,35E+02"``) when its decimal cells have commas more often than points."""
    if delim != ",":
        return True
    cells = [c for r in table[:2000] for c in r]
    return sum(bool(_COMMA.match(c)) for c in cells) > sum(bool(_POINT.match(c)) for c in cells)


def _clock(cell: str):
    m = _TIME.match(cell.strip())
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if m.group(4):
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if m.group(4)[0] in "Pp" else 0)
    return h * 3600 + mi * 60 + s if h < 24 and mi < 60 and s < 60 else None


def _dates(cells, order: str):
    """Cells -> datetime64[D] (NaT where a cell does not parse) under ``order`` (dmy, mdy or ymd)."""
    out = np.full(len(cells), np.datetime64("NaT"), "datetime64[D]")
    for i, c in enumerate(cells):
        m = _DATE.match(c.strip())
        if not m:
            continue
        a, b, y = m.groups()
        if order == "ymd":
            a, b, y = b, y, a
        d, mo = (a, b) if order == "dmy" else (b, a)
        if len(y) != 4:
            continue
        try:
            out[i] = np.datetime64(f"{int(y):04d}-{int(mo):02d}-{int(d):02d}", "D")
        except ValueError:
            pass
    return out


def read_actiware(path, skip_malformed: bool = False) -> Timeline:
    lines = text_lines(path)
    if not lines or "actiware" not in next((ln for ln in lines if ln.strip()), "").lower():
        raise DataFormatError(f"{path}:1: not an Actiware export; expected 'Actiware' in the first line")
    delim = _delimiter(lines)
    try:
        rows = list(csv.reader(lines, delimiter=delim))
    except csv.Error as e:
        raise DataFormatError(f"{path}: not a {delim!r}-separated export ({e})") from None
    rows = [[c.strip() for c in r] for r in rows]
    while rows and rows[-1] and not any(rows[-1]):
        rows.pop()

    # the epoch table: the last row numbered "1" holding a date and a time, and the rows after it
    first = None
    for i in range(len(rows) - 1, -1, -1):
        r = rows[i]
        if r and r[0] == "1" and any(_DATE.match(c) for c in r[1:4]) and any(_clock(c) is not None for c in r[1:5]):
            first = i
            break
    if first is None:
        raise DataFormatError(f"{path}: no epoch-by-epoch table; expected rows numbered 1, 2, 3 ... with a date "
                              f"and a time after the header")
    head = next((rows[k] for k in range(first - 1, -1, -1) if any(rows[k])), [])
    r0 = rows[first]
    dcol = next(k for k in range(1, 4) if _DATE.match(r0[k]))
    tcol = next(k for k in range(dcol + 1, min(dcol + 3, len(r0))) if _clock(r0[k]) is not None)
    width = len(head) if head else len(r0)

    errors = RowErrors()
    body, line_no = [], []
    for k in range(first, len(rows)):
        r = rows[k]
        if not any(r):
            continue
        if len(r) < tcol + 2:
            errors.add(path, k + 1, f"{len(r)} fields; expected {width} (line, date, time, activity ...)")
            continue
        body.append(r)
        line_no.append(k + 1)
    if not body:
        raise DataFormatError(f"{path}: the epoch table has no rows")
    ncol = max(len(r) for r in body)
    table = [r + [""] * (ncol - len(r)) for r in body]
    comma = _comma_decimal(table, delim)

    @functools.cache
    def column(c):
        vals = np.full(len(table), np.nan)
        for i, r in enumerate(table):
            try:
                vals[i] = _number(r[c], comma)
            except ValueError:
                pass
        return vals

    def numeric(c):  # a column of numbers (missing cells aside)
        cells = [r[c] for r in table if r[c].lower() not in _MISSING]
        return bool(cells) and np.isfinite(column(c)).sum() >= 0.9 * len(cells)

    def flag(c):
        v = column(c)
        return numeric(c) and np.isin(v[np.isfinite(v)], (0, 1)).all()

    after = [c for c in range(tcol + 1, ncol) if numeric(c)]
    while after and flag(after[0]):
        after = after[1:]
    if not after:
        raise DataFormatError(f"{path}:{line_no[0]}: no activity column after the time column; expected "
                              f"activity counts, marker, light ...")
    act_col = after[0]
    marker_col = act_col + 1 if act_col + 1 < ncol and flag(act_col + 1) else None
    light_col = next((c for c in after[1:] if not flag(c)), None)
    for c in range(act_col + 1, light_col or ncol):  # a column of numbers this reader could not read: said
        bad = next((i for i, r in enumerate(table) if r[c].lower() not in _MISSING and re.search(r"\d", r[c])
                    and not np.isfinite(column(c)[i])), None)
        if bad is not None and not numeric(c):
            name = head[c] if c < len(head) and head[c] else f"column {c + 1}"
            print(f"lsm-edge: {path}:{line_no[bad]}: {name!r} not read: {table[bad][c]!r} is not a number "
                  f"(expected numbers like 235 or 2.35E+02); the recording is imported without it", file=sys.stderr)

    clocks = [_clock(r[tcol]) for r in table]
    date_cells = [r[dcol] for r in table]
    best = None
    for order in ("dmy", "mdy", "ymd"):
        days = _dates(date_cells, order)
        ok = ~np.isnat(days) & np.array([c is not None for c in clocks])
        if not ok.any():
            continue
        t = days[ok].astype(np.int64) * 86400 + np.array([c for c, o in zip(clocks, ok) if o], np.int64)
        steps = np.diff(t)
        typical = np.median(steps) if len(steps) else 60
        fit = (ok.sum(), int((steps == typical).sum()) if len(steps) else 0)
        if best is None or fit > best[0]:
            best = (fit, order, days, ok)
    if best is None:
        raise DataFormatError(f"{path}:{line_no[0]}: date {date_cells[0]!r} / time {table[0][tcol]!r} not read; "
                              f"expected a date like 04/07/2015 and a time like 09:45:00")
    _, order, days, ok = best
    for i in np.flatnonzero(~ok):
        errors.add(path, line_no[i], f"date {date_cells[i]!r} / time {table[i][tcol]!r} not read "
                                     f"(expected {'/'.join(order)} dates and a clock time)")
    secs = np.array([d.astype(np.int64) * 86400 + c if o else 0 for d, c, o in zip(days, clocks, ok)], np.int64)
    act = column(act_col)
    for i in np.flatnonzero(ok & np.isfinite(act) & (act < 0)):
        errors.add(path, line_no[i], f"activity {table[i][act_col]!r} is negative; expected counts >= 0")
        ok[i] = False
    keep, secs = kept_rows(path, secs, ok, line_no, errors, skip_malformed)
    secs = secs[keep]
    epoch = step(secs, 60)
    if epoch <= 0 or epoch > 3600:
        raise DataFormatError(f"{path}: epoch of {epoch:g} s from the rows' times; expected 1 s to 1 h")
    channels = {"activity": (act[keep], "sum", "counts/min (Actiware)")}
    if light_col is not None:
        channels["light"] = (column(light_col)[keep], "mean", "lux")
    labels = {"event_marker": np.nan_to_num(column(marker_col)[keep]).astype(np.int16)} if marker_col else {}
    start, offsets = at(secs)
    rec = Recording(str(path), subject_id("actiware", _subject(rows), path), "Philips Actiware export", start, epoch,
                    offsets, channels, labels=labels)
    return to_timeline(rec)


def _subject(rows) -> str:
    """The first ``key, value`` property after the first line of dashes (the subject's identity)."""
    seen = False
    for r in rows[:80]:
        if r and r[0].startswith("-----"):
            seen = True
        elif seen and len(r) >= 2 and r[0] and r[1] and r[1] != "*":
            return r[1]
    return ""
