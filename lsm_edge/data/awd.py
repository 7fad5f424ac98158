"""Import wrist actigraphy in the Cambridge Neurotechnology ``.AWD`` format (Actiwatch 4 / 7 / MK2 /
L / T).

    line 1  subject            example_01
    line 2  start date         23-Jan-1918
    line 3  start time         13:58          (or 18:11:00)
    line 4  epoch code         4              (1: 15 s, 2: 30 s, 4: 1 min, 8: 2 min ... see EPOCHS)
    line 5  age                00
    line 6  serial             V664055        (its first letter is the device: T = Actiwatch-T ...)
    line 7  sex                X
    line 8- one activity count per epoch, optionally ``count , second`` (light or skin temperature: an
            integer, decimals, a decimal comma or E-notation: ``224 , 0.00``, ``776 , 59``,
            ``12 , 2.35E+02``; after a comma with or without spaces), optionally followed
            by "M" (an event marker); CRLF

Recognised from this structure (a date like ``23-Jan-1918`` on line 2, a clock time on line 3, an
integer code on line 4, line 8 starting with a count), never from the file name; a row the reader cannot
read is named with its line.  Every epoch code is read and
folded onto minutes by the rule of ``data/epochs.py`` (counts summed).

**The second column** is light on some devices and skin temperature on others; the header does not
say which.  It is temperature (degC -> ``skin_temperature``) when the serial starts with ``T``
(Actiwatch-T), light (lux -> the extra ``light``) when it starts with ``L`` (Actiwatch-L); for any
other serial, temperature when at least 90 % of the column lies in 15-45 (degC on a wrist) with a
median in 25-40, else light (a light sensor reads 0 in the dark, a wrist never does).

Mapping onto the schema: ``log_energy = ln(1 + counts per minute)``, the raw counts per minute as the
extra ``activity_counts``, event markers as the label ``event_marker``.  ``on_wrist`` is not set: a
count of 0 can be stillness or non-wear (see ../shared/data/real/README.md).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, clock, regular, to_timeline
from .importing import RowErrors
from .textio import head_lines, text_lines
from .windows import Timeline

EPOCHS = {1: 15, 2: 30, 4: 60, 8: 120, 20: 300, 81: 2, 82: 5, 84: 10}  # code -> seconds
EXTRA_CHANNELS = ("activity_counts", "light")
LABEL_CHANNELS = ("event_marker",)
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_NUM = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"  # 12, 12.5, .5, 12,5 (decimal comma), 2.35E+02
_ROW = re.compile(rf"^(\d+(?:\.\d+)?)(?:\s*,\s*({_NUM}))?\s*(M)?$")

NAME = "actigraphy"


def recognise(path) -> bool:
    """The .AWD header structure: a dd-Mon-yyyy date on line 2, a clock time on line 3, an integer on
    line 4 and (when there are epochs) a line 8 that starts with a count.  The rows themselves are the
    reader's to check, so a row of another form is named with its line, never a refused file."""
    lines = [ln.strip() for ln in head_lines(path, 4096)[:8]]
    return (len(lines) >= 7 and bool(_DATE.match(lines[1])) and bool(_TIME.match(lines[2]))
            and lines[3].isdigit() and (len(lines) < 8 or lines[7][:1].isdigit()))


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_awd(p, skip_malformed) for p in files]


def second_column(serial: str, v: np.ndarray) -> str:
    """``"skin_temperature"`` or ``"light"``: what an .AWD second column holds (the rule above)."""
    if serial[:1].upper() == "T":
        return "skin_temperature"
    if serial[:1].upper() == "L":
        return "light"
    v = v[np.isfinite(v)]
    if len(v) and np.mean((v >= 15) & (v <= 45)) >= 0.9 and 25 <= np.median(v) <= 40:
        return "skin_temperature"
    return "light"


def read_awd(path, skip_malformed: bool = False) -> Timeline:
    """One ``.AWD`` file -> one subject's Timeline.  Raises DataFormatError naming file and line."""
    lines = text_lines(path)
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
    if not t or clock(2000, 1, 1, int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)) is None:
        raise DataFormatError(f"{path}:3: start time {lines[2].strip()!r} is not like 13:58")
    try:
        code = int(lines[3].strip())
    except ValueError:
        raise DataFormatError(f"{path}:4: epoch code {lines[3].strip()!r} is not a number; expected one of "
                              f"{sorted(EPOCHS)}") from None
    if code not in EPOCHS:
        raise DataFormatError(f"{path}:4: unknown epoch code {code}; known codes {sorted(EPOCHS)} "
                              f"(seconds {sorted(EPOCHS.values())})")
    s0 = clock(int(d.group(3)), _MONTHS[d.group(2).lower()], int(d.group(1)), int(t.group(1)), int(t.group(2)),
               int(t.group(3) or 0))
    if s0 is None:
        raise DataFormatError(f"{path}:2: start date {lines[1].strip()!r} is not a calendar day")
    start = np.datetime64(s0, "s")

    body = lines[7:]
    while body and not body[-1].strip():  # trailing blank lines are not epochs
        body = body[:-1]
    errors = RowErrors()
    counts = np.full(len(body), np.nan)
    second = np.full(len(body), np.nan)
    marker = np.zeros(len(body), np.int16)
    for i, raw in enumerate(body):
        s = raw.strip()
        m = _ROW.match(s)
        if not m:
            errors.add(path, i + 8, f"row {s!r} is not a non-negative count, optionally ' , ' and a light or "
                                    f"temperature value (like '224 , 12.50'), optionally ' M'")
            continue
        counts[i], marker[i] = float(m.group(1)), m.group(3) is not None
        if m.group(2) is not None:
            second[i] = float(m.group(2).replace(",", "."))
    errors.raise_or_report(skip_malformed)
    epoch = float(EPOCHS[code])
    channels = {"activity": (counts, "sum", "counts/min (Actiwatch)")}
    if np.isfinite(second).any():
        kind = second_column(lines[5].strip(), second)
        channels[kind] = (second, "mean", "degC" if kind == "skin_temperature" else "lux")
    rec = Recording(str(path), f"awd-{subject}", f"Actiwatch .AWD (serial {lines[5].strip()})", start, epoch,
                    regular(len(body), epoch), channels, labels={"event_marker": marker})
    return to_timeline(rec)

