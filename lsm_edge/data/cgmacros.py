"""Import CGMacros minute tables (Das et al. 2025, PhysioNet; one ``CGMacros-0NN.csv`` per person).

Each row is one minute of one person (the rows carry no id: the subject is ``cgmacros-<NNN>``
from the file's stem).  Recognised by its columns, whatever their order and with or without the
exporter's leading index column (``Unnamed: 0`` or empty): ``Timestamp``, ``HR`` and at least one of
the glucose columns ``Libre GL`` / ``Dexcom GL``.  The 9 column layouts of the 45 published files
differ in exactly that (index column or not, ``METs`` or ``Intensity``, the glucose columns in
either order, one person with ``Steps`` and ``RecordIndex``, ``Sugar`` or ``Amount Consumed``
present or not).

| column | goes to |
|---|---|
| ``Timestamp`` (``2020-05-01 10:30:00``, shifted by the study) | the minute |
| ``HR`` (Fitbit, integer bpm; empty = no reading) | ``heart_rate``; ``on_wrist`` = 1 in minutes with a reading |
| ``Steps`` (one person) | ``step_count`` |
| ``METs`` (Fitbit's x 10 convention) | extra ``mets`` (divided by 10, as the Fitabase importer does) |
| ``Intensity`` (Fitbit 0-3) | extra ``intensity`` |
| ``Calories (Activity)`` | extra ``calories`` |
| ``Libre GL``, ``Dexcom GL`` (mg/dL) | extras ``glucose_libre``, ``glucose_dexcom`` |
| ``Meal Type`` (on the meal's minute) | label ``meal``: breakfast / lunch / dinner / snack |

The Libre column was interpolated by the study between its 15-minute readings (fractional values
on every minute): it is kept as an extra channel for reference and must not be scored as an
imputation target.  The meal's nutrients and photo paths are not read.  ``bio.csv`` beside the
tables (one row per person: HbA1c, lipids ...) is the layout's participant table (``is_sidecar``): its lab
HbA1c (``A1c PDL (Lab)``, %) becomes each person's *person-level* labels (``person_labels``):
``hba1c_percent`` and ``glycaemic_status`` by the ADA cut-offs, normal < 5.7 %, prediabetes 5.7-6.4 %,
type 2 diabetes >= 6.5 % (``STATUS``).  They go to the dataset manifest's ``person_labels``; a row
without a readable HbA1c is named with file and line, and that person has no label.
Rows out of time order and values outside the schema's valid range are reported with file and line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors, TimelineBuilder
from .textio import header, is_table, rows, stem
from .windows import Timeline

NAME = "cgmacros"
REQUIRED = ("Timestamp", "HR")
GLUCOSE = {"Libre GL": "glucose_libre", "Dexcom GL": "glucose_dexcom"}
NUMERIC = {"HR": ("heart_rate", 1.0), "Steps": ("step_count", 1.0), "METs": ("mets", 0.1),
           "Intensity": ("intensity", 1.0), "Calories (Activity)": ("calories", 1.0),
           **{k: (v, 1.0) for k, v in GLUCOSE.items()}}
EXTRA_CHANNELS = ("mets", "intensity", "calories", *GLUCOSE.values())
MEALS = ("breakfast", "lunch", "dinner", "snack")
LABEL_NAMES = {"meal": list(MEALS)}
STATUS = ("normal", "prediabetes", "type 2 diabetes")  # HbA1c < 5.7 %, 5.7-6.4 %, >= 6.5 % (ADA)
PERSON_LABEL_NAMES = {"glycaemic_status": list(STATUS)}
HBA1C = "A1c PDL (Lab)"
_STAMP = re.compile(r"\s*\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?\s*")


def _columns(path) -> dict | None:
    """{column name: position} when the header is a CGMacros one, else None."""
    h = [c.strip() for c in header(path)]
    cols = {c: i for i, c in enumerate(h) if c}
    if all(c in cols for c in REQUIRED) and any(g in cols for g in GLUCOSE):
        return cols
    return None


def recognise(path) -> bool:
    return is_table(path) and _columns(path) is not None


def is_sidecar(path) -> bool:
    """The participant table ``bio.csv``: a ``subject`` column and the lab HbA1c."""
    h = header(path) if is_table(path) else []
    return bool(h) and h[0] == "subject" and any(c.startswith("A1c") for c in h)


def glycaemic_status(hba1c: float) -> int:
    """HbA1c in % -> index in STATUS (the cut-offs are the ADA's, on HbA1c rounded to 0.1 % as labs report)."""
    h = round(float(hba1c), 1)
    return 0 if h < 5.7 else 1 if h < 6.5 else 2


def person_labels(files) -> dict:
    """{subject: {"hba1c_percent": x, "glycaemic_status": k}} from the ``bio.csv`` beside ``files`` (none: {})."""
    out, errors = {}, RowErrors()
    for folder in sorted({Path(p).parent for p in files}):
        for bio in sorted(q for q in folder.iterdir() if q.is_file() and is_sidecar(q)):
            h = header(bio)
            if HBA1C not in h:
                print(f"lsm-edge: {bio}:1: no {HBA1C!r} column; no person labels read from it", file=sys.stderr)
                continue
            k = h.index(HBA1C)
            for line, r in rows(bio, errors=errors, width=len(h)):
                try:
                    n, a1c = int(r[0]), float(r[k])
                except ValueError:
                    errors.add(bio, line, f"subject {r[0]!r} / {HBA1C} {r[k]!r}; expected a person number and "
                                          f"HbA1c in % (that person gets no label)")
                    continue
                if not 3 <= a1c <= 20:
                    errors.add(bio, line, f"{HBA1C} {a1c:g} outside 3-20 %; that person gets no label")
                    continue
                out[f"cgmacros-{n:03d}"] = {"hba1c_percent": a1c, "glycaemic_status": glycaemic_status(a1c)}
    errors.raise_or_report(True)
    return out


def meal_code(cell: str) -> int | None:
    """``Breakfast`` / ``dinner`` / ``Snacks`` / ``snack 1`` -> index in MEALS; None for anything else."""
    word = re.sub(r"[^a-z]", "", cell.lower()).rstrip("s")
    return MEALS.index(word) if word in MEALS else None


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    errors, builder = RowErrors(), TimelineBuilder()
    for path in sorted(files, key=str):
        _read_file(path, builder, errors)
    errors.raise_or_report(skip_malformed)
    if not builder.subjects():
        raise DataFormatError(f"{', '.join(map(str, files))}: no valid rows")
    return builder.build(label_channels=("meal",), extra_channels=EXTRA_CHANNELS, where=", ".join(map(str, files)))


def _read_file(path, builder: TimelineBuilder, errors: RowErrors) -> None:
    cols = _columns(path)
    if cols is None:
        raise DataFormatError(f"{path}:1: header {header(path)!r}; expected the CGMacros columns "
                              f"Timestamp, HR and Libre GL or Dexcom GL")
    lo, hi = schema.valid_range()
    subject = "cgmacros-" + re.sub(r"^CGMacros-?", "", stem(path), flags=re.I)
    present = [c for c in NUMERIC if c in cols]
    minutes, values, meals, last = [], {c: [] for c in present}, [], None
    for line, r in rows(path, errors=errors, width=len(header(path))):
        stamp = r[cols["Timestamp"]]
        if not _STAMP.fullmatch(stamp):
            errors.add(path, line, f"Timestamp {stamp!r} is not like 2020-05-01 10:30:00 (local time, no zone)")
            continue
        try:
            t = int(np.datetime64(stamp.strip(), "m").astype(np.int64))
        except ValueError:
            errors.add(path, line, f"Timestamp {stamp!r} is not a calendar date and time")
            continue
        if last is not None and t <= last:
            errors.add(path, line, f"Timestamp {stamp.strip()} does not follow the row before; expected one row a "
                                   f"minute, in time order")
            continue
        row, bad = {}, None
        for c in present:
            cell = r[cols[c]].strip()
            try:
                v = float(cell) if cell else np.nan
            except ValueError:
                bad = f"{c} {cell!r} is not a number"
                break
            channel, scale = NUMERIC[c]
            v *= scale
            if channel in schema.INDEX and np.isfinite(v):
                j = schema.INDEX[channel]
                if not lo[j] <= v <= hi[j]:
                    bad = f"{c} {v:g} outside the valid range [{lo[j]:g}, {hi[j]:g}]"
                    break
            elif not (np.isnan(v) or (np.isfinite(v) and v >= 0)):
                bad = f"{c} {cell!r} is not a non-negative number"
                break
            row[c] = v
        if bad:
            errors.add(path, line, bad)
            continue
        last = t
        minutes.append(t)
        for c in present:
            values[c].append(row[c])
        meal = meal_code(r[cols["Meal Type"]]) if "Meal Type" in cols and r[cols["Meal Type"]].strip() else None
        meals.append(np.nan if meal is None else meal)
    if not minutes:
        return
    m = np.asarray(minutes, np.int64)
    for c in present:
        v = np.asarray(values[c], np.float64)
        ok = np.isfinite(v)
        builder.add(subject, m[ok], NUMERIC[c][0], v[ok])
        if c == "HR":
            builder.add(subject, m[ok], "on_wrist", np.ones(ok.sum()))
    meal = np.asarray(meals, np.float64)
    ok = np.isfinite(meal)
    if ok.any():
        builder.add(subject, m[ok], "meal", meal[ok])
