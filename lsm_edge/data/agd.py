"""Import ActiGraph ``.agd`` files (ActiLife epoch files: GT3X, wGT3X-BT ...), which are SQLite databases.

    settings(settingName, settingValue)   epochlength (seconds), startdatetime (.NET ticks: the start of
                                          the recording, minute 0 of the timeline),
                                          devicename, subjectname ...
    data(dataTimestamp, axis1, axis2, axis3, steps, lux, inclineOff, inclineStanding,
         inclineSitting, inclineLying)    one row per epoch; dataTimestamp in .NET ticks

Recognised by the SQLite file header (the 16 bytes ``SQLite format 3\\0``); the file is opened
read-only (``mode=ro``) and never written.  A SQLite file without the ``settings`` and ``data``
tables (another program's database) or one SQLite cannot read raises a named error.

A .NET tick is 100 ns since 0001-01-01 (local clock time, as the device was set).  Mapping:

- the activity channel is the vector magnitude of each epoch's axis counts, ``sqrt(axis1^2 +
  axis2^2 + axis3^2)`` (``axis1`` alone on a one-axis file), summed over the minute (ActiLife's own
  60-s reintegration sums the axes first, which gives a VM up to sqrt(3) times smaller on a minute
  whose epochs move along different axes)
  (``log_energy = ln(1 + VM)``, the extra ``activity_counts``); each axis stays an extra
  (``axis1`` ...) in counts per minute;
- ``steps`` -> ``step_count`` (summed); ``lux`` -> ``light`` (averaged);
- the inclinometer's seconds per posture -> the label ``posture`` of the minute's first epoch
  (``POSTURES``: the posture with the most seconds in that epoch).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, kept_rows, to_timeline
from .importing import RowErrors
from .windows import NO_LABEL, Timeline

NAME = "agd"
EXTRA_CHANNELS = ("activity_counts", "axis1", "axis2", "axis3", "light")
LABEL_CHANNELS = ("posture",)
POSTURES = ("off", "standing", "sitting", "lying")  # label value = position
_INCLINE = ("inclineOff", "inclineStanding", "inclineSitting", "inclineLying")
MAGIC = b"SQLite format 3\x00"
TICKS_PER_S = 10_000_000
TICKS_1970 = 621_355_968_000_000_000


def recognise(path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == MAGIC
    except OSError:
        return False


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_agd(p, skip_malformed) for p in files]


def ticks_to_seconds(ticks) -> np.ndarray:
    """.NET ticks -> seconds since 1970-01-01 (float)."""
    return (np.asarray(ticks, np.int64) - TICKS_1970) / TICKS_PER_S


def read_agd(path, skip_malformed: bool = False) -> Timeline:
    path = Path(path)
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise DataFormatError(f"{path}: cannot open as SQLite ({e}); expected an ActiLife .agd file") from None
    try:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as e:
            raise DataFormatError(f"{path}: a damaged SQLite file ({e}); expected an ActiLife .agd file") from None
        if not {"settings", "data"} <= tables:
            raise DataFormatError(f"{path}: a SQLite database with tables {sorted(tables)[:8]}; expected an "
                                  f"ActiLife .agd file (tables settings and data)")
        try:
            settings = {str(k).strip().lower(): str(v) for k, v in
                        con.execute("SELECT settingName, settingValue FROM settings")}
            cols = [r[1] for r in con.execute("PRAGMA table_info(data)")]
            have = [c for c in ("dataTimestamp", "axis1", "axis2", "axis3", "steps", "lux", *_INCLINE) if c in cols]
            if "dataTimestamp" not in have or "axis1" not in have:
                raise DataFormatError(f"{path}: table data has columns {cols}; expected dataTimestamp and axis1 "
                                      f"(axis2, axis3, steps, lux ... optional)")
            rows = con.execute(f"SELECT {', '.join(have)} FROM data ORDER BY rowid").fetchall()
        except sqlite3.DatabaseError as e:
            raise DataFormatError(f"{path}: a damaged SQLite file ({e}); expected an ActiLife .agd file") from None
    finally:
        con.close()
    try:
        epoch = float(settings["epochlength"])
    except (KeyError, ValueError):
        raise DataFormatError(f"{path}: settings epochlength {settings.get('epochlength')!r}; expected the epoch "
                              f"in seconds") from None
    if not 0 < epoch <= 3600:
        raise DataFormatError(f"{path}: settings epochlength {epoch:g}; expected 1 to 3600 seconds")
    if not rows:
        raise DataFormatError(f"{path}: table data holds no epoch")
    table = {c: np.array([np.nan if r[i] is None else r[i] for r in rows], object) for i, c in enumerate(have)}
    errors = RowErrors()
    ok = np.ones(len(rows), bool)
    ticks = np.zeros(len(rows), np.int64)
    num = {c: np.full(len(rows), np.nan) for c in have if c != "dataTimestamp"}
    for i in range(len(rows)):  # "line" is the row's position in table data (1 = first epoch)
        try:
            ticks[i] = int(table["dataTimestamp"][i])
            if not 0 < ticks[i] < 3_155_378_975_999_999_999:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            errors.add(path, i + 1, f"data row {i + 1}: dataTimestamp {table['dataTimestamp'][i]!r} is not .NET ticks")
            ok[i] = False
            continue
        for c, v in num.items():
            try:
                v[i] = float(table[c][i])
            except (TypeError, ValueError):
                v[i] = np.nan
            if np.isfinite(v[i]) and v[i] < 0:
                errors.add(path, i + 1, f"data row {i + 1}: {c} {v[i]:g} is negative; expected counts >= 0")
                ok[i] = False
    secs = ticks_to_seconds(ticks)
    ok, secs = kept_rows(path, secs, ok, list(range(1, len(rows) + 1)), errors, skip_malformed)
    secs = secs[ok]
    axes = [num[a][ok] for a in ("axis1", "axis2", "axis3") if a in num]
    vm = np.sqrt(sum(a ** 2 for a in axes))
    channels = {"activity": (vm, "sum", "ActiGraph vector magnitude counts/min" if len(axes) > 1
                             else "ActiGraph axis-1 counts/min")}
    for k, a in zip(("axis1", "axis2", "axis3"), axes):
        channels[k] = (a, "sum", "ActiGraph counts/min")
    if "steps" in num:
        channels["step_count"] = (num["steps"][ok], "sum", "steps/min")
    if "lux" in num:
        channels["light"] = (num["lux"][ok], "mean", "lux")
    labels = {}
    if all(c in num for c in _INCLINE):
        inc = np.stack([num[c][ok] for c in _INCLINE], 1)
        labels["posture"] = np.where(np.isfinite(inc).all(1), np.nanargmax(np.nan_to_num(inc, nan=-1), 1), NO_LABEL)
    s0 = np.floor(secs[0])
    try:  # the recording's start as the settings table gives it; epochs before it mean a corrupt file
        s0 = float(ticks_to_seconds(int(settings["startdatetime"])))
    except (KeyError, ValueError, OverflowError):
        pass
    if secs[0] < s0 - 1e-6 or not np.isfinite(s0):
        raise DataFormatError(f"{path}: the first epoch ({np.datetime64(int(secs[0]), 's')}) lies before the settings' "
                              f"startdatetime ({np.datetime64(int(s0), 's')}); expected epochs from the start on")
    start = np.datetime64(int(s0), "s")
    device = settings.get("devicename", "ActiGraph")
    subject = settings.get("subjectname", "").strip() or path.stem
    rec = Recording(str(path), f"agd-{subject}", f"ActiGraph {device} (.agd)", start, epoch, secs - s0,
                    channels, labels=labels)
    return to_timeline(rec)
