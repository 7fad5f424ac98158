"""Import Tempatilumi ``.txt`` exports (a wrist device recording activity, light and optionally skin
temperature; Portuguese headers): optional comment lines, ``key: value`` lines, then a table::

    N° de Série: 00000
    Data; Hora; Evento; Luminosidade; Atividade
    2000/1/1; 00:00:00; 1; 0; 0;

Recognised by the table: a header line, then rows of a date and a time in separate cells, separated
by ``;`` or a tab (a trailing separator is allowed).  Dates are ``yyyy/m/d`` or, in exports of other
locales, ``dd/mm/yyyy`` (``/``, ``.`` or ``-``; day first unless the rows show otherwise); times
``HH:MM:SS`` or ``HH:MM``; numbers with a decimal point or comma.

Columns after date and time, by header word (Portuguese, English or Spanish): ``Atividade`` /
``Activity`` / ``Actividad`` -> the activity channel (counts, summed per minute);
``Luminosidade`` / ``Light`` / ``Luz`` -> ``light``; ``Temperatura`` / ``Temperature`` ->
``skin_temperature``; ``Evento`` / ``Event`` -> the label ``event_marker``.  A header whose words
are none of these is read in the device's order: event, light, activity, temperature.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from ..errors import DataFormatError
from .epochs import Recording, at, clock, kept_rows, step, to_timeline
from .importing import RowErrors
from .textio import head_lines, stem, text_lines
from .windows import Timeline

NAME = "tempatilumi"
EXTRA_CHANNELS = ("activity_counts", "light")
_ROW = re.compile(r"^\s*(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})\s*[;\t]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*[;\t]")
ROLES = {"atividade": "activity", "activity": "activity", "actividad": "activity",
         "luminosidade": "light", "light": "light", "luz": "light",
         "temperatura": "temperature", "temperature": "temperature",
         "evento": "event", "event": "event"}
ORDER = ("event", "light", "activity", "temperature")


def recognise(path) -> bool:
    lines = head_lines(path, 8192)[:80]
    hit = next((i for i, ln in enumerate(lines) if _ROW.match(ln)), None)
    return hit is not None and hit > 0 and not _ROW.match(lines[hit - 1]) and bool(re.search(r"[;\t]", lines[hit - 1]))


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_tempatilumi(p, skip_malformed) for p in files]


def _when(g, day_first: bool):
    """A row's date and time cells (``_ROW``'s groups) -> seconds since 1970, None when not a day and time."""
    a, b, c, h, mi, sec = g
    if len(a) == 4:  # yyyy/m/d
        y, mo, d = a, b, c
    elif len(c) == 4:  # d/m/yyyy (Brazil, Portugal) or m/d/yyyy
        y, mo, d = (c, b, a) if day_first else (c, a, b)
    else:
        return None
    return clock(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0))


def _day_first(groups) -> bool:
    """Whether ``nn/nn/yyyy`` dates put the day first: yes unless a first number above 12 never occurs and a
    second one does (the software's language decides the order; Tempatilumi's own is Portuguese)."""
    firsts = [int(g[0]) for g in groups if len(g[2]) == 4]
    seconds = [int(g[1]) for g in groups if len(g[2]) == 4]
    return not (firsts and max(firsts) <= 12 and max(seconds) > 12)


def _word(cell: str) -> str:
    return unicodedata.normalize("NFKD", cell).encode("ascii", "ignore").decode().strip().lower()


def read_tempatilumi(path, skip_malformed: bool = False) -> Timeline:
    lines = text_lines(path)
    first = next((i for i, ln in enumerate(lines) if _ROW.match(ln)), None)
    if first is None or first == 0:
        raise DataFormatError(f"{path}: no table; expected a header line, then rows like '2000/1/1; 00:00:00; 0; 0; 5'")
    delim = "\t" if "\t" in lines[first] else ";"
    day_first = _day_first([m.groups() for m in map(_ROW.match, lines[first:first + 5000]) if m])
    header = [_word(c) for c in lines[first - 1].split(delim)]
    while header and not header[-1]:
        header.pop()
    rest = header[2:]
    roles = [ROLES.get(w) for w in rest]
    if not any(roles):
        roles = list(ORDER[:len(rest)])
    if "activity" not in roles:
        raise DataFormatError(f"{path}:{first}: columns {lines[first - 1].strip()!r}; expected an activity column "
                              f"(Atividade)")
    col = {r: 2 + k for k, r in enumerate(roles) if r}
    errors = RowErrors()
    n = len(lines) - first
    secs, ok = np.zeros(n, np.int64), np.zeros(n, bool)
    vals = {r: np.full(n, np.nan) for r in col}
    line_no = list(range(first + 1, first + 1 + n))
    for i, raw in enumerate(lines[first:]):
        if not raw.strip():
            continue
        cells = [c.strip() for c in raw.split(delim)]
        while cells and not cells[-1]:
            cells.pop()
        m = _ROW.match(raw)
        if not m or len(cells) < len(header):
            errors.add(path, line_no[i], f"row {raw.strip()[:60]!r}; expected {len(header)} fields: a yyyy/m/d date, "
                                         f"a time and {', '.join(r or '?' for r in roles)}")
            continue
        t = _when(m.groups(), day_first)
        if t is None:
            errors.add(path, line_no[i], f"date {cells[0]!r} / time {cells[1]!r} is not a calendar day and clock time "
                                         f"(expected {'d/m/y' if day_first else 'y/m/d'} dates)")
            continue
        try:
            for r, c in col.items():
                vals[r][i] = float(cells[c].replace(",", ".")) if cells[c] else np.nan
        except ValueError:
            errors.add(path, line_no[i], f"{rest[c - 2] or r} {cells[c]!r} is not a number")
            continue
        if vals["activity"][i] < 0:
            errors.add(path, line_no[i], f"activity {cells[col['activity']]!r} is negative; expected counts >= 0")
            continue
        secs[i], ok[i] = t, True
    ok, secs = kept_rows(path, secs, ok, line_no, errors, skip_malformed)
    secs = secs[ok]
    epoch = step(secs, 60)
    channels = {"activity": (vals["activity"][ok], "sum", "counts/min (Tempatilumi)")}
    if "light" in vals:
        channels["light"] = (vals["light"][ok], "mean", "lux")
    if "temperature" in vals:
        channels["skin_temperature"] = (vals["temperature"][ok], "mean", "degC")
    labels = {"event_marker": np.nan_to_num(vals["event"][ok]).clip(0, 1).astype(np.int16)} if "event" in vals else {}
    start, offsets = at(secs)
    rec = Recording(str(path), f"tal-{stem(path)}", "Tempatilumi", start, epoch, offsets, channels, labels=labels)
    return to_timeline(rec)
