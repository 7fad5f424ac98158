"""Import a Fitbit research export in the Fitabase layout.

Files (any may be absent; at least one must be present):

| file | columns | goes to |
|---|---|---|
| heartrate_seconds_merged.csv | Id,Time,Value (a reading every few s) | ``heart_rate`` (mean per minute); ``on_wrist`` = 1 in minutes with a reading |
| minuteStepsNarrow_merged.csv | Id,ActivityMinute,Steps | ``step_count`` |
| minuteMETsNarrow_merged.csv | Id,ActivityMinute,METs (METs x 10) | extra channel ``mets`` (divided by 10) |
| minuteIntensitiesNarrow_merged.csv | Id,ActivityMinute,Intensity (0-3) | extra channel ``intensity`` |
| minuteCaloriesNarrow_merged.csv | Id,ActivityMinute,Calories | extra channel ``calories`` |
| minuteSleep_merged.csv | Id,date,value,logId (1 asleep, 2 restless, 3 awake) | label channel ``sleep_state`` |

Times look like ``4/12/2016 7:21:00 AM`` and are floored to the minute.  A minute without a
heart-rate reading is missing, not zero.  Each file may also arrive as ``.csv.gz`` or a one-file
``.zip``.  Export folders may sit at any depth, and one person's readings across folders (exports
of consecutive months, or overlapping ones) join into one timeline: a row repeated in several
folders (same person, same time to the second, same value) is read once.  Features the export lacks are all-missing.  Values
outside the schema's valid range and unparsable rows are reported with file and line.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors, TimelineBuilder
from .textio import base_name, open_text
from .windows import Timeline

# file name -> (expected header, channel, scale)
FILES = {
    "heartrate_seconds_merged.csv": (("Id", "Time", "Value"), "heart_rate", 1.0),
    "minuteStepsNarrow_merged.csv": (("Id", "ActivityMinute", "Steps"), "step_count", 1.0),
    "minuteMETsNarrow_merged.csv": (("Id", "ActivityMinute", "METs"), "mets", 0.1),
    "minuteIntensitiesNarrow_merged.csv": (("Id", "ActivityMinute", "Intensity"), "intensity", 1.0),
    "minuteCaloriesNarrow_merged.csv": (("Id", "ActivityMinute", "Calories"), "calories", 1.0),
    "minuteSleep_merged.csv": (("Id", "date", "value", "logId"), "sleep_state", 1.0),
}
EXTRA_CHANNELS = ("mets", "intensity", "calories")
LABEL_CHANNELS = ("sleep_state",)
_TIME = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))? ?([AP]M)?\s*$", re.I)
_EPOCH_DAY = {}


def parse_time(s: str) -> int:
    """``4/12/2016 7:21:00 AM`` -> minutes since 1970-01-01 (floored).  Raises ValueError."""
    return parse_time_s(s) // 60


def parse_time_s(s: str) -> int:
    """``4/12/2016 7:21:05 AM`` -> seconds since 1970-01-01.  Raises ValueError."""
    m = _TIME.match(s)
    if not m:
        raise ValueError(f"time {s!r} is not like 4/12/2016 7:21:00 AM")
    mo, d, y, hh, mm, ss, ampm = m.groups()
    hh, mm = int(hh), int(mm)
    if ampm:
        if not 1 <= hh <= 12:
            raise ValueError(f"hour {hh} in {s!r} is not 1-12 with AM/PM")
        hh = hh % 12 + (12 if ampm.upper() == "PM" else 0)
    ss = int(ss or 0)
    if hh > 23 or mm > 59 or ss > 59:
        raise ValueError(f"time {s!r} is not a valid time of day")
    key = (y, mo, d)
    day = _EPOCH_DAY.get(key)
    if day is None:
        day = _EPOCH_DAY[key] = int(np.datetime64(f"{y}-{int(mo):02d}-{int(d):02d}", "D").astype(np.int64))
    return (day * 1440 + hh * 60 + mm) * 60 + ss


# -- the layout: a folder holding any of FILES (plain or compressed) ---------------------------------
NAME = "fitabase"


def claim(folder, files) -> list:
    """The Fitabase files among ``files`` (the folder's own files); [] when it is no export folder."""
    return [p for p in files if base_name(p) in FILES]


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    """Every Fitabase file of every export folder found -> one timeline per person."""
    return _read_files(list(files), skip_malformed)


def is_fitabase(folder) -> bool:
    return bool(claim(folder, [p for p in Path(folder).iterdir() if p.is_file()]))


def read_fitabase(folder, skip_malformed: bool = False) -> list[Timeline]:
    """One export folder (its own files, not its sub-folders') -> one timeline per person."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"{folder} is not a folder; expected a Fitabase export folder")
    present = claim(folder, sorted(p for p in folder.iterdir() if p.is_file()))
    if not present:
        raise DataFormatError(f"{folder} holds none of the Fitabase files; expected at least one of "
                              f"{', '.join(FILES)}")
    return _read_files(present, skip_malformed)


def _read_files(paths, skip_malformed: bool) -> list[Timeline]:
    lo, hi = schema.valid_range()
    errors, builder = RowErrors(), TimelineBuilder()
    by_kind = {}
    for p in sorted(paths, key=str):
        by_kind.setdefault(base_name(p), []).append(p)
    for name, kind_paths in by_kind.items():
        header, channel, scale = FILES[name]
        subj, seconds, vals = [], [], []
        for path in kind_paths:
            s_, t_, v_ = _read_file(path, header, channel, scale, lo, hi, errors)
            subj += s_
            seconds += t_
            vals += v_
        subj, seconds, vals = np.asarray(subj), np.asarray(seconds, np.int64), np.asarray(vals)
        if len(kind_paths) > 1 and len(subj):  # the same row in several export folders counts once
            _, first = np.unique(np.rec.fromarrays([subj, seconds, vals]), return_index=True)
            keep = np.sort(first)
            subj, seconds, vals = subj[keep], seconds[keep], vals[keep]
        minutes = seconds // 60
        for s in np.unique(subj):
            sel = subj == s
            builder.add(f"fitbit-{s}", minutes[sel], channel, vals[sel])
            if channel == "heart_rate":
                builder.add(f"fitbit-{s}", minutes[sel], "on_wrist", np.ones(sel.sum()))
    errors.raise_or_report(skip_malformed)
    if not builder.subjects():
        raise DataFormatError(f"{', '.join(sorted({str(Path(p).parent) for p in paths}))}: the Fitabase files "
                              f"hold no valid rows")
    return builder.build(label_channels=LABEL_CHANNELS, extra_channels=EXTRA_CHANNELS,
                         where=", ".join(map(str, paths)))


def _read_file(path, header, channel, scale, lo, hi, errors):
    subj, seconds, vals = [], [], []
    for line, r in _read_rows(path, header, errors):
        try:
            t = parse_time_s(r[1])
            v = float(r[2]) * scale
            if not np.isfinite(v):
                raise ValueError(f"value {r[2]!r} is not a finite number")
        except ValueError as e:
            errors.add(path, line, str(e))
            continue
        if channel in schema.INDEX:
            j = schema.INDEX[channel]
            if not lo[j] <= v <= hi[j]:
                errors.add(path, line, f"{channel} {v:g} outside the valid range [{lo[j]:g}, {hi[j]:g}]")
                continue
        subj.append(r[0].strip())
        seconds.append(t)
        vals.append(v)
    return subj, seconds, vals


def _read_rows(path: Path, header, errors: RowErrors):
    with open_text(path) as f:
        reader = csv.reader(f)
        try:
            first = next(reader, None)
        except csv.Error as e:
            raise DataFormatError(f"{path}:1: not a CSV header ({e}); expected {','.join(header)}") from None
        if first is None or tuple(c.strip() for c in first) != header:
            raise DataFormatError(f"{path}:1: header {first!r} is not the Fitabase layout; expected "
                                  f"{','.join(header)}")
        while True:
            try:
                r = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                errors.add(path, reader.line_num, f"not a CSV row ({e})")
                continue
            line = reader.line_num
            if len(r) != len(header):
                if r:  # a blank line is not data
                    errors.add(path, line, f"{len(r)} fields, expected {len(header)} ({','.join(header)})")
                continue
            yield line, r
