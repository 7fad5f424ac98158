"""Import wrist actigraphy in the Cambridge Neurotechnology ``.AWD`` format.

    line 1  subject            example_01
    line 2  start date         23-Jan-1918
    line 3  start time         13:58
    line 4  epoch code         4            (1: 15 s, 2: 30 s, 3: 1 min... see EPOCHS; 4 = 1 minute)
    line 5  age                00
    line 6  serial             V664055
    line 7  sex                X
    line 8- one activity count per epoch, optionally followed by " M" (an event marker); CRLF

Only 1-minute epochs are accepted (the schema is minute-level; other epochs are refused rather
than resampled).  Mapping onto the schema: an activity count measures wrist acceleration over
the minute, the closest slot is the accelerometer's ``log_energy`` (log of the acceleration
energy in the minute), so

    log_energy = ln(1 + count)          (counts >= 0; the transform is monotone and keeps 0 at 0)

is written there — never ``step_count``: a count is not steps.  The raw counts stay available as
the extra channel ``activity_counts`` (counts / min) for scoring in their own unit, and event
markers as the label channel ``event_marker`` (1 where the line had " M", else 0).  ``on_wrist``
is not set: a count of 0 can be stillness or non-wear (see ../shared/data/real/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors
from .windows import Timeline

EPOCHS = {1: 15, 2: 30, 4: 60, 8: 120, 20: 300, 81: 2, 82: 5, 84: 10}  # code -> seconds
EXTRA_CHANNELS = ("activity_counts",)
LABEL_CHANNELS = ("event_marker",)
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)(?:\s+M)?$")


NAME = "actigraphy"


def is_awd(path) -> bool:
    return Path(path).suffix.lower() == ".awd"


recognise = is_awd


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_awd(p, skip_malformed) for p in files]


def read_awd(path, skip_malformed: bool = False) -> Timeline:
    """One ``.AWD`` file -> one subject's Timeline.  Raises DataFormatError naming file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as e:
        raise DataFormatError(f"{path}: cannot read ({e})") from None
    if len(lines) < 8:
        raise DataFormatError(f"{path}: {len(lines)} lines; an .AWD file has a 7-line header "
                              f"(subject, date, time, epoch code, age, serial, sex) and then counts")
    subject = lines[0].strip()
    if not subject:
        raise DataFormatError(f"{path}:1: empty subject name; expected the subject id")
    d = _DATE.match(lines[1].strip())
    if not d or d.group(2).lower() not in _MONTHS:
        raise DataFormatError(f"{path}:2: start date {lines[1].strip()!r} is not like 23-Jan-1918")
    t = _TIME.match(lines[2].strip())
    if not t or int(t.group(1)) > 23 or int(t.group(2)) > 59:
        raise DataFormatError(f"{path}:3: start time {lines[2].strip()!r} is not like 13:58")
    try:
        code = int(lines[3].strip())
    except ValueError:
        raise DataFormatError(f"{path}:4: epoch code {lines[3].strip()!r} is not a number; expected 4 "
                              f"(1-minute epochs)") from None
    if code not in EPOCHS:
        raise DataFormatError(f"{path}:4: unknown epoch code {code}; known codes {sorted(EPOCHS)}, "
                              f"and lsm-edge reads 4 (1-minute epochs)")
    if EPOCHS[code] != 60:
        raise DataFormatError(f"{path}:4: epoch code {code} means {EPOCHS[code]}-second epochs; lsm-edge "
                              f"reads minute data (code 4) and does not resample")
    day = np.datetime64(f"{d.group(3)}-{_MONTHS[d.group(2).lower()]:02d}-{int(d.group(1)):02d}", "m")
    start = day + np.timedelta64(int(t.group(1)) * 60 + int(t.group(2)), "m")

    errors = RowErrors()
    counts = np.full(len(lines) - 7, np.nan, np.float32)
    marker = np.zeros(len(lines) - 7, np.int16)
    for i, raw in enumerate(lines[7:]):
        s = raw.strip()
        m = _COUNT.match(s)
        if not m:
            if s:  # a trailing blank line is not an epoch
                errors.add(path, i + 8, f"count {s!r} is not a non-negative number (optionally followed by ' M')")
            continue
        counts[i], marker[i] = float(m.group(1)), s.endswith("M")
    errors.raise_or_report(skip_malformed)
    while len(counts) and np.isnan(counts[-1]) and not lines[7 + len(counts) - 1].strip():
        counts, marker = counts[:-1], marker[:-1]  # trailing blank lines
    values = np.full((len(counts), schema.N_FEATURES), np.nan, np.float32)
    values[:, schema.INDEX["log_energy"]] = np.log1p(counts)
    return Timeline(f"awd-{subject}", start, values, extras={"activity_counts": counts},
                    labels={"event_marker": marker})


def read_actigraphy_folder(folder, skip_malformed: bool = False) -> list[Timeline]:
    files = sorted(p for p in Path(folder).iterdir() if is_awd(p))
    if not files:
        raise DataFormatError(f"{folder} holds no .AWD file; expected Cambridge Neurotechnology actigraphy")
    return [read_awd(p, skip_malformed) for p in files]
