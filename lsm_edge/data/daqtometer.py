"""Import Daqtometer ``.csv`` exports (Daqtix): a start / end header, per-channel settings, then one
row per stored sample (one a second by default)::

    Start: 2000-01-27 19:00:00 GMT
    End: 2000-01-28 06:59:59 GMT
    Serial number:,myUUID,myUUID
    Name:,Accelleration X+Y,Light
    Sample rate:,10,10
    Store rate:,1,1
    Binning mode:,Sum,Average
    2000-01-27 19:00:00,26,53

Recognised by that structure: settings rows ``label:,value,value...`` (one value per channel), one
of them holding only ``Sum`` / ``Average`` (the binning mode), then rows of an ISO date-time and
one number per channel.

Each channel folds onto minutes by its own binning mode (``data/epochs.py``): a ``Sum`` channel is
summed (counts), an ``Average`` channel averaged (a level).  By name: a channel named
``Acc...`` is the activity channel (counts summed; the first ``Sum`` channel when none is so
named), ``Light`` -> ``light`` (in the device's own units, not lux), ``Temp...`` -> ``skin_temperature``; others become extra channels
of their own name.  The epoch is the rows' time step.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, clock, kept_rows, step, subject_id, to_timeline
from .importing import RowErrors
from .textio import head_lines, text_lines
from .windows import Timeline

NAME = "daqtometer"
EXTRA_CHANNELS = ("activity_counts", "light")
_SETTING = re.compile(r"^([^,]+):\s*,(.*)$")
_ROW = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?,")
BINNING = {"sum": "sum", "average": "mean", "mean": "mean"}


def recognise(path) -> bool:
    lines = head_lines(path, 8192)[:60]
    settings = [_SETTING.match(ln.strip()) for ln in lines]
    binning = any(m and all(v.strip().lower() in BINNING for v in m.group(2).split(",")) for m in settings)
    return binning and any(_ROW.match(ln) for ln in lines)


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_daqtometer(p, skip_malformed) for p in files]


def read_daqtometer(path, skip_malformed: bool = False) -> Timeline:
    lines = text_lines(path)
    first = next((i for i, ln in enumerate(lines) if _ROW.match(ln)), None)
    if first is None:
        raise DataFormatError(f"{path}: no data rows; expected rows like '2000-01-27 19:00:00,26,53'")
    settings = {}
    for ln in lines[:first]:
        m = _SETTING.match(ln.strip())
        if m:
            settings[m.group(1).strip().lower()] = [v.strip() for v in m.group(2).split(",")]
    binning = next((v for v in settings.values() if v and all(x.lower() in BINNING for x in v)), None)
    if binning is None:
        raise DataFormatError(f"{path}: no binning mode row; expected a settings row like 'Binning mode:,Sum,Average'")
    k = len(binning)
    names = next((v for key, v in settings.items() if key.startswith("name") and len(v) == k),
                 [f"channel_{i + 1}" for i in range(k)])
    roles = []
    for name, b in zip(names, binning):
        n = name.lower()
        roles.append("activity" if n.startswith("acc") else "light" if "light" in n or "lux" in n else
                     "skin_temperature" if n.startswith("temp") else re.sub(r"\W+", "_", n).strip("_") or "channel")
    if "activity" not in roles:
        s = next((i for i, b in enumerate(binning) if b.lower() == "sum"), None)
        if s is None:
            raise DataFormatError(f"{path}: channels {names} with binning {binning}; expected an acceleration "
                                  f"channel (or one binned by Sum)")
        roles[s] = "activity"
    errors = RowErrors()
    n = len(lines) - first
    secs, ok = np.zeros(n, np.int64), np.zeros(n, bool)
    vals = np.full((n, k), np.nan)
    line_no = list(range(first + 1, first + 1 + n))
    for i, raw in enumerate(lines[first:]):
        if not raw.strip():
            continue
        cells = raw.strip().split(",")
        m = _ROW.match(raw.strip())
        if not m or len(cells) != k + 1:
            errors.add(path, line_no[i], f"row {raw.strip()[:60]!r}; expected a date-time and {k} numbers")
            continue
        t = clock(*map(int, m.groups()))
        try:
            vals[i] = [float(c) if c.strip() else np.nan for c in cells[1:]]
        except ValueError:
            t = None
        if t is None:
            errors.add(path, line_no[i], f"row {raw.strip()[:60]!r}: not a calendar time and {k} numbers")
            continue
        if vals[i, roles.index("activity")] < 0:
            errors.add(path, line_no[i], f"{names[roles.index('activity')]} {vals[i, roles.index('activity')]:g} is "
                                         f"negative; expected counts >= 0")
            continue
        secs[i], ok[i] = t, True
    ok, secs = kept_rows(path, secs, ok, line_no, errors, skip_malformed)
    secs = secs[ok]
    epoch = step(secs, 1)
    units = {"activity": "counts/min (Daqtometer)", "light": "light level (Daqtometer units)", "skin_temperature": "degC"}
    channels = {r: (vals[ok, c], BINNING[binning[c].lower()], units.get(r, "?")) for c, r in enumerate(roles)}
    start, offsets = at(secs)
    rec = Recording(str(path), subject_id("dqt", settings.get("serial number", [""])[0], path), "Daqtometer", start,
                    epoch, offsets, channels)
    return to_timeline(rec)
