"""Import the labelled Apple Watch / Fitbit minute rows of Fuller et al. 2020 (``aw_fb`` layout).

One CSV with a header holding at least ``age, gender, height, weight, steps, heart_rate, calories,
distance, device, activity`` (the published file adds an index column, ``X1`` and derived
features, which are ignored).  There are no timestamps: rows are consecutive minutes in file
order, and one participant (the same ``age, gender, height, weight``) recorded with one device
is one sequence.  Mapping:

    steps       -> step_count (steps / min)        heart_rate -> heart_rate (bpm)
    calories    -> extra channel ``calories``       distance   -> extra channel ``distance``
    activity    -> label channel ``lab_activity``: 0 Lying, 1 Sitting, 2 Self Pace walk,
                   3 Running 3 METs, 4 Running 5 METs, 5 Running 7 METs

Cells outside the schema's valid range (the study's gap-filling ramps reach 500+ steps / min) are
set missing, counted and reported, rather than dropping their rows, which would shift time.
A sequence's subject is ``awfb-p<NN>-<device>``; both devices of a participant share the split
(``split_group``).  Each sequence starts at an arbitrary minute (2000-01-01 00:00): the file has
no clock time.  The study gap-filled the rows (see ../shared/data/real/README.md): use this set for
activity recognition, not as ground truth for imputation.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import RowErrors
from .textio import header as table_header, is_table, open_text
from .windows import Timeline

REQUIRED = ("age", "gender", "height", "weight", "steps", "heart_rate", "calories", "distance", "device", "activity")
ACTIVITIES = ("Lying", "Sitting", "Self Pace walk", "Running 3 METs", "Running 5 METs", "Running 7 METs")
EXTRA_CHANNELS = ("calories", "distance")
LABEL_CHANNELS = ("lab_activity",)
START = np.datetime64("2000-01-01T00:00", "m")


NAME = "aw_fb"


def is_awfb(path) -> bool:
    """A CSV (plain or compressed) whose header has every required column."""
    return is_table(path) and set(REQUIRED) <= set(table_header(path))


recognise = is_awfb


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [tl for p in files for tl in read_awfb(p, skip_malformed)]


def split_group(subject: str) -> str:
    """The participant part of ``awfb-p07-fitbit``: both devices go to one split."""
    return subject.rsplit("-", 1)[0]


def read_awfb(path, skip_malformed: bool = False) -> list[Timeline]:
    path = Path(path)
    with open_text(path) as f:
        reader = csv.reader(f)
        header = [c.strip() for c in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DataFormatError(f"{path}:1: no column(s) {', '.join(missing)}; expected the aw_fb layout "
                                  f"({', '.join(REQUIRED)})")
        col = {c: header.index(c) for c in REQUIRED}
        errors, seqs, order, out_of_range = RowErrors(), {}, [], {}
        lo, hi = schema.valid_range()
        for line, r in enumerate(reader, start=2):
            if not r:
                continue
            if len(r) != len(header):
                errors.add(path, line, f"{len(r)} fields, expected {len(header)}")
                continue
            try:
                person = tuple(float(r[col[c]]) for c in ("age", "gender", "height", "weight"))
                num = {c: float(r[col[c]]) for c in ("steps", "heart_rate", "calories", "distance")}
            except ValueError as e:
                errors.add(path, line, f"not a number ({e})")
                continue
            act = r[col["activity"]].strip()
            if act not in ACTIVITIES:
                errors.add(path, line, f"activity {act!r} is not one of {', '.join(ACTIVITIES)}")
                continue
            for c, feat in (("steps", "step_count"), ("heart_rate", "heart_rate")):
                j = schema.INDEX[feat]
                if not lo[j] <= num[c] <= hi[j]:  # a cell, not a row: dropping rows would shift time
                    out_of_range[c] = out_of_range.get(c, 0) + 1
                    num[c] = np.nan
            key = (person, r[col["device"]].strip().lower())
            if key not in seqs:
                seqs[key] = []
                order.append(key)
            elif order[-1] != key:
                errors.add(path, line, f"the rows of participant {person} with device {key[1]!r} are not "
                                       f"consecutive (one sequence per participant and device, in file order)")
                continue
            seqs[key].append((num, ACTIVITIES.index(act)))
    errors.raise_or_report(skip_malformed)
    if out_of_range:
        print(f"lsm-edge: {path}: cells outside the schema's valid range set missing: "
              + ", ".join(f"{c} {n}" for c, n in sorted(out_of_range.items())), file=sys.stderr)
    if not seqs:
        raise DataFormatError(f"{path}: no valid rows")
    people = {p: i for i, p in enumerate(dict.fromkeys(k[0] for k in order))}
    out = []
    for key in order:
        rows = seqs[key]
        values = np.full((len(rows), schema.N_FEATURES), np.nan, np.float32)
        values[:, schema.INDEX["step_count"]] = [n["steps"] for n, _ in rows]
        values[:, schema.INDEX["heart_rate"]] = [n["heart_rate"] for n, _ in rows]
        device = key[1].replace(" ", "_")
        out.append(Timeline(f"awfb-p{people[key[0]]:02d}-{device}", START, values,
                            extras={c: np.asarray([n[c] for n, _ in rows], np.float32) for c in EXTRA_CHANNELS},
                            labels={"lab_activity": np.asarray([a for _, a in rows], np.int16)}))
    return out
