"""Import the time series of biobankAccelerometerAnalysis (the UK Biobank accelerometer pipeline,
Oxford; ``*-timeSeries.csv.gz``): 30-second rows of mean acceleration ``acc`` in milli-g::

    time,acc,light,moderate-vigorous,sedentary,sleep,MET
    2014-05-07 13:29:50.439000+0100 [Europe/London],63.146,0.0,0.0,1.0,0.0,1.56

Recognised by its header: ``time`` then ``acc``.  Rows with an empty ``acc`` are non-wear (the tool
blanks them): missing.  ``acc`` is the activity channel in its own unit, milli-g averaged over the
minute (``log_energy = ln(1 + mg)``, the extra ``acceleration_mg``).  The other columns (``light``,
``moderate-vigorous``, ``sedentary``, ``sleep``, ``MET``, ``imputed``) are the tool's own model
predictions: never read, never labels.  ``light`` there is light *activity*, not lux.

Times are local clock time with a UTC offset; a change of offset inside a file (daylight saving)
is removed by keeping the first row's offset throughout, so the time axis never jumps.  The
``sample-summary.json`` beside a time series is the tool's summary and is not read.
"""

from __future__ import annotations

import csv
import re

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, clock, kept_rows, step, to_timeline
from .importing import RowErrors
from .textio import header, is_table, open_text, stem
from .windows import Timeline

NAME = "biobank"
EXTRA_CHANNELS = ("acceleration_mg",)
_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(?:([+-])(\d{2}):?(\d{2}))?")


def recognise(path) -> bool:
    h = [c.lower() for c in header(path)] if is_table(path) else []
    return h[:2] == ["time", "acc"]


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_biobank(p, skip_malformed) for p in files]


def _seconds(cell: str):
    """-> (seconds since 1970 on the local clock, UTC offset in seconds) or None."""
    m = _TIME.match(cell.strip())
    if not m:
        return None
    t = clock(*(int(g) for g in m.groups()[:6]))
    if t is None:
        return None
    frac = float(m.group(7) or 0)
    off = 0 if not m.group(8) else (1 if m.group(8) == "+" else -1) * (int(m.group(9)) * 3600 + int(m.group(10)) * 60)
    return t + frac, off


def read_biobank(path, skip_malformed: bool = False) -> Timeline:
    errors = RowErrors()
    secs, acc, lines = [], [], []
    off0 = None
    with open_text(path) as f:
        reader = csv.reader(f)
        try:
            head = [c.strip().lower() for c in next(reader, [])]
            if head[:2] != ["time", "acc"]:
                raise DataFormatError(f"{path}:1: header {head[:3]}; expected time,acc,... (biobankAccelerometerAnalysis)")
            for line, r in enumerate(reader, start=2):
                if not r:
                    continue
                t = _seconds(r[0]) if r else None
                if t is None or len(r) != len(head):
                    errors.add(path, line, f"row {','.join(r)[:60]!r}; expected {len(head)} fields starting with a "
                                           f"time like 2014-05-07 13:29:50.439000+0100")
                    continue
                local, off = t
                off0 = off if off0 is None else off0
                try:
                    a = float(r[1]) if r[1].strip() else np.nan
                except ValueError:
                    errors.add(path, line, f"acc {r[1]!r} is not a number (milli-g)")
                    continue
                if a < 0 or a > 20000:
                    errors.add(path, line, f"acc {a:g} mg outside 0-20000; expected mean acceleration in milli-g")
                    continue
                secs.append(local - off + off0)
                acc.append(a)
                lines.append(line)
        except csv.Error as e:
            raise DataFormatError(f"{path}:{reader.line_num}: not a CSV row ({e})") from None
    secs, acc = np.asarray(secs), np.asarray(acc)
    if not len(secs):
        errors.raise_or_report(skip_malformed)
        raise DataFormatError(f"{path}: no valid rows")
    keep, secs = kept_rows(path, secs, np.ones(len(secs), bool), lines, errors, skip_malformed)
    secs, acc = secs[keep], acc[keep]
    epoch = step(secs, 30)
    start, offsets = at(secs)
    name = re.sub(r"-?timeSeries$", "", stem(path)) or stem(path)
    rec = Recording(str(path), f"biobank-{name}", "biobankAccelerometerAnalysis time series", start, epoch, offsets,
                    {"activity": (acc, "mean", "mg")}, activity_name="acceleration_mg")
    return to_timeline(rec)
