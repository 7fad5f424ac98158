"""Import Actiwatch minute counts exported as ``timestamp,date,activity`` rows (the layout of the
Depresjon and Psykose datasets, Simula; plain, ``.csv.gz`` or a one-file ``.zip``).

    timestamp,date,activity
    2003-05-07 12:00:00,2003-05-07,0
    2003-05-07 12:01:00,2003-05-07,143

One file is one person; the subject is ``actiwatch-<file stem>`` (``condition_1``, ``patient_3``):
the rows carry no id.  The same person found twice (Psykose ships Depresjon's controls as its own
control group) joins into one timeline, a minute present in both read once.

Counts map as the ``.AWD`` actigraphy does (``data/awd.py``): ``log_energy = ln(1 + count)``
and the raw counts as the extra channel ``activity_counts``; ``on_wrist`` is not set (a 0 can be
stillness or a watch off the wrist).

**Daylight-saving changes.** The timestamps are local clock time, so at a change the clock jumps
forward an hour (a step of 61 minutes from one row to the next) or repeats one (a step of -59);
the watch itself recorded one epoch a minute throughout.  Such a step onto a whole hour is read as
one minute, so no minute is lost or duplicated.  Any other step backwards (or a repeated minute)
is a malformed row, reported with file and line; a forward gap is missing minutes.

Participant tables beside the recordings (Depresjon's ``scores.csv``, Psykose's
``patients_info.csv`` and ``days.csv``: a ``number`` or ``id`` column and ``days``) belong to the
layout and are not read as recordings (``is_sidecar``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors, check_span
from .textio import header, is_table, rows, stem
from .windows import Timeline

NAME = "actiwatch_csv"
COLUMNS = ("timestamp", "date", "activity")
EXTRA_CHANNELS = ("activity_counts",)
DST_STEPS = (61, -59)  # minutes between consecutive rows at a clock change


def recognise(path) -> bool:
    return is_table(path) and tuple(header(path)) == COLUMNS


def is_sidecar(path) -> bool:
    """A participant table of the layout (an id column ``number`` or ``id`` and a ``days`` column)."""
    h = header(path) if is_table(path) else []
    return bool(h) and h[0] in ("number", "id") and "days" in h


GROUPS = ("control", "depression", "schizophrenia")  # from the participant id: control_N, condition_N, patient_N
_GROUP_OF = {"control": 0, "condition": 1, "patient": 2}
PERSON_LABEL_NAMES = {"group": list(GROUPS)}


def person_labels(files) -> dict:
    """{subject: {"group": k}} (k: index in GROUPS) for every participant of the tables the layout keeps beside
    its recordings or their folder: Depresjon's ``scores.csv`` (``condition_N``: depression, ``control_N``:
    control) and Psykose's ``patients_info.csv`` / ``days.csv`` (``patient_N``: schizophrenia; its controls are
    Depresjon's).  The group is the participant id's prefix, which the table and the recording's file share."""
    folders = {d for p in files for d in (Path(p).parent, Path(p).parent.parent)}
    tables = sorted({q for d in folders if d.is_dir() for q in d.iterdir() if q.is_file() and is_sidecar(q)})
    out, errors = {}, RowErrors()
    for table in tables:
        for line, r in rows(table, errors=errors, width=len(header(table))):
            group = _GROUP_OF.get(r[0].strip().rsplit("_", 1)[0])
            if group is not None:
                out[f"actiwatch-{r[0].strip()}"] = {"group": group}
    errors.raise_or_report(True)
    return out


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    errors, parts, where = RowErrors(), {}, {}
    for path in sorted(files, key=str):
        got = _read_file(path, errors)
        if got is not None:
            parts.setdefault(f"actiwatch-{stem(path)}", []).append(got)
            where.setdefault(f"actiwatch-{stem(path)}", []).append(str(path))
    errors.raise_or_report(skip_malformed)
    if not parts:
        raise DataFormatError(f"{', '.join(map(str, files))}: no valid rows")
    return [_join(subject, p, ", ".join(where[subject])) for subject, p in sorted(parts.items())]


def _read_file(path, errors: RowErrors):
    stamps, counts, lines = [], [], []
    for line, r in rows(path, COLUMNS, errors):
        try:
            t = np.datetime64(r[0].strip(), "m")
        except ValueError:
            errors.add(path, line, f"timestamp {r[0]!r} is not like 2003-05-07 12:00:00")
            continue
        try:
            c = float(r[2])
        except ValueError:
            c = np.nan
        if not (np.isfinite(c) and c >= 0):
            errors.add(path, line, f"activity {r[2]!r} is not a non-negative count")
            continue
        stamps.append(t.astype(np.int64))
        counts.append(c)
        lines.append(line)
    if not stamps:
        return None
    clock = np.asarray(stamps, np.int64)
    step = np.diff(clock)
    on_hour = (clock[1:] % 60) == 0
    elapsed = np.where(np.isin(step, DST_STEPS) & on_hour, 1, step)
    bad = np.flatnonzero(elapsed < 1)
    keep = np.ones(len(clock), bool)
    for i in bad:  # a step back that is no clock change: the row is reported and dropped
        errors.add(path, lines[i + 1], f"timestamp {np.datetime64(int(clock[i + 1]), 'm')} does not follow "
                                       f"{np.datetime64(int(clock[i]), 'm')} (one row a minute, in order)")
        keep[i + 1] = False
    elapsed = np.maximum(elapsed, 0)
    minute = np.r_[0, np.cumsum(elapsed)]  # minutes since the first row, clock changes removed
    return clock[0], minute[keep], np.asarray(counts)[keep]


def _join(subject: str, parts, where: str = "") -> Timeline:
    """One person's files -> one timeline; a minute present in several files is read once (the first)."""
    start = min(p[0] for p in parts)
    minute = np.concatenate([p[1] + (p[0] - start) for p in parts])
    count = np.concatenate([p[2] for p in parts])
    minute, first = np.unique(minute, return_index=True)
    count = count[first]
    T = int(minute[-1]) + 1
    check_span(subject, start, T, where)
    counts = np.full(T, np.nan, np.float32)
    counts[minute] = count
    values = np.full((T, schema.N_FEATURES), np.nan, np.float32)
    values[:, schema.INDEX["log_energy"]] = np.log1p(counts)
    return Timeline(subject, np.int64(start).astype("datetime64[m]"), values, extras={"activity_counts": counts})
