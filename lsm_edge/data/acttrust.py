"""Import Condor Instruments ActTrust reports (``.txt``): a ``KEY : value`` header between two
``+---+`` rules, then ``;``-separated epoch rows::

    +-------------+ Condor Instruments Report +-------------+
    SOFTWARE_VERSION : 1.0.13
    DEVICE_MODEL : ActTrust1
    INTERVAL : 60
    ...
    +-------------------------------------------------------+
    DATE/TIME;MS;EVENT;TEMPERATURE;EXT TEMPERATURE;ORIENTATION;PIM;PIMn;TAT;TATn;ZCM;ZCMn;LIGHT;...;STATE
    01/01/1918 09:00:00;0;0;29.38;28.19;0;1851;30.85;109;1.81667;41;0.683333;384.44;...;0

Recognised by that structure: a first line ``+---...`` rule, ``KEY : value`` lines, a second rule,
then a ``;``-separated table whose first cell is a date and time.

Columns are ActTrust's own technical names (upper case, the same in every language); later software
versions add columns and some spell them differently, so each is found by a set of names
(``COLUMNS``) and any other column is left unread:

- activity: ``PIM`` (proportional integration mode, the area under the rectified acceleration in the
  epoch; Condor's default activity measure) -> the activity channel (``log_energy = ln(1 + PIM)``,
  the extra ``activity_counts`` in PIM units per minute);  ``TAT`` (time above threshold) and ``ZCM``
  (zero-crossing mode) -> the extras ``tat`` and ``zcm``; a report with only ``TAT`` or ``ZCM``
  takes that one as the activity channel (the device's unit is named in the timeline's meta);
- ``TEMPERATURE`` / ``INT TEMPERATURE`` (wrist) -> ``skin_temperature``; ``EXT TEMPERATURE`` ->
  the extra ``ambient_temperature``;
- ``LIGHT`` (lux) -> ``light``; ``EVENT`` -> the label ``event_marker``; the normalised ``PIMn`` /
  ``TATn`` / ``ZCMn``, the colour bands, orientation and state are not read.

Dates are ``dd/mm/yyyy HH:MM:SS`` (``yyyy-mm-dd`` accepted); a decimal comma is accepted.  The
epoch is the header's ``INTERVAL`` (seconds) when present, else the rows' time step.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, clock, kept_rows, step, subject_id, to_timeline
from .importing import RowErrors
from .textio import head_lines, text_lines
from .windows import Timeline

NAME = "acttrust"
EXTRA_CHANNELS = ("activity_counts", "tat", "zcm", "light", "ambient_temperature")
COLUMNS = {  # role: accepted column names (upper case, spaces and underscores alike)
    "time": ("DATE/TIME", "DATE TIME", "DATETIME", "TIMESTAMP"),
    "event": ("EVENT", "EVENTS"),
    "pim": ("PIM",), "tat": ("TAT",), "zcm": ("ZCM",),
    "temperature": ("TEMPERATURE", "INT TEMPERATURE", "WRIST TEMPERATURE", "TEMP", "INT TEMP"),
    "ext_temperature": ("EXT TEMPERATURE", "EXTERNAL TEMPERATURE", "EXT TEMP"),
    "light": ("LIGHT", "LUX", "WHITE LIGHT"),
}
_STAMP = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$|"
                    r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_RULE = re.compile(r"^\+-{3,}")
_KEY = re.compile(r"^([A-Z][A-Z0-9_ ]*?)\s*:\s*(.*)$")


def recognise(path) -> bool:
    lines = [ln.strip() for ln in head_lines(path, 8192)]
    if not lines or not _RULE.match(lines[0]):
        return False
    end = next((i for i in range(1, len(lines)) if _RULE.match(lines[i])), None)
    return end is not None and all(_KEY.match(ln) for ln in lines[1:end] if ln) and end + 1 < len(lines) \
        and ";" in lines[end + 1]


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_acttrust(p, skip_malformed) for p in files]


def _name(col: str) -> str:
    return re.sub(r"[\s_]+", " ", col.strip().upper())


def _stamp(cell: str):
    m = _STAMP.match(cell.strip())
    if not m:
        return None
    g = m.groups()
    d, mo, y, h, mi, s = (g[0], g[1], g[2], g[3], g[4], g[5]) if g[0] else (g[8], g[7], g[6], g[9], g[10], g[11])
    return clock(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))


def read_acttrust(path, skip_malformed: bool = False) -> Timeline:
    lines = text_lines(path)
    if not lines or not _RULE.match(lines[0].strip()):
        raise DataFormatError(f"{path}:1: not an ActTrust report; expected a '+----' rule and KEY : value lines")
    end = next((i for i in range(1, len(lines)) if _RULE.match(lines[i].strip())), None)
    if end is None or end + 1 >= len(lines):
        raise DataFormatError(f"{path}: the header never ends; expected a second '+----' rule, then the table")
    props = {}
    for ln in lines[1:end]:
        m = _KEY.match(ln.strip())
        if m:
            props[m.group(1).strip()] = m.group(2).strip()
    header = [_name(c) for c in lines[end + 1].split(";")]
    col = {}
    for role, names in COLUMNS.items():
        hit = next((i for i, c in enumerate(header) if c in names), None)
        if hit is not None:
            col[role] = hit
    if "time" not in col:
        col["time"] = 0
    activity = next((r for r in ("pim", "zcm", "tat") if r in col), None)
    if activity is None:
        raise DataFormatError(f"{path}:{end + 2}: columns {lines[end + 1].strip()!r}; expected an activity column "
                              f"PIM, TAT or ZCM")
    errors = RowErrors()
    n = len(lines) - end - 2
    secs = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    vals = {r: np.full(n, np.nan) for r in col if r != "time"}
    line_no = []
    for i, raw in enumerate(lines[end + 2:]):
        line = end + 3 + i
        line_no.append(line)
        cells = raw.strip().rstrip(";").split(";")
        if not raw.strip():
            continue
        if len(cells) < len(header):
            errors.add(path, line, f"{len(cells)} fields; expected {len(header)} ({';'.join(header[:4])};...)")
            continue
        t = _stamp(cells[col["time"]])
        if t is None:
            errors.add(path, line, f"time {cells[col['time']]!r} is not like 01/01/1918 09:00:00")
            continue
        bad = False
        for r, v in vals.items():
            c = cells[col[r]].strip().replace(",", ".")
            try:
                v[i] = float(c) if c else np.nan
            except ValueError:
                errors.add(path, line, f"{header[col[r]]} {cells[col[r]]!r} is not a number")
                bad = True
                break
        if not bad and vals[activity][i] < 0:
            errors.add(path, line, f"{header[col[activity]]} {vals[activity][i]:g} is negative; expected >= 0")
            bad = True
        secs[i], ok[i] = t, not bad
    ok, secs = kept_rows(path, secs, ok, line_no, errors, skip_malformed)
    secs = secs[ok]
    try:
        epoch = float(props.get("INTERVAL", ""))
    except ValueError:
        epoch = step(secs, 60)
    if not 0 < epoch <= 3600:
        raise DataFormatError(f"{path}: INTERVAL {props.get('INTERVAL')!r}; expected the epoch in seconds (1-3600)")
    names = {"pim": "PIM", "tat": "TAT", "zcm": "ZCM"}
    channels = {"activity": (vals[activity][ok], "sum", f"{names[activity]} per minute (ActTrust)")}
    for r in ("pim", "tat", "zcm"):
        if r in vals and r != activity:
            channels[r] = (vals[r][ok], "sum", f"{names[r]} per minute (ActTrust)")
    if "temperature" in vals:
        channels["skin_temperature"] = (vals["temperature"][ok], "mean", "degC")
    if "ext_temperature" in vals:
        channels["ambient_temperature"] = (vals["ext_temperature"][ok], "mean", "degC")
    if "light" in vals:
        channels["light"] = (vals["light"][ok], "mean", "lux")
    labels = {"event_marker": np.nan_to_num(vals["event"][ok]).clip(0, 1).astype(np.int16)} if "event" in vals else {}
    starts, lengths = split_epochs(secs, epoch)
    start, offsets = at(starts)
    rec = Recording(str(path), subject_id("acttrust", props.get("SUBJECT_NAME", ""), path),
                    f"Condor {props.get('DEVICE_MODEL', 'ActTrust')}", start, epoch, offsets, channels, labels=labels,
                    lengths=lengths)
    return to_timeline(rec)


def split_epochs(secs: np.ndarray, epoch: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows' times -> (start of each row's part of its epoch, each part's seconds, or None when no epoch is split).

    ActTrust writes a row at the moment of an event (``01:54:26`` between ``01:54:00`` and ``01:55:00``),
    and that row replaces or splits the epoch it falls in.  The epochs lie on the grid of the rows' most
    common phase; the rows inside one epoch are its parts: the first covers the epoch from its start (also
    when its row is stamped later), each next one from its own time, the last until the epoch ends.  So a
    split epoch's counts add up to the epoch, never to more than one epoch's seconds."""
    secs = np.asarray(secs, np.float64)
    phase_all = np.mod(secs, epoch)
    values, counts = np.unique(phase_all, return_counts=True)
    phase = values[np.argmax(counts)]
    grid = np.floor((secs - phase) / epoch) * epoch + phase
    if np.array_equal(grid, secs):
        return secs, None
    first = np.r_[True, grid[1:] != grid[:-1]]
    starts = np.where(first, grid, secs)
    last = np.r_[grid[1:] != grid[:-1], True]
    ends = np.where(last, grid + epoch, np.r_[starts[1:], 0.0])
    return starts, ends - starts
