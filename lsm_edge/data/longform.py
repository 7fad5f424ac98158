"""Import a generic long-format table: one row per (subject, timestamp, feature, value).

CSV (with a header) or Parquet, columns exactly ``subject, timestamp, feature, value``.
Timestamps are ISO 8601 (``2024-03-01T07:21:00`` or ``2024-03-01 07:21:00``), floored to the
minute; several values of one feature in one minute are averaged.  ``feature`` must be one of
the 26 schema names.  Unparsable rows, unknown features and values outside the schema's valid
range are reported with file and line (Parquet: row number, counting the header as line 1).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors, TimelineBuilder
from .textio import header as table_header, is_table, open_text
from .windows import Timeline

COLUMNS = ("subject", "timestamp", "feature", "value")
NAME = "long"


def recognise(path) -> bool:
    """A Parquet file, or a CSV (plain or compressed) whose header is exactly COLUMNS."""
    if Path(path).suffix.lower() == ".parquet":
        return True
    return is_table(path) and tuple(table_header(path)) == COLUMNS


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [tl for p in files for tl in read_long(p, skip_malformed)]


def read_long(path, skip_malformed: bool = False) -> list[Timeline]:
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file; expected a long-format .csv or .parquet file")
    if path.suffix.lower() == ".parquet":
        cols = _parquet_columns(path)
    elif is_table(path):
        cols = _csv_columns(path)
    else:
        raise DataFormatError(f"{path}: unknown extension {path.suffix!r}; expected .csv or .parquet (a .csv may come as .csv.gz or a one-file .zip)")
    subject, ts, feature, value = (np.asarray(cols[c]) for c in COLUMNS)
    errors = RowErrors()
    line = np.arange(len(subject)) + 2
    bad = np.zeros(len(subject), bool)

    minutes = np.zeros(len(subject), np.int64)
    for i, s in enumerate(ts):  # per row so that every bad timestamp gets its line
        try:
            minutes[i] = np.datetime64(str(s).strip().replace(" ", "T", 1).rstrip("Z"), "s").astype(
                "datetime64[m]").astype(np.int64)
        except ValueError:
            errors.add(path, int(line[i]), f"timestamp {s!r} is not ISO 8601 (e.g. 2024-03-01T07:21:00)")
            bad[i] = True
    vals = np.full(len(subject), np.nan)
    for i, v in enumerate(value):
        try:
            vals[i] = float(v)
        except (TypeError, ValueError):
            pass
        if not np.isfinite(vals[i]) and not bad[i]:
            errors.add(path, int(line[i]), f"value {v!r} is not a finite number")
            bad[i] = True
    lo, hi = schema.valid_range()
    for i, f in enumerate(feature):
        if bad[i]:
            continue
        j = schema.INDEX.get(str(f))
        if j is None:
            errors.add(path, int(line[i]), f"unknown feature {str(f)!r}; expected a schema name such as "
                                           f"heart_rate, step_count (see `lsm-edge data schema`)")
            bad[i] = True
        elif not lo[j] <= vals[i] <= hi[j]:
            errors.add(path, int(line[i]), f"{f} {vals[i]:g} outside the valid range [{lo[j]:g}, {hi[j]:g}]")
            bad[i] = True
    errors.raise_or_report(skip_malformed)
    keep = ~bad
    builder = TimelineBuilder()
    subject, minutes, feature, vals = subject[keep].astype(str), minutes[keep], feature[keep].astype(str), vals[keep]
    for s in np.unique(subject):
        for f in np.unique(feature[subject == s]):
            sel = (subject == s) & (feature == f)
            builder.add(s, minutes[sel], f, vals[sel])
    if not builder.subjects():
        raise DataFormatError(f"{path}: no valid rows")
    return builder.build(where=str(path))


def _csv_columns(path: Path) -> dict:
    with open_text(path) as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip().lower() for h in header) != COLUMNS:
            raise DataFormatError(f"{path}:1: columns {header!r}; expected {','.join(COLUMNS)}")
        rows = []
        for line, r in enumerate(reader, start=2):
            if len(r) != len(COLUMNS):
                if r:
                    raise DataFormatError(f"{path}:{line}: {len(r)} fields, expected {len(COLUMNS)} "
                                          f"({','.join(COLUMNS)})")
                continue
            rows.append(r)
    arr = np.array(rows, dtype=object).reshape(-1, len(COLUMNS))
    return {c: arr[:, i] for i, c in enumerate(COLUMNS)}


def _parquet_columns(path: Path) -> dict:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises several types for a non-Parquet file
        raise DataFormatError(f"{path}: not a readable Parquet file ({e})") from None
    names = [n.lower() for n in table.column_names]
    if sorted(names) != sorted(COLUMNS):
        raise DataFormatError(f"{path}: columns {table.column_names}; expected {', '.join(COLUMNS)}")
    cols = {n.lower(): table.column(n).to_pylist() for n in table.column_names}
    return {c: np.array(cols[c], dtype=object) for c in COLUMNS}
